"""Queries behind a weekly digest's figures. Each is bounded by the team (or the teams of a
workspace) and a window of time, through the irritants' (team, status), (team, created_at),
(team, rounded_up_at) and (team, resolved_at) indexes and the rounds' (team, period) key, so
that a digest costs the same whatever the length of the team's history. The caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select, text, union
from sqlalchemy.orm import Session

from storage.models import CustomerNps, Irritant, OutboxMessage, PulseAnswer, PulseRound

OPEN = ("new", "acknowledged", "planned")


def irritants_around(
    session: Session, *, team_ids: Sequence[int], since: datetime
) -> list[Irritant]:
    """The teams' irritants that are open, or were made, shown in a roundup or closed since
    `since` (each part through its own index), without their history or votes."""
    if not team_ids:
        return []
    ids = list(team_ids)
    window = union(
        select(Irritant.id).where(Irritant.team_id.in_(ids), Irritant.status.in_(OPEN)),
        select(Irritant.id).where(Irritant.team_id.in_(ids), Irritant.created_at >= since),
        select(Irritant.id).where(Irritant.team_id.in_(ids), Irritant.rounded_up_at >= since),
        select(Irritant.id).where(Irritant.team_id.in_(ids), Irritant.resolved_at >= since),
    ).subquery()
    return list(
        session.scalars(
            select(Irritant).where(Irritant.id.in_(select(window.c.id))).order_by(Irritant.id)
        )
    )


def resolved_between(
    session: Session, *, team_ids: Sequence[int], since: datetime, until: datetime
) -> list[Irritant]:
    """The teams' irritants resolved (and not reopened) in [since, until), latest first."""
    if not team_ids:
        return []
    return list(
        session.scalars(
            select(Irritant)
            .where(
                Irritant.team_id.in_(list(team_ids)),
                Irritant.resolved_at >= since,
                Irritant.resolved_at < until,
                Irritant.status == "resolved",
            )
            .order_by(Irritant.resolved_at.desc(), Irritant.id)
        )
    )


def rounds_since(session: Session, *, team_ids: Sequence[int], since: date) -> list[PulseRound]:
    """The teams' survey rounds of `since` or later, oldest first."""
    if not team_ids:
        return []
    return list(
        session.scalars(
            select(PulseRound)
            .where(PulseRound.team_id.in_(list(team_ids)), PulseRound.period >= since)
            .order_by(PulseRound.team_id, PulseRound.period)
        )
    )


def answers_to(
    session: Session, *, round_ids: Sequence[int], question: str
) -> Sequence[tuple[int, str, str, int]]:
    """(round, question, respondent, value) of one question's answers in the given rounds."""
    if not round_ids:
        return []
    return session.execute(
        select(
            PulseAnswer.round_id, PulseAnswer.question, PulseAnswer.respondent, PulseAnswer.value
        ).where(PulseAnswer.round_id.in_(list(round_ids)), PulseAnswer.question == question)
    ).all()


def respondents_per_round(session: Session, *, round_ids: Sequence[int]) -> dict[int, int]:
    """How many people answered each round (rounds without answers are left out)."""
    if not round_ids:
        return {}
    rows = session.execute(
        select(PulseAnswer.round_id, func.count(func.distinct(PulseAnswer.respondent)))
        .where(PulseAnswer.round_id.in_(list(round_ids)))
        .group_by(PulseAnswer.round_id)
    )
    return {round_id: count for round_id, count in rows}


def latest_customer_nps(session: Session, *, team_id: int, month: str) -> CustomerNps | None:
    """The team's customer NPS of the latest month recorded up to `month` ("2026-11")."""
    return session.scalars(
        select(CustomerNps)
        .where(CustomerNps.team_id == team_id, CustomerNps.month <= month)
        .order_by(CustomerNps.month.desc())
        .limit(1)
    ).first()


_BYTE_ORDERED: dict[str, bool] = {}
# Keys that a byte order sorts as written and a linguistic one (punctuation ignored, case
# folded) does not: how the database orders them tells which it uses.
_ORDER_PROBE = (
    "Pulse:1:",
    "pulse:1-",
    "pulse:1:",
    "pulse:1:0",
    "pulse:1:Z",
    "pulse:1:z",
    "pulse:1;",
)


def _byte_ordered(session: Session) -> bool:
    """Whether the database orders text byte by byte (SQLite's default; PostgreSQL under a C
    collation), so that a range of keys is exactly the keys starting with a prefix."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        return True
    url = str(bind.engine.url)
    if url not in _BYTE_ORDERED:
        rows = ", ".join(f"('{key}')" for key in _ORDER_PROBE)
        found = session.scalars(text(f"SELECT v FROM (VALUES {rows}) AS probe(v) ORDER BY v"))
        _BYTE_ORDERED[url] = tuple(found) == tuple(sorted(_ORDER_PROBE))
    return _BYTE_ORDERED[url]


def delivered_counts(session: Session, *, round_ids: Sequence[int]) -> dict[int, int]:
    """Each round's survey DMs that Slack accepted (what `storage.pulse.delivered` counts).

    Their keys start with "pulse:<round>:". A LIKE on a prefix does not use the key's index
    (SQLite's LIKE ignores case; PostgreSQL's needs a pattern index), and the outbox keeps
    every survey ever sent: where text is ordered byte by byte, the same keys are read as a
    range of the index instead, so that the count does not grow with the history."""
    ranged = _byte_ordered(session)
    counts: dict[int, int] = {}
    for round_id in round_ids:
        prefix = f"pulse:{round_id}:"
        # Only the key in the query, so that the planner takes the key's index, not the one
        # on the state (which nearly every row shares): the state is checked here.
        query = select(OutboxMessage.kind, OutboxMessage.state).where(
            OutboxMessage.key.like(f"{prefix}%")
        )
        if ranged:  # ";" follows ":" in every byte order
            query = query.where(
                OutboxMessage.key >= prefix, OutboxMessage.key < f"pulse:{round_id};"
            )
        rows = session.execute(query)
        counts[round_id] = sum(1 for kind, state in rows if kind == "pulse" and state == "sent")
    return counts
