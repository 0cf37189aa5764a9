"""Workspaces whose bot token Slack refused: marked, listed, cleared. The caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from storage.models import Workspace


def mark_refused(session: Session, *, workspace_id: int, error: str, now: datetime) -> bool:
    """Record that Slack refused the workspace's token with `error`; True when it was not
    marked yet (a workspace already marked keeps the instant of its first refusal)."""
    marked = session.execute(
        update(Workspace)
        .where(Workspace.id == workspace_id, Workspace.token_error.is_(None))
        .values(token_error=error[:64], token_error_at=now)
    )
    return bool(marked.rowcount)  # type: ignore[attr-defined]


def clear_refused(session: Session, *, workspace_id: int) -> bool:
    """The workspace's token works again (or was replaced); True when it was marked."""
    cleared = session.execute(
        update(Workspace)
        .where(Workspace.id == workspace_id, Workspace.token_error.is_not(None))
        .values(token_error=None, token_error_at=None)
    )
    return bool(cleared.rowcount)  # type: ignore[attr-defined]


def refused(session: Session) -> Sequence[Workspace]:
    """The marked workspaces, the longest refused first."""
    return session.scalars(
        select(Workspace)
        .where(Workspace.token_error.is_not(None))
        .order_by(Workspace.token_error_at, Workspace.id)
    ).all()


def refused_ids(session: Session) -> set[int]:
    return set(session.scalars(select(Workspace.id).where(Workspace.token_error.is_not(None))))


def not_refused(workspace_id: ColumnElement[int]) -> ColumnElement[bool]:
    """A condition true for rows whose `workspace_id` is not a marked workspace's (the outbox
    leaves their messages waiting)."""
    return workspace_id.not_in(select(Workspace.id).where(Workspace.token_error.is_not(None)))
