"""`/symmetry digest`'s modal: a manager or an admin turns their own weekly digest off or on
and chooses its weekday. A submission changes only the submitter's own preference, and only
a manager's or an admin's: a forged one changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.digests.timing import FRIDAY
from bot.pulse.settings_ui import WEEKDAYS
from bot.shared.blocks import render
from bot.shared.i18n import N_, translate
from bot.shared.inputs import number, submitted
from bot.teams.actors import Actor
from storage import audit
from storage import digest_records as records
from storage.models import DigestPreference

CALLBACK_ID = "digest_settings"
ERRORS = {
    "not_allowed": N_("The weekly digest is for team managers and admins. Nothing was changed."),
    "weekday": N_("Choose a day from Monday to Friday."),
}


def may_read(who: Actor) -> bool:
    """Managers (of any team) and admins get a digest. The admin flag is read only for
    someone who manages no team (it may cost a Slack call: `AdminUnknown`)."""
    assert who.roles is not None  # resolved with roles
    return bool(who.roles.managed) or who.is_admin


def preference_of(session: Session, *, who: Actor) -> DigestPreference | None:
    found = records.preferences(session, workspace_id=who.workspace_id, user_ids=[who.user_id])
    return found.get(who.user_id)


def modal(
    preference: DigestPreference | None, *, locale: str, previewed: bool, saved: bool = False
) -> dict[str, Any]:
    return render(
        "digest_settings_modal",
        locale,
        preference=preference,
        weekdays=WEEKDAYS,
        previewed=previewed,
        saved=saved,
    )


def save(
    session: Session, *, who: Actor, view: dict[str, Any], now: datetime
) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Save the submitter's own choice: ({field: error text}, None) and nothing saved, or
    ({}, the modal saying what was saved)."""
    if not may_read(who):
        return {"enabled": translate(who.locale, ERRORS["not_allowed"])}, None
    values = submitted(view)
    ticked = values.get("enabled", {}).get("value", {}).get("selected_options") or []
    picked = (values.get("weekday", {}).get("value", {}).get("selected_option") or {}).get("value")
    weekday = number(picked)
    if weekday is None or weekday > FRIDAY:
        return {"weekday": translate(who.locale, ERRORS["weekday"])}, None
    records.set_preference(
        session,
        workspace_id=who.workspace_id,
        user_id=who.user_id,
        enabled=any(option.get("value") == "on" for option in ticked),
        weekday=weekday,
        now=now,
    )
    saved = preference_of(session, who=who)
    audit.record(
        session,
        actor=who.user_id,
        action="digest.settings",
        now=now,
        workspace_id=who.workspace_id,
        enabled=saved.enabled if saved else True,
        weekday=saved.weekday if saved else 0,
    )
    return {}, modal(saved, locale=who.locale, previewed=False, saved=True)
