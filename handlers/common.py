"""What every listener needs to know about a request: who is acting (`actor`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from slack_bolt import Ack, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.runtime.services import Services
from bot.shared.blocks import Kept
from bot.teams import actors

T = TypeVar("T")


def actor(
    context: BoltContext,
    body: dict,
    client: WebClient | None = None,
    *,
    user_id: str | None = None,
    roles: bool = False,
    admin: bool = True,
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
        admin=admin,
        ask_slack=ask_slack,
        fresh=fresh,
    )


JSON_HEADERS = {"content-type": "application/json;charset=utf-8"}  # Bolt's, for a dict body


def ack_kept(ack: Ack, payload: Kept) -> None:
    """Acknowledge with a payload kept as JSON text: the text is the response's body as it
    is. `ack(**payload.copy())` would decode it, and Bolt encode it again, on every ack."""
    ack.response = BoltResponse(status=200, body=payload.text, headers=JSON_HEADERS)


def with_admin_retry(
    context: BoltContext, body: dict, client: WebClient, work: Callable[[actors.Actor], T]
) -> T:
    """Run `work` (which opens its own transaction) for the acting person with their managed
    teams but without the admin flag, whose freshness may cost a Slack call; only when the
    domain needs it (`AdminUnknown`, raised before it changed anything) is it looked up, with
    no transaction open, and `work` run again."""
    try:
        return work(actor(context, body, client, roles=True, admin=False))
    except actors.AdminUnknown:
        return work(actor(context, body, client, roles=True))
