"""Team setup modal and channel membership events."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.runtime.services import Services
from bot.teams import roster as teams
from bot.teams import setup_modal as setup


def pick_team(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    workspace_id = services.workspace_id(context.team_id)
    with services.session() as session:
        who = setup.actor(
            session, services.settings, workspace_id=workspace_id, user_id=body["user"]["id"]
        )
        view = setup.switched_team(
            session,
            client,
            services.settings,
            who=who,
            picked=body["actions"][0].get("selected_option", {}).get("value", "new"),
            now=services.now(),
        )
    if view is not None:
        client.views_update(view_id=body["view"]["id"], hash=body["view"].get("hash"), view=view)


def submit_team(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    workspace_id = services.workspace_id(context.team_id)
    user_id = body["user"]["id"]
    with services.session() as session:
        who = setup.actor(session, services.settings, workspace_id=workspace_id, user_id=user_id)
        form, errors = setup.check_submission(
            session, client, services.settings, who=who, view=body["view"], now=services.now()
        )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    with services.session() as session:
        message = setup.apply_submission(session, client, who=who, form=form, now=services.now())
    client.chat_postMessage(channel=user_id, **message)


def member_joined(event: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    with services.session() as session:
        teams.member_joined(
            session,
            client,
            workspace_id=services.workspace_id(context.team_id),
            channel_id=event["channel"],
            user_id=event["user"],
            now=services.now(),
        )


def member_left(event: dict, context: BoltContext) -> None:
    services: Services = context["services"]
    with services.session() as session:
        teams.member_left(
            session,
            workspace_id=services.workspace_id(context.team_id),
            channel_id=event["channel"],
            user_id=event["user"],
        )


def register(app: App) -> None:
    app.action("team_pick")(pick_team)
    app.view(setup.CALLBACK_ID)(submit_team)
    app.event("member_joined_channel")(member_joined)
    app.event("member_left_channel")(member_left)
