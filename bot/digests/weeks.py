"""ISO weeks, the unit a digest is planned, keyed and named by ("2026-W50")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week: `year` is the ISO year (the week of 2026-12-31 may be 2027-W01)."""

    year: int
    number: int

    @classmethod
    def of(cls, day: date) -> Week:
        year, number, _ = day.isocalendar()
        return cls(year, number)

    @classmethod
    def parse(cls, text: str) -> Week | None:
        """ "2026-W50" (as `--week` takes it); None for anything that is not an ISO week."""
        match = _LABEL.match(text.strip())
        if match is None:
            return None
        year, number = int(match[1]), int(match[2])
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:  # week 53 of a 52-week year, week 0
            return None
        return cls(year, number)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    def day(self, weekday: int) -> date:
        """The day of this week with `weekday` (0 is Monday)."""
        return self.monday + timedelta(days=weekday)

    @property
    def previous(self) -> Week:
        return Week.of(self.monday - timedelta(days=7))

    @property
    def next(self) -> Week:
        return Week.of(self.monday + timedelta(days=7))

    def __str__(self) -> str:
        return self.label
