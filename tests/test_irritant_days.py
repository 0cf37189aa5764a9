"""An anonymous report keeps only its day, the team's: the roundup still finds it the same day,
east of UTC as west of it."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.irritants import notify
from bot.worktime import day_of
from storage import queries
from storage.models import Irritant, Membership, OutboxMessage, Team, TeamManager

TUESDAY = date(2026, 12, 1)


def team_with_report(db, *, timezone: str, roundup: str, reported: datetime) -> int:
    """A team of six in `timezone` with one anonymous report made at `reported`."""
    with db.sessions.begin() as session:
        workspace = queries.get_or_create_workspace(session, slack_team_id="T0DAYS")
        team = Team(
            workspace_id=workspace.id,
            name="Night shift",
            channel_id="C0NIGHT01",
            timezone=timezone,
            locale="en",
            roundup_time=roundup,
        )
        team.memberships = [Membership(user_id=f"U0NIGHT{i}") for i in range(6)]
        team.managers = [TeamManager(user_id="U0NIGHT0")]
        session.add(team)
        session.flush()
        day = day_of(reported, timezone)
        session.add(
            Irritant(
                workspace_id=workspace.id,
                team_id=team.id,
                category="noise",
                space="employee",
                location="",
                severity="minor",
                description="The generator hums all night",
                anonymous=True,
                reporter_hash="h" * 64,
                reporter_nonce="n" * 32,
                status="new",
                created_at=day,
                updated_at=day,
            )
        )
        return team.id


@pytest.mark.parametrize(
    ("timezone", "roundup"),
    [("Pacific/Kiritimati", "09:00"), ("Europe/Paris", "16:00"), ("America/New_York", "16:00")],
)
def test_the_roundup_takes_a_report_made_earlier_that_day(db, timezone, roundup):
    """Reported an hour before the roundup, shown in it, whatever the team's offset to UTC
    (at UTC+14 the kept day is 14:00 local, after a 09:00 roundup)."""
    hour, minute = (int(part) for part in roundup.split(":"))
    tz = ZoneInfo(timezone)
    roundup_at = datetime.combine(TUESDAY, time(hour, minute), tzinfo=tz)
    reported = roundup_at.replace(hour=hour - 1)
    team_with_report(db, timezone=timezone, roundup=roundup, reported=reported)
    with db.sessions.begin() as session:
        planned = notify.plan_roundups(
            session, Settings(), lambda _workspace_id: None, now=roundup_at.replace(minute=5)
        )
    assert planned == 1
    with db.sessions() as session:
        irritant = session.scalars(select(Irritant)).one()
        assert irritant.rounded_up_at is not None
        assert irritant.created_at.date() == TUESDAY  # the team's day, kept as UTC midnight
        (roundup_row,) = session.scalars(select(OutboxMessage)).all()
        assert roundup_row.kind == "roundup" and roundup_row.recipient == "U0NIGHT0"
