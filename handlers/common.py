"""What every listener needs to know about a request: who is acting (`actor`)."""

from __future__ import annotations

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.runtime.services import Services
from bot.teams import actors


def actor(
    context: BoltContext,
    body: dict,
    client: WebClient | None = None,
    *,
    user_id: str | None = None,
    roles: bool = False,
    ask_slack: bool = True,
    fresh: bool = False,
) -> actors.Actor:
    """The person behind a command, an interaction or an event (`user_id` for events), resolved
    once and before any transaction (see `bot.teams.actors.resolve`)."""
    services: Services = context["services"]
    slack_team_id = context.team_id or body.get("team_id") or body["team"]["id"]
    user_id = user_id or body.get("user_id") or body["user"]["id"]
    return actors.resolve(
        services.directory,
        services.policy,
        workspace_id=services.workspace_id(slack_team_id),
        slack_team_id=slack_team_id,
        user_id=user_id,
        now=services.now(),
        client=client,
        roles=roles,
        ask_slack=ask_slack,
        fresh=fresh,
    )
