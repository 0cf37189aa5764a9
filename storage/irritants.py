"""Irritant queries. The caller commits."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Integer,
    String,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.models import (
    Irritant,
    IrritantDraft,
    IrritantEvent,
    IrritantVote,
    Membership,
    Team,
    TeamSize,
)
from storage.queries import SizeFacts, size_fact_columns

OPEN = ("new", "acknowledged", "planned")


def get(session: Session, *, public_id: str | None) -> Irritant | None:
    """An irritant, by its public id, with its team, history and votes."""
    if public_id is None:
        return None
    return session.scalars(
        select(Irritant)
        .where(Irritant.public_id == public_id)
        .options(
            selectinload(Irritant.team).selectinload(Team.managers),
            selectinload(Irritant.events),
            selectinload(Irritant.votes),
        )
    ).one_or_none()


def by_row(session: Session, *, irritant_id: object) -> Irritant | None:
    """An irritant by its row id (only for what was stored before public ids existed)."""
    if isinstance(irritant_id, bool) or not isinstance(irritant_id, int):
        return None
    return get(
        session,
        public_id=session.scalar(select(Irritant.public_id).where(Irritant.id == irritant_id)),
    )


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


RECENT_LOCATIONS = 10


@dataclass(frozen=True)
class ReportChoices:
    """What the report modal offers a person: their teams (id, name, and what the team's size
    for anonymity is decided from), oldest first, and the places most recently named in
    those teams' reports, newest first."""

    teams: list[tuple[int, str, SizeFacts]]
    locations: list[str]


def _report_choices_statement() -> CompoundSelect:
    """One round trip for the report modal, built once: `/irritant` must open its modal
    within Slack's 3 s, and building a statement per call costs more CPU than running it."""
    teams, members, irritants = Team.__table__, Membership.__table__, Irritant.__table__
    is_member = (
        teams.c.workspace_id == bindparam("workspace_id"),
        members.c.user_id == bindparam("user_id"),
    )
    mine = (
        select(teams.c.id, teams.c.name, teams.c.created_at)
        .select_from(teams.join(members, members.c.team_id == teams.c.id))
        .where(*is_member)
        .subquery()
    )
    since = bindparam("since", type_=TeamSize.recorded_at.type)
    counted, smallest, at_start = size_fact_columns(mine.c.id, since)
    of_member = select(
        literal(0).label("part"),
        mine.c.id,
        mine.c.name,
        counted.label("counted"),
        smallest.label("smallest"),
        at_start.label("at_start"),
        cast(null(), String).label("location"),
        mine.c.created_at,
        cast(null(), Integer).label("latest"),
    )
    places = (
        select(irritants.c.location, func.max(irritants.c.id).label("latest"))
        .where(
            irritants.c.team_id.in_(
                select(members.c.team_id)
                .select_from(members.join(teams, members.c.team_id == teams.c.id))
                .where(*is_member)
            ),
            irritants.c.location != "",
            # Anonymous reports lend their place only once the roundup has shown them.
            or_(irritants.c.anonymous.is_(False), irritants.c.rounded_up_at.is_not(None)),
        )
        .group_by(irritants.c.location)
        .order_by(func.max(irritants.c.id).desc())
        .limit(RECENT_LOCATIONS)
        .subquery()
    )
    recent = select(
        literal(1),
        cast(null(), Integer),
        cast(null(), String),
        cast(null(), Integer),
        cast(null(), Integer),
        cast(null(), Integer),
        places.c.location,
        cast(null(), teams.c.created_at.type),
        places.c.latest,
    )
    both = union_all(of_member, recent).subquery()
    return select(both).order_by(both.c.part, both.c.created_at, both.c.id, both.c.latest.desc())


_REPORT_CHOICES = _report_choices_statement()


@dataclass(frozen=True)
class _DriverStatement:
    """A statement compiled once for one database dialect, to run on the driver's cursor."""

    sql: str
    positions: tuple[str, ...] | None  # parameter names in order, for a positional driver
    compiled: Any
    since: Callable[[Any], Any] | None  # the bind processor of `since`


_COMPILED: dict[tuple[str, str], _DriverStatement] = {}


def _driver_statement(dialect: Dialect) -> _DriverStatement:
    key = (dialect.name, dialect.driver)
    statement = _COMPILED.get(key)
    if statement is None:
        compiled = _REPORT_CHOICES.compile(dialect=dialect)
        positions = tuple(compiled.positiontup or ()) if dialect.positional else None
        # The dialect's processor: a SQLite text timestamp is compared as text.
        since = TeamSize.recorded_at.type.dialect_impl(dialect).bind_processor(dialect)
        statement = _COMPILED[key] = _DriverStatement(str(compiled), positions, compiled, since)
    return statement


def report_choices(
    session: Session | Connection, *, workspace_id: int, user_id: str, since: datetime
) -> ReportChoices:
    """The person's teams with their size facts from `since` on (see `queries.size_facts`)
    and their teams' recent places, in one query.

    On a plain connection (the report modal, after the ack of `/irritant`) the statement,
    compiled once, goes straight to the driver's cursor: SQLAlchemy's execution around it
    (parameters, execution context, result) cost about four times the query itself, on every
    command, while other commands wait for their acks."""
    params = {"workspace_id": workspace_id, "user_id": user_id, "since": since}
    if isinstance(session, Connection):
        rows = _run_on_driver(session, params)
    else:
        rows = session.execute(_REPORT_CHOICES, params).all()
    teams: list[tuple[int, str, SizeFacts]] = []
    locations: list[str] = []
    for part, team_id, name, counted, smallest, at_start, location, _created, _latest in rows:
        if part == 0:
            teams.append((team_id, name, SizeFacts(counted, smallest, at_start)))
        else:
            locations.append(location)
    return ReportChoices(teams, locations)


def _run_on_driver(connection: Connection, params: dict[str, Any]) -> list[tuple]:
    statement = _driver_statement(connection.dialect)
    values = statement.compiled.construct_params(params)
    if statement.since is not None:
        values["since"] = statement.since(values["since"])
    arguments = (
        [values[name] for name in statement.positions]
        if statement.positions is not None
        else values
    )
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement.sql, arguments)
        return cursor.fetchall()
    finally:
        cursor.close()


def of_team(session: Session, *, team_id: int, statuses: Sequence[str]) -> Sequence[Irritant]:
    """A team's irritants in the given statuses, oldest first, with votes loaded."""
    return session.scalars(
        select(Irritant)
        .where(Irritant.team_id == team_id, Irritant.status.in_(statuses))
        .options(
            selectinload(Irritant.votes), selectinload(Irritant.team), selectinload(Irritant.events)
        )
        .order_by(Irritant.created_at, Irritant.id)
    ).all()


def rounded_up_for_admins(
    session: Session, *, workspace_id: int, closed_since: datetime
) -> Sequence[Irritant]:
    """A workspace's anonymous reports shown in a roundup that may have gone to the admins
    (`for_admins` true, or unknown for older reports), open or closed since `closed_since`,
    oldest first, with votes and history loaded."""
    return session.scalars(
        select(Irritant)
        .where(
            Irritant.workspace_id == workspace_id,
            Irritant.anonymous.is_(True),
            Irritant.rounded_up_at.is_not(None),
            or_(Irritant.for_admins.is_(True), Irritant.for_admins.is_(None)),
            or_(
                Irritant.status.not_in(("resolved", "declined")),
                Irritant.resolved_at >= closed_since,
            ),
        )
        .options(
            selectinload(Irritant.votes), selectinload(Irritant.team), selectinload(Irritant.events)
        )
        .order_by(Irritant.team_id, Irritant.created_at, Irritant.id)
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
        .options(selectinload(Irritant.votes), selectinload(Irritant.events))
        .order_by(Irritant.id)
    ).all()


def reinsert(session: Session, irritants: Sequence[Irritant]) -> None:
    """Write `irritants` again, with their history and votes, under new row ids and in random
    order, then forget the old rows: done when a roundup first shows anonymous reports, so
    that neither their ids nor the tables' physical order (SQLite's rowid, PostgreSQL's heap)
    place them between the named reports made the same day. Public ids stay; the objects
    passed are detached from the session and must not be used again."""
    if not irritants:
        return
    session.flush()
    ids = [irritant.id for irritant in irritants]
    table, events, votes = Irritant.__table__, IrritantEvent.__table__, IrritantVote.__table__
    rows = list(session.execute(select(table).where(table.c.id.in_(ids))).mappings())
    history = list(
        session.execute(
            select(events).where(events.c.irritant_id.in_(ids)).order_by(events.c.id)
        ).mappings()
    )
    voted = list(session.execute(select(votes).where(votes.c.irritant_id.in_(ids))).mappings())
    for irritant in irritants:
        session.expunge(irritant)  # with its events and votes (cascade)
    session.execute(delete(votes).where(votes.c.irritant_id.in_(ids)))
    session.execute(delete(events).where(events.c.irritant_id.in_(ids)))
    session.execute(delete(table).where(table.c.id.in_(ids)))
    shuffle = random.SystemRandom().shuffle
    shuffle(rows)
    shuffle(voted)
    new_ids: dict[int, int] = {}
    for row in rows:
        values = {name: value for name, value in row.items() if name != "id"}
        new_ids[row["id"]] = session.execute(insert(table).values(values)).inserted_primary_key[0]
    order = {old: position for position, old in enumerate(new_ids)}
    history.sort(key=lambda event: order[event["irritant_id"]])  # stable: each one's own order
    for event in history:
        values = {name: value for name, value in event.items() if name != "id"}
        session.execute(
            insert(events).values({**values, "irritant_id": new_ids[event["irritant_id"]]})
        )
    for vote in voted:
        session.execute(
            insert(votes).values(
                irritant_id=new_ids[vote["irritant_id"]], voter_hash=vote["voter_hash"]
            )
        )


def reporter_details_since(
    session: Session, *, team_id: int, since: datetime | None, excluding: Sequence[int]
) -> list[int]:
    """The ids of details that anonymous reporters of a team added to their reports on or
    after the day `since` (all when None), those of the reports `excluding` left aside."""
    events = IrritantEvent.__table__
    irritants = Irritant.__table__
    query = (
        select(events.c.id)
        .join(irritants, irritants.c.id == events.c.irritant_id)
        .where(
            irritants.c.team_id == team_id,
            irritants.c.anonymous.is_(True),
            irritants.c.id.not_in(excluding),
            events.c.action == "detail",
            events.c.actor_role == "reporter",
        )
    )
    if since is not None:
        query = query.where(events.c.created_at >= since)
    return list(session.scalars(query))


def reinsert_events(session: Session, event_ids: Sequence[int]) -> None:
    """Write these history steps again under new row ids, in random order: at a roundup,
    for the details anonymous reporters added since the last one, so that their ids do not
    place them between the managers' actions of the day."""
    if not event_ids:
        return
    session.flush()
    events = IrritantEvent.__table__
    rows = list(session.execute(select(events).where(events.c.id.in_(event_ids))).mappings())
    session.execute(delete(events).where(events.c.id.in_(event_ids)))
    random.SystemRandom().shuffle(rows)
    for row in rows:
        session.execute(insert(events).values({k: v for k, v in row.items() if k != "id"}))


def show_votes(session: Session, *, team_id: int) -> None:
    """Managers see each of the team's "me too" counts as of now, until the next roundup."""
    votes = IrritantVote.__table__
    counted = (
        select(func.count(votes.c.id))
        .where(votes.c.irritant_id == Irritant.__table__.c.id)
        .scalar_subquery()
    )
    session.execute(
        update(Irritant.__table__)
        .where(Irritant.__table__.c.team_id == team_id, Irritant.__table__.c.votes_shown != counted)
        .values(votes_shown=counted),
    )


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
