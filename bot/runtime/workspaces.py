"""Workspaces: installed, uninstalled, tokens revoked."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy.orm import Session

from storage import queries


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
    """A workspace that had removed the app installed it again (with the manifest's scopes:
    its DMs are taken as readable until a look-up says otherwise)."""
    workspace = queries.get_workspace(session, slack_team_id=slack_team_id)
    if workspace is not None:
        workspace.uninstalled_at = None
        workspace.history_unreadable_at = None
