"""Local time: working hours in each person's own time zone, DST included.

Non-urgent messages are held outside working hours (08:00–19:00 local, Monday to Friday)
and go at the next opening. A team may name a country (and region) whose public holidays
count like weekends (`holidays`: "FR", "US-NY"; None for none). All functions take and
return aware datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as public_holidays

OPENING = time(8, 0)
CLOSING = time(19, 0)
WORKDAYS = range(0, 5)  # Monday..Friday


def is_timezone(name: str) -> bool:
    """True when `name` is an IANA time zone known to this machine."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return bool(name)


def zone(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    """The zone called `name`, or `fallback` when it is empty or unknown."""
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


@lru_cache(maxsize=64)
def _calendar(code: str) -> public_holidays.HolidayBase | None:
    country, _, region = code.partition("-")
    try:
        return public_holidays.country_holidays(country, subdiv=region or None)
    except (NotImplementedError, KeyError, ValueError):
        return None


def is_holiday_calendar(code: str) -> bool:
    """True when `code` names a country, or a country and region, that the `holidays`
    package knows: "FR", "US-NY", "DE-BY"."""
    return bool(code) and code == code.strip() and _calendar(code) is not None


def is_holiday(day: date, holidays: str | None) -> bool:
    """True when `day` is a public holiday of the calendar `holidays` (never when None)."""
    calendar = _calendar(holidays) if holidays else None
    return calendar is not None and day in calendar


def is_workday(day: date, holidays: str | None = None) -> bool:
    """Monday to Friday, and not a public holiday of `holidays`."""
    return day.weekday() in WORKDAYS and not is_holiday(day, holidays)


def first_workday(day: date, holidays: str | None = None) -> date:
    """`day` itself when it is a working day, else the next one."""
    while not is_workday(day, holidays):
        day += timedelta(days=1)
    return day


def is_working_time(instant: datetime, tz: ZoneInfo, holidays: str | None = None) -> bool:
    """True when `instant` falls within working hours in `tz`, on a working day of the
    calendar `holidays` (weekends only when None)."""
    local = instant.astimezone(tz)
    return is_workday(local.date(), holidays) and OPENING <= local.time() < CLOSING


def next_opening(instant: datetime, tz: ZoneInfo, holidays: str | None = None) -> datetime:
    """`instant` itself during working hours, else the next 08:00 of a working day in `tz`
    (public holidays of `holidays` skipped like weekends)."""
    if is_working_time(instant, tz, holidays):
        return instant
    local = instant.astimezone(tz)
    day = local.date()
    if local.time() >= OPENING:
        day += timedelta(days=1)
    day = first_workday(day, holidays)
    # Building the wall-clock time in the zone, not adding hours, keeps 08:00 right across DST.
    return datetime.combine(day, OPENING, tzinfo=tz).astimezone(instant.tzinfo)


def day_of(now: datetime, timezone: str | None) -> datetime:
    """The only time kept for an anonymous person's actions: the day of `now` in the team's
    calendar (`timezone`), kept as midnight UTC of that date, so that its date is the team's.
    """
    return datetime.combine(now.astimezone(zone(timezone)).date(), time(0), tzinfo=UTC)
