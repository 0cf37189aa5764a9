"""Privacy requests about one person: what is held about them (`symmetry export person`) and
their erasure (`symmetry forget`).

Rows that name the person (storage/personal.py) are exported, then removed or unnamed. Rows
that stand for them by a keyed hash are found with the key: their "me too" votes are exported
and removed; the hashes of their anonymous reports and of their answers in a survey still
open are replaced by random ones, which no key leads back to them, so that the report and the
answers stay (anonymous aggregates) but are theirs no more. An export never lists anonymous
reports or answers: whoever runs it would learn who wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.irritants.ownership import owns
from bot.pulse.answers import respondent
from bot.pulse.closing import pseudonym
from bot.runtime.privacy_export import NOT_EXPORTED, describe
from bot.shared.policy import Policy
from bot.shared.pseudonyms import keyed_hash, nonce
from storage import audit, personal
from storage.models import (
    AuditRecord,
    Irritant,
    IrritantDraft,
    IrritantVote,
    PulseAnswer,
    PulseComment,
    PulseRound,
    Team,
    Workspace,
)

FORGOTTEN_MENTION = "—"  # what a message to someone else shows where it named the person


class UnknownInput(Exception):
    """An unknown user or workspace: nothing is read or changed (exit status 2)."""


@dataclass(frozen=True)
class Subject:
    """The person of a request and the workspaces it covers."""

    user_id: str
    workspaces: Sequence[Workspace]

    @property
    def ids(self) -> list[int]:
        return [w.id for w in self.workspaces]

    @property
    def team_ids(self) -> list[str]:
        return [w.slack_team_id for w in self.workspaces]


def subject_hash(policy: Policy, user_id: str) -> str:
    """What the audit trail keeps of a request's person: a keyed hash, so that a second
    `forget` knows the person without the database naming them."""
    return keyed_hash(policy.secret_key, "privacy-subject", user_id)


def subject(
    session: Session, policy: Policy, *, user_id: str, slack_team_id: str | None
) -> Subject:
    """The request's person, checked: a workspace we hold nothing for, or a person we hold
    nothing about (and never forgot), is UnknownInput."""
    found = personal.workspaces(session, slack_team_id=slack_team_id)
    if slack_team_id is not None and not found:
        raise UnknownInput(f"--workspace: {slack_team_id} is not installed (no data for it)")
    person = Subject(user_id.strip(), found)
    if not person.user_id or not _known(session, policy, person):
        raise UnknownInput(f"--user: no data about {user_id!r}" + _where(slack_team_id))
    return person


def _where(slack_team_id: str | None) -> str:
    return f" in {slack_team_id}" if slack_team_id else ""


def _known(session: Session, policy: Policy, person: Subject) -> bool:
    if any(personal.named(session, user_id=person.user_id, ids=person.ids).values()):
        return True
    if any(_hashed(session, policy, person).values()):
        return True
    forgotten = session.scalars(
        select(AuditRecord.detail).where(AuditRecord.action == "person.forgotten")
    )
    mark = subject_hash(policy, person.user_id)
    return any(detail.get("subject") == mark for detail in forgotten)


def _hashed(session: Session, policy: Policy, person: Subject) -> dict[str, list[Any]]:
    """The rows standing for the person by a keyed hash: their votes (split by whether the
    report is their own anonymous one), their anonymous reports, drafts and open answers."""
    key, user_id = policy.secret_key, person.user_id
    reports = list(session.scalars(select(Irritant).where(Irritant.workspace_id.in_(person.ids))))
    team_of = {w.id: w.slack_team_id for w in person.workspaces}
    own = [
        i
        for i in reports
        if i.anonymous and owns(policy, i, slack_team_id=team_of[i.workspace_id], user_id=user_id)
    ]
    wanted = {keyed_hash(key, "vote", i.public_id, user_id): i for i in reports}
    votes = list(session.scalars(select(IrritantVote).where(IrritantVote.voter_hash.in_(wanted))))
    own_ids = {i.id for i in own}
    drafts = [
        d
        for d in session.scalars(select(IrritantDraft))
        if d.owner_hash == keyed_hash(key, "draft", d.token, user_id)
    ]
    rounds = session.scalars(
        select(PulseRound).where(
            PulseRound.state == "open",
            PulseRound.team_id.in_(select(Team.id).where(Team.workspace_id.in_(person.ids))),
        )
    )
    answers: list[Any] = []
    for row in rounds:
        who = respondent(policy, row.id, user_id)
        for model in (PulseAnswer, PulseComment):
            answers += session.scalars(
                select(model).where(model.round_id == row.id, model.respondent == who)
            )
    return {
        "votes": [v for v in votes if v.irritant_id not in own_ids],
        "votes_on_own": [v for v in votes if v.irritant_id in own_ids],
        "anonymous_reports": own,
        "drafts": drafts,
        "open_answers": answers,
    }


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export(session: Session, policy: Policy, person: Subject, *, now: datetime) -> dict[str, Any]:
    """Everything held about the person, as JSON-ready data (and an audit record)."""
    rows = personal.named(session, user_id=person.user_id, ids=person.ids)
    hashed = _hashed(session, policy, person)
    held = describe(session, person, rows, hashed["votes"])
    held["installations"] = [
        {"workspace": team_id, "installed_at": _at(at)}
        for team_id, at in personal.installed_by(
            session, user_id=person.user_id, team_ids=person.team_ids
        )
    ]
    held["audit"] = [
        {"at": _at(r.at), "workspace": r.workspace, "action": r.action, "detail": r.detail}
        for r in _audited(session, person)
    ]
    held["not_exported"] = NOT_EXPORTED
    audit.record(
        session,
        actor=audit.CLI,
        action="person.exported",
        now=now,
        workspace=_single(person),
        subject=subject_hash(policy, person.user_id),
    )
    return {"user": person.user_id, "workspaces": person.team_ids, **held}


def _audited(session: Session, person: Subject) -> list[AuditRecord]:
    """The audit records of the person's actions in the request's workspaces (and of
    commands over every workspace)."""
    return [
        r
        for r in audit.by_actor(session, user_id=person.user_id)
        if r.workspace is None or r.workspace in person.team_ids
    ]


def _single(person: Subject) -> str | None:
    return person.team_ids[0] if len(person.workspaces) == 1 else None


def forget(
    session: Session, policy: Policy, person: Subject, *, now: datetime, dry_run: bool = False
) -> dict[str, int]:
    """Remove or unname what is held about the person; the counts by kind. With `dry_run`
    only count (the caller rolls back)."""
    user_id = person.user_id
    rows = personal.named(session, user_id=user_id, ids=person.ids)
    hashed = _hashed(session, policy, person)
    mentions = personal.mentioning(session, user_id=user_id, ids=person.ids)
    invites = rows["walk_invites"]
    counts = {
        "profile": len(rows["profile"]),
        "memberships": len(rows["memberships"]),
        "manager_roles": len(rows["manager_roles"]),
        "survey_rounds": len(rows["survey_rounds"]),
        "survey_pauses": len(rows["survey_pauses"]),
        "votes": len(hashed["votes"]) + len(hashed["votes_on_own"]),
        "drafts": len(hashed["drafts"]),
        "deliveries": len(rows["deliveries"]),
        "digests": len(rows["digests"]),
        "digest_preferences": len(rows["digest_preferences"]),
        "walk_prompts": len(rows["walk_prompts"]),
        "walk_invites": sum(1 for i in invites if i.user_id == user_id),
        "named_reports_anonymised": len(rows["named_reports"]),
        "report_history_unnamed": len(rows["report_history"]),
        "anonymous_reports_unlinked": len(hashed["anonymous_reports"]),
        "survey_answers_unlinked": len(hashed["open_answers"]),
        "walks_unnamed": len(rows["walks"]) + sum(1 for i in invites if i.user_id != user_id),
        "walk_notes_unnamed": len(rows["walk_notes"]),
        "expeditions_unnamed": len(rows["expeditions"]),
        "customer_nps_unnamed": len(rows["customer_nps"]),
        "messages_unnamed": len(mentions),
        "audit_records_unnamed": len(_audited(session, person)),
        "installations_unnamed": len(
            personal.installed_by(session, user_id=user_id, team_ids=person.team_ids)
        ),
    }
    if dry_run:
        return counts
    for kind in (
        "profile",
        "memberships",
        "manager_roles",
        "survey_rounds",
        "survey_pauses",
        "deliveries",
        "digests",
        "digest_preferences",
        "walk_prompts",
    ):
        personal.remove(session, rows[kind])
    personal.remove(session, [*hashed["votes"], *hashed["votes_on_own"]])
    personal.remove(session, hashed["drafts"])
    personal.remove(session, [i for i in invites if i.user_id == user_id])
    _unname(session, policy, user_id, rows, hashed, mentions)
    personal.forget_installer(
        session, user_id=user_id, team_ids=person.team_ids, replacement=audit.FORGOTTEN
    )
    audit.forget_actor(session, user_id=user_id, workspaces=person.team_ids)
    audit.record(
        session,
        actor=audit.CLI,
        action="person.forgotten",
        now=now,
        workspace=_single(person),
        subject=subject_hash(policy, user_id),
        removed={kind: n for kind, n in counts.items() if n},
    )
    return counts


def _unname(
    session: Session,
    policy: Policy,
    user_id: str,
    rows: dict[str, list[Any]],
    hashed: dict[str, list[Any]],
    mentions: list[Any],
) -> None:
    for report in rows["named_reports"]:
        report.reporter_id = None  # the report stays; nobody is told of it any more
    for event in rows["report_history"]:
        event.actor_id = None
    for report in hashed["anonymous_reports"]:
        # A random hash no key recomputes: the report stays, and is nobody's.
        report.reporter_nonce = nonce()
        report.reporter_hash = keyed_hash(policy.secret_key, "forgotten", nonce())
    renamed: dict[tuple[int, str], str] = {}
    for answer in hashed["open_answers"]:
        answer.respondent = renamed.setdefault((answer.round_id, answer.respondent), pseudonym())
    for walk in rows["walks"]:
        if walk.manager_id == user_id:
            walk.manager_id = None
        if walk.draft_by == user_id:
            walk.draft_by, walk.draft = None, None
    for invite in rows["walk_invites"]:
        if invite.user_id != user_id:
            invite.invited_by = personal.UNNAMED
    for note in rows["walk_notes"]:
        note.author_id = personal.UNNAMED
    for expedition in rows["expeditions"]:
        expedition.author_id = personal.UNNAMED
    for figures in rows["customer_nps"]:
        figures.recorded_by = None
    for message in mentions:
        message.payload = personal.scrub(message.payload, user_id, FORGOTTEN_MENTION)
        message.key = message.key.replace(user_id, f"{audit.FORGOTTEN}-{message.id}")
    session.flush()
