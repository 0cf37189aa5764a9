"""Query functions: keyword arguments and a session in, rows out. The caller commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    bindparam,
    delete,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.models import (
    Membership,
    ProcessedEvent,
    SlackUser,
    Team,
    TeamManager,
    TeamSize,
    Workspace,
)


def get_or_create_workspace(
    session: Session, *, slack_team_id: str, name: str | None = None
) -> Workspace:
    """The workspace row for a Slack team ID, created on first sight."""
    workspace = session.scalars(
        select(Workspace).where(Workspace.slack_team_id == slack_team_id)
    ).one_or_none()
    if workspace is None:
        try:
            with session.begin_nested():
                workspace = Workspace(slack_team_id=slack_team_id, name=name)
                session.add(workspace)
        except IntegrityError:  # another request created it a moment ago
            workspace = session.scalars(
                select(Workspace).where(Workspace.slack_team_id == slack_team_id)
            ).one()
    elif name and workspace.name != name:
        workspace.name = name
    return workspace


def get_workspace(session: Session, *, slack_team_id: str) -> Workspace | None:
    """The workspace row for a Slack team ID, if the bot has seen it."""
    return session.scalars(
        select(Workspace).where(Workspace.slack_team_id == slack_team_id)
    ).one_or_none()


def get_slack_user(session: Session, *, workspace_id: int, user_id: str) -> SlackUser | None:
    """The cached profile of a person, if any."""
    return session.scalars(
        select(SlackUser).where(
            SlackUser.workspace_id == workspace_id, SlackUser.user_id == user_id
        )
    ).one_or_none()


@dataclass(frozen=True)
class LanguageFacts:
    """What a person's language and time zone are decided from (bot/teams/actors.py): their
    cached Slack profile's, and their first team's."""

    profiled: bool  # a profile of theirs is cached (its fields may still be empty)
    locale: str | None
    timezone: str | None
    team_locale: str | None
    team_timezone: str | None


def _language_facts() -> CompoundSelect:
    # One statement, built once: the profile's row (kind 0) and the first team's (kind 1).
    workspace_id, user_id = bindparam("workspace_id"), bindparam("user_id")
    own = select(literal_column("0").label("kind"), SlackUser.locale, SlackUser.timezone).where(
        SlackUser.workspace_id == workspace_id, SlackUser.user_id == user_id
    )
    first_team = (
        select(literal_column("1").label("kind"), Team.locale, Team.timezone)
        .join(Membership, Membership.team_id == Team.id)
        .where(Team.workspace_id == workspace_id, Membership.user_id == user_id)
        .order_by(Team.created_at, Team.id)
        .limit(1)
        .subquery()
    )
    return union_all(own, select(first_team))


_LANGUAGE_FACTS = _language_facts()


def language_facts(
    session: Session | Connection, *, workspace_id: int, user_id: str
) -> LanguageFacts:
    """A person's cached profile's language and zone and their first team's, in one read."""
    rows = {
        kind: (locale, zone)
        for kind, locale, zone in session.execute(
            _LANGUAGE_FACTS, {"workspace_id": workspace_id, "user_id": user_id}
        )
    }
    own, team = rows.get(0), rows.get(1)
    return LanguageFacts(
        profiled=own is not None,
        locale=own[0] if own else None,
        timezone=own[1] if own else None,
        team_locale=team[0] if team else None,
        team_timezone=team[1] if team else None,
    )


def get_slack_users(
    session: Session, *, workspace_id: int, user_ids: Iterable[str]
) -> dict[str, SlackUser]:
    """Cached profiles of several people, by user ID."""
    ids = list(set(user_ids))
    rows: dict[str, SlackUser] = {}
    for start in range(0, len(ids), 500):  # keep IN lists short on every backend
        chunk = ids[start : start + 500]
        for row in session.scalars(
            select(SlackUser).where(
                SlackUser.workspace_id == workspace_id, SlackUser.user_id.in_(chunk)
            )
        ):
            rows[row.user_id] = row
    return rows


def upsert_slack_users(
    session: Session, *, workspace_id: int, fetched_at: datetime, users: Sequence[dict]
) -> None:
    """Create or refresh many cached profiles at once; each of `users` holds `user_id` and
    `upsert_slack_user`'s fields, the same ones for all (one statement, rows in batches)."""
    if not users:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = [{"workspace_id": workspace_id, "fetched_at": fetched_at, **user} for user in users]
    statement = insert(SlackUser.__table__)
    changed = {
        column: statement.excluded[column]
        for column in values[0]
        if column not in ("workspace_id", "user_id")
    }
    session.connection().execute(
        statement.on_conflict_do_update(index_elements=["workspace_id", "user_id"], set_=changed),
        values,
    )


def upsert_slack_user(
    session: Session,
    *,
    workspace_id: int,
    user_id: str,
    fetched_at: datetime,
    **fields: object,
) -> SlackUser:
    """Create or refresh the cached profile of a person.

    An upsert in the database: two requests meeting the same person at once (their first
    commands, say) both succeed instead of one failing on the unique key.
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {"workspace_id": workspace_id, "user_id": user_id, "fetched_at": fetched_at, **fields}
    session.execute(
        insert(SlackUser)
        .values(**values)
        .on_conflict_do_update(
            index_elements=["workspace_id", "user_id"],
            set_={k: v for k, v in values.items() if k not in ("workspace_id", "user_id")},
        )
    )
    row = session.scalars(
        select(SlackUser)
        .where(SlackUser.workspace_id == workspace_id, SlackUser.user_id == user_id)
        .execution_options(populate_existing=True)
    ).one()
    return row


def get_team(session: Session, *, team_id: int) -> Team | None:
    """A team by its primary key, with managers and members loaded."""
    return session.scalars(
        select(Team)
        .where(Team.id == team_id)
        .options(selectinload(Team.managers), selectinload(Team.memberships))
    ).one_or_none()


def get_team_by_name(session: Session, *, workspace_id: int, name: str) -> Team | None:
    """A team by name, compared without regard to case."""
    return session.scalars(
        select(Team).where(
            Team.workspace_id == workspace_id, func.lower(Team.name) == name.strip().lower()
        )
    ).one_or_none()


def get_team_by_channel(session: Session, *, workspace_id: int, channel_id: str) -> Team | None:
    """The team that a channel defines, if any."""
    return session.scalars(
        select(Team).where(Team.workspace_id == workspace_id, Team.channel_id == channel_id)
    ).one_or_none()


def list_teams(
    session: Session, *, workspace_id: int | None = None, members: bool = True
) -> Sequence[Team]:
    """Teams in name order, with managers and members loaded (all workspaces when None).
    `members=False` leaves the memberships to load if touched: the clock's stages that only
    look at managers read a thousand-person team's rows on every tick otherwise."""
    loaded = [selectinload(Team.managers), selectinload(Team.workspace)]
    if members:
        loaded.append(selectinload(Team.memberships))
    query = select(Team).options(*loaded).order_by(Team.workspace_id, func.lower(Team.name))
    if workspace_id is not None:
        query = query.where(Team.workspace_id == workspace_id)
    return session.scalars(query).all()


def teams_managed_by(session: Session, *, workspace_id: int, user_id: str) -> Sequence[Team]:
    """The teams a person manages, with members loaded."""
    return session.scalars(
        select(Team)
        .join(TeamManager)
        .where(Team.workspace_id == workspace_id, TeamManager.user_id == user_id)
        .options(selectinload(Team.memberships), selectinload(Team.managers))
        .order_by(func.lower(Team.name))
    ).all()


def teams_of_member(session: Session, *, workspace_id: int, user_id: str) -> Sequence[Team]:
    """The teams a person belongs to."""
    return session.scalars(
        select(Team)
        .join(Membership)
        .where(Team.workspace_id == workspace_id, Membership.user_id == user_id)
        .order_by(Team.created_at, Team.id)
    ).all()


@dataclass(frozen=True)
class SizeFacts:
    """What a team's anonymity size is decided from (see bot/teams/sizes.py): the members it
    counts now, the smallest size recorded since a given instant (None: none recorded), and
    the size in force at that instant (None: no record before it)."""

    now: int
    smallest_since: int | None
    at_start: int | None


def _counted_members(team_id: ColumnElement[int]) -> Select[tuple[int]]:
    """How many members of the team are neither its managers nor deactivated accounts."""
    is_manager = (
        select(TeamManager.id)
        .where(TeamManager.team_id == Membership.team_id, TeamManager.user_id == Membership.user_id)
        .exists()
    )
    deactivated = (
        select(SlackUser.id)
        .where(
            SlackUser.workspace_id == Team.workspace_id,
            SlackUser.user_id == Membership.user_id,
            SlackUser.deleted.is_(True),
        )
        .exists()
    )
    return (
        select(func.count(Membership.id))
        .join(Team, Team.id == Membership.team_id)
        .where(Membership.team_id == team_id, ~is_manager, ~deactivated)
    )


def size_fact_columns(
    team_id: ColumnElement[int], since: ColumnElement[datetime]
) -> tuple[ColumnElement[int], ColumnElement[int], ColumnElement[int]]:
    """The three `SizeFacts` of the team `team_id` (a column of the enclosing query), as
    scalar subqueries: its counted members now, its smallest size recorded from `since` on,
    and the size in force at `since`."""
    smallest = (
        select(func.min(TeamSize.size))
        .where(TeamSize.team_id == team_id, TeamSize.recorded_at >= since)
        .scalar_subquery()
    )
    at_start = (
        select(TeamSize.size)
        .where(TeamSize.team_id == team_id, TeamSize.recorded_at < since)
        .order_by(TeamSize.recorded_at.desc(), TeamSize.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return _counted_members(team_id).scalar_subquery(), smallest, at_start


def _size_facts_statement() -> Select:
    teams = select(Team.id).where(Team.id.in_(bindparam("team_ids", expanding=True))).subquery()
    since = bindparam("since", type_=TeamSize.recorded_at.type)
    return select(teams.c.id, *size_fact_columns(teams.c.id, since))


# Built once: building the expression and its cache key on every call cost more CPU than the
# query itself, and it runs before every report modal opens.
_SIZE_FACTS = _size_facts_statement()


def size_facts(
    session: Session | Connection, *, team_ids: Sequence[int], since: datetime
) -> dict[int, SizeFacts]:
    """For each team, its counted members now and its recorded sizes from `since` on (later
    records included), in one round trip."""
    if not team_ids:
        return {}
    rows = session.execute(_SIZE_FACTS, {"team_ids": list(team_ids), "since": since})
    return {team_id: SizeFacts(now, low, start) for team_id, now, low, start in rows}


def record_size(session: Session, *, team_id: int, at: datetime) -> None:
    """Add the team's counted size at `at` to its history, unless it is the last recorded.

    Changes to one team are recorded one at a time (a row lock on PostgreSQL; SQLite has one
    writer anyway): each count then sees the changes committed before it, and a record is
    never dated before the one it follows, so the last record is the team's size.
    """
    session.execute(select(Team.id).where(Team.id == team_id).with_for_update(key_share=True))
    now = session.scalar(_counted_members(literal(team_id))) or 0
    last = session.execute(
        select(TeamSize.size, TeamSize.recorded_at)
        .where(TeamSize.team_id == team_id)
        .order_by(TeamSize.recorded_at.desc(), TeamSize.id.desc())
        .limit(1)
    ).first()
    if last is None or last.size != now:
        when = at if last is None else max(at, last.recorded_at)
        session.add(TeamSize(team_id=team_id, size=now, recorded_at=when))
        session.flush()


def set_members(session: Session, *, team: Team, user_ids: Iterable[str]) -> tuple[int, int]:
    """Make the team's members exactly `user_ids`; return (added, removed) counts."""
    wanted = set(user_ids)
    current = {m.user_id: m for m in team.memberships}
    for user_id in wanted - current.keys():
        team.memberships.append(Membership(user_id=user_id))
    removed = current.keys() - wanted
    for user_id in removed:
        team.memberships.remove(current[user_id])
    session.flush()
    return len(wanted - current.keys()), len(removed)


def add_member(session: Session, *, team: Team, user_id: str) -> bool:
    """Add one member; False when they already were one."""
    if any(m.user_id == user_id for m in team.memberships):
        return False
    team.memberships.append(Membership(user_id=user_id))
    session.flush()
    return True


def remove_member(session: Session, *, team: Team, user_id: str) -> bool:
    """Remove one member; False when they were not one."""
    result = session.execute(
        delete(Membership).where(Membership.team_id == team.id, Membership.user_id == user_id)
    )
    session.expire(team, ["memberships"])
    return bool(result.rowcount)


def set_managers(session: Session, *, team: Team, user_ids: Iterable[str]) -> None:
    """Make the team's managers exactly `user_ids`."""
    wanted = set(user_ids)
    current = {m.user_id: m for m in team.managers}
    for user_id in wanted - current.keys():
        team.managers.append(TeamManager(user_id=user_id))
    for user_id in current.keys() - wanted:
        team.managers.remove(current[user_id])
    session.flush()


def claim_event(session: Session, *, event_id: str) -> bool:
    """Record an Events API delivery; False when this `event_id` was already claimed."""
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id))
    except IntegrityError:
        return False
    return True


def release_event(session: Session, *, event_id: str) -> None:
    """Forget a claimed event whose processing failed, so Slack's retry is handled."""
    session.execute(delete(ProcessedEvent).where(ProcessedEvent.event_id == event_id))


def prune_events(session: Session, *, before: datetime) -> int:
    """Delete claims older than `before` (Slack stops retrying after about an hour)."""
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < before))
    return result.rowcount or 0
