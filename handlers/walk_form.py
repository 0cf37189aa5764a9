"""The sensory walk's forms: the manager's (opened by `walk_start` or `/symmetry walk`, saved,
closed, submitted), its findings step, and an invited teammate's short form."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.runtime.services import Services
from bot.shared.inputs import public_id
from bot.walks import findings, teammates, walking
from bot.walks.form import Outcome
from handlers.common import actor

Submit = Callable[..., Outcome]  # (session, policy, *, who, view, now) -> Outcome


def _answer(ack: Ack, outcome: Outcome) -> None:
    if outcome.errors:
        ack(response_action="errors", errors=outcome.errors)
    else:
        ack(response_action="update", view=outcome.view)


def start_walk(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    value = public_id(body["actions"][0].get("value"))
    who = actor(context, body, client, roles=True, admin=False)
    with services.session() as session:
        view = walking.opening(session, who=who, public_id=value, now=services.now())
    client.views_open(trigger_id=body["trigger_id"], view=view)


def pick_team(ack: Ack, body: dict, context: BoltContext) -> None:
    services: Services = context["services"]
    who = actor(context, body, roles=True, admin=False, ask_slack=False)
    with services.session() as session:
        outcome = walking.picked(session, who=who, view=body["view"], now=services.now())
    _answer(ack, outcome)


def close_walk(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    who = actor(context, body, roles=True, admin=False, ask_slack=False)
    with services.session() as session:
        walking.closed(session, who=who, view=body["view"], now=services.now())


def open_teammate_form(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    value = public_id(body["actions"][0].get("value"))
    who = actor(context, body, client)
    with services.session() as session:
        view = teammates.opening(session, who=who, public_id=value, now=services.now())
    client.views_open(trigger_id=body["trigger_id"], view=view)


def submission(submit: Submit) -> Callable[..., None]:
    """The listener of a walk form's submission, answered with `submit`'s outcome: field
    errors, or the view that replaces the form."""

    def listener(ack: Ack, body: dict, context: BoltContext) -> None:
        services: Services = context["services"]
        who = actor(context, body, roles=True, admin=False, ask_slack=False)
        with services.session() as session:
            outcome = submit(
                session, services.policy, who=who, view=body["view"], now=services.now()
            )
        _answer(ack, outcome)

    return listener


def register(app: App) -> None:
    app.action("walk_start")(start_walk)
    app.view("walk_pick")(pick_team)
    app.view("walk_submit")(submission(walking.submit))
    app.view_closed("walk_submit")(close_walk)
    app.view("walk_findings")(submission(findings.submit))
    app.action("walk_teammate_open")(open_teammate_form)
    app.view("walk_teammate")(submission(teammates.submit))
