"""What the Home tab shows of sensory walks: for a manager, each team's walk of the quarter
(done, with its largest gap; due; or overdue), the latest figures sense by sense and how the
gap moves from walk to walk; for an admin, every team's state for the quarter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.shared.worktime import zone
from bot.walks.quarters import Quarter, due_at
from bot.walks.results import SENSES, WalkResult, history, result, trend
from storage import queries
from storage import walks as store
from storage.models import Team, Walk

OVERDUE_AFTER = timedelta(days=45)  # from the quarter's start; the admins hear of it then
TEAMS_SHOWN = 2  # a manager's teams detailed on the Home tab, two blocks each (Slack: 100)
STATES = ("overdue", "due", "done")  # the admins' list, most in need of a walk first


@dataclass(frozen=True)
class QuarterStatus:
    """A team's walk for the quarter it is in (in its own time zone)."""

    team: Team
    quarter: Quarter
    walk: Walk | None
    state: str  # "done", "due" or "overdue"
    days_left: int
    result: WalkResult | None = None  # the walk's figures, when done with ratings


def quarter_of(team: Team, now: datetime) -> Quarter:
    """The quarter `now` is in, in the team's time zone."""
    return Quarter.of(now.astimezone(zone(team.timezone)).date())


def status(team: Team, walk: Walk | None, *, now: datetime) -> QuarterStatus:
    """Done once the walk is; overdue from 45 days after the quarter's start; else due."""
    today = now.astimezone(zone(team.timezone)).date()
    quarter = Quarter.of(today)
    if walk is not None and walk.done_at is not None:
        state = "done"
    elif today >= quarter.start + OVERDUE_AFTER:
        state = "overdue"
    else:
        state = "due"
    figures = result(walk) if state == "done" and walk is not None else None
    if figures is not None and figures.mean_gap is None:
        figures = None  # declared done, without ratings
    return QuarterStatus(team, quarter, walk, state, quarter.days_left(today), figures)


def quarter_walk(session: Session, *, team: Team, quarter: Quarter) -> Walk:
    """The team's walk of `quarter`, made (due on the quarter's first working day at 09:30,
    team time) when there is none yet."""
    return store.get_or_create(
        session,
        team_id=team.id,
        quarter=quarter.label,
        due_at=due_at(quarter, timezone=team.timezone, holidays=team.holidays),
    )


@dataclass(frozen=True)
class TeamWalks:
    """A manager's view of one team's walks."""

    status: QuarterStatus
    walk: Walk  # the quarter's walk, whose public id the Home's buttons carry
    latest: WalkResult | None  # the latest walk with ratings, compared with the one before
    trend: list[tuple[str, float]]  # (quarter, mean gap), oldest first


def team_walks(session: Session, *, team: Team, now: datetime) -> TeamWalks:
    """The quarter's state of a team's walk, its latest figures and their trend."""
    walk = quarter_walk(session, team=team, quarter=quarter_of(team, now))
    results = history(store.of_team(session, team_id=team.id))
    return TeamWalks(
        status=status(team, walk, now=now),
        walk=walk,
        latest=results[-1] if results else None,
        trend=trend(results),
    )


def every_team(session: Session, *, workspace_id: int, now: datetime) -> list[QuarterStatus]:
    """Every team's state for the quarter: overdue first, then due, then done."""
    teams = queries.list_teams(session, workspace_id=workspace_id)
    quarters = {team.id: quarter_of(team, now).label for team in teams}
    found = store.of_quarters(
        session, team_ids=list(quarters), quarters=list(set(quarters.values()))
    )
    walks = {(walk.team_id, walk.quarter): walk for walk in found}
    statuses = [status(t, walks.get((t.id, quarters[t.id])), now=now) for t in teams]
    return sorted(statuses, key=lambda s: STATES.index(s.state))


def home_context(
    session: Session, *, workspace_id: int, managed: Sequence[Team], admin: bool, now: datetime
) -> dict[str, Any]:
    """The walk parts of a person's Home tab (see bot/templates/home.json.j2)."""
    return {
        "walk_lines": [team_walks(session, team=t, now=now) for t in managed[:TEAMS_SHOWN]],
        "walk_more": max(0, len(managed) - TEAMS_SHOWN),
        "walk_statuses": every_team(session, workspace_id=workspace_id, now=now) if admin else [],
        "senses": SENSES,
    }
