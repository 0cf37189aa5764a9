"""The walk prompt's "Done already" and "Remind me in a week" buttons."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.runtime.services import Services
from bot.shared.inputs import public_id
from bot.walks import prompts
from handlers.common import actor


def prompt_click(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    services: Services = context["services"]
    action = body["actions"][0]
    # Only the teams they manage matter here, not the admin flag (which may cost a call).
    who = actor(context, body, client, roles=True, admin=False)
    with services.session() as session:
        answer = prompts.click(
            session,
            who=who,
            action=prompts.ACTIONS[action["action_id"]],
            public_id=public_id(action.get("value")),
            now=services.now(),
        )
    if answer.replace:
        respond(text=answer.text, replace_original=True)
    else:
        respond(text=answer.text, response_type="ephemeral", replace_original=False)


def register(app: App) -> None:
    for action_id in prompts.ACTIONS:
        app.action(action_id)(prompt_click)
