"""`/symmetry`: help for everyone, `team` for admins; anything else answers with help."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import help, people, setup
from bot.services import Services


def symmetry_command(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    services: Services = context["services"]
    subcommand, _rest = help.parse(body.get("text", ""))
    workspace_id = services.workspace_id(context.team_id or body["team_id"])
    user_id = body["user_id"]
    unknown = None if subcommand in help.SUBCOMMANDS else subcommand
    locale = services.known_locale(workspace_id, user_id)
    if locale is None:
        with services.session() as session:
            if people.is_known(session, workspace_id=workspace_id, user_id=user_id):
                locale = setup.actor(
                    session, services.settings, workspace_id=workspace_id, user_id=user_id
                ).locale
                services.remember_locale(workspace_id, user_id, locale)
    if subcommand != "team" and locale is not None:
        ack(**help.help_message(locale, unknown=unknown))
        return
    ack()
    with services.session() as session:
        who = setup.actor(session, services.settings, workspace_id=workspace_id, user_id=user_id)
    if subcommand != "team":
        # First contact: learn the person's language from Slack, then answer.
        with services.session() as session:
            people.profile(
                session, client, workspace_id=workspace_id, user_id=user_id, now=services.now()
            )
            who = setup.actor(
                session, services.settings, workspace_id=workspace_id, user_id=user_id
            )
        respond(**help.help_message(who.locale, unknown=unknown))
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
