"""A triage click or form, from the roundup message, a notification or the Home tab:
who may act, what it changes, and what the actor is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.irritants import triage
from bot.irritants.catalog import STATUSES
from bot.shared.i18n import translate
from bot.shared.policy import Policy
from bot.teams.actors import Actor
from storage import irritants as store
from storage.models import Irritant


@dataclass
class Result:
    """What the click led to: a form to open, an error to show, or a change made."""

    modal: dict[str, Any] | None = None
    error: str | None = None
    done: str | None = None


def click(
    session: Session,
    policy: Policy,
    *,
    who: Actor,
    action: str,
    public_id: str | None,
    origin: str,
    now: datetime,
) -> Result:
    """A triage button: acknowledge and reopen act at once; the others open a form."""
    irritant = store.get(session, public_id=public_id)
    if not _allowed(session, policy, irritant, who, now=now):
        return Result(error=triage.error_text("not_allowed", locale=who.locale))
    change = triage.Change(action=action)
    errors = triage.check(irritant, change, today=triage.local_today(irritant, now))
    if "status" in errors:
        return Result(error=triage.error_text("stale", locale=who.locale, irritant=irritant))
    if action in triage.NEEDS_FORM:
        modal = triage.modal(irritant, action=action, locale=who.locale, origin=origin, now=now)
        return Result(modal=modal)
    try:
        triage.apply(
            session,
            policy,
            irritant=irritant,
            change=change,
            actor_id=who.user_id,
            actor_role=triage.role_of(irritant, who.user_id),
            now=now,
        )
    except triage.Stale:
        return Result(error=triage.error_text("stale", locale=who.locale, irritant=irritant))
    return Result(done=done_text(who.locale, irritant.status))


def submit(
    session: Session,
    policy: Policy,
    *,
    who: Actor,
    view: dict[str, Any],
    now: datetime,
) -> tuple[dict[str, str], str]:
    """A triage form: ({block: error} or {}, origin)."""
    public_id, origin, change = triage.parse_form(view)
    irritant = store.get(session, public_id=public_id)
    if change.action not in triage.NEEDS_FORM:
        irritant = None  # a form this app never sent
    if not _allowed(session, policy, irritant, who, now=now):
        return {"note": triage.error_text("not_allowed", locale=who.locale)}, origin
    codes = triage.check(irritant, change, today=triage.local_today(irritant, now))
    if codes:
        errors = {
            ("note" if field == "status" else field): triage.error_text(
                code, locale=who.locale, irritant=irritant
            )
            for field, code in codes.items()
        }
        return errors, origin
    try:
        triage.apply(
            session,
            policy,
            irritant=irritant,
            change=change,
            actor_id=who.user_id,
            actor_role=triage.role_of(irritant, who.user_id),
            now=now,
        )
    except triage.Stale:
        return {"note": triage.error_text("stale", locale=who.locale, irritant=irritant)}, origin
    return {}, origin


def _allowed(
    session: Session, policy: Policy, irritant: Irritant | None, who: Actor, *, now: datetime
) -> bool:
    """Whether `who` may triage `irritant`. A missing irritant is refused like a forbidden one,
    by the same path (the admin look-up a refusal costs included), so that neither the answer
    nor its timing tells a member probing ids when an anonymous report was stored."""
    if irritant is None:
        _ = who.is_admin
        return False
    return triage.may_triage(session, policy, irritant=irritant, who=who, now=now)


def done_text(locale: str, status: str) -> str:
    """The confirmation shown to the actor."""
    return translate(
        locale,
        "Done: the irritant is now %(status)s. The reporter is told.",
        status=translate(locale, STATUSES[status]),
    )
