"""When a weekly digest is due, and until when it may still go.

A digest is due at 09:00, in its reader's time zone, on their weekday (Monday unless they
chose another in `/symmetry digest`) of the ISO week; a day that is not a working day (a
weekend, or a public holiday of the team's calendar) moves it to the next working day. It is
caught up until 19:00 of the working day after (a Monday's until Tuesday 19:00), then skipped:
for that week, never later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.digests.weeks import Week
from bot.shared.worktime import first_workday

DUE_AT = time(9, 0)
CATCH_UP_UNTIL = time(19, 0)
MONDAY, FRIDAY = 0, 4
# The zones furthest ahead of and behind UTC: a digest due in neither at an instant is due
# in no zone then (a window lasts more than a day, longer than the 26 hours between them).
EARLIEST, LATEST = ZoneInfo("Etc/GMT-14"), ZoneInfo("Etc/GMT+12")


@dataclass(frozen=True)
class Window:
    """One week's digest: from when it is due until when it may still be sent."""

    week: Week
    opens: datetime
    closes: datetime


def weekday_of(chosen: int | None) -> int:
    """The weekday a preference names (Monday to Friday), Monday when there is none."""
    return chosen if chosen is not None and MONDAY <= chosen <= FRIDAY else MONDAY


def window(week: Week, *, weekday: int, tz: ZoneInfo, holidays: str | None) -> Window:
    """When the digest of `week` is due for someone in `tz` who reads it on `weekday`."""
    day = first_workday(week.day(weekday), holidays)
    last = first_workday(day + timedelta(days=1), holidays)
    return Window(
        week,
        datetime.combine(day, DUE_AT, tzinfo=tz),
        datetime.combine(last, CATCH_UP_UNTIL, tzinfo=tz),
    )


def due(now: datetime, *, weekday: int, tz: ZoneInfo, holidays: str | None) -> list[Window]:
    """The weeks whose digest is due at `now` (this week's, or last week's still caught up)."""
    this = Week.of(now.astimezone(tz).date())
    found = []
    for week in (this.previous, this):
        planned = window(week, weekday=weekday, tz=tz, holidays=holidays)
        if planned.opens <= now < planned.closes:
            found.append(planned)
    return found


def maybe_due(now: datetime, *, weekday: int, holidays: str | None) -> list[Window]:
    """For a reader whose zone is not known yet: the weeks whose digest is due somewhere."""
    found = {}
    for anywhere in (EARLIEST, LATEST):
        for planned in due(now, weekday=weekday, tz=anywhere, holidays=holidays):
            found.setdefault(planned.week, planned)
    return list(found.values())
