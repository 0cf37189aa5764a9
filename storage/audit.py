"""The audit trail: recording an admin's, a manager's or a command's action in the caller's
transaction (so the record and the action stand or fall together), and reading it back.

A detail holds identifiers, names of settings and counts: never user text (a description, a
comment, a note) and never who reported an anonymous report.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import AuditRecord, Workspace

CLI = "cli"  # the actor of a command run by an operator
CLOCK = "clock"  # the actor of what the clock does by itself (a workspace purged after 30 days)
FORGOTTEN = "forgotten"  # the actor of a record whose person asked to be forgotten


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    now: datetime,
    workspace: str | None = None,
    workspace_id: int | None = None,
    **detail: Any,
) -> AuditRecord:
    """Add one record; `workspace` is a Slack team ID, or give `workspace_id` (a row's ID)."""
    if workspace is None and workspace_id is not None:
        workspace = session.scalar(
            select(Workspace.slack_team_id).where(Workspace.id == workspace_id)
        )
    row = AuditRecord(workspace=workspace, actor=actor, action=action, detail=detail, at=now)
    session.add(row)
    return row


def since(session: Session, *, start: datetime | None = None) -> Sequence[AuditRecord]:
    """The records from `start` on (all of them when None), oldest first."""
    query = select(AuditRecord).order_by(AuditRecord.at, AuditRecord.id)
    if start is not None:
        query = query.where(AuditRecord.at >= start)
    return session.scalars(query).all()


def by_actor(session: Session, *, user_id: str) -> Sequence[AuditRecord]:
    """The records of what one person did, oldest first."""
    query = select(AuditRecord).where(AuditRecord.actor == user_id)
    return session.scalars(query.order_by(AuditRecord.at, AuditRecord.id)).all()


def forget_actor(session: Session, *, user_id: str, workspaces: Sequence[str]) -> int:
    """Replace a person's user ID as the actor of records (of `workspaces`, and of none) by
    FORGOTTEN; the number of records changed."""
    query = update(AuditRecord).where(
        AuditRecord.actor == user_id,
        or_(AuditRecord.workspace.is_(None), AuditRecord.workspace.in_(workspaces)),
    )
    return session.execute(query.values(actor=FORGOTTEN)).rowcount or 0
