"""Triage: a team's managers (and admins) acknowledge, plan with a date, resolve with a note,
decline with an explanation, or reopen. Every change is kept as history and told to the
reporter. Anyone else — a forged click included — is refused and nothing changes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.irritants import notify
from bot.irritants.catalog import STATUSES, labels
from bot.irritants.ownership import visible_to_managers
from bot.shared.blocks import render
from bot.shared.i18n import N_, translate
from bot.shared.inputs import metadata, public_id, submitted
from bot.shared.policy import Policy
from bot.shared.worktime import day_of, zone
from bot.teams import sizes
from bot.teams.actors import Actor
from storage import audit
from storage.models import Irritant, IrritantEvent

MAX_NOTE = 2000

# action: (statuses it applies to, status after)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": (("new",), "acknowledged"),
    "plan": (("new", "acknowledged", "planned"), "planned"),
    "resolve": (("new", "acknowledged", "planned"), "resolved"),
    "decline": (("new", "acknowledged", "planned"), "declined"),
    "reopen": (("resolved", "declined"), "acknowledged"),
}
NEEDS_FORM = ("plan", "resolve", "decline")

ERRORS = {
    # One answer for "no such irritant" and "not yours": two would let anyone probe ids and
    # learn when an anonymous report was stored.
    "not_allowed": N_(
        "This irritant does not exist, or only its team's managers and Symmetry admins can "
        "act on it. Nothing was changed."
    ),
    "stale": N_("This irritant has changed since: it is now %(status)s. Nothing was changed."),
    "eta_missing": N_("Choose the date you expect it to be fixed."),
    "eta_past": N_("The date cannot be in the past."),
    "note_missing": N_("Explain why: the reporter will read it."),
    "note_too_long": N_("At most 2000 characters, please."),
}


class Stale(Exception):
    """Someone else changed the irritant first; the argument is its status now."""


@dataclass
class Change:
    """A triage decision, before it is applied."""

    action: str
    note: str = ""
    eta: date | None = None


def may_triage(
    session: Session, policy: Policy, *, irritant: Irritant, who: Actor, now: datetime
) -> bool:
    """True for admins, and for the irritant's team managers when they may see it: an
    anonymous report only once its roundup has shown it, and never one for the admins.
    `who` must have been resolved with its roles."""
    if irritant.workspace_id != who.workspace_id:
        return False
    team = irritant.team
    if any(m.user_id == who.user_id for m in team.managers) and visible_to_managers(
        irritant,
        team_size=sizes.counted_size(session, team, now=now),
        threshold=policy.anonymity_threshold,
    ):
        return True
    return who.is_admin


def check(irritant: Irritant, change: Change, *, today: date) -> dict[str, str]:
    """{field: error code} for a change (empty when it can be applied)."""
    allowed, _after = TRANSITIONS[change.action]
    if irritant.status not in allowed:
        return {"status": "stale"}
    errors: dict[str, str] = {}
    if change.action == "plan":
        if change.eta is None:
            errors["eta"] = "eta_missing"
        elif change.eta < today:
            errors["eta"] = "eta_past"
    if change.action == "decline" and not change.note.strip():
        errors["note"] = "note_missing"
    if len(change.note) > MAX_NOTE:
        errors["note"] = "note_too_long"
    return errors


def apply(
    session: Session,
    policy: Policy,
    *,
    irritant: Irritant,
    change: Change,
    actor_id: str,
    actor_role: str,
    now: datetime,
) -> IrritantEvent:
    """Apply a checked change, keep it in the history, and queue the reporter's message.

    The status moves only if it is still one the action applies to (compare-and-set in the
    database), so two managers clicking at once cannot both change it: the second gets Stale.
    """
    allowed, after = TRANSITIONS[change.action]
    moved = session.execute(
        update(Irritant)
        .where(Irritant.id == irritant.id, Irritant.status.in_(allowed))
        .values(status=after)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        session.refresh(irritant)
        raise Stale(irritant.status)
    irritant.status = after
    irritant.updated_at = day_of(now, irritant.team.timezone) if irritant.anonymous else now
    note = change.note.strip() or None
    if change.action == "acknowledge" or (irritant.acknowledged_at is None and after != "new"):
        irritant.acknowledged_at = irritant.acknowledged_at or now
    if change.action == "plan":
        irritant.eta = change.eta
    if after in ("resolved", "declined"):
        irritant.resolved_at = now
        irritant.resolution_note = note
    if change.action == "reopen":
        irritant.resolved_at = None
        irritant.resolution_note = None
        irritant.eta = None  # the old plan is history: a new date comes with a new plan
    event = IrritantEvent(
        action=change.action,
        actor_role=actor_role,
        actor_id=actor_id,
        status=after,
        note=note,
        eta=change.eta if change.action == "plan" else None,
        created_at=now,
    )
    irritant.events.append(event)
    session.flush()
    notify.status_changed(session, policy, irritant=irritant, event=event, now=now)
    if actor_role in ("manager", "admin"):
        # The decision, never its note (free text) nor anything about the reporter.
        audit.record(
            session,
            actor=actor_id,
            action=f"irritant.{change.action}",
            now=now,
            workspace_id=irritant.workspace_id,
            irritant=irritant.public_id,
            team=irritant.team.name,
            status=after,
            eta=event.eta.isoformat() if event.eta else None,
        )
    return event


def local_today(irritant: Irritant, now: datetime) -> date:
    """Today in the irritant's team time zone (a date chosen "today" is never in the past)."""
    return now.astimezone(zone(irritant.team.timezone)).date()


def role_of(irritant: Irritant, user_id: str) -> str:
    """How the actor relates to the irritant's team, for the history."""
    return "manager" if any(m.user_id == user_id for m in irritant.team.managers) else "admin"


def modal(
    irritant: Irritant, *, action: str, locale: str, origin: str, now: datetime
) -> dict[str, Any]:
    """The form to plan, resolve or decline an irritant."""
    return render(
        "irritant_triage_modal",
        locale,
        irritant=irritant,
        action=action,
        now=now,
        metadata=json.dumps({"irritant": irritant.public_id, "action": action, "origin": origin}),
        **labels(),
    )


def parse_form(view: dict[str, Any]) -> tuple[str | None, str, Change]:
    """(irritant's public id, origin, change) from a submitted triage form."""
    meta = metadata(view)
    values = submitted(view)
    picked = values.get("eta", {}).get("value", {}).get("selected_date")
    try:
        eta = date.fromisoformat(picked) if picked else None
    except ValueError:
        eta = None
    note = values.get("note", {}).get("value", {}).get("value") or ""
    action = meta.get("action") if meta.get("action") in NEEDS_FORM else ""
    return (
        public_id(meta.get("irritant")),
        str(meta.get("origin", "")),
        Change(action=action, note=note, eta=eta),
    )


def error_text(code: str, *, locale: str, irritant: Irritant | None = None) -> str:
    """A triage error, in the actor's language."""
    status = translate(locale, STATUSES[irritant.status]) if irritant else ""
    return (
        translate(locale, ERRORS[code], status=status)
        if code == "stale"
        else translate(locale, ERRORS[code])
    )
