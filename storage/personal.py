"""Every row that names one person by their Slack user ID, in some workspaces: what a privacy
request (`symmetry export person`, `symmetry forget`, bot/runtime/privacy.py) reads, keeps
or removes.

Rows that stand for a person only by a keyed hash (anonymous reports, votes, drafts, answers)
are not found here: finding them needs the key, which the database does not hold.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, Text, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Base,
    CustomerNps,
    DigestPreference,
    DigestRecord,
    Expedition,
    Irritant,
    IrritantEvent,
    Membership,
    OutboxMessage,
    PulseParticipant,
    PulsePause,
    PulseRound,
    SlackUser,
    Team,
    TeamManager,
    Walk,
    WalkInvite,
    WalkNote,
    WalkPrompt,
    Workspace,
)

UNNAMED = ""  # what a required author column holds once its author is forgotten


def workspaces(session: Session, *, slack_team_id: str | None) -> Sequence[Workspace]:
    """The workspace `slack_team_id` names (empty when unknown), or every one when None."""
    query = select(Workspace).order_by(Workspace.id)
    if slack_team_id is not None:
        query = query.where(Workspace.slack_team_id == slack_team_id)
    return session.scalars(query).all()


def _teams(ids: Sequence[int]) -> Any:
    return select(Team.id).where(Team.workspace_id.in_(ids))


def _walks(ids: Sequence[int]) -> Any:
    return select(Walk.id).where(Walk.team_id.in_(_teams(ids)))


def _irritants(ids: Sequence[int]) -> Any:
    return select(Irritant.id).where(Irritant.workspace_id.in_(ids))


def named(session: Session, *, user_id: str, ids: Sequence[int]) -> dict[str, list[Any]]:
    """The rows of workspaces `ids` that name `user_id`, by kind (each a list of rows)."""
    rounds = select(PulseRound.id).where(PulseRound.team_id.in_(_teams(ids)))
    queries: dict[str, Any] = {
        "profile": select(SlackUser).where(
            SlackUser.user_id == user_id, SlackUser.workspace_id.in_(ids)
        ),
        "memberships": select(Membership).where(
            Membership.user_id == user_id, Membership.team_id.in_(_teams(ids))
        ),
        "manager_roles": select(TeamManager).where(
            TeamManager.user_id == user_id, TeamManager.team_id.in_(_teams(ids))
        ),
        "named_reports": select(Irritant).where(
            Irritant.reporter_id == user_id, Irritant.workspace_id.in_(ids)
        ),
        "report_history": select(IrritantEvent).where(
            IrritantEvent.actor_id == user_id, IrritantEvent.irritant_id.in_(_irritants(ids))
        ),
        "survey_rounds": select(PulseParticipant).where(
            PulseParticipant.user_id == user_id, PulseParticipant.round_id.in_(rounds)
        ),
        "survey_pauses": select(PulsePause).where(
            PulsePause.user_id == user_id, PulsePause.workspace_id.in_(ids)
        ),
        "walks": select(Walk).where(
            or_(Walk.manager_id == user_id, Walk.draft_by == user_id),
            Walk.team_id.in_(_teams(ids)),
        ),
        "walk_prompts": select(WalkPrompt).where(
            WalkPrompt.manager_id == user_id, WalkPrompt.walk_id.in_(_walks(ids))
        ),
        "walk_notes": select(WalkNote).where(
            WalkNote.author_id == user_id, WalkNote.walk_id.in_(_walks(ids))
        ),
        "walk_invites": select(WalkInvite).where(
            or_(WalkInvite.user_id == user_id, WalkInvite.invited_by == user_id),
            WalkInvite.walk_id.in_(_walks(ids)),
        ),
        "expeditions": select(Expedition).where(
            Expedition.author_id == user_id, Expedition.walk_id.in_(_walks(ids))
        ),
        "digest_preferences": select(DigestPreference).where(
            DigestPreference.user_id == user_id, DigestPreference.workspace_id.in_(ids)
        ),
        "digests": select(DigestRecord).where(
            DigestRecord.recipient == user_id, DigestRecord.workspace_id.in_(ids)
        ),
        "deliveries": select(OutboxMessage).where(
            OutboxMessage.recipient == user_id, OutboxMessage.workspace_id.in_(ids)
        ),
        "customer_nps": select(CustomerNps).where(
            CustomerNps.recorded_by == user_id, CustomerNps.team_id.in_(_teams(ids))
        ),
    }
    return {kind: list(session.scalars(query)) for kind, query in queries.items()}


def mentioning(session: Session, *, user_id: str, ids: Sequence[int]) -> list[OutboxMessage]:
    """Messages for someone else whose content or key names `user_id` (a manager told that
    this person reported something, a teammate invited by them)."""
    rows = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.workspace_id.in_(ids),
            or_(OutboxMessage.recipient.is_(None), OutboxMessage.recipient != user_id),
            # A first sieve in SQL (the JSON as text), the exact test below.
            or_(
                OutboxMessage.key.contains(user_id, autoescape=True),
                cast(OutboxMessage.payload, Text).contains(user_id, autoescape=True),
            ),
        )
    )
    return [row for row in rows if user_id in row.key or user_id in _text(row.payload)]


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def scrub(value: Any, user_id: str, replacement: str) -> Any:
    """`value` (JSON) with every mention of `user_id` replaced (`<@U…>` first)."""
    text = _text(value).replace(f"<@{user_id}>", replacement).replace(user_id, replacement)
    return json.loads(text)


def installations() -> Table:
    """slack_sdk's table of OAuth installations (its installer is a person)."""
    return Base.metadata.tables["slack_installations"]


def installed_by(session: Session, *, user_id: str, team_ids: Sequence[str]) -> list[Any]:
    table = installations()
    query = select(table.c.team_id, table.c.installed_at).where(
        table.c.user_id == user_id, table.c.team_id.in_(team_ids)
    )
    return list(session.execute(query))


def forget_installer(
    session: Session, *, user_id: str, team_ids: Sequence[str], replacement: str
) -> int:
    """Unname the installer of OAuth installations (and drop their user token, if any)."""
    table = installations()
    query = (
        update(table)
        .where(table.c.user_id == user_id, table.c.team_id.in_(team_ids))
        .values(user_id=replacement, user_token=None, user_refresh_token=None, user_scopes=None)
    )
    return session.execute(query).rowcount or 0


def remove(session: Session, rows: Sequence[Any]) -> None:
    """Delete rows of one model by primary key (without loading relationships)."""
    if not rows:
        return
    model = type(rows[0])
    session.execute(delete(model).where(model.id.in_([row.id for row in rows])))
