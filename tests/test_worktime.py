"""Working hours in each person's time zone, across weekends and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.shared.worktime import is_working_time, next_opening, zone


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class TestNextOpening:
    @pytest.mark.parametrize(
        ("instant", "tz", "expected"),
        [
            # Tuesday 10:00 in Paris (09:00 UTC, winter): working time, unchanged.
            (utc(2026, 1, 13, 9, 0), "Europe/Paris", utc(2026, 1, 13, 9, 0)),
            # Saturday noon in Paris: Monday 08:00 Paris = 07:00 UTC.
            (utc(2026, 1, 17, 11, 0), "Europe/Paris", utc(2026, 1, 19, 7, 0)),
            # Friday 19:30 in New York (00:30 UTC Saturday): Monday 08:00 New York = 13:00 UTC.
            (utc(2026, 1, 17, 0, 30), "America/New_York", utc(2026, 1, 19, 13, 0)),
            # Wednesday 07:00 in Tokyo (22:00 UTC Tuesday): same day 08:00 Tokyo = 23:00 UTC.
            (utc(2026, 1, 13, 22, 0), "Asia/Tokyo", utc(2026, 1, 13, 23, 0)),
            # The same UTC instant is Tuesday evening in Paris: Wednesday 08:00 Paris.
            (utc(2026, 1, 13, 22, 0), "Europe/Paris", utc(2026, 1, 14, 7, 0)),
            # Exactly 19:00 is closed; 08:00 is open.
            (utc(2026, 1, 13, 18, 0), "Europe/Paris", utc(2026, 1, 14, 7, 0)),
            (utc(2026, 1, 14, 7, 0), "Europe/Paris", utc(2026, 1, 14, 7, 0)),
        ],
    )
    def test_held_until_the_next_opening(self, instant, tz, expected):
        """Outside 08:00–19:00 Monday–Friday local time, a message waits for the next opening."""
        assert next_opening(instant, zone(tz)) == expected

    def test_spring_forward_in_paris(self):
        """Held over the last Sunday of March, Monday 08:00 Paris is 06:00 UTC (summer time)."""
        saturday = utc(2026, 3, 28, 12, 0)
        assert next_opening(saturday, zone("Europe/Paris")) == utc(2026, 3, 30, 6, 0)

    def test_fall_back_in_paris(self):
        """Held over the last Sunday of October, Monday 08:00 Paris is 07:00 UTC (winter time)."""
        saturday = utc(2026, 10, 24, 12, 0)
        assert next_opening(saturday, zone("Europe/Paris")) == utc(2026, 10, 26, 7, 0)

    def test_new_york_changes_on_its_own_date(self):
        """New York moves its clocks three weeks before Paris: 08:00 there is 12:00 UTC."""
        saturday = utc(2026, 3, 14, 12, 0)
        assert next_opening(saturday, zone("America/New_York")) == utc(2026, 3, 16, 12, 0)

    def test_same_instant_differs_by_person(self):
        """One instant is working time in Paris and night in Los Angeles."""
        instant = utc(2026, 6, 10, 9, 0)
        assert is_working_time(instant, zone("Europe/Paris"))
        assert not is_working_time(instant, zone("America/Los_Angeles"))


class TestZone:
    def test_unknown_zone_falls_back(self):
        """An empty or unknown zone name falls back to the given default, then UTC."""
        assert zone(None, "Europe/Paris").key == "Europe/Paris"
        assert zone("Mars/Olympus", "Nowhere").key == "UTC"
