"""A digest's irritant figures for one team: what was reported since the last digest (by
category, fundamentals first), the open reports with the most "me too", those waiting longest
for an answer, those resolved ("you said, we did"), the service levels, and the symmetry
mirror (customer spaces beside employee spaces).

The managers' rules hold: an anonymous report counts only once a roundup has shown it, and
is dated by that roundup, never by when it was made; a report for the admins (made while the
team was too small for anonymity) never counts. The "me too" counts are those of the last
roundup (`votes_shown`), never the live ones, so that a digest cannot date a vote.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy.orm import Session

from bot.irritants.catalog import CATEGORIES, OPEN_STATUSES
from bot.irritants.ownership import visible_to_managers
from bot.shared.policy import Policy
from bot.teams import sizes
from storage import digest_figures as store
from storage.models import Irritant, Team

# The fundamentals come before any perk: temperature, light, noise, tools, clean back-office
# spaces (../shared/BRIEF.md). The categories' order already puts them first.
FUNDAMENTALS = ("temperature", "lighting", "noise", "tools", "cleanliness")
LONG_WAIT = timedelta(days=14)  # unanswered this long: "waiting too long" (admins' digest too)
SERVICE_BEFORE = timedelta(weeks=4)  # the service levels' comparison period
MIRROR_WINDOW = timedelta(days=90)  # the symmetry mirror counts a quarter's reports
SHOWN = 3  # reports listed as most "me too" and as waiting longest
RESOLVED_SHOWN = 5  # reports listed as resolved
DAY = 86400.0


def shown_at(irritant: Irritant) -> datetime | None:
    """When the team's managers could first see a report: a named one when made, an
    anonymous one at the roundup that showed it (None before)."""
    return irritant.rounded_up_at if irritant.anonymous else irritant.created_at


def _days(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / DAY)


@dataclass(frozen=True)
class IrritantLine:
    """One report as a digest lists it. `days`: waiting so far for an open one, taken to
    resolve for a resolved one."""

    public_id: str
    category: str
    space: str
    status: str
    description: str
    location: str
    resolution_note: str | None
    votes: int
    days: int

    @property
    def fundamental(self) -> bool:
        return self.category in FUNDAMENTALS

    @classmethod
    def of(cls, irritant: Irritant, *, start: datetime, end: datetime) -> IrritantLine:
        return cls(
            public_id=irritant.public_id,
            category=irritant.category,
            space=irritant.space,
            status=irritant.status,
            description=irritant.description,
            location=irritant.location,
            resolution_note=irritant.resolution_note,
            votes=irritant.votes_shown,
            days=int(_days(start, end)),
        )


@dataclass(frozen=True)
class CategoryCount:
    category: str
    count: int

    @property
    def fundamental(self) -> bool:
        return self.category in FUNDAMENTALS


@dataclass(frozen=True)
class MirrorLine:
    """A category's reports from customer spaces beside those from employee spaces."""

    category: str
    customer: int
    employee: int


@dataclass(frozen=True)
class Median:
    """Median days over the period and over the four weeks before, with how many reports
    each counts (None where there are none)."""

    now: float | None
    now_count: int
    before: float | None
    before_count: int

    @classmethod
    def of(cls, now: Sequence[float], before: Sequence[float]) -> Median:
        def middle(values: Sequence[float]) -> float | None:
            return round(median(values), 1) if values else None

        return cls(middle(now), len(now), middle(before), len(before))

    @property
    def empty(self) -> bool:
        return not (self.now_count or self.before_count)


@dataclass(frozen=True)
class ServiceLevels:
    acknowledge: Median
    resolve: Median


@dataclass
class IrritantFigures:
    """Everything the digest says of a team's irritants; empty lists where there is nothing."""

    new: list[CategoryCount] = field(default_factory=list)
    most_voted: list[IrritantLine] = field(default_factory=list)
    waiting: list[IrritantLine] = field(default_factory=list)  # oldest first
    waiting_total: int = 0
    oldest_fundamental: IrritantLine | None = None  # the oldest waiting fundamental report
    resolved: list[IrritantLine] = field(default_factory=list)  # latest first
    resolved_total: int = 0
    service: ServiceLevels | None = None
    mirror: list[MirrorLine] = field(default_factory=list)
    open_total: int = 0

    @property
    def new_total(self) -> int:
        return sum(c.count for c in self.new)

    @property
    def fundamentals(self) -> list[CategoryCount]:
        return [c for c in self.new if c.fundamental]

    @property
    def others(self) -> list[CategoryCount]:
        return [c for c in self.new if not c.fundamental]

    @property
    def empty(self) -> bool:
        return not (
            self.new
            or self.most_voted
            or self.waiting
            or self.resolved
            or self.service
            or self.mirror
        )


def irritant_figures(
    session: Session, policy: Policy, *, team: Team, since: datetime, until: datetime
) -> IrritantFigures:
    """The figures of the period [since, until) for the team's managers."""
    start = min(since - SERVICE_BEFORE, until - MIRROR_WINDOW)
    found = store.irritants_around(session, team_ids=[team.id], since=start)
    size = sizes.counted_size(session, team, now=until)
    threshold = policy.anonymity_threshold
    visible = [i for i in found if visible_to_managers(i, team_size=size, threshold=threshold)]
    return figures_of(visible, since=since, until=until)


def _category_order(category: str) -> tuple[bool, int]:
    order = list(CATEGORIES)
    return category not in FUNDAMENTALS, order.index(category) if category in order else len(order)


def figures_of(
    irritants: Iterable[Irritant], *, since: datetime, until: datetime
) -> IrritantFigures:
    """The figures from reports the readers may see (those seen only after `until` left out)."""
    seen = [(i, at) for i in irritants if (at := shown_at(i)) is not None and at < until]
    figures = IrritantFigures()
    new = Counter(i.category for i, at in seen if at >= since)
    figures.new = [CategoryCount(c, new[c]) for c in sorted(new, key=_category_order)]
    open_ = [(i, at) for i, at in seen if i.status in OPEN_STATUSES]
    figures.open_total = len(open_)
    voted = sorted(
        (p for p in open_ if p[0].votes_shown > 0), key=lambda p: (-p[0].votes_shown, p[1])
    )
    figures.most_voted = [IrritantLine.of(i, start=at, end=until) for i, at in voted[:SHOWN]]
    waiting = sorted((p for p in open_ if p[0].status == "new"), key=lambda p: (p[1], p[0].id))
    figures.waiting = [IrritantLine.of(i, start=at, end=until) for i, at in waiting[:SHOWN]]
    figures.waiting_total = len(waiting)
    fundamental = next(((i, at) for i, at in waiting if i.category in FUNDAMENTALS), None)
    if fundamental is not None:
        figures.oldest_fundamental = IrritantLine.of(
            fundamental[0], start=fundamental[1], end=until
        )
    resolved = sorted(
        (
            (i, at)
            for i, at in seen
            if i.status == "resolved" and i.resolved_at and since <= i.resolved_at < until
        ),
        key=lambda p: p[0].resolved_at,
        reverse=True,
    )
    figures.resolved = [
        IrritantLine.of(i, start=at, end=i.resolved_at) for i, at in resolved[:RESOLVED_SHOWN]
    ]
    figures.resolved_total = len(resolved)
    figures.service = _service(seen, since=since, until=until)
    figures.mirror = _mirror(seen, until=until)
    return figures


def _service(
    seen: Sequence[tuple[Irritant, datetime]], *, since: datetime, until: datetime
) -> ServiceLevels | None:
    """Median days from being seen to the first answer, and to being resolved: over the
    period, and over the four weeks before it."""
    before = since - SERVICE_BEFORE
    periods: dict[str, tuple[list[float], list[float]]] = {"ack": ([], []), "res": ([], [])}
    for irritant, at in seen:
        answered = irritant.acknowledged_at
        resolved = irritant.resolved_at if irritant.status == "resolved" else None
        for kind, moment in (("ack", answered), ("res", resolved)):
            if moment is None or not before <= moment < until:
                continue
            periods[kind][0 if moment >= since else 1].append(_days(at, moment))
    levels = ServiceLevels(Median.of(*periods["ack"]), Median.of(*periods["res"]))
    if levels.acknowledge.empty and levels.resolve.empty:
        return None
    return levels


def _mirror(seen: Sequence[tuple[Irritant, datetime]], *, until: datetime) -> list[MirrorLine]:
    """Per category, the reports of the last 90 days from customer and from employee spaces."""
    counts: Counter[tuple[str, str]] = Counter(
        (i.category, i.space) for i, at in seen if at >= until - MIRROR_WINDOW
    )
    categories = sorted({category for category, _ in counts}, key=_category_order)
    return [MirrorLine(c, counts[(c, "customer")], counts[(c, "employee")]) for c in categories]
