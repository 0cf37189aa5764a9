"""Pulse survey queries. The caller commits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from storage import outbox
from storage.models import (
    OutboxMessage,
    PulseAnswer,
    PulseComment,
    PulseParticipant,
    PulsePause,
    PulseRound,
    Team,
    TeamManager,
)


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def get_round(session: Session, *, round_id: int) -> PulseRound | None:
    return session.scalars(
        select(PulseRound).where(PulseRound.id == round_id).options(selectinload(PulseRound.team))
    ).one_or_none()


@dataclass(frozen=True)
class RoundFacts:
    """What a survey tap needs to know of its round, read in one query."""

    workspace_id: int
    questions: tuple[str, ...]
    state: str
    closes_at: datetime


# A survey tap's two statements, built once: building them (SQLAlchemy's coercions and cache
# keys) cost more CPU than running them, on the hottest path of a survey round.
_ROUND_FACTS = (
    select(Team.workspace_id, PulseRound.questions, PulseRound.state, PulseRound.closes_at)
    .join(Team, PulseRound.team_id == Team.id)
    .where(PulseRound.id == bindparam("round_id"))
)


def _answer_upsert(dialect_insert: Callable[[Any], Any]) -> Any:
    """Insert an answer, or replace the value of the same person's earlier one. On the table,
    not the entity: the session still autoflushes and runs its listeners, but skips the ORM's
    bulk-insert bookkeeping."""
    statement = dialect_insert(PulseAnswer.__table__).values(
        round_id=bindparam("round_id"),
        question=bindparam("question"),
        respondent=bindparam("respondent"),
        value=bindparam("value"),
    )
    return statement.on_conflict_do_update(
        index_elements=["round_id", "question", "respondent"],
        set_={"value": statement.excluded.value},
    )


_SAVE_ANSWER = {pg_insert: _answer_upsert(pg_insert), sqlite_insert: _answer_upsert(sqlite_insert)}


def round_facts(session: Session, *, round_id: int) -> RoundFacts | None:
    row = session.execute(_ROUND_FACTS, {"round_id": round_id}).one_or_none()
    if row is None:
        return None
    workspace_id, questions, state, closes_at = row
    return RoundFacts(workspace_id, tuple(questions), state, closes_at)


def round_for(session: Session, *, team_id: int, period: date) -> PulseRound | None:
    return session.scalars(
        select(PulseRound).where(PulseRound.team_id == team_id, PulseRound.period == period)
    ).one_or_none()


def rounds_of(session: Session, *, team_id: int, since: date | None = None) -> Sequence[PulseRound]:
    """A team's rounds, oldest first."""
    query = select(PulseRound).where(PulseRound.team_id == team_id)
    if since is not None:
        query = query.where(PulseRound.period >= since)
    return session.scalars(query.order_by(PulseRound.period)).all()


def open_rounds(session: Session) -> Sequence[PulseRound]:
    return session.scalars(
        select(PulseRound)
        .where(PulseRound.state == "open")
        .options(selectinload(PulseRound.team).selectinload(Team.workspace))
    ).all()


def participant(session: Session, *, round_id: int, user_id: str) -> PulseParticipant | None:
    return session.scalars(
        select(PulseParticipant).where(
            PulseParticipant.round_id == round_id, PulseParticipant.user_id == user_id
        )
    ).one_or_none()


def participants(session: Session, *, round_id: int) -> Sequence[PulseParticipant]:
    return session.scalars(
        select(PulseParticipant).where(PulseParticipant.round_id == round_id)
    ).all()


def asked_in_week(
    session: Session, *, user_ids: Sequence[str], week: str, workspace_id: int
) -> set[str]:
    """Who among `user_ids` already has a round in that ISO week (any team of the workspace)."""
    if not user_ids:
        return set()
    rows = session.scalars(
        select(PulseParticipant.user_id)
        .join(PulseRound, PulseParticipant.round_id == PulseRound.id)
        .join(Team, PulseRound.team_id == Team.id)
        .where(
            Team.workspace_id == workspace_id,
            PulseParticipant.week == week,
            PulseParticipant.user_id.in_(list(user_ids)),
        )
    )
    return set(rows)


def paused(session: Session, *, workspace_id: int, on: date) -> set[str]:
    """People whose pause still covers `on` (a pause is inclusive of its last day)."""
    return set(
        session.scalars(
            select(PulsePause.user_id).where(
                PulsePause.workspace_id == workspace_id, PulsePause.until >= on
            )
        )
    )


def set_pause(session: Session, *, workspace_id: int, user_id: str, until: date) -> None:
    statement = (
        _insert(session)(PulsePause)
        .values(workspace_id=workspace_id, user_id=user_id, until=until)
        .on_conflict_do_update(index_elements=["workspace_id", "user_id"], set_={"until": until})
    )
    session.execute(statement)


def save_answer(
    session: Session, *, round_id: int, question: str, respondent: str, value: int
) -> None:
    """Record an answer, replacing the same person's earlier one (one statement)."""
    session.execute(
        _SAVE_ANSWER[_insert(session)],
        {"round_id": round_id, "question": question, "respondent": respondent, "value": value},
    )


def answers_of(session: Session, *, round_id: int, respondent: str) -> dict[str, int]:
    """One person's answers in a round, by question."""
    rows = session.execute(
        select(PulseAnswer.question, PulseAnswer.value).where(
            PulseAnswer.round_id == round_id, PulseAnswer.respondent == respondent
        )
    )
    return {question: value for question, value in rows}


def respondents(session: Session, *, round_id: int) -> set[str]:
    return set(
        session.scalars(
            select(PulseAnswer.respondent).where(PulseAnswer.round_id == round_id).distinct()
        )
    )


def all_answers(
    session: Session, *, round_ids: Sequence[int]
) -> Sequence[tuple[int, str, str, int]]:
    """(round, question, respondent, value) for the given rounds."""
    return session.execute(
        select(
            PulseAnswer.round_id,
            PulseAnswer.question,
            PulseAnswer.respondent,
            PulseAnswer.value,
        ).where(PulseAnswer.round_id.in_(list(round_ids)))
    ).all()


def readers_asked(session: Session, *, round_ids: Sequence[int]) -> dict[int, int]:
    """How many of the people asked in each round manage its team now (they read its
    results); rounds with none are left out."""
    if not round_ids:
        return {}
    rows = session.execute(
        select(PulseParticipant.round_id, func.count())
        .join(PulseRound, PulseParticipant.round_id == PulseRound.id)
        .join(
            TeamManager,
            (TeamManager.team_id == PulseRound.team_id)
            & (TeamManager.user_id == PulseParticipant.user_id),
        )
        .where(PulseParticipant.round_id.in_(list(round_ids)))
        .group_by(PulseParticipant.round_id)
    )
    return {round_id: count for round_id, count in rows}


def save_comment(session: Session, *, round_id: int, respondent: str, text: str) -> None:
    statement = (
        _insert(session)(PulseComment)
        .values(round_id=round_id, respondent=respondent, text=text)
        .on_conflict_do_update(index_elements=["round_id", "respondent"], set_={"text": text})
    )
    session.execute(statement)


def comments(session: Session, *, round_id: int) -> list[str]:
    return list(
        session.scalars(
            select(PulseComment.text)
            .where(PulseComment.round_id == round_id)
            .order_by(func.random())
        )
    )


def delivered(session: Session, *, round_id: int) -> int:
    """Survey DMs of a round that Slack accepted (the round's `sent`)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.kind == "pulse",
                OutboxMessage.key.like(f"pulse:{round_id}:%"),
                OutboxMessage.state == "sent",
            )
        )
        or 0
    )


def sent_surveys(session: Session, *, round_id: int) -> list[tuple[str, str, str]]:
    """(person, conversation, ts) of a round's survey DMs that Slack accepted."""
    rows = session.execute(
        select(OutboxMessage.recipient, OutboxMessage.message_channel, OutboxMessage.message_ts)
        .where(
            OutboxMessage.kind == "pulse",
            OutboxMessage.key.like(f"pulse:{round_id}:%"),
            OutboxMessage.state == outbox.SENT,
            OutboxMessage.message_ts.is_not(None),
        )
        .order_by(OutboxMessage.id)
    ).all()
    return [(user, channel, ts) for user, channel, ts in rows]


def cancel_queued(session: Session, *, keys_like: str, reason: str, now: datetime) -> int:
    """Mark still-queued messages matching a key pattern dead (a closed round, a pause)."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.key.like(keys_like), OutboxMessage.state == "queued")
        .values(state="dead", last_error=reason, last_error_at=now)
    )
    return result.rowcount or 0


def take_answers(
    session: Session, *, round_id: int
) -> tuple[list[tuple[str, str, int]], list[tuple[str, str]]]:
    """Delete a round's answers and comments; return them as (question, respondent, value)
    and (respondent, text)."""
    answers = session.execute(
        delete(PulseAnswer)
        .where(PulseAnswer.round_id == round_id)
        .returning(PulseAnswer.question, PulseAnswer.respondent, PulseAnswer.value)
        .execution_options(synchronize_session=False)
    ).all()
    comments = session.execute(
        delete(PulseComment)
        .where(PulseComment.round_id == round_id)
        .returning(PulseComment.respondent, PulseComment.text)
        .execution_options(synchronize_session=False)
    ).all()
    return [(q, who, value) for q, who, value in answers], [(who, text) for who, text in comments]


def put_answers(
    session: Session,
    *,
    round_id: int,
    answers: Sequence[tuple[str, str, int]],
    comments: Sequence[tuple[str, str]],
) -> None:
    """Insert answers and comments in the order given: it becomes their ids' order and, on
    both backends, their physical order."""
    if answers:
        session.execute(
            insert(PulseAnswer),
            [
                {"round_id": round_id, "question": q, "respondent": who, "value": value}
                for q, who, value in answers
            ],
        )
    if comments:
        session.execute(
            insert(PulseComment),
            [{"round_id": round_id, "respondent": who, "text": text} for who, text in comments],
        )


def forget_recipients(
    session: Session, *, round_id: int, key: Callable[[], str], now: datetime
) -> None:
    """After a round closed: nothing in the outbox says whom its messages were for (its
    surveys' updates, `closing.say_closed`, hold the conversation and ts until delivered).

    Its reminders are deleted, whatever their state (one still queued, or claimed by a
    worker that died, never goes out after the close): their zone and times alone would
    tell who was reminded. Its surveys, one per person asked, keep their kind, round and
    state (the round's `sent`) under a random key; a worker still sending one can no longer
    write its channel back.
    """
    session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.key.like(f"pulse-reminder:{round_id}:%"))
        .execution_options(synchronize_session=False)
    )
    surveys = session.scalars(
        select(OutboxMessage).where(OutboxMessage.key.like(f"pulse:{round_id}:%"))
    ).all()
    for message in surveys:
        if message.state in (outbox.QUEUED, outbox.SENDING):
            message.state = outbox.DEAD
            message.last_error, message.last_error_at = "round_closed", now
        message.key = f"pulse:{round_id}:{key()}"
        message.recipient = message.message_channel = message.message_ts = None
        message.claimed_by = message.lease_until = None
        message.payload = {"scrub_recipient": True}
