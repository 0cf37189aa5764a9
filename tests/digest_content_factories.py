"""Rows for the digest content tests (tests/test_digest_*.py), made with the models as the
product stores them: named reports dated when made (and shown at once), anonymous ones kept
to the day and shown at a roundup; closed pulse rounds under pseudonyms; walks; customer NPS.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.digests.weeks import Week
from bot.shared.worktime import day_of
from storage import queries
from storage.models import (
    CustomerNps,
    Irritant,
    IrritantVote,
    Membership,
    OutboxMessage,
    PulseAnswer,
    PulseComment,
    PulseParticipant,
    PulseRound,
    Team,
    TeamManager,
    Walk,
    new_public_id,
)

NOW = datetime(2026, 12, 14, 8, 0, tzinfo=UTC)  # Monday 09:00 in Paris
WEEK = Week.of(NOW.date())  # 2026-W51
SINCE = NOW - timedelta(days=7)
BOSS = "UBOSS0001"
REPORTER = "UREPORT01"


def days_ago(days: float, *, at: datetime = NOW) -> datetime:
    return at - timedelta(days=days)


def make_team(
    session: Session,
    name: str = "Atelier de Lyon",
    *,
    members: int = 8,
    managers: Sequence[str] = (BOSS,),
    timezone: str = "Europe/Paris",
    workspace: str = "T0DIGEST1",
) -> Team:
    """A team of `members` people besides its managers (who are in its channel too)."""
    found = queries.get_or_create_workspace(session, slack_team_id=workspace)
    tag = new_public_id()[:6].upper()
    team = Team(
        workspace_id=found.id,
        name=name,
        channel_id=f"C{tag}",
        timezone=timezone,
        locale="en",
    )
    people = [f"U{tag}{i:03d}" for i in range(members)]
    team.memberships = [Membership(user_id=u) for u in [*people, *managers]]
    team.managers = [TeamManager(user_id=u) for u in managers]
    session.add(team)
    session.flush()
    return team


def irritant(
    session: Session,
    team: Team,
    *,
    reported: datetime,
    category: str = "noise",
    space: str = "employee",
    description: str = "The generator hums all day",
    location: str = "",
    anonymous: bool = False,
    shown: datetime | None = None,
    status: str = "new",
    acknowledged: datetime | None = None,
    resolved: datetime | None = None,
    note: str | None = None,
    votes_shown: int = 0,
    live_votes: int = 0,
    for_admins: bool | None = None,
) -> Irritant:
    """A report made at `reported`. A named one is shown to the managers at once; an
    anonymous one is kept to the day and shown at `shown` (its roundup), or not yet."""
    row = Irritant(
        workspace_id=team.workspace_id,
        team_id=team.id,
        category=category,
        space=space,
        location=location,
        severity="annoying",
        description=description,
        anonymous=anonymous,
        reporter_id=None if anonymous else REPORTER,
        reporter_hash="h" * 64 if anonymous else None,
        reporter_nonce="n" * 32 if anonymous else None,
        status=status,
        created_at=day_of(reported, team.timezone) if anonymous else reported,
        updated_at=reported,
        rounded_up_at=shown if anonymous else reported,
        acknowledged_at=acknowledged,
        resolved_at=resolved,
        resolution_note=note,
        votes_shown=votes_shown,
        for_admins=for_admins,
    )
    session.add(row)
    session.flush()
    for i in range(live_votes):
        session.add(IrritantVote(irritant_id=row.id, voter_hash=f"{i:064d}"))
    return row


def pulse_round(
    session: Session,
    team: Team,
    *,
    period: date,
    answers: dict[str, list[int]],
    comments: Sequence[str] = (),
    sent: int | None = None,
    managers_asked: Sequence[str] = (),
    closes_at: datetime | None = None,
) -> PulseRound:
    """A closed round: person i answered value i of each question's list; `sent` survey DMs
    delivered (one per person answering by default); `managers_asked`: readers asked too."""
    closes = closes_at or datetime.combine(period + timedelta(days=5), datetime.min.time(), UTC)
    round_ = PulseRound(
        team_id=team.id,
        period=period,
        questions=list(answers),
        state="closed",
        opens_at=closes - timedelta(days=5),
        closes_at=closes,
    )
    session.add(round_)
    session.flush()
    people = max((len(values) for values in answers.values()), default=0)
    for question, values in answers.items():
        for i, value in enumerate(values):
            session.add(
                PulseAnswer(round_id=round_.id, question=question, respondent=f"r{i}", value=value)
            )
    for i, text in enumerate(comments):
        session.add(PulseComment(round_id=round_.id, respondent=f"c{i}", text=text))
    asked = [f"P{round_.id}-{i}" for i in range(sent if sent is not None else people)]
    for user_id in [*asked, *managers_asked]:
        session.add(PulseParticipant(round_id=round_.id, user_id=user_id, week="x"))
        session.add(
            OutboxMessage(
                workspace_id=team.workspace_id,
                key=f"pulse:{round_.id}:{new_public_id()}",
                kind="pulse",
                timezone="UTC",
                payload={},
                state="sent",
                not_before=round_.opens_at,
            )
        )
    session.flush()
    return round_


def walk(
    session: Session,
    team: Team,
    *,
    quarter: str = "2026-Q4",
    done: datetime | None = None,
    scores: dict[str, Any] | None = None,
) -> Walk:
    row = Walk(
        team_id=team.id,
        quarter=quarter,
        due_at=datetime(2026, 10, 1, 7, 30, tzinfo=UTC),
        done_at=done,
        declared=done is not None and scores is None,
        scores=scores,
    )
    session.add(row)
    session.flush()
    return row


def customer_nps(session: Session, team: Team, *, month: str, nps: int, responses: int) -> None:
    session.add(
        CustomerNps(team_id=team.id, month=month, nps=nps, responses=responses, recorded_at=NOW)
    )
    session.flush()


def texts(payload: dict[str, Any]) -> str:
    """Every text of a payload, as one string (to look for what it says)."""
    return json.dumps(payload, ensure_ascii=False)


def block(payload: dict[str, Any], block_id: str) -> dict[str, Any] | None:
    return next((b for b in payload["blocks"] if b.get("block_id") == block_id), None)


def block_text(payload: dict[str, Any], block_id: str) -> str:
    found = block(payload, block_id)
    assert found is not None, (
        f"no block {block_id}: {[b.get('block_id') for b in payload['blocks']]}"
    )
    parts = [found.get("text", {}).get("text", "")]
    parts += [f["text"] for f in found.get("fields", [])]
    parts += [e.get("text", "") for e in found.get("elements", []) if isinstance(e, dict)]
    return "\n".join(part for part in parts if part)
