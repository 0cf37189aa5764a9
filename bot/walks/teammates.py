"""Teammates a manager invites to a walk: their DM, their short form, and their notes, which
join the walk under their names. Only invited people may send notes, once, until the
walk's quarter closes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.shared.blocks import render
from bot.shared.i18n import N_
from bot.shared.inputs import metadata, public_id
from bot.shared.policy import Policy
from bot.shared.sending import queue
from bot.teams.actors import Actor
from bot.teams.directory import reach
from bot.walks import access
from bot.walks.form import Form, Outcome, error_texts, notice, parse_notes, teammate_modal
from bot.walks.quarters import Quarter
from bot.walks.senses import SENSES, SPACES
from storage.models import Team, Walk, WalkInvite, WalkNote

THANKS = N_("Thank you: your notes are part of the walk now.")


def invite(
    session: Session,
    policy: Policy,
    *,
    walk: Walk,
    by: Actor,
    user_ids: Iterable[str],
    now: datetime,
) -> list[str]:
    """Invite the people named who are not invited yet (nor the manager): each gets a DM
    with a button to the short form, in their working hours and before the quarter closes.
    The invited, in order."""
    known = {i.user_id for i in walk.invites} | {by.user_id}
    invited = [u for u in dict.fromkeys(user_ids) if u not in known]
    for user_id in invited:
        walk.invites.append(WalkInvite(user_id=user_id, invited_by=by.user_id, invited_at=now))
        _tell(
            session,
            policy,
            walk=walk,
            user_id=user_id,
            key=f"walk:{walk.public_id}:invite:{user_id}",
            kind="walk_invite",
            template="walk_invite",
            now=now,
            manager=by.user_id,
            until=Quarter.parse(walk.quarter).closes - timedelta(days=1),  # type: ignore[union-attr]
        )
    return invited


def _tell(
    session: Session,
    policy: Policy,
    *,
    walk: Walk,
    user_id: str,
    key: str,
    kind: str,
    template: str,
    now: datetime,
    **context: object,
) -> None:
    """Queue a walk message for one person, in their language and working hours; it is not
    sent once the walk's quarter has closed."""
    team: Team = walk.team
    to, locale = reach(session, policy, team=team, user_id=user_id)
    queue(
        session,
        to=to,
        key=key,
        kind=kind,
        payload=render(template, locale, team=team, walk_id=walk.public_id, **context),
        earliest=now,
        default_timezone=policy.default_timezone,
        latest=access.closes_at(walk, team),
    )


def _invite_of(walk: Walk | None, who: Actor) -> WalkInvite | None:
    if walk is None:
        return None
    return next((i for i in walk.invites if i.user_id == who.user_id), None)


def _refusal(walk: Walk | None, invite: WalkInvite | None, *, now: datetime) -> str | None:
    if walk is None:
        return "unknown"
    if invite is None:
        return "not_invited"
    if access.is_closed(walk, walk.team, now):
        return "expired"
    if invite.submitted_at is not None:
        return "sent"
    return None


def opening(
    session: Session, *, who: Actor, public_id: str | None, now: datetime
) -> dict[str, Any]:
    """The invited teammate's form, or a notice saying why not."""
    walk = access.find(session, who=who, public_id=public_id)
    invite = _invite_of(walk, who)
    code = _refusal(walk, invite, now=now)
    if code is not None:
        return notice(who.locale, access.REFUSALS[code])
    assert walk is not None and invite is not None
    return teammate_modal(walk, locale=who.locale, manager=invite.invited_by)


def submit(
    session: Session, policy: Policy, *, who: Actor, view: dict[str, Any], now: datetime
) -> Outcome:
    """An invited teammate's notes join the walk under their name, once. When the walk was
    recorded already, its manager is told, to decide which are findings."""
    walk = access.find(session, who=who, public_id=public_id(metadata(view).get("walk")), lock=True)
    invite = _invite_of(walk, who)
    code = _refusal(walk, invite, now=now)
    if code is not None:
        return Outcome(view=notice(who.locale, access.REFUSALS[code]))
    assert walk is not None and invite is not None
    form, errors = Form(), {}
    parse_notes(view, form, errors)
    if not errors and not form.written():
        errors[f"note-{next(iter(SENSES))}-{SPACES[0]}"] = "no_note"
    if errors:
        return Outcome(errors=error_texts(who.locale, errors))
    for sense, space, text in form.written():
        walk.notes.append(
            WalkNote(author_id=who.user_id, sense=sense, space=space, text=text, created_at=now)
        )
    invite.submitted_at = now
    if walk.done_at is not None and walk.manager_id and not walk.declared:
        _tell(
            session,
            policy,
            walk=walk,
            user_id=walk.manager_id,
            key=f"walk:{walk.public_id}:notes:{who.user_id}",
            kind="walk_notes",
            template="walk_notes_added",
            now=now,
            author=who.user_id,
        )
    return Outcome(view=notice(who.locale, THANKS))
