"""The welcome message: once per person and workspace, when they first belong to a team.

Planned by the clock from the database (members without a welcome in the outbox), so a
person added by team setup, `team sync` or a channel join is welcomed exactly once, even
after a restart or a missed hour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, sessionmaker

from bot.shared.blocks import render
from bot.shared.i18n import pick_locale
from bot.shared.policy import Policy
from bot.shared.sending import Queued, Recipient, queue_many
from bot.shared.tenants import Units
from bot.teams.directory import Directory, Profile
from storage.db import session_scope
from storage.models import Membership, OutboxMessage, Team, Workspace

KIND = "welcome"
# Welcomes are committed this many at a time, each batch then handed to delivery, so that
# in a crowd the first go out while the others are written (and, on SQLite, each write is
# short enough for delivery's own writes to get their turn): a half-second's worth at
# Slack's rate for posting.
FIRST = 100


def key(slack_team_id: str, user_id: str) -> str:
    """The idempotency key of a person's welcome in a workspace."""
    return f"{KIND}:{slack_team_id}:{user_id}"


@dataclass(frozen=True)
class Newcomer:
    workspace_id: int
    slack_team_id: str
    user_id: str
    team: Team


def newcomers(session: Session, *, workspace_id: int | None = None) -> list[Newcomer]:
    """Members of an installed workspace's teams (of every one when `workspace_id` is None)
    who have no welcome queued or sent yet; none in a workspace whose token was refused."""
    welcomed = exists().where(
        and_(
            OutboxMessage.kind == KIND,
            OutboxMessage.workspace_id == Team.workspace_id,
            OutboxMessage.key == (f"{KIND}:" + Workspace.slack_team_id + ":" + Membership.user_id),
        )
    )
    query = (
        select(Membership.user_id, Team, Workspace.slack_team_id)
        .join(Team, Membership.team_id == Team.id)
        .join(Workspace, Team.workspace_id == Workspace.id)
        .where(Workspace.uninstalled_at.is_(None), Workspace.token_error.is_(None), ~welcomed)
        .order_by(Team.workspace_id, Membership.user_id, Team.created_at, Team.id)
    )
    if workspace_id is not None:
        query = query.where(Team.workspace_id == workspace_id)
    rows = session.execute(query).all()
    seen: set[tuple[int, str]] = set()
    found: list[Newcomer] = []
    for user_id, team, slack_team_id in rows:
        if (team.workspace_id, user_id) not in seen:  # one welcome, from their first team
            seen.add((team.workspace_id, user_id))
            found.append(Newcomer(team.workspace_id, slack_team_id, user_id, team))
    return found


def plan(
    sessions: sessionmaker[Session],
    policy: Policy,
    directory: Directory,
    *,
    now: datetime,
    units: Units | None = None,
    wake: Callable[[], None] = lambda: None,
) -> int:
    """Queue a welcome for every newcomer, in their language, held to their working hours.

    Who is new is read first, in one query; then each workspace is a unit of its own
    (`units`): its newcomers' profiles are asked of Slack with no transaction open (one
    `users.list` for a crowd), and their welcomes queued last, in bulk (the key keeps a
    welcome queued meanwhile by another clock from being queued twice). The message is
    rendered once per team and language, not once per person. In a crowd they are
    committed `FIRST` at a time, `wake` called after each, so that delivery starts on the
    first while the others are written.
    """
    units = units or Units(sessions, directory.client_for, now, stage="welcomes")
    with session_scope(sessions) as session:
        by_workspace: dict[int, list[Newcomer]] = {}
        for newcomer in newcomers(session):
            by_workspace.setdefault(newcomer.workspace_id, []).append(newcomer)
    planned = 0
    for workspace_id, found in sorted(by_workspace.items()):
        work = partial(_plan_workspace, sessions, policy, directory, workspace_id, found, now, wake)
        planned += units.alone(f"workspace {workspace_id}", work, workspace_id=workspace_id) or 0
    return planned


def _plan_workspace(
    sessions: sessionmaker[Session],
    policy: Policy,
    directory: Directory,
    workspace_id: int,
    found: list[Newcomer],
    now: datetime,
    wake: Callable[[], None],
) -> int:
    if directory.client_for(workspace_id) is None:
        return 0  # uninstalled, or no token: nobody to welcome there
    # One refresh for the whole group: users.list when many are stale, cache otherwise. The
    # profiles Slack gave are cached once the welcomes are queued: delivery starts sooner.
    profiles, cache = directory.profiles_to_cache(
        workspace_id=workspace_id, user_ids={n.user_id for n in found}, now=now
    )
    planned = _queue(sessions, policy, found, profiles, now=now, wake=wake)
    cache()
    return planned


def _queue(
    sessions: sessionmaker[Session],
    policy: Policy,
    found: list[Newcomer],
    profiles: dict[str, Profile],
    *,
    now: datetime,
    wake: Callable[[], None],
) -> int:
    """Queue the welcomes of one workspace's newcomers, `FIRST` per transaction, calling
    `wake` after each."""
    # (team, language) -> the rendered welcome, shared by its rows (only ever serialized)
    messages: dict[tuple[int, str], dict] = {}
    queued = []
    for newcomer in found:
        # Someone Slack no longer knows is queued too: delivery marks it dead, once.
        profile = profiles.get(newcomer.user_id)
        locale = pick_locale(
            profile.locale if profile else None, newcomer.team.locale, default=policy.default_locale
        )
        rendered = messages.get((newcomer.team.id, locale))
        if rendered is None:
            rendered = messages[newcomer.team.id, locale] = render(
                "welcome", locale, team=newcomer.team, threshold=policy.anonymity_threshold
            )
        queued.append(
            Queued(
                to=Recipient(
                    workspace_id=newcomer.workspace_id,
                    user_id=newcomer.user_id,
                    timezone=profile.timezone if profile else None,
                    team_timezone=newcomer.team.timezone,
                    holidays=newcomer.team.holidays,
                ),
                key=key(newcomer.slack_team_id, newcomer.user_id),
                payload=rendered,
            )
        )
    planned = 0
    for start in range(0, len(queued), FIRST):
        part = queued[start : start + FIRST]
        with session_scope(sessions) as session:
            planned += queue_many(
                session, part, kind=KIND, earliest=now, default_timezone=policy.default_timezone
            )
        wake()
    return planned
