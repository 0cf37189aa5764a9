"""Workspaces: installed, uninstalled, tokens revoked or refused (bot.shared.tenants)."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy.orm import Session, sessionmaker

from storage import queries, tokens
from storage.db import session_scope

log = logging.getLogger(__name__)


def uninstalled(
    session: Session,
    *,
    slack_team_id: str,
    now: datetime,
    installation_store: InstallationStore | None = None,
) -> None:
    """The app was removed: stop acting there and forget its tokens (data stays for export)."""
    workspace = queries.get_workspace(session, slack_team_id=slack_team_id)
    if workspace is not None and workspace.uninstalled_at is None:
        workspace.uninstalled_at = now
    if installation_store is not None:
        installation_store.delete_all(enterprise_id=None, team_id=slack_team_id)


def tokens_revoked(
    session: Session,
    *,
    slack_team_id: str,
    bot_user_ids: list[str],
    now: datetime,
    installation_store: InstallationStore | None = None,
) -> None:
    """Slack revoked tokens; when the bot's are among them the bot can no longer act there."""
    if bot_user_ids:
        uninstalled(
            session, slack_team_id=slack_team_id, now=now, installation_store=installation_store
        )


def reinstalled(session: Session, *, slack_team_id: str) -> None:
    """A workspace that had removed the app installed it again: with a new token, so a
    refused one no longer stops the bot there."""
    workspace = queries.get_workspace(session, slack_team_id=slack_team_id)
    if workspace is not None:
        workspace.uninstalled_at = None
        tokens.clear_refused(session, workspace_id=workspace.id)


def installed(session: Session, *, slack_team_id: str) -> None:
    """An OAuth install of the app succeeded (the first, or again): the workspace is known,
    and nothing from a previous install (removed, token refused) stops the bot there."""
    queries.get_or_create_workspace(session, slack_team_id=slack_team_id)
    reinstalled(session, slack_team_id=slack_team_id)


def token_works_again(sessions: sessionmaker[Session], client: WebClient) -> str | None:
    """Single-workspace mode, when a process starts: when the token's workspace is marked
    refused and Slack now accepts the token (a new one in the environment, say), clear the
    mark. Returns the Slack team ID cleared, or None. One `auth.test`, and only when a
    workspace is marked."""
    with session_scope(sessions) as session:
        if not tokens.refused(session):
            return None
    try:
        identity = client.auth_test()
    except SlackApiError as exc:
        log.warning("the bot token is still refused: %s", exc.response.get("error"))
        return None
    except OSError as exc:  # Slack unreachable: the next start asks again
        log.warning("could not check the bot token: %s", type(exc).__name__)
        return None
    team_id = identity.get("team_id")
    with session_scope(sessions) as session:
        workspace = queries.get_workspace(session, slack_team_id=team_id) if team_id else None
        if workspace is None or not tokens.clear_refused(session, workspace_id=workspace.id):
            return None
    log.info("workspace %s: Slack accepts the bot token again", team_id)
    return team_id
