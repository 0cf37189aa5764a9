"""Retention: the free texts that go once they are old enough, and a workspace's purge.

Each eraser takes a boundary instant and a batch size, and touches only rows past the
boundary whose text is still there: a row erased once is not matched again, so the clock
may run them every minute and each run costs only what is newly due. Figures, statuses and
timestamps stay; only what people wrote goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Table,
    Text,
    cast,
    delete,
    func,
    literal_column,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from storage.models import (
    AuditRecord,
    Base,
    Expedition,
    Irritant,
    IrritantEvent,
    OutboxMessage,
    PulseComment,
    PulseRound,
    SlackUser,
    Team,
    Walk,
    WalkNote,
    Workspace,
)

CLOSED = ("resolved", "declined")
# What a delivered message keeps of its payload: nothing (an anonymous one already keeps no
# more than this marker since it was sent).
EMPTY_PAYLOADS = ("{}", '{"scrub_recipient": true}')

# The conditions that say a row still holds its text are written with constants in the SQL,
# not bound parameters, so that they match, word for word, the predicate of a partial index
# on what is left to erase (SQLite, and PostgreSQL's generic plans, match only constants).
TEXT_KEPT = Irritant.description != literal_column("''")
CONTENT_KEPT = cast(OutboxMessage.payload, Text).not_in(
    [literal_column(f"'{payload}'") for payload in EMPTY_PAYLOADS]
)


def erase_irritant_texts(session: Session, *, closed_before: datetime, limit: int) -> int:
    """Erase what people wrote about irritants closed (resolved or declined) at or before
    `closed_before`: the description, the resolution note and every note of its history.
    The category, place, severity, status, dates and votes stay. Returns how many."""
    ids = session.scalars(
        select(Irritant.id)
        .where(
            Irritant.status.in_(CLOSED),
            Irritant.resolved_at <= closed_before,
            TEXT_KEPT,  # never empty until erased (a report needs one); the note goes with it
        )
        .order_by(Irritant.resolved_at)  # oldest first, and a cue to take an index in that order
        .limit(limit)
    ).all()
    if not ids:
        return 0
    session.execute(
        update(IrritantEvent)
        .where(IrritantEvent.irritant_id.in_(ids), IrritantEvent.note.is_not(None))
        .values(note=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Irritant)
        .where(Irritant.id.in_(ids))
        .values(description="", resolution_note=None)
        .execution_options(synchronize_session=False)
    )
    return len(ids)


def delete_pulse_comments(session: Session, *, closed_before: datetime, limit: int) -> int:
    """Delete the comments of survey rounds that closed at or before `closed_before` (the
    answers, which are figures, stay). Returns how many."""
    ids = session.scalars(
        select(PulseComment.id)
        .join(PulseRound, PulseRound.id == PulseComment.round_id)
        .where(PulseRound.closes_at <= closed_before)
        .limit(limit)
    ).all()
    if ids:
        session.execute(delete(PulseComment).where(PulseComment.id.in_(ids)))
    return len(ids)


def erase_walk_texts(session: Session, *, over_before: datetime, limit: int) -> int:
    """Erase what people wrote on sensory walks over at or before `over_before` (done then,
    or, never done, due then): the notes' texts, the two closing answers, the draft, and the
    walk's expeditions' reports. Scores, senses, places and dates stay. Returns how many
    walks."""
    over = or_(Walk.done_at <= over_before, (Walk.done_at.is_(None)) & (Walk.due_at <= over_before))
    with_text = or_(
        Walk.stopped_seeing.is_not(None),
        Walk.works_well.is_not(None),
        # A draft cleared by the ORM is JSON `null`, not SQL NULL: both mean none.
        func.coalesce(cast(Walk.draft, Text), "null") != "null",
        Walk.notes.any(WalkNote.text != ""),
        Walk.expeditions.any(or_(Expedition.surprised != "", Expedition.borrow != "")),
    )
    ids = session.scalars(select(Walk.id).where(over, with_text).limit(limit)).all()
    if not ids:
        return 0
    for statement in (
        update(WalkNote).where(WalkNote.walk_id.in_(ids)).values(text=""),
        update(Expedition).where(Expedition.walk_id.in_(ids)).values(surprised="", borrow=""),
        update(Walk)
        .where(Walk.id.in_(ids))
        .values(stopped_seeing=None, works_well=None, draft=null(), draft_by=None),
    ):
        session.execute(statement.execution_options(synchronize_session=False))
    return len(ids)


def empty_delivered(session: Session, *, sent_before: datetime, limit: int) -> int:
    """Empty the payload of messages delivered at or before `sent_before` (what was said);
    that they were sent, when, and to whom stays. Returns how many."""
    ids = session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.state == "sent",
            OutboxMessage.sent_at <= sent_before,
            CONTENT_KEPT,
        )
        .order_by(OutboxMessage.sent_at)
        .limit(limit)
    ).all()
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(payload={})
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def uninstalled_before(session: Session, *, before: datetime, limit: int) -> Sequence[Workspace]:
    """Workspaces the app was removed from at or before `before`."""
    return session.scalars(
        select(Workspace)
        .where(Workspace.uninstalled_at <= before)
        .order_by(Workspace.uninstalled_at)
        .limit(limit)
    ).all()


def _installation_tables() -> list[Table]:
    """slack_sdk's installation store tables (declared in storage.models), keyed by the
    Slack team ID rather than by a foreign key."""
    tables = Base.metadata.tables
    return [tables[name] for name in ("slack_installations", "slack_bots")]


def purge_workspace(session: Session, *, workspace: Workspace) -> dict[str, int]:
    """Delete everything held about a workspace: its row, and with it (ON DELETE CASCADE)
    every row that refers to it or to its teams, and its installations in the installation
    store (deleted explicitly: they hold the Slack team ID, not a foreign key). An
    organisation-wide installation stays: it serves the organisation's other workspaces.
    Returns counts of what went, by kind (a singular noun)."""
    team_ids = select(Team.id).where(Team.workspace_id == workspace.id).scalar_subquery()

    def count(model: type[Base], *where: object) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    counts = {
        "team": count(Team, Team.workspace_id == workspace.id),
        "irritant": count(Irritant, Irritant.workspace_id == workspace.id),
        "pulse round": count(PulseRound, PulseRound.team_id.in_(team_ids)),
        "walk": count(Walk, Walk.team_id.in_(team_ids)),
        "outbox message": count(OutboxMessage, OutboxMessage.workspace_id == workspace.id),
        "person": count(SlackUser, SlackUser.workspace_id == workspace.id),
        "installation": 0,
    }
    for table in _installation_tables():
        gone = session.execute(delete(table).where(table.c.team_id == workspace.slack_team_id))
        if table.name == "slack_installations":
            counts["installation"] = gone.rowcount  # type: ignore[attr-defined]
    # Its audit records name people (their actors): they go too. The caller records the purge
    # itself, which keeps the Slack team ID and counts only.
    session.execute(delete(AuditRecord).where(AuditRecord.workspace == workspace.slack_team_id))
    session.execute(delete(Workspace).where(Workspace.id == workspace.id))
    return counts
