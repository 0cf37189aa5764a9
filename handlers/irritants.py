"""`/irritant`: report, list, help; the report modal, "me too", and the reporter's details."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.irritants import reporter, reporting
from bot.runtime.services import Services
from bot.shared.inputs import clicked, public_id, submitted
from handlers.common import actor


def irritant_command(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    services: Services = context["services"]
    subcommand, prefill = reporter.parse(body.get("text", ""))
    who = actor(context, body, client)  # first contact: the language Slack knows
    if subcommand is None:
        # The report modal: one read (none if kept seconds ago), then views.open while the
        # trigger lives (3 s).
        view = reporting.modal(
            services.reading,
            services.policy,
            who=who,
            now=services.now(),
            prefill=prefill,
            cache=services.report_choices,
        )
        if view is not None:
            client.views_open(trigger_id=body["trigger_id"], view=view)
            return
    with services.session() as session:
        if subcommand == "help":
            answer = reporter.help_message(who)
        elif subcommand == "list":
            page = int(prefill) if prefill else 1  # `parse` let only a few digits through
            answer = reporter.list_message(session, services.policy, who=who, page=page)
        else:
            answer = reporting.no_team_message(session, who=who)
    respond(**answer)


def submit_report(ack: Ack, body: dict, context: BoltContext) -> None:
    services: Services = context["services"]
    who = actor(context, body, ask_slack=False)
    with services.session() as session:
        outcome = reporting.submit(
            session, services.policy, who=who, view=body["view"], now=services.now()
        )
    if outcome.errors:
        ack(response_action="errors", errors=outcome.errors)
    else:
        ack(response_action="update", view=outcome.view)


def similar_choice(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    action_id, value = clicked(body)
    token, _, chosen = value.partition(":")
    who = actor(context, body, ask_slack=False)
    with services.session() as session:
        view = reporting.decide_similar(
            session,
            services.policy,
            who=who,
            token=token,
            choice="vote" if action_id == "irritant_similar_vote" else "send",
            public_id=public_id(chosen),
            now=services.now(),
        )
    client.views_update(view_id=body["view"]["id"], view=view)


def open_details(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    _, value = clicked(body)
    who = actor(context, body, ask_slack=False)
    with services.session() as session:
        view = reporter.details_modal(
            session,
            services.policy,
            who=who,
            public_id=public_id(value),
        )
    if view is not None:
        client.views_open(trigger_id=body["trigger_id"], view=view)


def submit_details(ack: Ack, body: dict, context: BoltContext) -> None:
    services: Services = context["services"]
    view = body["view"]
    value = view.get("private_metadata", "")
    text = submitted(view).get("details", {}).get("value", {})
    who = actor(context, body, ask_slack=False)
    with services.session() as session:
        errors = reporter.add_details(
            session,
            services.policy,
            who=who,
            public_id=public_id(value),
            text=text.get("value") or "",
            now=services.now(),
            request=view.get("id", ""),
        )
    if errors:
        ack(response_action="errors", errors=errors)
    else:
        ack()


def register(app: App) -> None:
    app.command("/irritant")(irritant_command)
    app.view(reporting.CALLBACK_ID)(submit_report)
    app.action("irritant_similar_vote")(similar_choice)
    app.action("irritant_similar_send")(similar_choice)
    app.action("irritant_details")(open_details)
    app.view(reporter.DETAILS_CALLBACK)(submit_details)
