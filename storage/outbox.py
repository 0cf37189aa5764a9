"""Outbox queries: queue once, claim with a lease, record the outcome. The caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import OutboxMessage, Workspace
from storage.tokens import not_refused

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


LEASED = (SENDING, ATTEMPTING)


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
        OutboxMessage.state.in_(LEASED) & (OutboxMessage.lease_until < now),
    )


def claim(
    session: Session, *, worker: str, now: datetime, limit: int, lease: timedelta
) -> Sequence[OutboxMessage]:
    """Take up to `limit` due messages for `worker` until `now + lease`.

    On PostgreSQL the candidates are locked with FOR UPDATE SKIP LOCKED, so concurrent
    workers take disjoint sets; on SQLite the one UPDATE statement is atomic. A message whose
    worker died is claimable again once its lease has run out; one that died `attempting`
    keeps its `attempted_at`, which tells the new worker it is in doubt (see `in_doubt`).
    A workspace whose token Slack refused has none claimed: they wait.
    """
    candidates = (
        select(OutboxMessage.id)
        .where(_claimable(now), not_refused(OutboxMessage.workspace_id))
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
    """When the earliest waiting message becomes due (or its lease runs out); those of a
    workspace whose token Slack refused wait for it to be installed again."""
    queued = session.scalar(
        select(func.min(OutboxMessage.not_before)).where(
            OutboxMessage.state == QUEUED, not_refused(OutboxMessage.workspace_id)
        )
    )
    leased = session.scalar(
        select(func.min(OutboxMessage.lease_until)).where(
            OutboxMessage.state.in_(LEASED), not_refused(OutboxMessage.workspace_id)
        )
    )
    times = [t for t in (queued, leased) if t is not None]
    return min(times) if times else None


_TABLE = OutboxMessage.__table__
_MINE = (_TABLE.c.id == bindparam("m_id")) & (_TABLE.c.claimed_by == bindparam("m_worker"))
# A batch of attempts in one statement (`mark_attempting_many`): which rows it changed tell
# which calls may go.
_ATTEMPTING = (
    update(_TABLE)
    .where(
        _TABLE.c.id.in_(bindparam("m_ids", expanding=True)),
        _TABLE.c.claimed_by == bindparam("m_worker"),
        _TABLE.c.state.in_(LEASED),
    )
    .values(state=ATTEMPTING, attempted_at=bindparam("m_at"), lease_until=bindparam("m_lease"))
    .returning(_TABLE.c.id)
)
_SENT = (
    update(_TABLE)
    .where(_MINE)
    .values(
        state=SENT,
        message_ts=bindparam("m_ts"),
        message_channel=bindparam("m_channel"),
        sent_at=bindparam("m_now"),
        lease_until=None,
        attempted_at=None,
        last_error=None,
    )
)


def _owned(message_id: int, worker: str):  # type: ignore[no-untyped-def]
    return (OutboxMessage.id == message_id) & (OutboxMessage.claimed_by == worker)


def in_doubt(message: OutboxMessage) -> bool:
    """Whether Slack may already have `message`: a call for it was begun (`attempted_at`) and
    its outcome never recorded (the worker died, or the connection dropped before an answer).
    Such a message is looked up in the conversation before it is sent again."""
    return message.attempted_at is not None


def mark_attempting(
    session: Session,
    *,
    message_id: int,
    worker: str,
    attempted_at: datetime,
    lease_until: datetime,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Record, before the Slack call, that `worker` is calling Slack for this message now;
    False when the message is no longer `worker`'s (its lease ran out while it waited and
    another worker claimed it): then it must not call.

    The lease is renewed from here, so a message that waited long for its turn (429 pauses)
    still has a whole lease for its call, and no other worker takes it as in doubt while the
    call may be under way. `attempted_at` is Slack's clock (the wall clock), as it bounds the
    look-up in the conversation's history. `payload` replaces the stored one (the opaque
    reference of a message to an anonymous person, kept from its first attempt).
    """
    if payload is None:
        (mine,) = mark_attempting_many(
            session, [Attempt(message_id, worker, attempted_at, lease_until)]
        )
        return mine
    values: dict[str, Any] = {
        "state": ATTEMPTING,
        "attempted_at": attempted_at,
        "lease_until": lease_until,
    }
    if payload is not None:
        values["payload"] = payload
    done = session.execute(
        update(OutboxMessage)
        .where(_owned(message_id, worker), OutboxMessage.state.in_(LEASED))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


class Attempt(NamedTuple):
    """One message's `mark_attempting`, as `mark_attempting_many` takes it."""

    message_id: int
    worker: str
    attempted_at: datetime
    lease_until: datetime


def mark_attempting_many(session: Session, attempts: Sequence[Attempt]) -> list[bool]:
    """`mark_attempting` for many messages (no payload to replace) in one statement per
    worker, each answered in order: True where the call may go.

    A batch shares its earliest `attempted_at` and `lease_until`: the look-up in the
    conversation then starts a little earlier for some (it is a lower bound), and a lease
    ends a few milliseconds sooner."""
    by_worker: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        by_worker.setdefault(attempt.worker, []).append(attempt)
    mine: set[int] = set()
    connection = session.connection()
    for worker, own in by_worker.items():
        done = connection.execute(
            _ATTEMPTING,
            {
                "m_ids": [attempt.message_id for attempt in own],
                "m_worker": worker,
                "m_at": min(attempt.attempted_at for attempt in own),
                "m_lease": min(attempt.lease_until for attempt in own),
            },
        )
        mine.update(done.scalars())
    return [attempt.message_id in mine for attempt in attempts]


def mark_sent(
    session: Session,
    *,
    message_id: int,
    worker: str,
    ts: str,
    channel: str,
    now: datetime,
) -> None:
    """Record Slack's acceptance; a message to an anonymous person loses its recipient at
    this point. Messages known to be to nobody anonymous go faster through
    `mark_sent_many`."""
    values: dict[str, Any] = {
        "state": SENT,
        "message_ts": ts,
        "message_channel": channel,
        "sent_at": now,
        "lease_until": None,
        "attempted_at": None,
        "last_error": None,
    }
    # Nothing kept may link an anonymous person to what they were told.
    _settle(session, message_id, worker, values, forget=("message_channel", "message_ts"))


class Sent(NamedTuple):
    """One message's acceptance by Slack, as `mark_sent_many` takes it."""

    message_id: int
    worker: str
    ts: str
    channel: str
    now: datetime


def mark_sent_many(session: Session, accepted: Sequence[Sent]) -> None:
    """`mark_sent` for many messages none of which is to an anonymous person (nothing to
    scrub), in one executemany: one round trip on PostgreSQL (psycopg pipelines it)."""
    session.connection().execute(
        _SENT,
        [
            {
                "m_id": sent.message_id,
                "m_worker": sent.worker,
                "m_ts": sent.ts,
                "m_channel": sent.channel,
                "m_now": sent.now,
            }
            for sent in accepted
        ],
    )


def hold(
    session: Session, *, message_id: int, worker: str, until: datetime, answered: bool = False
) -> None:
    """Put a message back, untouched, until `until` (the recipient's next working hours).
    `answered`: Slack refused its call (a refused token), so it is no longer in doubt."""
    values: dict[str, Any] = {"state": QUEUED, "not_before": until, "lease_until": None}
    if answered:
        values["attempted_at"] = None
    session.execute(update(OutboxMessage).where(_owned(message_id, worker)).values(**values))


def mark_failed_try(session: Session, *, message_id: int, worker: str, error: str) -> bool:
    """Count a failed attempt Slack answered (a 5xx) of a message `worker` keeps, to try it
    again itself after a short backoff: answered, it is not in doubt. False when the message
    is no longer `worker`'s."""
    done = session.execute(
        update(OutboxMessage)
        .where(_owned(message_id, worker), OutboxMessage.state.in_(LEASED))
        .values(
            state=SENDING,
            attempted_at=None,
            attempts=OutboxMessage.attempts + 1,
            last_error=error[:255],
            last_error_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def mark_retry(
    session: Session,
    *,
    message_id: int,
    worker: str,
    error: str,
    at: datetime,
    count: bool,
    unanswered: bool = False,
) -> None:
    """Put a message back in the queue, due at `at`; `count` adds a failed attempt.

    An answer from Slack (a 429, a 5xx) says the message was not posted: it is no longer in
    doubt. A call left `unanswered` (the connection dropped) may have posted it: it stays in
    doubt, and is looked up before it is sent again.
    """
    values: dict[str, Any] = {
        "state": QUEUED,
        "not_before": at,
        "lease_until": None,
        "attempts": OutboxMessage.attempts + (1 if count else 0),
        "last_error": error[:255],
        "last_error_at": func.now(),
    }
    if not unanswered:
        values["attempted_at"] = None
    session.execute(update(OutboxMessage).where(_owned(message_id, worker)).values(**values))


def mark_final(session: Session, *, message_id: int, worker: str, state: str, error: str) -> None:
    """Give up on a message: `failed` after the retries, `dead` on a permanent error.

    A message to an anonymous person loses its recipient and content here too: it will
    never be sent, so nothing needs to link them to it any more.
    """
    values = {
        "state": state,
        "lease_until": None,
        "attempts": OutboxMessage.attempts + 1,
        "last_error": error[:255],
        "last_error_at": func.now(),
    }
    _settle(session, message_id, worker, values)


def mark_expired(session: Session, *, message_id: int, worker: str) -> None:
    """Give up on a message whose `expires_at` has come: `expired`, never sent."""
    _settle(session, message_id, worker, {"state": EXPIRED, "lease_until": None})


def _settle(
    session: Session,
    message_id: int,
    worker: str,
    values: dict[str, Any],
    *,
    forget: Sequence[str] = (),
) -> None:
    """Write a message's outcome, if `worker` still holds it. A message to an anonymous
    person also loses its recipient and content (and the columns in `forget`).

    Statements, not a loaded object: a message deleted meanwhile (a closed round's reminder,
    which its round deletes whatever its state) is no longer anyone's, not an error at the
    flush (StaleDataError, which ended the delivery run)."""
    payload = session.scalar(select(OutboxMessage.payload).where(_owned(message_id, worker)))
    if payload is None:
        return
    if payload.get("scrub_recipient"):
        values = {
            **values,
            **dict.fromkeys(forget),
            "recipient": None,
            "payload": {"scrub_recipient": True},
        }
    session.execute(update(OutboxMessage).where(_owned(message_id, worker)).values(**values))


def any_with_prefix(session: Session, *, prefix: str) -> bool:
    """True when a message whose key starts with `prefix` was ever queued."""
    found = select(OutboxMessage.id).where(OutboxMessage.key.startswith(prefix, autoescape=True))
    return session.scalar(found.limit(1)) is not None


def waiting(session: Session, workspace_id: int) -> int:
    """A workspace's messages not sent yet (queued, or being sent)."""
    unsent = (OutboxMessage.workspace_id == workspace_id) & OutboxMessage.state.in_(
        (QUEUED, SENDING, ATTEMPTING)
    )
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(unsent)) or 0


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


def set_history_unreadable(session: Session, *, workspace_id: int, at: datetime | None) -> None:
    """Record that Slack refused to read a workspace's DMs back (`at`), or that it reads them
    again (None). While it is set, delivery there is at-least-once: a message in doubt after
    a crash is sent again rather than looked up."""
    session.execute(
        update(Workspace)
        .where(Workspace.id == workspace_id)
        .where(
            Workspace.history_unreadable_at.is_(None)
            if at is not None
            else Workspace.history_unreadable_at.is_not(None)
        )
        .values(history_unreadable_at=at)
    )


def at_least_once(session: Session) -> Sequence[tuple[str, datetime]]:
    """The workspaces (Slack team id, since when) whose DMs cannot be read back."""
    rows = session.execute(
        select(Workspace.slack_team_id, Workspace.history_unreadable_at)
        .where(Workspace.history_unreadable_at.is_not(None))
        .order_by(Workspace.slack_team_id)
    ).all()
    return [(team, at) for team, at in rows]


def known_dm(session: Session, *, workspace_id: int, recipient: str) -> str | None:
    """The DM (a D… id) Slack answered for an earlier message sent to `recipient`, if any."""
    return session.scalar(
        select(OutboxMessage.message_channel)
        .where(
            OutboxMessage.workspace_id == workspace_id,
            OutboxMessage.recipient == recipient,
            OutboxMessage.state == SENT,
            OutboxMessage.message_channel.startswith("D"),
        )
        .limit(1)
    )
