"""An anonymous report keeps only its day, the team's: the roundup still finds it the same day,
east of UTC as west of it."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.irritants import notify
from bot.teams.directory import Directory
from storage.models import Irritant, OutboxMessage
from tests.conftest import POLICY
from tests.irritant_helpers import stored_report

TUESDAY = date(2026, 12, 1)


def _no_slack(db) -> Directory:
    """A directory with no workspace to ask: these tests need nothing from Slack."""
    return Directory(db.sessions, lambda _workspace_id: None)


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
    stored_report(db, timezone=timezone, roundup=roundup, reported=reported)
    planned = notify.plan_roundups(
        db.sessions, POLICY, _no_slack(db), now=roundup_at.replace(minute=5)
    )
    assert planned == 1
    with db.sessions() as session:
        irritant = session.scalars(select(Irritant)).one()
        assert irritant.rounded_up_at is not None
        assert irritant.created_at.date() == TUESDAY  # the team's day, kept as UTC midnight
        (roundup_row,) = session.scalars(select(OutboxMessage)).all()
        assert roundup_row.kind == "roundup" and roundup_row.recipient == "U0NIGHT0"


def test_the_roundup_puts_the_most_severe_first(db):
    """A minor report made first, a blocking one after: the roundup shows the blocking one
    first (past eight reports, the message details only the first ones)."""
    reported = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    stored_report(db, reported=reported, description="The radio is a bit loud")
    with db.sessions.begin() as session:
        first = session.scalars(select(Irritant)).one()
        session.add(
            Irritant(
                workspace_id=first.workspace_id, team_id=first.team_id, category="safety",
                space="employee", location="", severity="blocking",
                description="The fire exit is blocked by boxes", anonymous=True,
                reporter_hash="g" * 64, reporter_nonce="m" * 32, status="new",
                created_at=first.created_at, updated_at=first.created_at,
            )
        )  # fmt: skip
    now = reported.replace(hour=16, minute=5)
    notify.plan_roundups(db.sessions, POLICY, _no_slack(db), now=now)
    with db.sessions() as session:
        (row,) = session.scalars(select(OutboxMessage)).all()
        text = json.dumps(row.payload)
    assert text.index("fire exit") < text.index("radio")
