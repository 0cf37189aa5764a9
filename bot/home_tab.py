"""The App Home tab: each person's own view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.irritants import board
from bot.irritants.catalog import labels
from bot.irritants.ownership import Person
from bot.pulse import overview
from bot.runtime.config import Settings
from bot.shared.blocks import render
from bot.teams import directory as people
from storage import queries


def home_view(
    session: Session,
    client: WebClient,
    settings: Settings,
    *,
    workspace_id: int,
    slack_team_id: str,
    user_id: str,
    now: datetime,
    page: int = 1,
) -> dict[str, Any]:
    """The Home view for one person: a welcome, their reports, and for a manager the team
    board (page `page`)."""
    people.profile(session, client, workspace_id=workspace_id, user_id=user_id, now=now)
    locale = people.locale_for(session, settings, workspace_id=workspace_id, user_id=user_id)
    managed = queries.teams_managed_by(session, workspace_id=workspace_id, user_id=user_id)
    admin = people.is_admin(
        session, client, settings, workspace_id=workspace_id, user_id=user_id, now=now
    )
    team_count = len(queries.list_teams(session, workspace_id=workspace_id)) if admin else 0
    who = Person(workspace_id, slack_team_id, user_id, locale)
    pulse_lines, pulse_total = overview.home_results(
        session, settings, teams=list(managed), locale=locale, now=now
    )
    return render(
        "home",
        locale,
        managed_teams=managed,
        is_admin=admin,
        team_count=team_count,
        threshold=settings.anonymity_threshold,
        **board.home_context(
            session, settings, who=who, managed=list(managed), admin=admin, page=page, now=now
        ),
        pulse_lines=pulse_lines,
        pulse_total=pulse_total,
        **labels(),
    )
