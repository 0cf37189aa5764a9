"""`/symmetry nps`'s form: a team's customer NPS for a month (the command opens it in
handlers/symmetry.py)."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.digests import nps_ui
from bot.runtime.services import Services
from bot.shared.inputs import field_errors
from handlers.common import actor


def submit_nps(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    who = actor(context, body, client, roles=True)
    with services.session() as session:
        errors, message = nps_ui.save(session, who=who, view=body["view"], now=services.now())
    if errors or message is None:
        ack(response_action="errors", errors=field_errors(body["view"], errors))
        return
    ack()
    client.chat_postMessage(channel=who.user_id, **message)


def register(app: App) -> None:
    app.view(nps_ui.CALLBACK_ID)(submit_nps)
