"""Walk queries. The caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.models import Team, Walk, WalkPrompt


def get(session: Session, *, public_id: str | None) -> Walk | None:
    """A walk by its public id, with its team, prompts, notes, invites and expeditions."""
    if public_id is None:
        return None
    return session.scalars(
        select(Walk)
        .where(Walk.public_id == public_id)
        .options(
            selectinload(Walk.team),
            selectinload(Walk.prompts),
            selectinload(Walk.notes),
            selectinload(Walk.invites),
            selectinload(Walk.expeditions),
        )
    ).one_or_none()


def of_quarter(session: Session, *, team_id: int, quarter: str) -> Walk | None:
    """A team's walk for a quarter ("2026-Q4"), if one was made."""
    return session.scalars(
        select(Walk).where(Walk.team_id == team_id, Walk.quarter == quarter)
    ).one_or_none()


def get_or_create(session: Session, *, team_id: int, quarter: str, due_at: datetime) -> Walk:
    """The team's walk for `quarter`, made now (due at `due_at`) when there is none yet; two
    clocks or clicks making it at once end with one."""
    found = of_quarter(session, team_id=team_id, quarter=quarter)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            walk = Walk(team_id=team_id, quarter=quarter, due_at=due_at)
            session.add(walk)
    except IntegrityError:
        found = of_quarter(session, team_id=team_id, quarter=quarter)
        assert found is not None
        return found
    return walk


def of_team(session: Session, *, team_id: int) -> Sequence[Walk]:
    """A team's walks, oldest quarter first, with their notes and expeditions."""
    return session.scalars(
        select(Walk)
        .where(Walk.team_id == team_id)
        .options(selectinload(Walk.notes), selectinload(Walk.expeditions))
        .order_by(Walk.quarter)
    ).all()


def due_reminders(
    session: Session, *, now: datetime, quarters: Sequence[str], team_id: int | None = None
) -> Sequence[WalkPrompt]:
    """Prompts of walks of `quarters` not done yet whose reminder is due at `now` and was not
    queued yet, with their walk, its team and the team's managers; the oldest first."""
    query = (
        select(WalkPrompt)
        .join(Walk, WalkPrompt.walk_id == Walk.id)
        .where(
            Walk.quarter.in_(quarters),
            Walk.done_at.is_(None),
            WalkPrompt.reminded_at.is_(None),
            WalkPrompt.remind_at <= now,
        )
        .options(selectinload(WalkPrompt.walk).selectinload(Walk.team).selectinload(Team.managers))
        .order_by(WalkPrompt.remind_at, WalkPrompt.id)
    )
    if team_id is not None:
        query = query.where(Walk.team_id == team_id)
    return session.scalars(query).all()


def overdue(
    session: Session, *, workspace_id: int, quarter: str, due_before: datetime
) -> Sequence[Walk]:
    """A workspace's walks of `quarter` due at or before `due_before` and not done, with their
    team and its managers, in team name order."""
    return session.scalars(
        select(Walk)
        .join(Team, Walk.team_id == Team.id)
        .where(
            Team.workspace_id == workspace_id,
            Walk.quarter == quarter,
            Walk.due_at <= due_before,
            Walk.done_at.is_(None),
        )
        .options(selectinload(Walk.team).selectinload(Team.managers))
        .order_by(func.lower(Team.name), Team.id)
    ).all()
