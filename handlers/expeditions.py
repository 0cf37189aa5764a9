"""Learning expeditions: the astonishment report's form, opened from the Home tab (or any
`expedition_open` button), and its submission."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.runtime.services import Services
from bot.shared.inputs import public_id
from bot.walks import expeditions
from handlers.common import actor
from handlers.home import publish


def open_form(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    value = body["actions"][0].get("value", "")
    origin = "home" if body.get("view", {}).get("type") == "home" else "message"
    who = actor(context, body, client, roles=True, admin=False)
    with services.session() as session:
        view = expeditions.form(
            session, who=who, public_id=public_id(value), origin=origin, now=services.now()
        )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def submit(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    # The answer is the acknowledgement: no Slack call before it (the form's opening cached
    # the person).
    who = actor(context, body, roles=True, admin=False, ask_slack=False)
    with services.session() as session:
        outcome = expeditions.submit(
            session, services.policy, who=who, view=body["view"], now=services.now()
        )
    if outcome.errors:
        ack(response_action="errors", errors=outcome.errors)
        return
    ack(response_action="update", view=outcome.view)
    if outcome.origin == "home":
        publish(services, client, actor(context, body, client, roles=True))


def register(app: App) -> None:
    app.action("expedition_open")(open_form)
    app.view(expeditions.CALLBACK_ID)(submit)
