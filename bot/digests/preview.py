"""`symmetry digest preview`: a team's manager digest rendered for the command line, sent to
nobody. The reader is the team's first manager, in the team's language; a past week is shown
as it stood on its Monday at 09:00 in the team's time zone, when its digest went out."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.digests import chart, compose
from bot.digests.weeks import Week
from bot.shared.policy import Policy
from bot.shared.worktime import zone
from storage.models import DigestRecord, Team

SENT_AT = time(9, 0)  # a week's digest goes on its Monday at 09:00, team time


class PreviewError(ValueError):
    """The preview cannot be made; the message says why, in one line."""


def when(team: Team, week: str | None, *, now: datetime) -> tuple[Week, datetime]:
    """The week to preview and the instant it is seen from: this week as of `now` when `week`
    is None, else that week as of its Monday 09:00 in the team's zone (a week whose digest is
    not due by `now`, or text that is not an ISO week, is a PreviewError)."""
    tz = zone(team.timezone)
    if week is None:
        return Week.of(now.astimezone(tz).date()), now
    parsed = Week.parse(week)
    if parsed is None:
        raise PreviewError(f"--week: not an ISO week such as 2026-W50: {week!r}")
    sent = datetime.combine(parsed.monday, SENT_AT, tzinfo=tz)
    if sent > now:
        raise PreviewError(
            f"--week: {parsed.label}'s digest is not due until "
            f"{sent:%Y-%m-%d %H:%M} {team.timezone}"
        )
    return parsed, sent


def digest(
    session: Session, policy: Policy, *, team: Team, week: Week, now: datetime
) -> compose.Digest:
    """The digest of `team` for `week` as its first manager reads it at `now`, covering what
    happened since the last digest queued for them before that week (7 days for none)."""
    managers = sorted(team.managers, key=lambda m: m.id)
    if not managers:
        raise PreviewError(f"--team: {team.name!r} has no manager to read its digest")
    reader = managers[0].user_id
    since = session.scalar(
        select(DigestRecord.covers_until)
        .where(
            DigestRecord.team_id == team.id,
            DigestRecord.kind == "manager",
            DigestRecord.recipient == reader,
            DigestRecord.week < week.label,
        )
        .order_by(DigestRecord.week.desc())
        .limit(1)
    )
    return compose.manager_digest(
        session,
        policy,
        team=team,
        manager_id=reader,
        week=week,
        locale=team.locale,
        now=now,
        since=since,
    )


def payload(found: compose.Digest) -> dict[str, Any]:
    """The Block Kit payload, exactly {"blocks": [...], "text": ...}."""
    message = compose.message(found)
    return {"blocks": message["blocks"], "text": message["text"]}


def chart_png(
    session: Session, policy: Policy, *, team: Team, week: Week, now: datetime
) -> bytes | None:
    """The digest's chart as PNG bytes, in the team's language; None with nothing to draw."""
    series = chart.weekly_series(session, policy, team=team, week=week, now=now)
    return chart.png(series, team.locale)
