"""`/irritant` and its sub-commands, and the reporter's own actions (list, add details)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.irritants.catalog import labels
from bot.irritants.ownership import owns, reports_of
from bot.shared.blocks import render
from bot.shared.i18n import N_, translate
from bot.shared.policy import Policy
from bot.shared.pseudonyms import keyed_hash
from bot.shared.worktime import day_of
from bot.teams.actors import Actor
from storage import irritants as store
from storage.models import IrritantEvent

SUBCOMMANDS = {"help": "help", "aide": "help", "list": "list", "liste": "list"}
MAX_DETAILS = 2000
LIST_PAGE = 15  # reports per `/irritant list` answer (3 blocks each, under Slack's 50)
DETAILS_CALLBACK = "irritant_details"
NOT_YOURS = N_("You can only add details to your own reports. Nothing was changed.")


def parse(text: str) -> tuple[str | None, str]:
    """(sub-command or None for a report, the text to prefill — or for `list N`, the page)."""
    stripped = text.strip()
    word, _, rest = stripped.partition(" ")
    word, rest = word.lower(), rest.strip()
    if word in SUBCOMMANDS and not rest:
        return SUBCOMMANDS[word], ""
    if SUBCOMMANDS.get(word) == "list" and rest.isascii() and rest.isdecimal():
        return "list", rest[:6]  # past the last page is the last page
    return None, stripped


def help_message(who: Actor) -> dict[str, Any]:
    return render("irritant_help", who.locale, unknown=None)


def list_message(session: Session, policy: Policy, *, who: Actor, page: int = 1) -> dict[str, Any]:
    """The person's own reports, newest first, a page at a time (`/irritant list [PAGE]`)."""
    mine = reports_of(session, policy, who=who)
    pages = max(1, -(-len(mine) // LIST_PAGE))
    page = min(max(page, 1), pages)
    shown = mine[(page - 1) * LIST_PAGE : page * LIST_PAGE]
    return render(
        "irritant_list",
        who.locale,
        irritants=shown,
        total=len(mine),
        page=page,
        pages=pages,
        **labels(),
    )


def details_modal(
    session: Session, policy: Policy, *, who: Actor, public_id: str | None
) -> dict[str, Any] | None:
    """The modal to add details to one's own report (None when it is not theirs)."""
    irritant = store.get(session, public_id=public_id)
    if irritant is None or not owns(
        policy, irritant, slack_team_id=who.slack_team_id, user_id=who.user_id
    ):
        return None
    return render("irritant_details_modal", who.locale, irritant=irritant, **labels())


def add_details(
    session: Session,
    policy: Policy,
    *,
    who: Actor,
    public_id: str | None,
    text: str,
    now: datetime,
    request: str = "",
) -> dict[str, str]:
    """Append the reporter's details to their report; {block: error} when refused. `request`
    (the submitted view's ID) makes it idempotent: Slack's retry, or a replay, adds nothing."""
    irritant = store.get(session, public_id=public_id)
    if irritant is None or not owns(
        policy, irritant, slack_team_id=who.slack_team_id, user_id=who.user_id
    ):
        return {"details": translate(who.locale, NOT_YOURS)}
    text = text.strip()
    if not text:
        return {"details": translate(who.locale, "Describe what bothers you.")}
    if len(text) > MAX_DETAILS:
        return {"details": translate(who.locale, "At most 2000 characters, please.")}
    key = keyed_hash(policy.secret_key, "details", request) if request else None
    if key and session.scalar(select(IrritantEvent.id).where(IrritantEvent.request_key == key)):
        return {}  # this very request was applied already
    try:
        with session.begin_nested():  # a replay racing this one: the unique key stops it
            irritant.events.append(
                IrritantEvent(
                    action="detail",
                    actor_role="reporter",
                    actor_id=None if irritant.anonymous else who.user_id,
                    status=irritant.status,
                    note=text,
                    created_at=day_of(now, irritant.team.timezone) if irritant.anonymous else now,
                    request_key=key,
                )
            )
    except IntegrityError:
        session.refresh(irritant)
    return {}
