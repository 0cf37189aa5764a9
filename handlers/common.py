"""What several listeners need to know about a request: who is acting, in which language."""

from __future__ import annotations

from slack_bolt import BoltContext
from sqlalchemy.orm import Session

from bot.irritants import reporter
from bot.irritants.ownership import Person
from bot.runtime.services import Services


def acting_person(services: Services, session: Session, context: BoltContext, body: dict) -> Person:
    """The person behind an interaction; their language from memory when recently seen."""
    slack_team_id = context.team_id or body["team"]["id"]
    workspace_id = services.workspace_id(slack_team_id)
    user_id = body["user"]["id"]
    locale = services.known_locale(workspace_id, user_id)
    if locale is None:
        locale = reporter.person(
            session,
            services.settings,
            workspace_id=workspace_id,
            slack_team_id=slack_team_id,
            user_id=user_id,
        ).locale
        services.remember_locale(workspace_id, user_id, locale)
    return Person(workspace_id, slack_team_id, user_id, locale)
