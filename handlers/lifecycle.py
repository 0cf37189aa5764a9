"""Uninstall and token revocation: stop acting for a workspace (or, for an org-wide install,
every workspace of an Enterprise Grid organisation) that removed the bot."""

from __future__ import annotations

from slack_bolt import App, BoltContext

from bot.runtime import workspaces
from bot.runtime.services import Services
from bot.shared.inputs import slack_id


def uninstalled(context: BoltContext) -> None:
    services: Services = context["services"]
    if context.team_id:
        services.workspace_id(context.team_id)  # recorded, to be marked
    with services.session() as session:
        gone = workspaces.uninstalled(
            session,
            slack_team_id=context.team_id,
            enterprise_id=context.enterprise_id,
            org_wide=bool(context.is_enterprise_install),
            now=services.now(),
            installation_store=services.installation_store,
        )
        # Before the commit: a request that sees the workspace uninstalled in the database
        # finds it so in memory too, and reinstates it (after the commit, it went through as
        # if installed, and the workspace stayed marked until a later request).
        for workspace_id in gone:
            services.mark_uninstalled(workspace_id)


def tokens_revoked(event: dict, context: BoltContext) -> None:
    services: Services = context["services"]
    tokens = event.get("tokens")
    bots = tokens.get("bot") if isinstance(tokens, dict) else None
    bot_user_ids = [b for b in bots if slack_id(b)] if isinstance(bots, list) else []
    if bot_user_ids and context.team_id:
        services.workspace_id(context.team_id)
    with services.session() as session:
        gone = workspaces.tokens_revoked(
            session,
            slack_team_id=context.team_id,
            enterprise_id=context.enterprise_id,
            org_wide=bool(context.is_enterprise_install),
            bot_user_ids=bot_user_ids,
            now=services.now(),
            installation_store=services.installation_store,
        )
        for workspace_id in gone:  # before the commit, as for app_uninstalled
            services.mark_uninstalled(workspace_id)


def team_access(event: dict, context: BoltContext) -> None:
    """An org-wide installation was granted, or lost, access to workspaces of its organisation."""
    services: Services = context["services"]
    team_ids = event.get("team_ids")
    slack_team_ids = [t for t in team_ids if slack_id(t)] if isinstance(team_ids, list) else []
    if context.enterprise_id is None or not slack_team_ids:
        return  # not an event Slack sends
    granted = event.get("type") == "team_access_granted"
    with services.session() as session:
        changed = workspaces.organisation_access(
            session,
            enterprise_id=context.enterprise_id,
            slack_team_ids=slack_team_ids,
            granted=granted,
            now=services.now(),
            installation_store=services.installation_store,
        )
        for workspace_id in changed:  # before the commit, as for app_uninstalled
            if granted:
                services.back_from_uninstall(workspace_id)
            else:
                services.mark_uninstalled(workspace_id)


def register(app: App) -> None:
    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(tokens_revoked)
    app.event("team_access_granted")(team_access)
    app.event("team_access_revoked")(team_access)
