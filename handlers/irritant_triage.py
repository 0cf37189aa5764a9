"""Triage buttons and forms for managers and admins, and Home tab pages."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import home_tab
from bot.irritants import actions
from bot.runtime.services import Services
from bot.shared.inputs import clicked, field_errors, number, public_id
from bot.teams.actors import Actor
from handlers.common import actor, with_admin_retry

BUTTONS = {
    "irritant_acknowledge": "acknowledge",
    "irritant_plan": "plan",
    "irritant_resolve": "resolve",
    "irritant_decline": "decline",
    "irritant_reopen": "reopen",
}


def triage_click(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    services: Services = context["services"]
    action_id, value = clicked(body)
    origin = "home" if body.get("view", {}).get("type") == "home" else "message"

    def click(who: Actor) -> actions.Result:
        with services.session() as session:
            return actions.click(
                session,
                services.policy,
                who=who,
                action=BUTTONS[action_id],
                public_id=public_id(value),
                origin=origin,
                now=services.now(),
            )

    result = with_admin_retry(context, body, client, click)
    if result.modal is not None:
        client.views_open(trigger_id=body["trigger_id"], view=result.modal)
        return
    _tell(client, respond, body, result.error or result.done or "")
    if origin == "home":
        _republish(services, client, actor(context, body, client, roles=True))


def triage_submit(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]

    def submit(who: Actor) -> tuple[dict[str, str], str]:
        with services.session() as session:
            return actions.submit(
                session, services.policy, who=who, view=body["view"], now=services.now()
            )

    errors, origin = with_admin_retry(context, body, client, submit)
    if errors:
        ack(response_action="errors", errors=field_errors(body["view"], errors))
        return
    ack()
    if origin == "home":
        _republish(services, client, actor(context, body, client, roles=True))


def home_page(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    who = actor(context, body, client, roles=True)
    _republish(services, client, who, page=number(clicked(body)[1]) or 1)


def _tell(client: WebClient, respond: Respond, body: dict, text: str) -> None:
    """Answer the actor privately: in the message's thread of origin, or by DM from Home."""
    if body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)
    else:
        client.chat_postMessage(channel=body["user"]["id"], text=text)


def _republish(services: Services, client: WebClient, who: Actor, page: int = 1) -> None:
    with services.session() as session:
        view = home_tab.home_view(session, services.policy, who=who, now=services.now(), page=page)
    client.views_publish(user_id=who.user_id, view=view)


def register(app: App) -> None:
    for action_id in BUTTONS:
        app.action(action_id)(triage_click)
    app.view("irritant_triage")(triage_submit)
    app.action("home_page_previous")(home_page)
    app.action("home_page_next")(home_page)
