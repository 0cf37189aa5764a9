"""App Home: publish each person's Home tab when they open it."""

from __future__ import annotations

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot import home_tab
from bot.runtime.services import Services
from bot.shared.inputs import slack_id
from bot.teams.actors import Actor
from handlers.common import actor


def home_opened(event: dict, body: dict, client: WebClient, context: BoltContext) -> None:
    user_id = slack_id(event.get("user"))
    if event.get("tab", "home") != "home" or user_id is None:
        return
    services: Services = context["services"]
    who = actor(context, body, client, user_id=user_id, roles=True, fresh=True)
    publish(services, client, who)


def publish(services: Services, client: WebClient, who: Actor) -> None:
    """Publish the Home tab of `who` (resolved with roles) as it is now."""
    with services.session() as session:
        view = home_tab.home_view(session, services.policy, who=who, now=services.now())
    client.views_publish(user_id=who.user_id, view=view)


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)
