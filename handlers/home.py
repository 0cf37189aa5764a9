"""App Home: publish each person's Home tab when they open it."""

from __future__ import annotations

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot import home_tab as home
from bot.runtime.services import Services


def home_opened(event: dict, client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    services: Services = context["services"]
    with services.session() as session:
        view = home.home_view(
            session,
            client,
            services.settings,
            workspace_id=services.workspace_id(context.team_id),
            slack_team_id=context.team_id,
            user_id=event["user"],
            now=services.now(),
        )
    client.views_publish(user_id=event["user"], view=view)


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)
