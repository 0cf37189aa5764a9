"""Team setup modal and channel membership events."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.runtime.services import Services
from bot.shared.inputs import clicked, slack_id
from bot.teams import roster, setup_modal
from handlers.common import actor


def pick_team(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    who = actor(context, body, client, roles=True)
    picked = clicked(body)[1] or "new"
    with services.session() as session:
        view = setup_modal.switched_team(session, services.policy, who=who, picked=picked)
    if view is not None:
        client.views_update(view_id=body["view"]["id"], hash=body["view"].get("hash"), view=view)


def submit_team(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    who = actor(context, body, client, roles=True)
    form, errors = setup_modal.check_submission(
        services.sessions,
        services.directory,
        who=who,
        view=body["view"],
        now=services.now(),
        client=client,
    )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    message = setup_modal.apply_submission(
        services.sessions, services.directory, who=who, form=form, now=services.now(), client=client
    )
    client.chat_postMessage(channel=who.user_id, **message)


def member_joined(event: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    channel_id, user_id = slack_id(event.get("channel")), slack_id(event.get("user"))
    if channel_id is None or user_id is None:
        return  # not an event Slack sends
    roster.member_joined(
        services.sessions,
        services.directory,
        workspace_id=services.workspace_id(context.team_id),
        channel_id=channel_id,
        user_id=user_id,
        now=services.now(),
        client=client,
    )


def member_left(event: dict, context: BoltContext) -> None:
    services: Services = context["services"]
    channel_id, user_id = slack_id(event.get("channel")), slack_id(event.get("user"))
    if channel_id is None or user_id is None:
        return
    workspace_id = services.workspace_id(context.team_id)  # before: it may open a session
    with services.session() as session:
        roster.member_left(
            session,
            workspace_id=workspace_id,
            channel_id=channel_id,
            user_id=user_id,
            now=services.now(),
        )


def register(app: App) -> None:
    app.action("team_pick")(pick_team)
    app.view(setup_modal.CALLBACK_ID)(submit_team)
    app.event("member_joined_channel")(member_joined)
    app.event("member_left_channel")(member_left)
