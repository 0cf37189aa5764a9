"""An anonymous report keeps only its day, the team's: the roundup still finds it the same day,
east of UTC as west of it."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.irritants import notify
from storage.models import Irritant, OutboxMessage
from tests.irritant_helpers import stored_report

TUESDAY = date(2026, 12, 1)


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
