"""`/symmetry digest`: for a manager or an admin, the modal of their digest settings, and
their current digest sent to them privately as a preview: one per team they manage, or the
admins' digest for an admin who manages none. The modal is opened first (its trigger lives
three seconds; a digest and its chart take longer); the previews are then built and posted
at once, in their DM. A preview is not the weekly one: no record, no outbox key of the
week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.digests import compose
from bot.digests.drafting import Draft, manager_draft
from bot.digests.settings_ui import may_read, modal, preference_of
from bot.digests.weeks import Week
from bot.shared.blocks import render
from bot.shared.i18n import pick_locale
from bot.shared.policy import Policy
from bot.shared.uploads import upload
from bot.teams.actors import Actor
from storage import digest_records as records
from storage import queries
from storage.db import session_scope


@dataclass(frozen=True)
class Opening:
    """What the command answers: the modal to open, or a refusal."""

    view: dict[str, Any] | None
    refusal: dict[str, Any] | None = None


def opening(session: Session, *, who: Actor) -> Opening:
    """The settings modal for a manager or an admin; a refusal for anyone else
    (`AdminUnknown` for someone managing no team whose admin flag was not read)."""
    if not may_read(who):
        return Opening(None, render("digest_refused", who.locale))
    # What `previews` finds, told cheaply: a manager's teams, or the workspace's for an admin.
    previewed = bool(queries.list_teams(session, workspace_id=who.workspace_id))
    return Opening(modal(preference_of(session, who=who), locale=who.locale, previewed=previewed))


def send_previews(
    sessions: sessionmaker[Session], policy: Policy, client: WebClient, *, who: Actor, now: datetime
) -> int:
    """Build `who`'s previews as of `now`, then post them with no transaction open; how many."""
    with session_scope(sessions) as session:
        drafts = previews(session, policy, who=who, now=now)
    post(client, drafts, user_id=who.user_id)
    return len(drafts)


def previews(session: Session, policy: Policy, *, who: Actor, now: datetime) -> list[Draft]:
    """The digests `who` would read this week, as of `now`: each team's they manage, from
    where their last weekly one ended; else, for an admin, the admins' digest."""
    week = Week.of(who.today(now))
    teams = queries.teams_managed_by(session, workspace_id=who.workspace_id, user_id=who.user_id)
    drafts = []
    for team in teams:
        since = records.last_covered(
            session,
            workspace_id=who.workspace_id,
            kind=records.MANAGER,
            recipient=who.user_id,
            team_id=team.id,
        )
        own = who.locale if who.profiled else None
        locale = pick_locale(own, team.locale, default=policy.default_locale)
        drafts.append(
            manager_draft(
                session,
                policy,
                team=team,
                manager_id=who.user_id,
                week=week,
                locale=locale,
                now=now,
                since=since,
            )
        )
    if not teams:
        message = compose.admins_message(
            session, policy, workspace_id=who.workspace_id, week=week, locale=who.locale, now=now
        )
        drafts += [Draft(message, None)] if message is not None else []
    return drafts


def post(client: WebClient, drafts: list[Draft], *, user_id: str) -> None:
    """Post each preview in the person's DM, then its chart into the DM the post answered
    (a `D…` conversation: Slack refuses a user ID for a file). A failed upload is logged and
    leaves the digest in place."""
    for draft in drafts:
        answer = client.chat_postMessage(channel=user_id, **draft.message)
        if draft.chart is not None:
            upload(
                client,
                channel=answer["channel"],
                filename=draft.chart.filename,
                title=draft.chart.title,
                content=draft.chart.content,
            )
