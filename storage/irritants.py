"""Irritant queries. The caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.models import Irritant, IrritantDraft, IrritantVote, Team

OPEN = ("new", "acknowledged", "planned")


def get(session: Session, *, irritant_id: int) -> Irritant | None:
    """An irritant with its team, history and votes."""
    return session.scalars(
        select(Irritant)
        .where(Irritant.id == irritant_id)
        .options(
            selectinload(Irritant.team).selectinload(Team.managers),
            selectinload(Irritant.events),
            selectinload(Irritant.votes),
        )
    ).one_or_none()


def by_submission(session: Session, *, submission_key: str) -> Irritant | None:
    """The irritant stored from a given modal submission, if it was stored already."""
    return session.scalars(
        select(Irritant).where(Irritant.submission_key == submission_key)
    ).one_or_none()


def open_in(session: Session, *, team_id: int, category: str, space: str) -> Sequence[Irritant]:
    """Open irritants of a team in one category and space (candidates for "me too")."""
    return session.scalars(
        select(Irritant)
        .where(
            Irritant.team_id == team_id,
            Irritant.category == category,
            Irritant.space == space,
            Irritant.status.in_(OPEN),
        )
        .options(selectinload(Irritant.votes))
        .order_by(Irritant.id)
    ).all()


def recent_locations(session: Session, *, team_ids: Sequence[int], limit: int = 10) -> list[str]:
    """The places most recently named in these teams' reports, newest first, without repeats."""
    # Anonymous reports lend their place only once the roundup has shown them.
    rows = session.execute(
        select(Irritant.location, func.max(Irritant.id).label("latest"))
        .where(
            Irritant.team_id.in_(team_ids),
            Irritant.location != "",
            or_(Irritant.anonymous.is_(False), Irritant.rounded_up_at.is_not(None)),
        )
        .group_by(Irritant.location)
        .order_by(func.max(Irritant.id).desc())
        .limit(limit)
    ).all()
    return [location for location, _latest in rows]


def of_team(session: Session, *, team_id: int, statuses: Sequence[str]) -> Sequence[Irritant]:
    """A team's irritants in the given statuses, oldest first, with votes loaded."""
    return session.scalars(
        select(Irritant)
        .where(Irritant.team_id == team_id, Irritant.status.in_(statuses))
        .options(selectinload(Irritant.votes), selectinload(Irritant.team))
        .order_by(Irritant.created_at, Irritant.id)
    ).all()


def named_by(session: Session, *, workspace_id: int, user_id: str) -> Sequence[Irritant]:
    """A person's named reports."""
    return session.scalars(
        select(Irritant)
        .where(Irritant.workspace_id == workspace_id, Irritant.reporter_id == user_id)
        .options(selectinload(Irritant.team), selectinload(Irritant.votes))
    ).all()


def anonymous_in(session: Session, *, workspace_id: int) -> Sequence[Irritant]:
    """Every anonymous report of a workspace (to be matched against a keyed hash)."""
    return session.scalars(
        select(Irritant)
        .where(Irritant.workspace_id == workspace_id, Irritant.anonymous.is_(True))
        .options(selectinload(Irritant.team), selectinload(Irritant.votes))
    ).all()


def add_vote(session: Session, *, irritant_id: int, voter_hash: str) -> bool:
    """Record a "me too"; False when this person had already voted."""
    try:
        with session.begin_nested():
            session.add(IrritantVote(irritant_id=irritant_id, voter_hash=voter_hash))
    except IntegrityError:
        return False
    return True


def save_draft(session: Session, *, draft: IrritantDraft) -> None:
    session.add(draft)
    session.flush()


def take_draft(session: Session, *, token: str) -> IrritantDraft | None:
    """The draft with this token (left in place: the caller deletes it once used)."""
    return session.scalars(select(IrritantDraft).where(IrritantDraft.token == token)).one_or_none()


def prune_drafts(session: Session, *, now: datetime) -> int:
    """Forget drafts whose author never decided."""
    return session.execute(delete(IrritantDraft).where(IrritantDraft.expires_at < now)).rowcount


def unrounded_anonymous(session: Session, *, team_id: int, before: datetime) -> Sequence[Irritant]:
    """Anonymous reports of a team not yet shown in a roundup, made before `before`."""
    return session.scalars(
        select(Irritant)
        .where(
            Irritant.team_id == team_id,
            Irritant.anonymous.is_(True),
            Irritant.rounded_up_at.is_(None),
            Irritant.created_at < before,
        )
        .options(selectinload(Irritant.votes))
        .order_by(Irritant.id)
    ).all()


def all_of(
    session: Session, *, workspace_id: int | None = None, team_id: int | None = None
) -> Sequence[Irritant]:
    """Irritants for export, oldest first."""
    query = (
        select(Irritant)
        .options(
            selectinload(Irritant.team), selectinload(Irritant.votes), selectinload(Irritant.events)
        )
        .order_by(Irritant.id)
    )
    if workspace_id is not None:
        query = query.where(Irritant.workspace_id == workspace_id)
    if team_id is not None:
        query = query.where(Irritant.team_id == team_id)
    return session.scalars(query).all()
