"""Who may touch a walk, and until when.

A walk is done, and its draft edited, only by a manager of its team (an admin who is not one
cannot); invited teammates may add their notes. Everything about a quarter's walk works until
its quarter closes (14 days after the quarter ends, in the team's time zone); then its draft
is dropped. Each refusal has a text that says why and that nothing changed.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy.orm import Session

from bot.shared.i18n import N_, translate
from bot.shared.worktime import zone
from bot.teams.actors import Actor
from bot.walks.quarters import Quarter, due_at
from storage import walks as store
from storage.models import Team, Walk

REFUSALS = {
    "unknown": N_("I can't find this walk. Nothing was changed."),
    "no_team": N_(
        "The sensory walk is done by a team's managers, and you manage no team. "
        "Nothing was changed."
    ),
    "not_manager": N_("Only this team's managers can do its walk. Nothing was changed."),
    "expired": N_(
        "This walk's quarter is closed (14 days after the quarter ended): its draft is no "
        "longer kept. Nothing else was changed."
    ),
    "done": N_("This walk is already done. Nothing was changed."),
    "declared": N_("This walk was marked as done already, without the form. Nothing was changed."),
    "not_invited": N_(
        "Only the teammates the manager invited can add notes to this walk. Nothing was changed."
    ),
    "sent": N_("Your notes are already part of this walk. Nothing was changed."),
}


def refusal(locale: str, code: str) -> str:
    return translate(locale, REFUSALS[code])


def closes_at(walk: Walk, team: Team) -> datetime:
    """The instant the walk's quarter closes: midnight starting its `closes` day, team time."""
    quarter = Quarter.parse(walk.quarter)
    assert quarter is not None, walk.quarter
    local = datetime.combine(quarter.closes, time(0), tzinfo=zone(team.timezone))
    return local.astimezone(UTC)


def is_closed(walk: Walk, team: Team, now: datetime) -> bool:
    return now >= closes_at(walk, team)


def find(session: Session, *, who: Actor, public_id: str | None, lock: bool = False) -> Walk | None:
    """A walk of the acting person's workspace, by its public id (None for anything else)."""
    walk = store.get(session, public_id=public_id, lock=lock)
    if walk is None or walk.team.workspace_id != who.workspace_id:
        return None
    return walk


def manager_refusal(walk: Walk | None, *, who: Actor, now: datetime) -> str | None:
    """Why `who` may not open or change `walk` now (a refusal code), or None. An expired
    walk's draft is dropped here, so that nothing typed outlives its quarter."""
    if walk is None:
        return "unknown"
    if not who.manages(walk.team_id):
        return "not_manager"
    if is_closed(walk, walk.team, now):
        drop_draft(walk)
        return "expired"
    return None


def drop_draft(walk: Walk) -> None:
    walk.draft, walk.draft_by, walk.draft_saved_at = None, None, None


def current_walk(session: Session, *, team: Team, now: datetime) -> Walk:
    """The team's walk for the quarter it is now in (in its time zone), made if needed."""
    quarter = Quarter.of(now.astimezone(zone(team.timezone)).date())
    walk = store.get_or_create(
        session,
        team_id=team.id,
        quarter=quarter.label,
        due_at=due_at(quarter, timezone=team.timezone, holidays=team.holidays),
    )
    return walk
