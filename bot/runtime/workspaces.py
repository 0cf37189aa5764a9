"""Workspaces: installed, uninstalled, tokens revoked; and where their bot's token is found.

Enterprise Grid adds two shapes of installation beside a plain workspace's: the app installed
in one workspace of an organisation (stored under the organisation's `enterprise_id` and the
workspace's `team_id`), and the app installed for the whole organisation ("org-wide": stored
under `enterprise_id` alone, one token for every workspace the organisation grants it). A
workspace row records its organisation and which of the two it relies on.

A workspace whose token Slack refused is marked (`storage.tokens`, bot.shared.tenants) until
it is installed again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Bot, InstallationStore
from sqlalchemy import desc, select, update
from sqlalchemy.orm import Session, sessionmaker

from storage import queries, tokens
from storage.db import session_scope
from storage.models import Workspace

log = logging.getLogger(__name__)


def uninstalled(
    session: Session,
    *,
    slack_team_id: str | None,
    now: datetime,
    installation_store: InstallationStore | None = None,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> list[int]:
    """The app was removed: stop acting there and forget its tokens (data stays for export).
    Returns the database IDs of the workspaces it no longer acts in.

    Removed from one workspace (of a Grid organisation or not), that workspace's installation
    goes. Removed from a whole organisation (`org_wide`, or an event naming the organisation
    and no workspace), the organisation's installation goes, and so does the bot from every
    workspace of the organisation that has no installation of its own."""
    if org_wide or (slack_team_id is None and enterprise_id is not None):
        return _organisation_uninstalled(
            session, enterprise_id=enterprise_id, now=now, installation_store=installation_store
        )
    if slack_team_id is None:
        return []
    workspace = queries.get_workspace(session, slack_team_id=slack_team_id)
    if workspace is not None and enterprise_id is None:
        enterprise_id = workspace.enterprise_id
    if installation_store is not None:
        installation_store.delete_all(enterprise_id=enterprise_id, team_id=slack_team_id)
    if workspace is None:
        return []
    if workspace.uninstalled_at is None:
        workspace.uninstalled_at = now
    return [workspace.id]


def _organisation_uninstalled(
    session: Session,
    *,
    enterprise_id: str | None,
    now: datetime,
    installation_store: InstallationStore | None,
) -> list[int]:
    if enterprise_id is None:
        return []
    if installation_store is not None:
        installation_store.delete_all(enterprise_id=enterprise_id, team_id=None)
    gone = []
    members = session.scalars(select(Workspace).where(Workspace.enterprise_id == enterprise_id))
    for workspace in members:
        own = installation_store is not None and (
            installation_store.find_bot(
                enterprise_id=enterprise_id, team_id=workspace.slack_team_id
            )
            is not None
        )
        if own:
            continue  # installed there by itself too: still acting there
        if workspace.uninstalled_at is None:
            workspace.uninstalled_at = now
        gone.append(workspace.id)
    return gone


def tokens_revoked(
    session: Session,
    *,
    slack_team_id: str | None,
    bot_user_ids: list[str],
    now: datetime,
    installation_store: InstallationStore | None = None,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> list[int]:
    """Slack revoked tokens; when the bot's are among them the bot can no longer act there
    (the workspaces it left, as `uninstalled` returns them)."""
    if not bot_user_ids:
        return []
    return uninstalled(
        session,
        slack_team_id=slack_team_id,
        now=now,
        installation_store=installation_store,
        enterprise_id=enterprise_id,
        org_wide=org_wide,
    )


def reinstalled(session: Session, *, slack_team_id: str) -> None:
    """A workspace that had removed the app installed it again (with the manifest's scopes:
    its DMs are taken as readable until a look-up says otherwise)."""
    # One statement, not a loaded row: while an uninstall of the same workspace is being
    # committed (handlers.lifecycle marks it in memory first), it waits for that commit and
    # undoes it, instead of finding the row installed, changing nothing, and leaving the
    # database uninstalled while memory says installed.
    workspace_id = session.scalar(
        update(Workspace)
        .where(Workspace.slack_team_id == slack_team_id)
        .values(uninstalled_at=None, history_unreadable_at=None)
        .returning(Workspace.id)
    )
    if workspace_id is not None:
        tokens.clear_refused(session, workspace_id=workspace_id)  # a new token


def installed(
    session: Session,
    *,
    slack_team_id: str | None,
    team_name: str | None,
    enterprise_id: str | None,
    is_enterprise_install: bool,
) -> int | None:
    """An OAuth install succeeded: the workspace it names is recorded with its organisation
    and is active again (its database ID is returned). An org-wide install names no
    workspace: the organisation grants it workspaces afterwards (`team_access_granted`), and
    each is recorded then, or at its first request."""
    if slack_team_id is None or is_enterprise_install:
        if enterprise_id is not None:  # a new org-wide token: its workspaces are served again
            served = select(Workspace.id).where(
                Workspace.enterprise_id == enterprise_id, Workspace.is_enterprise_install
            )
            for workspace_id in session.scalars(served):
                tokens.clear_refused(session, workspace_id=workspace_id)
        return None
    workspace = queries.get_or_create_workspace(
        session, slack_team_id=slack_team_id, name=team_name
    )
    workspace.enterprise_id = enterprise_id
    workspace.is_enterprise_install = False
    workspace.uninstalled_at = None
    workspace.history_unreadable_at = None  # installed with the manifest's scopes
    tokens.clear_refused(session, workspace_id=workspace.id)
    session.flush()
    return workspace.id


def organisation_access(
    session: Session,
    *,
    enterprise_id: str,
    slack_team_ids: list[str],
    granted: bool,
    now: datetime,
    installation_store: InstallationStore | None = None,
) -> list[int]:
    """An org-wide installation was granted access to workspaces of its organisation
    (`team_access_granted`): they are recorded as relying on it, and active. Or it lost access
    (`team_access_revoked`): those without an installation of their own are no longer served
    (the organisation's token stays, for its other workspaces). Returns the database IDs of
    the workspaces changed."""
    changed = []
    for slack_team_id in slack_team_ids:
        if granted:
            workspace = queries.get_or_create_workspace(session, slack_team_id=slack_team_id)
            workspace.enterprise_id, workspace.is_enterprise_install = enterprise_id, True
            workspace.uninstalled_at = None
        else:
            workspace = queries.get_workspace(session, slack_team_id=slack_team_id)
            own = installation_store is not None and installation_store.find_bot(
                enterprise_id=enterprise_id, team_id=slack_team_id
            )
            if workspace is None or own:
                continue
            workspace.uninstalled_at = workspace.uninstalled_at or now
        session.flush()
        changed.append(workspace.id)
    return changed


def organisation_seen(
    session: Session, *, workspace_id: int, enterprise_id: str, is_enterprise_install: bool
) -> None:
    """A request from a workspace named its Grid organisation and the installation that
    authorized it: recorded, so that the clock finds the token without a request."""
    workspace = session.get(Workspace, workspace_id)
    if workspace is not None:
        workspace.enterprise_id = enterprise_id
        workspace.is_enterprise_install = is_enterprise_install


def find_bot(
    store: InstallationStore,
    *,
    slack_team_id: str,
    enterprise_id: str | None,
    is_enterprise_install: bool,
) -> Bot | None:
    """The bot installation that acts in a workspace: the org-wide one of its organisation
    when it relies on one, else its own (then, failing that, the organisation's); failing
    all, the latest stored for its team ID under any organisation (one saved before the
    workspace's organisation was recorded, or recorded differently since)."""
    own = {"enterprise_id": enterprise_id, "team_id": slack_team_id}
    org = {"enterprise_id": enterprise_id, "team_id": None, "is_enterprise_install": True}
    tries = [org, own] if is_enterprise_install else [own, org]
    for query in tries if enterprise_id else [own]:
        bot = store.find_bot(**query)
        if bot is not None:
            return bot
    return _bot_of_team(store, slack_team_id)


def _bot_of_team(store: InstallationStore, slack_team_id: str) -> Bot | None:
    """The latest bot stored for a team ID whatever its organisation, when the store is the
    SQLAlchemy one (a plain installation store offers no such look-up)."""
    bots = getattr(store, "bots", None)
    client_id = getattr(store, "client_id", None)
    engine = getattr(store, "engine", None)
    if bots is None or engine is None:
        return None
    query = (
        select(bots)
        .where(
            bots.c.client_id == client_id,
            bots.c.team_id == slack_team_id,
            bots.c.bot_token.is_not(None),
        )
        .order_by(desc(bots.c.installed_at))
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return None if row is None else store.build_bot_entity(row)  # type: ignore[attr-defined]


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
