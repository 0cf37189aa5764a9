"""Outbox queries: queue once, claim with a lease, record the outcome. The caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import OutboxMessage

QUEUED, SENDING, SENT, FAILED, DEAD = "queued", "sending", "sent", "failed", "dead"
# Claimed and its Slack call begun, outcome not yet committed: in doubt if its worker died.
ATTEMPTING = "attempting"
EXPIRED = "expired"  # still unsent at its `expires_at`: never sent
STATES = (QUEUED, SENDING, ATTEMPTING, SENT, FAILED, DEAD, EXPIRED)


def enqueue(
    session: Session,
    *,
    workspace_id: int,
    key: str,
    kind: str,
    recipient: str | None,
    payload: dict[str, Any],
    timezone: str,
    not_before: datetime,
    urgent: bool = False,
    expires_at: datetime | None = None,
    holidays: str | None = None,
) -> bool:
    """Queue a message unless one with the same key exists; True when it was queued now.
    A message still unsent at `expires_at` is never sent. `timezone` and `holidays` (a
    public holiday calendar) decide its working hours."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(OutboxMessage)
        .values(
            workspace_id=workspace_id,
            key=key,
            kind=kind,
            recipient=recipient,
            payload=payload,
            timezone=timezone,
            holidays=holidays,
            urgent=urgent,
            state=QUEUED,
            not_before=not_before,
            attempts=0,
            expires_at=expires_at,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id)
    )
    return session.execute(statement).scalar() is not None


def enqueue_many(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Queue many messages at once, each unless one with its key exists; return how many were
    queued now. Each row holds `enqueue`'s arguments (`workspace_id`, `key`, `kind`,
    `recipient`, `payload`, `timezone`, `not_before`; `holidays`, `urgent`, `expires_at`
    optional). One statement compiled once and its rows sent together (psycopg's pipeline,
    sqlite3's executemany) instead of a round trip per message."""
    if not rows:
        return 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = [
        {
            "holidays": None,
            "urgent": False,
            "expires_at": None,
            **row,
            "state": QUEUED,
            "attempts": 0,
        }
        for row in rows
    ]
    keys = list({row["key"] for row in values})
    # Counted before: an executemany reports no rows on every driver. A row another process
    # queues meanwhile under one of these keys is then counted here although it was not
    # queued here (a count for the report only; the key still keeps the message single).
    existing = sum(
        session.scalar(select(func.count()).where(OutboxMessage.key.in_(keys[start : start + 500])))
        or 0
        for start in range(0, len(keys), 500)
    )
    statement = insert(OutboxMessage.__table__).on_conflict_do_nothing(index_elements=["key"])
    session.connection().execute(statement, values)
    return len(keys) - existing


def _claimable(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        (OutboxMessage.state == QUEUED) & (OutboxMessage.not_before <= now),
        (OutboxMessage.state == SENDING) & (OutboxMessage.lease_until < now),
    )


def claim(
    session: Session, *, worker: str, now: datetime, limit: int, lease: timedelta
) -> Sequence[OutboxMessage]:
    """Take up to `limit` due messages for `worker` until `now + lease`.

    On PostgreSQL the candidates are locked with FOR UPDATE SKIP LOCKED, so concurrent
    workers take disjoint sets; a message whose worker died is claimable again once its
    lease has run out.
    """
    candidates = (
        select(OutboxMessage.id)
        .where(_claimable(now))
        # Retries first: a message that already failed should not wait behind a whole
        # fan-out of first tries (its wait was meant to be short).
        .order_by(OutboxMessage.attempts.desc(), OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates.scalar_subquery()), _claimable(now))
        .values(state=SENDING, lease_until=now + lease, claimed_by=worker)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return []
    return session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(claimed))
        .order_by(OutboxMessage.attempts.desc(), OutboxMessage.not_before, OutboxMessage.id)
    ).all()


def next_due(session: Session) -> datetime | None:
    """When the earliest waiting message becomes due (or its lease runs out)."""
    queued = session.scalar(
        select(func.min(OutboxMessage.not_before)).where(OutboxMessage.state == QUEUED)
    )
    leased = session.scalar(
        select(func.min(OutboxMessage.lease_until)).where(OutboxMessage.state == SENDING)
    )
    times = [t for t in (queued, leased) if t is not None]
    return min(times) if times else None


def _owned(message_id: int, worker: str):  # type: ignore[no-untyped-def]
    return (OutboxMessage.id == message_id) & (OutboxMessage.claimed_by == worker)


def mark_sent(
    session: Session, *, message_id: int, worker: str, ts: str, channel: str, now: datetime
) -> None:
    """Record Slack's acceptance; `scrub` payloads lose their recipient at this point."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.claimed_by != worker:
        return
    message.state = SENT
    message.message_ts = ts
    message.message_channel = channel
    message.sent_at = now
    message.lease_until = None
    message.last_error = None
    if message.payload.get("scrub_recipient"):
        # Nothing kept may link an anonymous person to what they were told.
        message.recipient = None
        message.message_channel = None
        message.message_ts = None
        message.payload = {"scrub_recipient": True}


def hold(session: Session, *, message_id: int, worker: str, until: datetime) -> None:
    """Put a message back, untouched, until `until` (the recipient's next working hours)."""
    session.execute(
        update(OutboxMessage)
        .where(_owned(message_id, worker))
        .values(state=QUEUED, not_before=until, lease_until=None)
    )


def mark_retry(
    session: Session, *, message_id: int, worker: str, error: str, at: datetime, count: bool
) -> None:
    """Put a message back in the queue, due at `at`; `count` adds a failed attempt."""
    session.execute(
        update(OutboxMessage)
        .where(_owned(message_id, worker))
        .values(
            state=QUEUED,
            not_before=at,
            lease_until=None,
            attempts=OutboxMessage.attempts + (1 if count else 0),
            last_error=error[:255],
            last_error_at=func.now(),
        )
    )


def mark_final(session: Session, *, message_id: int, worker: str, state: str, error: str) -> None:
    """Give up on a message: `failed` after the retries, `dead` on a permanent error.

    A message to an anonymous person loses its recipient and content here too: it will
    never be sent, so nothing needs to link them to it any more.
    """
    message = session.get(OutboxMessage, message_id)
    if message is None or message.claimed_by != worker:
        return
    message.state = state
    message.lease_until = None
    message.attempts += 1
    message.last_error = error[:255]
    message.last_error_at = func.now()
    _forget_recipient(message)


def mark_expired(session: Session, *, message_id: int, worker: str) -> None:
    """Give up on a message whose `expires_at` has come: `expired`, never sent."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.claimed_by != worker:
        return
    message.state = EXPIRED
    message.lease_until = None
    _forget_recipient(message)


def _forget_recipient(message: OutboxMessage) -> None:
    if message.payload.get("scrub_recipient"):
        message.recipient = None
        message.payload = {"scrub_recipient": True}


def any_with_prefix(session: Session, *, prefix: str) -> bool:
    """True when a message whose key starts with `prefix` was ever queued."""
    found = select(OutboxMessage.id).where(OutboxMessage.key.startswith(prefix, autoescape=True))
    return session.scalar(found.limit(1)) is not None


def counts(session: Session) -> dict[str, int]:
    """Messages per state (every state present, zero included)."""
    rows = session.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    ).all()
    found = {state: count for state, count in rows}
    return {state: found.get(state, 0) for state in STATES}


def last_errors(session: Session, *, limit: int = 10) -> Sequence[OutboxMessage]:
    """The most recent errors, newest first."""
    return session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.last_error.is_not(None))
        .order_by(OutboxMessage.last_error_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ).all()
