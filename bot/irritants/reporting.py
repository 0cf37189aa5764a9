"""Reporting an irritant: the modal, its validation, "me too" on a similar report, storage.

An anonymous report stores no user ID (see `ownership`); the same submission delivered twice
is stored once (its key is a hash of the modal's view ID).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, utils
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from bot.irritants import catalog, notify
from bot.irritants.catalog import labels
from bot.irritants.choices import ChoiceCache
from bot.irritants.ownership import goes_to_admins, reporter_fields, visible_to_managers
from bot.shared.blocks import Kept, kept, render
from bot.shared.i18n import N_, translate
from bot.shared.inputs import number, submitted
from bot.shared.policy import Policy
from bot.shared.pseudonyms import keyed_hash
from bot.shared.worktime import day_of
from bot.teams import sizes
from bot.teams.actors import Actor
from storage import irritants as store
from storage import queries
from storage.irritants import ReportChoices
from storage.models import Irritant, IrritantDraft, IrritantEvent, Team

CALLBACK_ID = "irritant_report"
MAX_DESCRIPTION = 3000
MAX_LOCATION = 200
SIMILARITY = 75  # rapidfuzz score (0–100) from which two reports count as the same
PLACE_SIMILARITY = 60  # below it, two places given are different places (no "me too")
DRAFT_LIFETIME = timedelta(days=1)  # then `tick` forgets a draft nobody decided on

ERRORS = {
    "description_missing": N_("Describe what bothers you."),
    "description_too_long": N_("At most 3000 characters, please."),
    "location_too_long": N_("At most 200 characters, please."),
    "choice_missing": N_("Choose one."),
    "team_unknown": N_("Choose one of your teams."),
}


@dataclass
class Outcome:
    """What to answer a submission with: field errors, or a view to show instead."""

    errors: dict[str, str] = field(default_factory=dict)
    view: dict[str, Any] | None = None
    irritant: Irritant | None = None


def modal(
    session: Session | Connection | Callable[[], AbstractContextManager[Connection]],
    policy: Policy,
    *,
    who: Actor,
    now: datetime,
    prefill: str = "",
    cache: ChoiceCache | None = None,
) -> dict[str, Any] | None:
    """The report modal for a member of at least one team (None for anyone else), to send as
    it is: without typed text it is shared and read-only (`Kept.frozen`). Reads only: a plain
    connection will do, and `session` may be a function opening one (as `Services.reading`),
    called only when `cache` does not hold the person's choices."""

    def read() -> ReportChoices:
        if not callable(session):
            return store.report_choices(session, **person)
        with session() as connection:
            return store.report_choices(connection, **person)

    person = {"workspace_id": who.workspace_id, "user_id": who.user_id, "since": now - sizes.WINDOW}

    choices = (
        read() if cache is None else cache.get(who.workspace_id, who.user_id, now=now, read=read)
    )
    if not choices.teams:
        return None
    teams = tuple(_TeamChoice(team_id, name) for team_id, name, _facts in choices.teams)
    small = tuple(
        _TeamChoice(team_id, name)
        for team_id, name, facts in choices.teams
        if sizes.deciding(facts) < policy.anonymity_threshold
    )
    locations = tuple(choices.locations)
    prefill = prefill.strip()
    cut = len(prefill) > MAX_DESCRIPTION  # the modal says so: the person can still fix it
    # The same choices render the same modal: keep the most common ones rendered.
    kept_modal = _report_modal(
        who.locale,
        prefill[:MAX_DESCRIPTION],
        cut,
        teams,
        small,
        policy.anonymity_threshold,
        locations,
    )
    # Without typed text, a modal recurs (every member of the same teams): shared, decoded
    # once. With it, it seldom does: the caller's own copy, and no decoded one kept.
    return kept_modal.copy() if prefill else kept_modal.frozen


@dataclass(frozen=True)
class _TeamChoice:
    id: int
    name: str


@lru_cache(maxsize=512)
def _report_modal(
    locale: str,
    prefill: str,
    cut: bool,
    teams: tuple[_TeamChoice, ...],
    small: tuple[_TeamChoice, ...],
    threshold: int,
    locations: tuple[str, ...],
) -> Kept:
    return kept(
        render(
            "irritant_modal",
            locale,
            prefill=prefill,
            cut=cut,
            guessed=catalog.guess_category(prefill) if prefill else None,
            teams=teams,
            small=small,
            threshold=threshold,
            locations=locations,
            categories=catalog.CATEGORIES,
            spaces=catalog.SPACES,
            severities=catalog.SEVERITIES,
        )
    )


def no_team_message(session: Session, *, who: Actor) -> dict[str, Any]:
    """Told to someone in no team: how to join one."""
    teams = queries.list_teams(session, workspace_id=who.workspace_id)
    return render("irritant_no_team", who.locale, teams=teams)


def parse(view: dict[str, Any]) -> dict[str, Any]:
    """The submitted values, by field name (block IDs are the field names)."""
    values = submitted(view)

    def picked(block: str) -> str | None:
        state = values.get(block, {}).get("value", {})
        option = state.get("selected_option") or {}
        return option.get("value") if option else state.get("value")

    shared = values.get("share", {}).get("value", {}).get("selected_options") or []
    location = (picked("location") or "").strip() or (picked("recent_location") or "")
    return {
        "description": picked("description") or "",
        "category": picked("category"),
        "space": picked("space"),
        "location": location.strip(),
        "severity": picked("severity"),
        "team_id": picked("team"),
        "share_name": any(o.get("value") == "share" for o in shared),
    }


def validate(fields: dict[str, Any], team_ids: set[int]) -> dict[str, str]:
    """{field: error code} for a submission (empty when it can be stored)."""
    errors: dict[str, str] = {}
    description = fields["description"]
    if not description.strip():
        errors["description"] = "description_missing"
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = "description_too_long"
    if len(fields["location"]) > MAX_LOCATION:
        errors["location"] = "location_too_long"
    for name, allowed in (
        ("category", catalog.CATEGORIES),
        ("space", catalog.SPACES),
        ("severity", catalog.SEVERITIES),
    ):
        if fields[name] not in allowed:
            errors[name] = "choice_missing"
    team = fields["team_id"]
    if number(team) not in team_ids:
        errors["team"] = "team_unknown"
    return errors


def similar(
    session: Session, fields: dict[str, Any], *, seen_by: Callable[[Irritant], bool] | None = None
) -> Irritant | None:
    """An open irritant of the same team, category, space and place that reads like this one
    (a report without a place may match one with a place), among those `seen_by` allows."""
    best, best_score = None, 0.0
    for candidate in store.open_in(
        session, team_id=int(fields["team_id"]), category=fields["category"], space=fields["space"]
    ):
        if seen_by is not None and not seen_by(candidate):
            continue
        text = fuzz.token_set_ratio(
            fields["description"], candidate.description, processor=utils.default_process
        )
        score = text
        if fields["location"] and candidate.location:
            place = fuzz.token_set_ratio(
                fields["location"], candidate.location, processor=utils.default_process
            )
            if place < PLACE_SIMILARITY:
                continue
            score = 0.75 * text + 0.25 * place
        if score >= SIMILARITY and score > best_score:
            best, best_score = candidate, score
    return best


def _seen_by(
    session: Session,
    policy: Policy,
    who: Actor,
    teams: Sequence[Team],
    fields: dict[str, Any],
    now: datetime,
) -> Callable[[Irritant], bool] | None:
    """For a manager of the chosen team: only the reports their board may show are offered
    as "me too" (the modal must not show them an anonymous report before its roundup)."""
    team = next(t for t in teams if t.id == int(fields["team_id"]))
    if not any(m.user_id == who.user_id for m in team.managers):
        return None
    size = sizes.counted_size(session, team, now=now)
    threshold = policy.anonymity_threshold
    return lambda irritant: visible_to_managers(irritant, team_size=size, threshold=threshold)


def submit(
    session: Session, policy: Policy, *, who: Actor, view: dict[str, Any], now: datetime
) -> Outcome:
    """Validate a submission; store it, or offer "me too" on a similar open report."""
    submission_key = keyed_hash(policy.secret_key, "submission", view.get("id", ""))
    stored = store.by_submission(session, submission_key=submission_key)
    if stored is not None:  # Slack delivered the same submission again
        view_out = thanks(session, policy, who=who, irritant=stored, now=now)
        return Outcome(view=view_out, irritant=stored)
    teams = queries.teams_of_member(session, workspace_id=who.workspace_id, user_id=who.user_id)
    fields = parse(view)
    codes = validate(fields, {t.id for t in teams})
    if codes:
        return Outcome(errors={f: translate(who.locale, ERRORS[c]) for f, c in codes.items()})
    match = similar(session, fields, seen_by=_seen_by(session, policy, who, teams, fields, now))
    if match is not None:
        token = secrets.token_hex(16)
        store.save_draft(
            session,
            draft=IrritantDraft(
                token=token,
                owner_hash=keyed_hash(policy.secret_key, "draft", token, who.user_id),
                # The one report offered: a forged "me too" on another id counts nothing.
                fields={**fields, "submission_key": submission_key, "offered": match.public_id},
                expires_at=now + DRAFT_LIFETIME,
            ),
        )
        view_out = render("irritant_similar", who.locale, irritant=match, token=token, **labels())
        return Outcome(view=view_out)
    irritant = create(session, policy, who=who, fields=fields, key=submission_key, now=now)
    view_out = thanks(session, policy, who=who, irritant=irritant, now=now)
    return Outcome(view=view_out, irritant=irritant)


def create(
    session: Session,
    policy: Policy,
    *,
    who: Actor,
    fields: dict[str, Any],
    key: str | None,
    now: datetime,
    source: str = "report",
    walk_id: int | None = None,
) -> Irritant:
    """Store a validated report and its first history step; notify at once when named. A
    sensory walk's findings come this way too (`source` "walk", with their walk's id)."""
    anonymous = not fields["share_name"]
    team = session.get(Team, int(fields["team_id"]))
    when = day_of(now, team.timezone if team else None) if anonymous else now
    # The modal said where an anonymous report goes: that holds even if the team grows.
    size = sizes.counted_size(session, team, now=now) if team else 0
    for_admins = anonymous and size < policy.anonymity_threshold
    irritant = Irritant(
        workspace_id=who.workspace_id,
        team_id=int(fields["team_id"]),
        category=fields["category"],
        space=fields["space"],
        location=fields["location"],
        severity=fields["severity"],
        description=fields["description"].strip(),
        anonymous=anonymous,
        status="new",
        submission_key=key,
        created_at=when,
        updated_at=when,
        for_admins=for_admins,
        source=source,
        walk_id=walk_id,
        **reporter_fields(policy, who=who, anonymous=anonymous),
    )
    irritant.events.append(
        IrritantEvent(
            action="reported",
            actor_role="reporter",
            actor_id=None if anonymous else who.user_id,
            status="new",
            created_at=when,
        )
    )
    session.add(irritant)
    session.flush()
    if not anonymous:
        notify.new_named_report(session, policy, irritant=irritant, now=now)
    return irritant


def thanks(
    session: Session, policy: Policy, *, who: Actor, irritant: Irritant, now: datetime
) -> dict:
    """The view that replaces the modal once the report is stored."""
    team = irritant.team or session.get(Team, irritant.team_id)
    to_admins = goes_to_admins(
        irritant,
        team_size=sizes.counted_size(session, team, now=now),
        threshold=policy.anonymity_threshold,
    )
    return render(
        "irritant_thanks",
        who.locale,
        irritant=irritant,
        team=team,
        to_admins=to_admins,
        roundup_time=team.roundup_time,
        **labels(),
    )


def draft_owned(policy: Policy, draft: IrritantDraft, user_id: str) -> bool:
    """True when `user_id` is the person who submitted the draft."""
    return draft.owner_hash == keyed_hash(policy.secret_key, "draft", draft.token, user_id)


def _may_vote(
    session: Session,
    policy: Policy,
    *,
    who: Actor,
    target: Irritant,
    fields: dict[str, Any],
    now: datetime,
) -> bool:
    """An open report of the draft's team that the voter's own offer could have shown: the
    same visibility rule as `submit`, so a manager never reads a hidden report this way."""
    if target.status not in catalog.OPEN_STATUSES or target.team_id != int(fields["team_id"]):
        return False
    team = session.get(Team, target.team_id)
    seen = _seen_by(session, policy, who, [team], fields, now) if team else None
    return seen is None or seen(target)


def decide_similar(
    session: Session,
    policy: Policy,
    *,
    who: Actor,
    token: str,
    choice: str,
    public_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The reporter chose "me too" on the similar report, or to send theirs anyway."""
    draft = store.take_draft(session, token=token)
    # A draft is honoured for as long as it is kept, even past its lifetime: the text the
    # person typed is not thrown away because they took their time to choose.
    if draft is None or not draft_owned(policy, draft, who.user_id):
        return render("irritant_expired", who.locale)
    fields = dict(draft.fields)
    key = fields.pop("submission_key", None)
    offered = fields.pop("offered", None)  # None in drafts kept from before it was recorded
    session.delete(draft)
    if choice == "vote" and public_id is not None and offered == public_id:
        target = store.get(session, public_id=public_id)
        if target is not None and _may_vote(
            session, policy, who=who, target=target, fields=fields, now=now
        ):
            # Keyed by the public id, which a roundup's rewrite keeps (the row id changes).
            voter = keyed_hash(policy.secret_key, "vote", target.public_id, who.user_id)
            added = store.add_vote(session, irritant_id=target.id, voter_hash=voter)
            session.refresh(target, ["votes"])
            return render("irritant_voted", who.locale, irritant=target, added=added, **labels())
    irritant = create(session, policy, who=who, fields=fields, key=key, now=now)
    return thanks(session, policy, who=who, irritant=irritant, now=now)
