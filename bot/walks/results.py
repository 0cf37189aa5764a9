"""What a sensory walk found, in figures: for each sense, the rating of the customer spaces
and of the employee spaces (1..5) and the gap between them, customer minus employee — how
far the people serving customers are from the care customers get, the number to shrink —
and how a team's gaps move from walk to walk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.walks.senses import SENSES, SPACES
from storage.models import Walk

TREND_WALKS = 4  # walks shown in a team's trend


def rating(value: object) -> int | None:
    """A stored rating as an integer 1..5, or None (missing, or anything else)."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        return value
    return None


def gap(customer: int | None, employee: int | None) -> int | None:
    """Customer minus employee; None when either rating is missing."""
    return None if customer is None or employee is None else customer - employee


def scores_of(walk: Walk) -> dict[str, dict[str, int | None]]:
    """A walk's ratings, every sense and space present (None where none was given)."""
    stored: Any = walk.scores if isinstance(walk.scores, dict) else {}
    return {
        sense: {
            space: rating(stored.get(sense, {}).get(space))
            if isinstance(stored.get(sense), dict)
            else None
            for space in SPACES
        }
        for sense in SENSES
    }


@dataclass(frozen=True)
class SenseResult:
    """One sense of a walk: its two ratings, and how its gap moved since the previous walk
    (None when this walk or that one has no gap for the sense)."""

    sense: str
    customer: int | None
    employee: int | None
    change: int | None = None

    @property
    def gap(self) -> int | None:
        return gap(self.customer, self.employee)

    @property
    def label(self) -> str:
        return SENSES[self.sense]


@dataclass(frozen=True)
class WalkResult:
    """A walk's figures, sense by sense in the order of SENSES."""

    walk: Walk
    senses: tuple[SenseResult, ...]
    since: str | None = None  # the quarter of the walk the changes are counted from

    @property
    def gaps(self) -> dict[str, int | None]:
        return {s.sense: s.gap for s in self.senses}

    @property
    def mean_gap(self) -> float | None:
        """The mean of the senses' gaps (one decimal), or None when there is none."""
        found = [g for g in self.gaps.values() if g is not None]
        return round(sum(found) / len(found), 1) if found else None

    @property
    def largest(self) -> SenseResult | None:
        """The sense where the employee spaces lag furthest behind (the first in SENSES
        when two are level), or None when no sense has a gap."""
        found = [s for s in self.senses if s.gap is not None]
        return max(found, key=lambda s: s.gap or 0, default=None)


def result(walk: Walk, previous: WalkResult | None = None) -> WalkResult:
    """A walk's figures; with `previous` (the team's walk before it), each gap's change."""
    before = previous.gaps if previous else {}
    senses = []
    for sense, ratings in scores_of(walk).items():
        now_gap, then = gap(ratings["customer"], ratings["employee"]), before.get(sense)
        change = None if now_gap is None or then is None else now_gap - then
        senses.append(SenseResult(sense, ratings["customer"], ratings["employee"], change))
    return WalkResult(walk, tuple(senses), previous.walk.quarter if previous else None)


def history(walks: Sequence[Walk]) -> list[WalkResult]:
    """The figures of a team's done walks with ratings, oldest quarter first, each compared
    with the one before it. A walk declared done without ratings has none to compare."""
    results: list[WalkResult] = []
    for walk in sorted(walks, key=lambda w: w.quarter):
        if walk.done_at is None:
            continue
        found = result(walk, results[-1] if results else None)
        if found.mean_gap is not None:
            results.append(found)
    return results


def trend(results: Sequence[WalkResult], *, last: int = TREND_WALKS) -> list[tuple[str, float]]:
    """(quarter, mean gap) of the last `last` walks with figures, oldest first."""
    return [(r.walk.quarter, r.mean_gap) for r in results if r.mean_gap is not None][-last:]
