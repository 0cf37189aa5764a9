"""Who reported what, without storing it for anonymous reports.

A named report keeps the reporter's user ID. An anonymous one keeps a keyed hash of
(workspace, user, nonce) with a fresh nonce per report: the reporter finds their reports by
recomputing it, the bot finds the reporter of one report by trying the team's members, and
nobody without the key can do either.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.shared.policy import Policy
from bot.shared.pseudonyms import keyed_hash, matches, nonce
from bot.teams.actors import Actor
from storage import irritants as store
from storage.models import Irritant, Membership, SlackUser


def goes_to_admins(irritant: Irritant, *, team_size: int, threshold: int) -> bool:
    """Whether an anonymous report is for the admins instead of the team's managers: decided
    when it was made (its team was under the anonymity threshold then), or for a report older
    than that decision, by the team's size now."""
    if not irritant.anonymous:
        return False
    if irritant.for_admins is not None:
        return irritant.for_admins
    return team_size < threshold


def visible_to_managers(irritant: Irritant, *, team_size: int, threshold: int) -> bool:
    """Whether a team's managers may see (and triage) a report.

    Named reports: at once. Anonymous ones: only once the daily roundup has shown them (so
    their timing gives nothing away), and never one for the admins (made in a team too small
    for anonymity), even after the team has grown.
    """
    if not irritant.anonymous:
        return True
    if goes_to_admins(irritant, team_size=team_size, threshold=threshold):
        return False
    return irritant.rounded_up_at is not None


def _reporter_hash(policy: Policy, slack_team_id: str, user_id: str, salt: str) -> str:
    return keyed_hash(policy.secret_key, "reporter", slack_team_id, user_id, salt)


def reporter_fields(policy: Policy, *, who: Actor, anonymous: bool) -> dict[str, Any]:
    """The reporter columns of a new report: an ID when named, a keyed hash when not."""
    if not anonymous:
        return {"reporter_id": who.user_id, "reporter_hash": None, "reporter_nonce": None}
    salt = nonce()
    return {
        "reporter_id": None,
        "reporter_hash": _reporter_hash(policy, who.slack_team_id, who.user_id, salt),
        "reporter_nonce": salt,
    }


def owns(policy: Policy, irritant: Irritant, *, slack_team_id: str, user_id: str) -> bool:
    """True when `user_id` reported `irritant`."""
    if not irritant.anonymous:
        return irritant.reporter_id == user_id
    if not (irritant.reporter_hash and irritant.reporter_nonce):
        return False
    return matches(
        policy.secret_key,
        irritant.reporter_hash,
        "reporter",
        slack_team_id,
        user_id,
        irritant.reporter_nonce,
    )


def reports_of(session: Session, policy: Policy, *, who: Actor) -> list[Irritant]:
    """A person's reports, named and anonymous, newest first."""
    named = list(store.named_by(session, workspace_id=who.workspace_id, user_id=who.user_id))
    anonymous = [
        irritant
        for irritant in store.anonymous_in(session, workspace_id=who.workspace_id)
        if owns(policy, irritant, slack_team_id=who.slack_team_id, user_id=who.user_id)
    ]
    return sorted(named + anonymous, key=lambda i: (i.created_at, i.id), reverse=True)


def reporter_of(
    session: Session, policy: Policy, irritant: Irritant, *, slack_team_id: str
) -> str | None:
    """The user ID of whoever reported `irritant`, found without it being stored.

    For an anonymous report the candidates are the people the bot knows in the workspace
    (team members first); None when the reporter has left them all.
    """
    if not irritant.anonymous:
        return irritant.reporter_id
    for user_id in _candidates(session, irritant):
        if owns(policy, irritant, slack_team_id=slack_team_id, user_id=user_id):
            return user_id
    return None


def _candidates(session: Session, irritant: Irritant) -> Iterable[str]:
    seen: set[str] = set()
    members = session.scalars(
        select(Membership.user_id).where(Membership.team_id == irritant.team_id)
    )
    known = session.scalars(
        select(SlackUser.user_id).where(SlackUser.workspace_id == irritant.workspace_id)
    )
    for user_id in [*members, *known]:
        if user_id not in seen:
            seen.add(user_id)
            yield user_id
