"""Uninstall and token revocation: stop acting for a workspace that removed the bot."""

from __future__ import annotations

from slack_bolt import App, BoltContext

from bot.runtime import workspaces
from bot.runtime.services import Services
from bot.shared.inputs import slack_id


def uninstalled(context: BoltContext) -> None:
    services: Services = context["services"]
    services.mark_uninstalled(services.workspace_id(context.team_id))
    with services.session() as session:
        workspaces.uninstalled(
            session,
            slack_team_id=context.team_id,
            now=services.now(),
            installation_store=services.installation_store,
        )


def tokens_revoked(event: dict, context: BoltContext) -> None:
    services: Services = context["services"]
    tokens = event.get("tokens")
    bots = tokens.get("bot") if isinstance(tokens, dict) else None
    bot_user_ids = [b for b in bots if slack_id(b)] if isinstance(bots, list) else []
    if bot_user_ids:
        services.mark_uninstalled(services.workspace_id(context.team_id))
    with services.session() as session:
        workspaces.tokens_revoked(
            session,
            slack_team_id=context.team_id,
            bot_user_ids=bot_user_ids,
            now=services.now(),
            installation_store=services.installation_store,
        )


def register(app: App) -> None:
    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(tokens_revoked)
