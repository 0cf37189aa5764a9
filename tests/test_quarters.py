"""Quarters and public holidays: the calendar sensory walks are planned on."""

from __future__ import annotations

from datetime import date

import pytest

from bot.shared.worktime import first_workday, is_holiday, is_holiday_calendar, is_workday
from bot.walks.quarters import Quarter


def test_quarter_bounds_labels_and_neighbours():
    q = Quarter.of(date(2026, 11, 30))
    assert (q.label, q.start, q.end) == ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1))
    assert (q.next.label, q.previous.label) == ("2027-Q1", "2026-Q3")
    assert Quarter.of(date(2027, 1, 1)).previous == q
    assert q.closes == date(2027, 1, 15)
    assert q.days_left(date(2026, 12, 31)) == 1
    assert Quarter.parse("2026-Q4") == q
    assert [Quarter.parse(x) for x in ("2026-Q5", "2026Q4", "", "x2026-Q1")] == [None] * 4


@pytest.mark.parametrize(
    ("label", "holidays", "first"),
    [
        ("2026-Q1", None, date(2026, 1, 1)),  # a Thursday, and no calendar: a working day
        ("2026-Q1", "FR", date(2026, 1, 2)),  # New Year's Day is a French public holiday
        ("2027-Q1", "FR", date(2027, 1, 4)),  # 1 January 2027 is a Friday, then a weekend
        ("2026-Q3", "US-NY", date(2026, 7, 1)),
        ("2026-Q2", None, date(2026, 4, 1)),
        ("2026-Q4", None, date(2026, 10, 1)),
        ("2025-Q4", None, date(2025, 10, 1)),
        ("2026-Q2", "DE-BY", date(2026, 4, 1)),
    ],
)
def test_first_working_day(label, holidays, first):
    assert Quarter.parse(label).first_working_day(holidays) == first


def test_holiday_calendars():
    assert is_holiday_calendar("FR") and is_holiday_calendar("US-NY")
    assert not any(is_holiday_calendar(c) for c in ("", "XX", "US-ZZ", " FR", "fr"))
    assert is_holiday(date(2026, 5, 1), "FR") and not is_holiday(date(2026, 5, 1), None)
    assert not is_workday(date(2026, 7, 3), "US-NY")  # 4 July 2026 is observed on Friday 3
    assert is_workday(date(2026, 7, 3), "FR")
    assert first_workday(date(2026, 12, 25), "FR") == date(2026, 12, 28)
    assert first_workday(date(2026, 12, 25)) == date(2026, 12, 25)
