"""Walk queries. The caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.models import Walk


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
