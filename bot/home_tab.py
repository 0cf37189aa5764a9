"""The App Home tab: each person's own view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.irritants import board
from bot.irritants.catalog import labels
from bot.pulse import overview
from bot.shared.blocks import render
from bot.shared.policy import Policy
from bot.teams.actors import Actor
from bot.walks import overview as walks
from storage import queries


def home_view(
    session: Session, policy: Policy, *, who: Actor, now: datetime, page: int = 1
) -> dict[str, Any]:
    """The Home view for one person (resolved with roles): a welcome, their reports, and for
    a manager the team board (page `page`) and the team's sensory walks; for an admin, every
    team's walk of the quarter."""
    managed = list(
        queries.teams_managed_by(session, workspace_id=who.workspace_id, user_id=who.user_id)
    )
    admin = who.is_admin
    team_count = len(queries.list_teams(session, workspace_id=who.workspace_id)) if admin else 0
    pulse_lines, pulse_total = overview.home_results(
        session, policy, teams=managed, locale=who.locale, now=now
    )
    return render(
        "home",
        who.locale,
        managed_teams=managed,
        is_admin=admin,
        team_count=team_count,
        threshold=policy.anonymity_threshold,
        **board.home_context(
            session, policy, who=who, managed=managed, admin=admin, page=page, now=now
        ),
        pulse_lines=pulse_lines,
        pulse_total=pulse_total,
        **walks.home_context(
            session, workspace_id=who.workspace_id, managed=managed, admin=admin, now=now
        ),
        **labels(),
    )
