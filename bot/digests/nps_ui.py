"""`/symmetry nps`: admins (any team of the workspace) and managers (their teams) record a
team's customer NPS for a month in a modal; the digest shows it beside the team's eNPS."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.dates import format_date
from sqlalchemy.orm import Session

from bot.digests import nps
from bot.pulse.settings_ui import teams_for
from bot.shared.blocks import render
from bot.shared.i18n import N_, translate
from bot.shared.inputs import submitted
from bot.teams.actors import Actor
from storage import audit

CALLBACK_ID = "digest_nps"
MONTHS_OFFERED = 12  # this month and the twelve before it
NOT_ALLOWED = N_(
    "Only admins and this team's managers can record its customer NPS. Nothing was changed."
)
NOT_BEGUN = N_("This month has not begun: choose one that has.")
ASK = {  # what a field left empty or filled wrongly asks for
    "team": N_("Choose a team."),
    "month": N_("Choose a month."),
    "nps": N_("Enter a whole number from -100 to 100."),
    "responses": N_("Enter how many customers answered: at least 1."),
}


def opening(
    session: Session, *, who: Actor, now: datetime
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the modal, None), or (None, the refusal) for someone who may record for no team."""
    teams = teams_for(session, who=who)
    if not teams:
        return None, render("digest_nps_refused", who.locale)
    months = nps.months_before(nps.this_month(now, who.timezone), MONTHS_OFFERED)
    return render(
        "digest_nps_modal",
        who.locale,
        teams=teams[:100],  # a menu's limit; admins of more teams use the CSV import
        months=[(month, _month_name(month, who.locale)) for month in months],
        last_month=months[1],
    ), None


def save(
    session: Session, *, who: Actor, view: dict[str, Any], now: datetime
) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Record the submitted figures: ({}, the confirmation to send them), or ({field: error
    text in their language}, None) with nothing recorded. The team is checked against what
    the person may record for, whatever the form says."""
    values = submitted(view)

    def picked(field: str) -> str | None:
        state = values.get(field, {}).get("value", {})
        return state.get("selected_option", {}).get("value") or state.get("value")

    team_id = picked("team")
    team = next((t for t in teams_for(session, who=who) if str(t.id) == team_id), None)
    figures, problems = nps.check(
        month=picked("month"),
        nps=picked("nps"),
        responses=picked("responses"),
        timezone=team.timezone if team else who.timezone,
        now=now,
    )
    asked = {
        field: NOT_BEGUN if problem == "future" else ASK[field]
        for field, problem in problems.items()
    }
    errors = {field: translate(who.locale, text) for field, text in asked.items()}
    if team is None:
        errors["team"] = translate(who.locale, NOT_ALLOWED if team_id else ASK["team"])
    if errors or figures is None or team is None:
        return errors, None
    replaced = nps.record(
        session,
        team=team,
        month=figures.month,
        nps=figures.nps,
        responses=figures.responses,
        by=who.user_id,
        now=now,
    )
    audit.record(
        session,
        actor=who.user_id,
        action="nps.recorded",
        now=now,
        workspace_id=team.workspace_id,
        months=[f"{team.name} {figures.month}"],
    )
    month = _month_name(figures.month, who.locale)
    saved = render(
        "digest_nps_saved", who.locale, team=team, figures=figures, month=month, replaced=replaced
    )
    return {}, saved


def _month_name(month: str, locale: str) -> str:
    """ "November 2026", "Novembre 2026"."""
    start = nps.month_start(month)
    name = format_date(start, format="LLLL y", locale=locale) if start else month
    return name[:1].upper() + name[1:]
