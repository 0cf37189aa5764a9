"""`/symmetry team`: the team setup modal for admins — open, switch team, submit.

Who may do what is checked on every step, the submission included: a forged request from
someone who is not an admin is refused and changes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.shared.blocks import render
from bot.shared.i18n import translate
from bot.shared.inputs import field_errors, identifier, metadata, number, submitted
from bot.shared.policy import Policy
from bot.teams import roster as teams
from bot.teams.actors import Actor
from bot.teams.directory import Directory
from storage import queries
from storage.db import session_scope

CALLBACK_ID = "team_setup"
FIELDS = ("name", "channel", "managers", "timezone", "locale", "roundup", "holidays", "said_did")


def modal(session: Session, who: Actor, form: teams.TeamForm) -> dict[str, Any]:
    """The setup modal showing `form` (a team being edited, or a new one)."""
    return render(
        "team_modal",
        who.locale,
        teams=queries.list_teams(session, workspace_id=who.workspace_id),
        form=form,
        version=form.team_id or "new",
        metadata=json.dumps({"team_id": form.team_id}),
    )


def form_for(session: Session, policy: Policy, *, team_id: int | None) -> teams.TeamForm:
    """The form for an existing team, or an empty one with the defaults."""
    team = queries.get_team(session, team_id=team_id) if team_id else None
    if team is None:
        return teams.default_form(policy)
    return teams.TeamForm(
        name=team.name,
        channel_id=team.channel_id,
        manager_ids=sorted(m.user_id for m in team.managers),
        timezone=team.timezone,
        locale=team.locale,
        team_id=team.id,
        roundup_time=team.roundup_time,
        holidays=team.holidays,
        said_did=team.said_did,
    )


def opening(
    session: Session, policy: Policy, *, who: Actor
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the modal to open, None) for an admin; (None, the refusal to send) for anyone else.

    A new team starts with the admin's own time zone and language.
    """
    if not who.is_admin:
        return None, render("not_admin", who.locale)
    form = teams.default_form(policy)
    form.timezone = who.timezone
    form.locale = who.locale
    return modal(session, who, form), None


def switched_team(
    session: Session, policy: Policy, *, who: Actor, picked: str
) -> dict[str, Any] | None:
    """The admin picked another team in the modal: the modal showing its values.

    None (nothing to update) for anyone but an admin, or for a team of another workspace.
    """
    if not who.is_admin:
        return None
    team_id = number(picked)
    team = queries.get_team(session, team_id=team_id) if team_id else None
    if team is not None and team.workspace_id != who.workspace_id:
        return None
    return modal(session, who, form_for(session, policy, team_id=team_id))


def parse_submission(view: dict[str, Any]) -> teams.TeamForm:
    """The form in a submitted view."""
    picked: dict[str, dict[str, Any]] = {}
    for block_id, actions in submitted(view).items():
        field = block_id.split("-", 1)[0]
        if field in FIELDS:
            picked[field] = actions.get("value", {})
    return teams.TeamForm(
        name=(picked.get("name", {}).get("value") or "").strip(),
        channel_id=picked.get("channel", {}).get("selected_conversation") or "",
        manager_ids=list(picked.get("managers", {}).get("selected_users") or []),
        timezone=(picked.get("timezone", {}).get("value") or "").strip(),
        roundup_time=picked.get("roundup", {}).get("selected_time") or "16:00",
        locale=(picked.get("locale", {}).get("selected_option") or {}).get("value", ""),
        team_id=identifier(metadata(view).get("team_id")),
        holidays=teams.holiday_code(picked.get("holidays", {}).get("value")),
        said_did=any(
            option.get("value") == "on"
            for option in picked.get("said_did", {}).get("selected_options") or []
        ),
    )


def check_submission(
    sessions: sessionmaker[Session],
    directory: Directory,
    *,
    who: Actor,
    view: dict[str, Any],
    now: datetime,
    client: WebClient | None = None,
) -> tuple[teams.TeamForm, dict[str, str]]:
    """Validate a submission before it is acknowledged: (form, {block_id: error text}).

    The database checks run in their own transaction, the Slack ones (channel, managers)
    after it, with none open.
    """
    form = parse_submission(view)
    if not who.is_admin:
        text = translate(who.locale, "Only Symmetry admins can set up teams. Nothing was changed.")
        return form, field_errors(view, {"name": text})
    with session_scope(sessions) as session:
        if form.team_id is not None:
            team = queries.get_team(session, team_id=form.team_id)
            if team is None or team.workspace_id != who.workspace_id:
                gone = translate(who.locale, "This team no longer exists.")
                return form, field_errors(view, {"name": gone})
        codes = teams.validate(session, workspace_id=who.workspace_id, form=form)
    if not codes:
        codes = teams.check_in_slack(
            directory, workspace_id=who.workspace_id, form=form, now=now, client=client
        )
    texts = {field: translate(who.locale, teams.ERROR_TEXT[code]) for field, code in codes.items()}
    return form, field_errors(view, texts)


def apply_submission(
    sessions: sessionmaker[Session],
    directory: Directory,
    *,
    who: Actor,
    form: teams.TeamForm,
    now: datetime,
    client: WebClient | None = None,
) -> dict[str, Any]:
    """Read the channel's members from Slack, then save the checked form; return the message
    for the admin."""
    humans = directory.channel_humans(
        workspace_id=who.workspace_id, channel_id=form.channel_id, now=now, client=client
    )
    with session_scope(sessions) as session:
        try:
            with session.begin_nested():
                result = teams.apply(
                    session,
                    workspace_id=who.workspace_id,
                    form=form,
                    humans=humans,
                    now=now,
                    actor=who.user_id,
                )
        except IntegrityError:  # another admin took the name or channel since the check
            problem = translate(who.locale, "Another team took this name or channel meanwhile.")
            return render("team_failed", who.locale, name=form.name, problems=[problem])
        team = result.team
        return render(
            "team_saved",
            who.locale,
            team=team,
            members=len(team.memberships),
            managers=sorted(m.user_id for m in team.managers),
            added=result.added,
            removed=result.removed,
        )
