"""The manager's walk: opening it (the prompt's or the Home tab's button, `/symmetry walk`),
keeping a draft on the server (saved from the form, or when the form is closed), and
recording it, once, before its findings become irritants (`findings`).

Every check is made against the person who submitted the view, never against what the view
carries: a manager's modal replayed by someone else is refused, and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.shared.blocks import render
from bot.shared.i18n import N_
from bot.shared.inputs import metadata, number, public_id
from bot.shared.policy import Policy
from bot.shared.pseudonyms import keyed_hash
from bot.teams.actors import Actor
from bot.walks import access, findings, teammates
from bot.walks.form import Form, Outcome, choice, error_texts, manager_modal, notice, parse
from bot.walks.quarters import Quarter
from storage import audit, queries
from storage.models import Team, Walk, WalkNote

DRAFT_SAVED = N_(
    "Your draft is saved. Open it again from the walk's message, your Home tab or "
    "`/symmetry walk`, until %(date)s."
)


def _view_for(walk: Walk | None, *, who: Actor, now: datetime) -> dict[str, Any]:
    """What opening `walk` shows `who`: the form (resuming its draft), the findings or the
    summary once it is recorded, or a notice saying why not."""
    code = access.manager_refusal(walk, who=who, now=now)
    if code is None and walk is not None and walk.declared:
        code = "declared"
    if code is not None:
        return notice(who.locale, access.REFUSALS[code])
    assert walk is not None
    if walk.done_at is not None:
        return findings.next_view(walk, locale=who.locale)
    invited = [i.user_id for i in walk.invites]
    return manager_modal(walk, Form.of_draft(walk.draft), locale=who.locale, invited=invited)


def opening(
    session: Session, *, who: Actor, public_id: str | None, now: datetime
) -> dict[str, Any]:
    """The walk a `walk_start` button names, as `who` may see it."""
    return _view_for(access.find(session, who=who, public_id=public_id), who=who, now=now)


def command_opening(
    session: Session, *, who: Actor, now: datetime
) -> tuple[dict[str, Any] | None, str | None]:
    """`/symmetry walk`: (the view, None) — the walk of the team they manage for the current
    quarter, or a team picker when they manage several —, or (None, why not)."""
    teams = queries.teams_managed_by(session, workspace_id=who.workspace_id, user_id=who.user_id)
    if not teams:
        return None, access.refusal(who.locale, "no_team")
    if len(teams) > 1:
        return render("walk_pick_modal", who.locale, teams=teams), None
    walk = access.current_walk(session, team=teams[0], now=now)
    return _view_for(walk, who=who, now=now), None


def picked(session: Session, *, who: Actor, view: dict[str, Any], now: datetime) -> Outcome:
    """The team chosen in the picker: its walk for the current quarter."""
    team_id = number(choice(view, "team"))
    team = session.get(Team, team_id) if team_id is not None and who.manages(team_id) else None
    if team is None or team.workspace_id != who.workspace_id:
        return Outcome(errors=error_texts(who.locale, {"team": "team"}))
    walk = access.current_walk(session, team=team, now=now)
    return Outcome(view=_view_for(walk, who=who, now=now))


def submit(
    session: Session, policy: Policy, *, who: Actor, view: dict[str, Any], now: datetime
) -> Outcome:
    """The manager's form, submitted: a draft kept, or the walk recorded (once per view: the
    same submission delivered again answers as the first time), then its findings."""
    walk = access.find(session, who=who, public_id=public_id(metadata(view).get("walk")), lock=True)
    code = access.manager_refusal(walk, who=who, now=now)
    if code is not None:
        return Outcome(view=notice(who.locale, access.REFUSALS[code]))
    assert walk is not None
    key = keyed_hash(policy.secret_key, "walk", view["id"]) if view.get("id") else None
    if key is not None and walk.submission_key == key:
        return Outcome(view=findings.next_view(walk, locale=who.locale))
    if walk.done_at is not None:
        return Outcome(
            view=notice(who.locale, access.REFUSALS["declared" if walk.declared else "done"])
        )
    form, codes = parse(view)
    if form.finish is None:
        codes.setdefault("finish", "finish")
    elif form.finish == "done" and not form.rated():
        codes.setdefault("rate-sight-customer", "nothing_rated")
    if codes:
        return Outcome(errors=error_texts(who.locale, codes))
    teammates.invite(session, policy, walk=walk, by=who, user_ids=form.invited, now=now)
    if form.finish == "draft":
        keep_draft(walk, form, who=who, now=now)
        last_day = Quarter.parse(walk.quarter).closes - timedelta(days=1)  # type: ignore[union-attr]
        return Outcome(view=notice(who.locale, DRAFT_SAVED, day=last_day))
    record(walk, form, who=who, key=key, now=now)
    audit.record(
        session,
        actor=who.user_id,
        action="walk.recorded",
        now=now,
        workspace_id=who.workspace_id,
        walk=walk.public_id,
        quarter=walk.quarter,
        invited=len(form.invited),
    )
    session.flush()  # the findings step names the notes by their IDs
    return Outcome(view=findings.next_view(walk, locale=who.locale))


def closed(session: Session, *, who: Actor, view: dict[str, Any], now: datetime) -> bool:
    """The manager closed the form without saving: what they typed is kept as the draft
    (nothing for anyone else, a recorded or expired walk, or a form with a forged value).
    True when a draft was kept."""
    walk = access.find(session, who=who, public_id=public_id(metadata(view).get("walk")), lock=True)
    if access.manager_refusal(walk, who=who, now=now) is not None:
        return False
    assert walk is not None
    form, codes = parse(view)
    if codes or walk.done_at is not None or (form.empty() and not walk.draft):
        return False
    keep_draft(walk, form, who=who, now=now)
    return True


def keep_draft(walk: Walk, form: Form, *, who: Actor, now: datetime) -> None:
    """Keep the form as the walk's draft; nothing else about the walk changes."""
    walk.draft, walk.draft_by, walk.draft_saved_at = form.draft(), who.user_id, now


def record(walk: Walk, form: Form, *, who: Actor, key: str | None, now: datetime) -> None:
    """The walk is done: its ratings, notes (the manager's) and answers, by whom and when."""
    walk.scores = form.scores
    walk.stopped_seeing = form.stopped_seeing or None
    walk.works_well = form.works_well or None
    walk.done_at, walk.manager_id, walk.submission_key = now, who.user_id, key
    for sense, space, text in form.written():
        walk.notes.append(
            WalkNote(author_id=who.user_id, sense=sense, space=space, text=text, created_at=now)
        )
    access.drop_draft(walk)
