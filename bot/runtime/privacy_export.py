"""The JSON of `symmetry export person`: the rows that name a person (storage/personal.py),
each described in words a person can read, with names of teams rather than row IDs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.runtime.exports import irritant_row
from storage.models import Irritant, PulseRound, Team, Walk

NOT_EXPORTED = [
    {
        "what": "anonymous reports",
        "why": "they hold no user ID, only a keyed hash; listing them here would tell whoever "
        "runs this export who wrote them. The person sees them in the bot's App Home.",
    },
    {
        "what": "pulse survey answers and comments",
        "why": "they hold no user ID; once a survey closes they are written again under random "
        "pseudonyms that no key leads back to anyone, so nothing ties them to this person.",
    },
    {
        "what": '"me too" votes on their own anonymous reports',
        "why": "listing them would show which anonymous reports are theirs.",
    },
]


def _at(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def describe(
    session: Session, person: Any, rows: dict[str, list[Any]], votes: list[Any]
) -> dict[str, Any]:
    """What is held, by kind (the keys are stable: tests and operators read them)."""
    team_ids = {w.id: w.slack_team_id for w in person.workspaces}
    teams = {t.id: t for t in session.scalars(select(Team).where(Team.workspace_id.in_(team_ids)))}
    team = lambda team_id: teams[team_id].name if team_id in teams else None  # noqa: E731
    walk = lambda walk_id: session.get(Walk, walk_id)  # noqa: E731
    irritant = lambda irritant_id: session.get(Irritant, irritant_id)  # noqa: E731
    return {
        "profile": [
            {
                "workspace": team_ids[u.workspace_id],
                "real_name": u.real_name,
                "timezone": u.timezone,
                "locale": u.locale,
                "is_admin": u.is_admin,
                "deleted": u.deleted,
                "fetched_at": _at(u.fetched_at),
            }
            for u in rows["profile"]
        ],
        "memberships": [
            {"team": team(m.team_id), "joined_at": _at(m.joined_at)} for m in rows["memberships"]
        ],
        "manager_of": [
            {"team": team(m.team_id), "since": _at(m.created_at)} for m in rows["manager_roles"]
        ],
        "named_reports": [
            {
                **irritant_row(i),
                "history": [
                    {
                        "action": e.action,
                        "status": e.status,
                        "by": e.actor_role,
                        "at": _at(e.created_at),
                    }
                    for e in i.events
                ],
            }
            for i in rows["named_reports"]
        ],
        "report_actions": [
            {
                "irritant": irritant(e.irritant_id).public_id,
                "action": e.action,
                "status": e.status,
                "note": e.note,
                "eta": _at(e.eta),
                "at": _at(e.created_at),
            }
            for e in rows["report_history"]
        ],
        "me_too_votes": [{"irritant": irritant(v.irritant_id).public_id} for v in votes],
        "survey_rounds": [
            {
                "team": team(session.get(PulseRound, p.round_id).team_id),
                "week": p.week,
                "skipped": p.skipped,
            }
            for p in rows["survey_rounds"]
        ],
        "survey_pauses": [{"until": _at(p.until)} for p in rows["survey_pauses"]],
        "walks": [
            {
                "team": team(w.team_id),
                "quarter": w.quarter,
                "done_by_them": w.manager_id == person.user_id,
                "done_at": _at(w.done_at),
                "draft_saved_at": _at(w.draft_saved_at) if w.draft_by == person.user_id else None,
            }
            for w in rows["walks"]
        ],
        "walk_reminders": [
            {"quarter": walk(p.walk_id).quarter, "prompted_at": _at(p.prompted_at)}
            for p in rows["walk_prompts"]
        ],
        "walk_notes": [
            {
                "quarter": walk(n.walk_id).quarter,
                "sense": n.sense,
                "space": n.space,
                "text": n.text,
                "at": _at(n.created_at),
            }
            for n in rows["walk_notes"]
        ],
        "walk_invitations": [
            {
                "quarter": walk(i.walk_id).quarter,
                "invited": i.user_id == person.user_id,
                "invited_at": _at(i.invited_at),
                "submitted_at": _at(i.submitted_at),
            }
            for i in rows["walk_invites"]
        ],
        "expeditions": [
            {
                "place": e.place,
                "visited_on": _at(e.visited_on),
                "surprised": e.surprised,
                "borrow": e.borrow,
            }
            for e in rows["expeditions"]
        ],
        "digest_preferences": [
            {"workspace": team_ids[p.workspace_id], "enabled": p.enabled, "weekday": p.weekday}
            for p in rows["digest_preferences"]
        ],
        "digests_received": [
            {"kind": d.kind, "week": d.week, "team": team(d.team_id) if d.team_id else None}
            for d in rows["digests"]
        ],
        "deliveries": [
            {
                "kind": m.kind,
                "state": m.state,
                "queued_at": _at(m.created_at),
                "sent_at": _at(m.sent_at),
            }
            for m in rows["deliveries"]
        ],
        "customer_nps_recorded": [
            {"team": team(n.team_id), "month": n.month} for n in rows["customer_nps"]
        ],
    }
