"""`/symmetry`: help for everyone, `team` for admins; anything else answers with help."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.pulse import settings_ui
from bot.runtime import usage
from bot.runtime.services import Services
from bot.shared.blocks import render
from bot.teams import directory as people
from bot.teams import setup_modal as setup


def symmetry_command(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    services: Services = context["services"]
    subcommand, _rest = usage.parse(body.get("text", ""))
    workspace_id = services.workspace_id(context.team_id or body["team_id"])
    user_id = body["user_id"]
    unknown = None if subcommand in usage.SUBCOMMANDS else subcommand
    locale = services.known_locale(workspace_id, user_id)
    if locale is None:
        with services.session() as session:
            if people.is_known(session, workspace_id=workspace_id, user_id=user_id):
                locale = setup.actor(
                    session, services.settings, workspace_id=workspace_id, user_id=user_id
                ).locale
                services.remember_locale(workspace_id, user_id, locale)
    if subcommand not in ("team", "survey") and locale is not None:
        ack(**usage.help_message(locale, unknown=unknown))
        return
    ack()
    with services.session() as session:
        who = setup.actor(session, services.settings, workspace_id=workspace_id, user_id=user_id)
    if subcommand == "survey":
        with services.session() as session:
            who = setup.actor(
                session, services.settings, workspace_id=workspace_id, user_id=user_id
            )
            teams, admin = settings_ui.teams_for(
                session, client, services.settings, who=who, now=services.now()
            )
            view = (
                settings_ui.modal(teams, teams[0], admin=admin, locale=who.locale)
                if teams
                else None
            )
            refusal = None if teams else render("not_allowed_survey", who.locale)
        if view is not None:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        else:
            respond(**refusal)
        return
    if subcommand != "team":
        # First contact: learn the person's language from Slack, then answer.
        with services.session() as session:
            people.profile(
                session, client, workspace_id=workspace_id, user_id=user_id, now=services.now()
            )
            who = setup.actor(
                session, services.settings, workspace_id=workspace_id, user_id=user_id
            )
        respond(**usage.help_message(who.locale, unknown=unknown))
        return
    with services.session() as session:
        view, refusal = setup.opening(
            session, client, services.settings, who=who, now=services.now()
        )
    if view is not None:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    else:
        respond(**refusal)


def register(app: App) -> None:
    app.command("/symmetry")(symmetry_command)
