"""The welcome message: once per person and workspace, when they first belong to a team.

Planned by the clock from the database (members without a welcome in the outbox), so a
person added by team setup, `team sync` or a channel join is welcomed exactly once, even
after a restart or a missed hour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from bot.runtime.config import Settings
from bot.shared.blocks import render
from bot.shared.i18n import pick_locale
from bot.shared.worktime import next_opening, zone
from bot.teams import directory as people
from storage import outbox
from storage.models import Membership, OutboxMessage, Team, Workspace

KIND = "welcome"
ClientFor = Callable[[int], WebClient | None]


def key(slack_team_id: str, user_id: str) -> str:
    """The idempotency key of a person's welcome in a workspace."""
    return f"{KIND}:{slack_team_id}:{user_id}"


@dataclass(frozen=True)
class Newcomer:
    workspace_id: int
    slack_team_id: str
    user_id: str
    team: Team


def newcomers(session: Session) -> list[Newcomer]:
    """Members of an installed workspace's teams who have no welcome queued or sent yet."""
    welcomed = exists().where(
        and_(
            OutboxMessage.kind == KIND,
            OutboxMessage.workspace_id == Team.workspace_id,
            OutboxMessage.key == (f"{KIND}:" + Workspace.slack_team_id + ":" + Membership.user_id),
        )
    )
    rows = session.execute(
        select(Membership.user_id, Team, Workspace.slack_team_id)
        .join(Team, Membership.team_id == Team.id)
        .join(Workspace, Team.workspace_id == Workspace.id)
        .where(Workspace.uninstalled_at.is_(None), ~welcomed)
        .order_by(Team.workspace_id, Membership.user_id, Team.created_at, Team.id)
    ).all()
    seen: set[tuple[int, str]] = set()
    found: list[Newcomer] = []
    for user_id, team, slack_team_id in rows:
        if (team.workspace_id, user_id) not in seen:  # one welcome, from their first team
            seen.add((team.workspace_id, user_id))
            found.append(Newcomer(team.workspace_id, slack_team_id, user_id, team))
    return found


def plan(
    session: Session,
    client_for: ClientFor,
    settings: Settings,
    *,
    now: datetime,
) -> int:
    """Queue a welcome for every newcomer, in their language, held to their working hours."""
    planned = 0
    pending = newcomers(session)
    by_workspace: dict[int, list[Newcomer]] = {}
    for newcomer in pending:
        by_workspace.setdefault(newcomer.workspace_id, []).append(newcomer)
    for workspace_id, group in by_workspace.items():
        client = client_for(workspace_id)
        if client is None:
            continue
        # One refresh for the whole group: users.list when many are stale, cache otherwise.
        profiles = people.profiles(
            session, client, workspace_id=workspace_id, user_ids=[n.user_id for n in group], now=now
        )
        for newcomer in group:
            # Someone Slack no longer knows is queued too: delivery marks it dead, once.
            profile = profiles.get(newcomer.user_id)
            locale = pick_locale(
                profile.locale if profile else None,
                newcomer.team.locale,
                default=settings.default_locale,
            )
            timezone = (profile.timezone if profile else None) or newcomer.team.timezone
            tz = zone(timezone, settings.default_timezone)
            message = render(
                "welcome",
                locale,
                team=newcomer.team,
                threshold=settings.anonymity_threshold,
            )
            planned += outbox.enqueue(
                session,
                workspace_id=workspace_id,
                key=key(newcomer.slack_team_id, newcomer.user_id),
                kind=KIND,
                recipient=newcomer.user_id,
                payload=message,
                timezone=tz.key,
                not_before=next_opening(now, tz),
            )
    return planned
