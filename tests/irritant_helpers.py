"""Helpers for irritant tests: a team big enough for anonymity, and filling the modal."""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import select

from bot.demo.slack import SimUser, form_values
from bot.shared.worktime import day_of
from storage import queries
from storage.models import Irritant, Membership, Team, TeamManager
from tests.conftest import ADMIN, EMPLOYEE, MANAGER, SALARIEE

EXTRA = ("UEXTRA01", "UEXTRA02")
SPARE = ("UEXTRA03", "UEXTRA04")  # known to Slack, in no team unless a test puts them in one
WORKSHOP_CHANNEL = "CTEAM001"


def add_extras(slack) -> None:
    """Put the EXTRA and SPARE people in the simulated workspace."""
    for user_id in (*EXTRA, *SPARE):
        slack.add_user(SimUser(user_id, user_id.lower(), f"Extra {user_id}", tz="Europe/Paris"))


def big_team(
    db, slack, *, name: str = "Workshop", members=None, slack_team_id=None, **columns
) -> int:
    """A team of six, managed by MANAGER: five people besides its manager, the default
    threshold; in the simulated workspace unless `slack_team_id` names another; `columns`
    set more of the team's."""
    add_extras(slack)
    members = members or [MANAGER, EMPLOYEE, SALARIEE, ADMIN, *EXTRA]
    with db.sessions.begin() as session:
        workspace = queries.get_or_create_workspace(
            session, slack_team_id=slack_team_id or slack.team_id
        )
        team = Team(
            workspace_id=workspace.id,
            name=name,
            channel_id=WORKSHOP_CHANNEL if name == "Workshop" else f"C{name.upper()[:8]}",
            timezone="Europe/Paris",
            locale="en",
            **columns,
        )
        team.memberships = [Membership(user_id=u) for u in members]
        team.managers = [TeamManager(user_id=MANAGER)]
        session.add(team)
        session.flush()
        return team.id


def stored_report(
    db,
    *,
    reported: datetime,
    timezone: str = "Europe/Paris",
    roundup: str = "16:00",
    description: str = "The generator hums all night",
    location: str = "",
    category: str = "noise",
) -> int:
    """A team of six in `timezone`, with one anonymous report made at `reported`, stored
    directly (no Slack); returns the team's ID."""
    with db.sessions.begin() as session:
        workspace = queries.get_or_create_workspace(session, slack_team_id="T0DAYS")
        team = Team(
            workspace_id=workspace.id,
            name="Night shift",
            channel_id="C0NIGHT01",
            timezone=timezone,
            locale="en",
            roundup_time=roundup,
        )
        team.memberships = [Membership(user_id=f"U0NIGHT{i}") for i in range(6)]
        team.managers = [TeamManager(user_id="U0NIGHT0")]
        session.add(team)
        session.flush()
        anonymous_report(
            session,
            team,
            day=day_of(reported, timezone),
            description=description,
            location=location,
            category=category,
        )
        return team.id


def anonymous_report(
    session,
    team: Team,
    *,
    day: datetime,
    description: str = "The generator hums all night",
    location: str = "",
    category: str = "noise",
) -> None:
    """An anonymous report of `team`'s kept as made on `day`, stored directly (no Slack)."""
    session.add(
        Irritant(
            workspace_id=team.workspace_id,
            team_id=team.id,
            category=category,
            space="employee",
            location=location,
            severity="minor",
            description=description,
            anonymous=True,
            reporter_hash="h" * 64,
            reporter_nonce="n" * 32,
            status="new",
            created_at=day,
            updated_at=day,
        )
    )


def answers(**overrides) -> dict:
    values = {
        "description": "The staff room is freezing every morning",
        "category": "temperature",
        "space": "employee",
        "location": "Staff room",
        "severity": "annoying",
    }
    values.update(overrides)
    return values


def open_modal(platform, slack, user: str, text: str = "") -> dict:
    """Type /irritant and return the modal Slack was asked to open."""
    slack.clear_calls()
    response = platform.command(user, "/irritant", text)
    assert response.status == 200
    return slack.wait_for("views.open")[0].params["view"]


def report(platform, slack, user: str, *, share: bool = False, **overrides):
    """Open the modal and submit it; return the HTTP response."""
    view = open_modal(platform, slack, user)
    values = form_values(view, answers(**overrides))
    values["share"] = {
        "value": {
            "type": "checkboxes",
            "selected_options": [{"value": "share", "text": {"type": "plain_text", "text": "x"}}]
            if share
            else [],
        }
    }
    return platform.view_submission(user, view, values)


def irritants(db) -> list[Irritant]:
    with db.sessions() as session:
        return list(session.scalars(select(Irritant).order_by(Irritant.id)))


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
