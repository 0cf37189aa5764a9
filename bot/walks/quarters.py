"""Calendar quarters, the period of a sensory walk: "2026-Q4" runs from 1 October to
31 December. A walk's prompt comes on the quarter's first working day; its buttons and draft
live until 14 days after the quarter ends."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.shared.worktime import first_workday, zone

GRACE = timedelta(days=14)  # a quarter's walk can still be done this long after it ends
LABEL = re.compile(r"^(\d{4})-Q([1-4])$")
PROMPT_TIME = time(9, 30)  # on the quarter's first working day, in the team's time zone


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1..4

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, label: str) -> Quarter | None:
        """The quarter written `YYYY-Qn`, or None."""
        found = LABEL.match(label or "")
        return cls(int(found[1]), int(found[2])) if found else None

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """The first day after the quarter."""
        return self.next.start

    @property
    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    @property
    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    @property
    def closes(self) -> date:
        """The first day the quarter's prompt, draft and buttons no longer work."""
        return self.end + GRACE

    def first_working_day(self, holidays: str | None = None) -> date:
        """The quarter's first Monday–Friday that is not a public holiday of `holidays`."""
        return first_workday(self.start, holidays)

    def days_left(self, day: date) -> int:
        """Days from `day` to the quarter's end (`day` included)."""
        return (self.end - day).days


def due_at(quarter: Quarter, *, timezone: str | None, holidays: str | None) -> datetime:
    """When a team's walk of `quarter` is due (its prompt's instant): 09:30 on the quarter's
    first working day, in the team's time zone; in UTC."""
    day = quarter.first_working_day(holidays)
    return datetime.combine(day, PROMPT_TIME, tzinfo=zone(timezone)).astimezone(UTC)
