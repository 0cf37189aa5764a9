"""The prompt's buttons a manager answers with: "Done already" and "Remind me in a week"
("Start my walk" opens the walk's modal, elsewhere).

Every click is checked against the walk it names: the clicker must manage the walk's team
(a forged click, or a walk that does not exist, gets one and the same refusal), the buttons
work until 14 days after the quarter ends, and a walk done stays done. A refusal changes
nothing and says why, in the clicker's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_date
from sqlalchemy.orm import Session

from bot.shared.i18n import N_, translate
from bot.teams.actors import Actor
from bot.walks.quarters import Quarter
from bot.walks.schedule import closes_at, ends_at, key_prefix, reminder_prefix
from storage import walks as store
from storage.models import WalkPrompt
from storage.pulse import cancel_queued

DONE_ALREADY, REMIND_LATER = "done_already", "remind_later"
ACTIONS = {"walk_done_already": DONE_ALREADY, "walk_remind_later": REMIND_LATER}
SNOOZE = timedelta(days=7)

QUARTER = N_("Q%(number)s %(year)s")
TEXTS = {
    "not_yours": N_(
        "This button is not yours to use: it belongs to the walk of a team you do not manage, "
        "or to no walk at all. Nothing was changed."
    ),
    "closed": N_(
        "The %(quarter)s walk closed on %(date)s: its buttons no longer work, and nothing was "
        "changed."
    ),
    "done_before": N_(
        "This team's %(quarter)s walk is already recorded as done: nothing was changed."
    ),
    "no_time": N_(
        "This quarter ends before a week is out, so no reminder can come: nothing was changed. "
        "You can still do the walk until %(date)s."
    ),
    "done": N_(
        "Thank you: the %(quarter)s sensory walk is recorded as done. No more reminders about "
        "it this quarter."
    ),
    "snoozed": N_("Noted: I will remind you on %(date)s."),
}


@dataclass(frozen=True)
class Answer:
    """What the clicker is told; `replace` when it replaces the prompt (its buttons spent)."""

    text: str
    replace: bool = False


def click(
    session: Session, *, who: Actor, action: str, public_id: str | None, now: datetime
) -> Answer:
    """Record "Done already" or move the clicker's reminder, after checking the click."""
    walk = store.get(session, public_id=public_id)
    quarter = Quarter.parse(walk.quarter) if walk else None
    if (
        walk is None
        or quarter is None
        or walk.team.workspace_id != who.workspace_id
        or not who.manages(walk.team_id)
    ):
        return Answer(_text(who, "not_yours"))
    if now >= closes_at(quarter, walk.team):
        return Answer(_text(who, "closed", quarter=quarter, day=quarter.closes))
    if walk.done_at is not None:
        return Answer(_text(who, "done_before", quarter=quarter))
    prefix = key_prefix(walk.team_id, walk.quarter)
    if action == DONE_ALREADY:
        walk.done_at, walk.declared, walk.manager_id = now, True, who.user_id
        # Whatever still waits for this walk (the other managers' prompts and reminders).
        cancel_queued(session, keys_like=f"{prefix}%", reason="walk_done", now=now)
        return Answer(_text(who, "done", quarter=quarter), replace=True)
    remind_at = now + SNOOZE
    if remind_at >= ends_at(quarter, walk.team):
        return Answer(_text(who, "no_time", day=quarter.closes - timedelta(days=1)))
    prompt = next((p for p in walk.prompts if p.manager_id == who.user_id), None)
    if prompt is None:  # a manager added after the prompts went out
        prompt = WalkPrompt(walk_id=walk.id, manager_id=who.user_id, prompted_at=now)
        session.add(prompt)
    prompt.remind_at, prompt.reminded_at = remind_at, None
    mine = reminder_prefix(walk.team_id, walk.quarter, who.user_id)
    cancel_queued(session, keys_like=f"{mine}%", reason="walk_reminder_moved", now=now)
    return Answer(_text(who, "snoozed", day=who.today(remind_at)))


def _text(who: Actor, code: str, *, quarter: Quarter | None = None, day: date | None = None) -> str:
    params: dict[str, object] = {}
    if quarter is not None:
        params["quarter"] = translate(who.locale, QUARTER, number=quarter.number, year=quarter.year)
    if day is not None:
        params["date"] = format_date(day, format="medium", locale=who.locale)
    return translate(who.locale, TEXTS[code], **params)
