"""`symmetry export`: the data in the contract's shapes, with the Slack views' anonymity rules."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.runtime.config import Settings
from storage import irritants as store
from storage import pulse as pulse_store
from storage import queries
from storage import walks as walk_store
from storage.models import Irritant

IRRITANT_FIELDS = (
    "id",
    "team",
    "category",
    "space",
    "location",
    "severity",
    "description",
    "anonymous",
    "reporter",
    "status",
    "votes",
    "created_at",
    "acknowledged_at",
    "resolved_at",
    "eta",
    "resolution_note",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def irritant_row(irritant: Irritant) -> dict[str, Any]:
    """One irritant as exported: never the reporter of an anonymous report."""
    return {
        "id": irritant.public_id,
        "team": irritant.team.name,
        "category": irritant.category,
        "space": irritant.space,
        "location": irritant.location,
        "severity": irritant.severity,
        "description": irritant.description,
        "anonymous": irritant.anonymous,
        "reporter": None if irritant.anonymous else irritant.reporter_id,
        "status": irritant.status,
        "votes": irritant.votes_shown,
        "created_at": _iso(irritant.created_at),
        "acknowledged_at": _iso(irritant.acknowledged_at),
        "resolved_at": _iso(irritant.resolved_at),
        "eta": irritant.eta.isoformat() if irritant.eta else None,
        "resolution_note": irritant.resolution_note,
    }


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell: booleans as true/false, nested values as JSON, None empty; a text that a
    spreadsheet would run as a formula (anyone can type one in a report) starts with a quote."""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def irritants(session: Session, *, workspace_id: int | None, team_id: int | None) -> list[dict]:
    return [
        irritant_row(i) for i in store.all_of(session, workspace_id=workspace_id, team_id=team_id)
    ]


def write(rows: Sequence[dict[str, Any]], fields: Sequence[str], *, fmt: str) -> str:
    """Rows as a JSON array, or as CSV with a header (booleans as true/false, None empty)."""
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return buffer.getvalue()


def pulses(
    session: Session, settings: Settings, *, workspace_id: int | None, team_id: int | None
) -> list[dict]:
    """One object per closed survey round, with the anonymity rules applied."""
    from bot.pulse.results import round_result

    rows: list[dict] = []
    for team in queries.list_teams(session, workspace_id=workspace_id):
        if team_id is not None and team.id != team_id:
            continue
        previous = None
        for round_ in pulse_store.rounds_of(session, team_id=team.id):
            if round_.state != "closed":
                continue  # like the Home tab: results once the round is closed
            result = round_result(
                session,
                settings.anonymity_threshold,
                round_,
                locale=settings.default_locale,
                previous=previous,
            )
            previous = result
            rows.append(
                {
                    "team": team.name,
                    "opened_at": _iso(round_.opens_at),
                    "closes_at": _iso(round_.closes_at),
                    "sent": result.sent,
                    "responded": result.responded,
                    "participation": result.participation,
                    "suppressed": result.suppressed,
                    "questions": [
                        {
                            "key": q.key,
                            "text": q.text,
                            "responses": q.responses,
                            "mean": q.mean,
                            **({"enps": q.enps} if q.key == "enps" else {}),
                        }
                        for q in result.questions
                    ],
                }
            )
    return rows


PULSE_FIELDS = (
    "team",
    "opened_at",
    "closes_at",
    "sent",
    "responded",
    "participation",
    "suppressed",
    "questions",
)


WALK_FIELDS = (
    "team",
    "quarter",
    "manager",
    "due_at",
    "done_at",
    "scores",
    "gap",
    "findings",
    "expeditions",
)


def walks(session: Session, *, workspace_id: int | None, team_id: int | None) -> list[dict]:
    """One object per team and quarter's walk (done or not): who did it, its ratings and
    gaps sense by sense, the irritants its findings became, its learning expeditions."""
    from bot.walks.results import result, scores_of

    found = walk_store.all_of(session, workspace_id=workspace_id, team_id=team_id)
    findings = walk_store.finding_ids(session, walk_ids=[walk.id for walk in found])
    return [
        {
            "team": walk.team.name,
            "quarter": walk.quarter,
            "manager": walk.manager_id,
            "due_at": _iso(walk.due_at),
            "done_at": _iso(walk.done_at),
            "scores": scores_of(walk),
            "gap": result(walk).gaps,
            "findings": findings.get(walk.id, []),
            "expeditions": [
                {"place": e.place, "date": e.visited_on.isoformat(), "author": e.author_id}
                for e in walk.expeditions
            ],
        }
        for walk in found
    ]
