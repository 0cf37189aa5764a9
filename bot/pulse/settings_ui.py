"""`/symmetry survey`: a team's survey settings, for admins and the team's managers; admins
may also add their own questions to the bank."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.pulse import bank
from bot.shared.blocks import render
from bot.shared.i18n import N_, translate
from bot.shared.inputs import identifier, metadata, number, submitted
from bot.teams.actors import Actor
from storage import audit, queries
from storage.models import Team

CALLBACK_ID = "pulse_settings"
CADENCE_DAYS = {"weekly": 7, "biweekly": 14, "monthly": 28}
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"))
CADENCES = {
    "weekly": N_("Every week"),
    "biweekly": N_("Every two weeks"),
    "monthly": N_("Every month"),
}
ERRORS = {
    "not_allowed": N_(
        "Only admins and this team's managers can change its surveys. Nothing was changed."
    ),
    "length": N_("A round must be shorter than the time between two rounds."),
    "question_pair": N_("Give the question in English and in French."),
    "question_long": N_("At most 300 characters, please."),
    "questions_admin": N_("Only admins can add questions."),
    "invalid": N_("Choose one."),
}


def teams_for(session: Session, *, who: Actor) -> list[Team]:
    """The teams this person may configure: every team for an admin, else those they manage."""
    if who.is_admin:
        return list(queries.list_teams(session, workspace_id=who.workspace_id))
    return [
        team
        for team in queries.list_teams(session, workspace_id=who.workspace_id)
        if who.manages(team.id)
    ]


def opening(session: Session, *, who: Actor) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the settings modal for the first team they may configure, None), or (None, the
    refusal) for someone who may configure none."""
    teams = teams_for(session, who=who)
    if not teams:
        return None, render("not_allowed_survey", who.locale)
    return modal(teams, teams[0], admin=who.is_admin, locale=who.locale), None


def switched_team(session: Session, *, who: Actor, picked: str) -> dict[str, Any] | None:
    """The modal showing the team picked in it; None for a team they may not configure."""
    teams = teams_for(session, who=who)
    team = next((t for t in teams if str(t.id) == picked), None)
    return modal(teams, team, admin=who.is_admin, locale=who.locale) if team else None


def modal(teams: list[Team], team: Team, *, admin: bool, locale: str) -> dict[str, Any]:
    return render(
        "pulse_settings_modal",
        locale,
        teams=teams,
        team=team,
        admin=admin,
        weekdays=WEEKDAYS,
        cadences=CADENCES,
        metadata=json.dumps({"team": team.id}),
    )


def parse(view: dict[str, Any]) -> dict[str, Any]:
    values = submitted(view)
    picked: dict[str, Any] = {}
    for block_id, actions in values.items():
        state = actions.get("value", {})
        field = block_id.split("-", 1)[0]
        if state.get("type") == "checkboxes":
            picked[field] = [o.get("value") for o in state.get("selected_options") or []]
        elif state.get("type") == "timepicker":
            picked[field] = state.get("selected_time")
        elif "selected_option" in state:
            picked[field] = (state.get("selected_option") or {}).get("value")
        else:
            picked[field] = state.get("value")
    picked["team"] = identifier(metadata(view).get("team"))
    return picked


def save(
    session: Session, *, who: Actor, view: dict[str, Any], now: datetime
) -> tuple[dict[str, str], Team | None]:
    """Apply submitted settings; ({field: error text}, the team) — nothing saved on error."""
    picked = parse(view)
    allowed, admin = teams_for(session, who=who), who.is_admin
    team = next((t for t in allowed if t.id == picked.get("team")), None)
    say = lambda code: translate(who.locale, ERRORS[code])  # noqa: E731
    if team is None:
        return {"enabled": say("not_allowed")}, None
    errors: dict[str, str] = {}
    cadence = picked.get("cadence")
    weekday = picked.get("weekday")
    time_ = picked.get("time") or ""
    count = picked.get("questions")
    days = picked.get("days")
    if cadence not in CADENCE_DAYS:
        errors["cadence"] = say("invalid")
    if not (number(weekday) is not None and int(weekday) < 5):
        errors["weekday"] = say("invalid")
    if not _clock_time(time_):
        errors["time"] = say("invalid")
    if not (number(count) is not None and 1 <= int(count) <= 5):
        errors["questions"] = say("invalid")
    if not (number(days) is not None and 1 <= int(days) <= 14):
        errors["days"] = say("invalid")
    elif cadence in CADENCE_DAYS and int(days) >= CADENCE_DAYS[cadence]:
        errors["days"] = say("length")
    text_en = (picked.get("question_en") or "").strip()
    text_fr = (picked.get("question_fr") or "").strip()
    if text_en or text_fr:
        if not admin:
            errors["question_en"] = say("questions_admin")
        elif not (text_en and text_fr):
            errors["question_en" if not text_en else "question_fr"] = say("question_pair")
        elif len(text_en) > 300 or len(text_fr) > 300:
            errors["question_en"] = say("question_long")
    if errors:
        return errors, team
    team.survey_enabled = "on" in (picked.get("enabled") or [])
    team.survey_cadence = cadence
    team.survey_weekday = int(weekday)
    team.survey_time = time_
    team.survey_questions = int(count)
    team.survey_days = int(days)
    if text_en and text_fr:
        scale = picked.get("scale") if picked.get("scale") in ("1-5", "0-10") else "1-5"
        bank.add(
            session, workspace_id=team.workspace_id, scale=scale, text_en=text_en, text_fr=text_fr
        )
    audit.record(
        session,
        actor=who.user_id,
        action="survey.settings",
        now=now,
        workspace_id=team.workspace_id,
        team=team.name,
        enabled=team.survey_enabled,
        cadence=team.survey_cadence,
        weekday=team.survey_weekday,
        time=team.survey_time,
        questions=team.survey_questions,
        days=team.survey_days,
        question_added=bool(text_en and text_fr),
    )
    return {}, team


def _clock_time(value: str) -> bool:
    """True for a valid "HH:MM"."""
    hour, _, minute = value.partition(":")
    h, m = number(hour), number(minute)
    return len(value) == 5 and h is not None and m is not None and h < 24 and m < 60


def saved_message(team: Team, *, locale: str) -> dict[str, Any]:
    return render("pulse_settings_saved", locale, team=team, weekdays=WEEKDAYS, cadences=CADENCES)
