"""Pulse survey clicks (answer, skip, comment, pause) and `/symmetry survey` settings."""

from __future__ import annotations

import re
from datetime import date, timedelta

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.pulse import answers, settings_ui
from bot.runtime.services import Services
from bot.shared.blocks import render
from bot.shared.inputs import clicked, field_errors, submitted
from handlers.common import actor


def answer_click(ack: Ack, body: dict, context: BoltContext, respond: Respond) -> None:
    ack()
    services: Services = context["services"]
    action_id, value = clicked(body)
    click = answers.Click.parse(value)
    who = actor(context, body, ask_slack=False)
    with services.session() as session:
        if click is None:
            outcome = answers.Outcome(error=answers.error_text(who.locale, "unknown"))
        elif action_id == "pulse_skip":
            outcome = answers.skip(
                session, services.policy, click=click, who=who, now=services.now()
            )
        else:
            outcome = answers.answer(
                session,
                services.policy,
                click=click,
                who=who,
                now=services.now(),
                message=body.get("message"),
            )
    if outcome.message is not None:
        respond(replace_original=True, **outcome.message)
    else:
        respond(text=outcome.error, response_type="ephemeral", replace_original=False)


def open_form(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    action_id, value = clicked(body)
    who = actor(context, body, ask_slack=False)
    if action_id == "pulse_comment":
        view = render("pulse_comment_modal", who.locale, value=value)
    else:
        today = who.today(services.now())
        view = render(
            "pulse_pause_modal", who.locale, value=value, suggested=today + timedelta(days=14)
        )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def submit_comment(ack: Ack, body: dict, context: BoltContext) -> None:
    services: Services = context["services"]
    view = body["view"]
    click = answers.Click.parse(view.get("private_metadata", ""))
    text = submitted(view).get("comment", {}).get("value", {}).get("value") or ""
    who = actor(context, body, ask_slack=False)
    with services.session() as session:
        if click is None:
            errors = {"comment": answers.error_text(who.locale, "unknown")}
        else:
            errors = answers.comment(
                session, services.policy, click=click, who=who, text=text, now=services.now()
            )
    ack(response_action="errors", errors=errors) if errors else ack()


def submit_pause(ack: Ack, body: dict, context: BoltContext) -> None:
    services: Services = context["services"]
    picked = submitted(body["view"]).get("until", {}).get("value", {}).get("selected_date")
    try:
        until = date.fromisoformat(picked) if picked else None
    except ValueError:
        until = None
    who = actor(context, body, ask_slack=False)
    with services.session() as session:
        errors = answers.pause(session, who=who, until=until, now=services.now())
    ack(response_action="errors", errors=errors) if errors else ack()


def pick_team(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    who = actor(context, body, client, roles=True)
    with services.session() as session:
        view = settings_ui.switched_team(session, who=who, picked=clicked(body)[1])
    if view is not None:
        client.views_update(view_id=body["view"]["id"], hash=body["view"].get("hash"), view=view)


def submit_settings(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    who = actor(context, body, client, roles=True)
    with services.session() as session:
        errors, team = settings_ui.save(session, who=who, view=body["view"], now=services.now())
        if errors:
            ack(response_action="errors", errors=field_errors(body["view"], errors))
            return
        message = settings_ui.saved_message(team, locale=who.locale)
    ack()
    client.chat_postMessage(channel=who.user_id, **message)


def register(app: App) -> None:
    app.action(re.compile(r"^pulse_answer:"))(answer_click)
    app.action("pulse_skip")(answer_click)
    app.action("pulse_comment")(open_form)
    app.action("pulse_pause")(open_form)
    app.view("pulse_comment")(submit_comment)
    app.view("pulse_pause")(submit_pause)
    app.action("pulse_settings_pick")(pick_team)
    app.view(settings_ui.CALLBACK_ID)(submit_settings)
