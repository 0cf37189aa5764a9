"""Walk queries. The caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.models import Expedition, Irritant, Team, Walk, WalkNote, WalkPrompt


def get(session: Session, *, public_id: str | None, lock: bool = False) -> Walk | None:
    """A walk by its public id, with its team, prompts, notes, invites and expeditions; with
    `lock`, its row is locked until the transaction ends (PostgreSQL), so that two
    submissions of the same walk are decided one after the other."""
    if public_id is None:
        return None
    query = (
        select(Walk)
        .where(Walk.public_id == public_id)
        .options(
            selectinload(Walk.team),
            selectinload(Walk.prompts),
            selectinload(Walk.notes),
            selectinload(Walk.invites),
            selectinload(Walk.expeditions),
        )
    )
    return session.scalars(query.with_for_update(of=Walk) if lock else query).one_or_none()


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


def of_quarters(
    session: Session, *, team_ids: Sequence[int], quarters: Sequence[str]
) -> Sequence[Walk]:
    """The walks of these teams in these quarters, with their expeditions."""
    if not team_ids:
        return []
    return session.scalars(
        select(Walk)
        .where(Walk.team_id.in_(team_ids), Walk.quarter.in_(set(quarters)))
        .options(selectinload(Walk.expeditions))
    ).all()


def all_of(session: Session, *, workspace_id: int | None, team_id: int | None) -> Sequence[Walk]:
    """Walks by team name then quarter, with their team and expeditions (every workspace's
    when `workspace_id` is None, every team's when `team_id` is None)."""
    query = (
        select(Walk)
        .join(Team)
        .options(selectinload(Walk.team), selectinload(Walk.expeditions))
        .order_by(Team.workspace_id, func.lower(Team.name), Team.id, Walk.quarter)
    )
    if workspace_id is not None:
        query = query.where(Team.workspace_id == workspace_id)
    if team_id is not None:
        query = query.where(Walk.team_id == team_id)
    return session.scalars(query).all()


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


def finding_ids(session: Session, *, walk_ids: Sequence[int]) -> dict[int, list[str]]:
    """For each walk, the public ids of the irritants its notes became, in note order."""
    found: dict[int, list[str]] = {}
    if not walk_ids:
        return found
    rows = session.execute(
        select(WalkNote.walk_id, Irritant.public_id)
        .join(Irritant, Irritant.id == WalkNote.irritant_id)
        .where(WalkNote.walk_id.in_(walk_ids))
        .order_by(WalkNote.walk_id, WalkNote.id)
    )
    for walk_id, public_id in rows:
        found.setdefault(walk_id, []).append(public_id)
    return found


def expedition_by_key(session: Session, *, submission_key: str) -> Expedition | None:
    """The expedition kept from a given modal submission, if it was kept already."""
    return session.scalars(
        select(Expedition).where(Expedition.submission_key == submission_key)
    ).one_or_none()


def overdue(
    session: Session, *, workspace_id: int, quarter: str, due_before: datetime
) -> Sequence[Walk]:
    """A workspace's walks of `quarter` due at or before `due_before` and not done, of teams
    that existed then, with their team and its managers, in team name order."""
    return session.scalars(
        select(Walk)
        .join(Team, Walk.team_id == Team.id)
        .where(
            Team.workspace_id == workspace_id,
            Walk.quarter == quarter,
            Walk.due_at <= due_before,
            Team.created_at <= due_before,
            Walk.done_at.is_(None),
        )
        .options(selectinload(Walk.team).selectinload(Team.managers))
        .order_by(func.lower(Team.name), Team.id)
    ).all()
