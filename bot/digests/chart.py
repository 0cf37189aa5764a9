"""The digest's chart: the last 12 weeks of a team (irritants opened and resolved, the pulse
mean, eNPS), drawn as a PNG with matplotlib.

INTERFACE (groundwork): `weekly_series` and `png` are what the schedule, the preview and the
demo call; their content is filled in by the chart work of issue 12.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.digests.weeks import Week
from bot.shared.policy import Policy
from storage.models import Team

WEEKS = 12


@dataclass(frozen=True)
class Series:
    """One value per week, oldest first; None where nothing may be shown."""

    weeks: list[Week] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    pulse_mean: list[float | None] = field(default_factory=list)
    enps: list[int | None] = field(default_factory=list)


def weekly_series(
    session: Session, policy: Policy, *, team: Team, week: Week, now: datetime
) -> Series:
    """The 12 weeks up to (not including) `week`, with the anonymity rules applied."""
    return Series()


def png(series: Series, locale: str) -> bytes | None:
    """The chart as PNG bytes, its text in `locale`; None when there is nothing to draw."""
    return None
