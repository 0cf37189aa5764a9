"""Learning expeditions: a manager visits a place known for its service (a shop, a hotel, a
restaurant) and writes a short astonishment report — what surprised me, what we could
borrow. It is kept with the walk of the visit's quarter (made when there is none yet),
listed in the export, and posted to the team's channel when the manager chooses.

Only the team's managers may add one: anyone else, a forged or replayed submission included,
is told so and nothing changes. The same submission delivered twice is kept once (its key is
a keyed hash of the modal's view ID)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.shared.blocks import render
from bot.shared.i18n import N_, translate
from bot.shared.inputs import metadata, public_id
from bot.shared.policy import Policy
from bot.shared.pseudonyms import keyed_hash
from bot.shared.sending import Recipient, queue
from bot.teams.actors import Actor
from bot.walks.overview import quarter_walk
from bot.walks.quarters import Quarter
from storage import walks as store
from storage.models import Expedition, Team

CALLBACK_ID = "expedition_submit"
MAX_PLACE = 200
MAX_TEXT = 2000
MAX_AGE = timedelta(days=90)  # an astonishment report is written while it is fresh

ERRORS = {
    "not_allowed": N_(
        "Only the team's managers can record its learning expeditions. Nothing was saved."
    ),
    "place_missing": N_("Name the place you visited."),
    "place_too_long": N_("At most 200 characters, please."),
    "date_missing": N_("Choose the day of your visit."),
    "date_future": N_("The visit cannot be in the future."),
    "date_too_old": N_("Record a visit of the last 90 days."),
    "surprised_missing": N_("Say what surprised you."),
    "text_too_long": N_("At most 2000 characters, please."),
}


@dataclass
class Outcome:
    """What to answer a submission with: field errors, or the view that replaces the form."""

    errors: dict[str, str] = field(default_factory=dict)
    view: dict[str, Any] | None = None
    origin: str = ""


def form(
    session: Session, *, who: Actor, public_id: str | None, origin: str, now: datetime
) -> dict[str, Any]:
    """The astonishment report's form for a manager of the walk's team; for anyone else (or a
    walk that does not exist), a view that says why not."""
    walk = store.get(session, public_id=public_id)
    if walk is None or not who.manages(walk.team_id):
        return render("walk_expedition_modal", who.locale, state="refused")
    return render(
        "walk_expedition_modal",
        who.locale,
        state="form",
        team=walk.team,
        today=who.today(now),
        metadata=json.dumps({"walk": walk.public_id, "origin": origin}),
    )


def parse(view: dict[str, Any]) -> dict[str, Any]:
    """The submitted values, by field (block IDs are the field names)."""
    values = view.get("state", {}).get("values", {})

    def typed(block: str) -> str:
        return values.get(block, {}).get("value", {}).get("value") or ""

    picked = values.get("date", {}).get("value", {}).get("selected_date")
    try:
        visited = date.fromisoformat(picked) if isinstance(picked, str) else None
    except ValueError:
        visited = None
    ticked = values.get("post", {}).get("value", {}).get("selected_options") or []
    return {
        "place": typed("place").strip(),
        "date": visited,
        "surprised": typed("surprised").strip(),
        "borrow": typed("borrow").strip(),
        "post": any(isinstance(o, dict) and o.get("value") == "post" for o in ticked),
    }


def validate(fields: dict[str, Any], *, today: date) -> dict[str, str]:
    """{field: error code} (empty when the report can be kept)."""
    errors: dict[str, str] = {}
    if not fields["place"]:
        errors["place"] = "place_missing"
    elif len(fields["place"]) > MAX_PLACE:
        errors["place"] = "place_too_long"
    visited = fields["date"]
    if visited is None:
        errors["date"] = "date_missing"
    elif visited > today:
        errors["date"] = "date_future"
    elif visited < today - MAX_AGE:
        errors["date"] = "date_too_old"
    if not fields["surprised"]:
        errors["surprised"] = "surprised_missing"
    for name in ("surprised", "borrow"):
        if len(fields[name]) > MAX_TEXT:
            errors[name] = "text_too_long"
    return errors


def submit(
    session: Session, policy: Policy, *, who: Actor, view: dict[str, Any], now: datetime
) -> Outcome:
    """Keep a manager's astonishment report, and queue its post to the team's channel when
    asked; refuse anyone who does not manage the team, and bad input, changing nothing."""
    meta = metadata(view)
    origin = str(meta.get("origin", ""))
    walk = store.get(session, public_id=public_id(meta.get("walk")))
    if walk is None or not who.manages(walk.team_id):
        return Outcome(errors={"place": translate(who.locale, ERRORS["not_allowed"])})
    key = keyed_hash(policy.secret_key, "expedition", view.get("id", ""))
    kept = store.expedition_by_key(session, submission_key=key)
    if kept is not None:  # Slack delivered the same submission again
        return Outcome(view=saved(kept, who=who), origin=origin)
    fields = parse(view)
    codes = validate(fields, today=who.today(now))
    if codes:
        return Outcome(errors={f: translate(who.locale, ERRORS[c]) for f, c in codes.items()})
    team = walk.team
    expedition = Expedition(
        walk_id=quarter_walk(session, team=team, quarter=Quarter.of(fields["date"])).id,
        author_id=who.user_id,
        place=fields["place"],
        visited_on=fields["date"],
        surprised=fields["surprised"],
        borrow=fields["borrow"],
        submission_key=key,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(expedition)
    except IntegrityError:  # the same submission, kept meanwhile by another request
        kept = store.expedition_by_key(session, submission_key=key)
        assert kept is not None
        return Outcome(view=saved(kept, who=who), origin=origin)
    if fields["post"]:
        post(session, policy, team=team, expedition=expedition, now=now)
    return Outcome(view=saved(expedition, who=who), origin=origin)


def post(
    session: Session, policy: Policy, *, team: Team, expedition: Expedition, now: datetime
) -> None:
    """Queue the report to the team's channel, in the team's language and working hours."""
    payload = render("walk_expedition_post", team.locale, team=team, expedition=expedition)
    queue(
        session,
        to=Recipient(team.workspace_id, team.channel_id, None, team.timezone, team.holidays),
        key=f"expedition:{expedition.public_id}:post",
        kind="expedition_post",
        payload=payload,
        earliest=now,
        default_timezone=policy.default_timezone,
    )
    expedition.posted_at = now


def saved(expedition: Expedition, *, who: Actor) -> dict[str, Any]:
    """The view that replaces the form once the report is kept."""
    walk = expedition.walk
    return render(
        "walk_expedition_modal", who.locale, state="saved", expedition=expedition, team=walk.team
    )
