"""Digest queries: each person's digest preference, and the digests queued (by week and
recipient, with the end of the period each covered). The caller commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import DigestPreference, DigestRecord

MANAGER, ADMINS, CHANNEL = "manager", "admins", "channel"


def preferences(
    session: Session, *, workspace_id: int, user_ids: Iterable[str]
) -> dict[str, DigestPreference]:
    """The preferences of these people who have one (no row: on, on Monday)."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = session.scalars(
        select(DigestPreference).where(
            DigestPreference.workspace_id == workspace_id, DigestPreference.user_id.in_(ids)
        )
    )
    return {row.user_id: row for row in rows}


def set_preference(
    session: Session, *, workspace_id: int, user_id: str, enabled: bool, weekday: int, now: datetime
) -> None:
    """Save a person's choice (one row per person and workspace, whoever writes first)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {"enabled": enabled, "weekday": weekday, "updated_at": now}
    statement = insert(DigestPreference).values(
        workspace_id=workspace_id, user_id=user_id, **values
    )
    session.execute(
        statement.on_conflict_do_update(index_elements=["workspace_id", "user_id"], set_=values)
    )


def recorded_weeks(
    session: Session,
    *,
    workspace_id: int,
    kind: str,
    recipients: Iterable[str],
    weeks: Iterable[str],
    team_id: int | None = None,
) -> set[tuple[str, str]]:
    """(recipient, week) of the digests of this kind already queued (for `team_id`, or for
    the workspace's admins when None) among those recipients and weeks."""
    ids, labels = set(recipients), set(weeks)
    if not ids or not labels:
        return set()
    team = DigestRecord.team_id.is_(None) if team_id is None else DigestRecord.team_id == team_id
    rows = session.execute(
        select(DigestRecord.recipient, DigestRecord.week).where(
            DigestRecord.workspace_id == workspace_id,
            DigestRecord.kind == kind,
            DigestRecord.recipient.in_(ids),
            DigestRecord.week.in_(labels),
            team,
        )
    )
    return {(recipient, week) for recipient, week in rows}


def last_covered(
    session: Session, *, workspace_id: int, kind: str, recipient: str, team_id: int | None
) -> datetime | None:
    """Where the last digest of this kind for `recipient` (about `team_id`) ended: the next
    one starts there; None before the first."""
    team = DigestRecord.team_id.is_(None) if team_id is None else DigestRecord.team_id == team_id
    return session.scalar(
        select(DigestRecord.covers_until)
        .where(
            DigestRecord.workspace_id == workspace_id,
            DigestRecord.kind == kind,
            DigestRecord.recipient == recipient,
            team,
        )
        .order_by(DigestRecord.covers_until.desc())
        .limit(1)
    )


def record(
    session: Session,
    *,
    workspace_id: int,
    team_id: int | None,
    kind: str,
    recipient: str,
    week: str,
    covers_until: datetime,
) -> None:
    session.add(
        DigestRecord(
            workspace_id=workspace_id,
            team_id=team_id,
            kind=kind,
            recipient=recipient,
            week=week,
            covers_until=covers_until,
        )
    )
