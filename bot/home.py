"""The App Home tab: each person's own view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot import people
from bot.blocks import render
from bot.config import Settings
from storage import queries


def home_view(
    session: Session,
    client: WebClient,
    settings: Settings,
    *,
    workspace_id: int,
    user_id: str,
    now: datetime,
) -> dict[str, Any]:
    """The Home view for one person: a welcome, how to report, and their teams if a manager."""
    people.profile(session, client, workspace_id=workspace_id, user_id=user_id, now=now)
    locale = people.locale_for(session, settings, workspace_id=workspace_id, user_id=user_id)
    managed = queries.teams_managed_by(session, workspace_id=workspace_id, user_id=user_id)
    admin = people.is_admin(
        session, client, settings, workspace_id=workspace_id, user_id=user_id, now=now
    )
    team_count = len(queries.list_teams(session, workspace_id=workspace_id)) if admin else 0
    return render(
        "home",
        locale,
        managed_teams=managed,
        is_admin=admin,
        team_count=team_count,
        threshold=settings.anonymity_threshold,
    )
