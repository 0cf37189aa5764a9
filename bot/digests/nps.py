"""Customer NPS per team and month: what the company measures for its customers, recorded by
admins and managers (`/symmetry nps`, `symmetry nps import FILE.csv`) and shown in the digest
beside the team's eNPS. One figure per team and month; recording a month again replaces it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.shared.inputs import number
from bot.shared.worktime import zone
from storage.models import CustomerNps, Team

LOWEST, HIGHEST = -100, 100
_MONTH = re.compile(r"\d{4}-\d{2}")


@dataclass(frozen=True)
class Figures:
    """A team's customer NPS for a month ("2026-11"), from `responses` answers."""

    month: str
    nps: int
    responses: int


def this_month(now: datetime, timezone: str) -> str:
    """The month ("2026-12") it is at `now` in `timezone`."""
    return now.astimezone(zone(timezone)).strftime("%Y-%m")


def month_start(month: str) -> date | None:
    """The first day of a month written "YYYY-MM", or None for anything else."""
    if not _MONTH.fullmatch(month):
        return None
    year, number_ = int(month[:4]), int(month[5:])
    return date(year, number_, 1) if 1 <= number_ <= 12 and year >= 1 else None


def months_before(month: str, count: int) -> list[str]:
    """`month` and the `count` months before it, newest first."""
    start = month_start(month)
    if start is None:
        raise ValueError(f"not a month: {month!r}")
    index = start.year * 12 + start.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index, index - count - 1, -1)]


def check(
    *, month: object, nps: object, responses: object, timezone: str, now: datetime
) -> tuple[Figures | None, dict[str, str]]:
    """Figures as typed (text), checked: (the figures, {}) or (None, {field: problem}), where a
    problem is "missing", "format" (not a month, not a whole number), "future" (a month that
    has not begun in `timezone`) or "range" (an NPS outside -100..100, fewer than 1 response)."""
    problems: dict[str, str] = {}
    texts = {"month": month, "nps": nps, "responses": responses}
    given = {k: v.strip() if isinstance(v, str) else "" for k, v in texts.items()}
    for field, text in given.items():
        if not text:
            problems[field] = "missing"
    if "month" not in problems:
        if month_start(given["month"]) is None:
            problems["month"] = "format"
        elif given["month"] > this_month(now, timezone):
            problems["month"] = "future"
    score = number(given["nps"], signed=True)
    if "nps" not in problems:
        if score is None:
            problems["nps"] = "format"
        elif not LOWEST <= score <= HIGHEST:
            problems["nps"] = "range"
    count = number(given["responses"])
    if "responses" not in problems:
        if count is None:
            problems["responses"] = "format"
        elif count < 1:
            problems["responses"] = "range"
    if problems or score is None or count is None:
        return None, problems
    return Figures(given["month"], score, count), {}


def record(
    session: Session,
    *,
    team: Team,
    month: str,
    nps: int,
    responses: int,
    by: str | None,
    now: datetime,
) -> Figures | None:
    """Store a team's customer NPS for `month` (by a person's user ID; None for the command
    line), replacing what that month had; returns the figures it replaced, if any. The caller
    commits, and has checked the figures (`check`): out of range is a programming error."""
    if month_start(month) is None or not LOWEST <= nps <= HIGHEST or responses < 1:
        raise ValueError(f"customer NPS out of range: {month!r}, {nps}, {responses}")
    earlier = session.scalars(
        select(CustomerNps).where(CustomerNps.team_id == team.id, CustomerNps.month == month)
    ).one_or_none()
    replaced = Figures(month, earlier.nps, earlier.responses) if earlier else None
    values = {"nps": nps, "responses": responses, "recorded_by": by, "recorded_at": now}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # One statement: two people recording the same month at once both succeed, the last wins.
    session.execute(
        insert(CustomerNps)
        .values(team_id=team.id, month=month, **values)
        .on_conflict_do_update(index_elements=["team_id", "month"], set_=values)
    )
    if earlier is not None:
        session.expire(earlier)
    return replaced


def latest(session: Session, *, team_id: int, on_or_before_month: str) -> CustomerNps | None:
    """The newest customer NPS of a team for `on_or_before_month` ("2026-11") or earlier."""
    return session.scalars(
        select(CustomerNps)
        .where(CustomerNps.team_id == team_id, CustomerNps.month <= on_or_before_month)
        .order_by(CustomerNps.month.desc())
        .limit(1)
    ).first()
