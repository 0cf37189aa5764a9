"""`/symmetry digest` (reached from handlers.symmetry) and the submission of its settings."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.digests import command, settings_ui
from bot.runtime.services import Services
from bot.shared.inputs import field_errors
from bot.teams.actors import Actor
from handlers.common import with_admin_retry


def open_digest(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    services: Services = context["services"]

    def work(who: Actor) -> tuple[Actor, command.Opening]:
        with services.session() as session:
            return who, command.opening(session, who=who)

    who, opening = with_admin_retry(context, body, client, work)
    if opening.view is None:
        respond(**(opening.refusal or {}))
        return
    client.views_open(trigger_id=body["trigger_id"], view=opening.view)
    command.send_previews(services.sessions, services.policy, client, who=who, now=services.now())


def submit_settings(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]

    def work(who: Actor) -> tuple[dict[str, str], dict[str, Any] | None]:
        with services.session() as session:
            return settings_ui.save(session, who=who, view=body["view"], now=services.now())

    errors, saved = with_admin_retry(context, body, client, work)
    if errors:
        ack(response_action="errors", errors=field_errors(body["view"], errors))
    else:
        ack(response_action="update", view=saved)


def register(app: App) -> None:
    app.view(settings_ui.CALLBACK_ID)(submit_settings)
