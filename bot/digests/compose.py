"""A weekly digest's content: built from the database for one team, one reader and one ISO
week, then rendered (Block Kit from templates, or plain text).

The schedule, `/symmetry digest`, `symmetry digest preview`, the demo and bench/digest.py
call only `manager_digest`, `message`, `as_text`, `admins_message` and `said_did_message`.

A digest reads a bounded window of the team's history (the period, the four weeks before it
for the service levels, 90 days for the eNPS and the symmetry mirror), whatever its length.
The sections live in irritant_figures, pulse_figures, next_step and admins; the wording in
bot/templates/digest*.json.j2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.digests import admins, plain
from bot.digests.irritant_figures import (
    LONG_WAIT,
    IrritantFigures,
    IrritantLine,
    irritant_figures,
    shown_at,
)
from bot.digests.next_step import NextStep, choose
from bot.digests.pulse_figures import PulseFigures, pulse_figures
from bot.digests.weeks import Week
from bot.irritants.catalog import labels
from bot.irritants.ownership import visible_to_managers
from bot.shared.blocks import render
from bot.shared.policy import Policy
from bot.shared.worktime import zone
from bot.teams import sizes
from bot.walks.overview import QuarterStatus, quarter_of, status
from storage import digest_figures as store
from storage import walks as walk_store
from storage.models import Team

FIRST_PERIOD = timedelta(days=7)  # what the first digest covers
# A longer gap (digests turned off for months) is cut to its last four weeks: a digest stays
# a week's reading, and its queries stay bounded.
LONGEST_PERIOD = timedelta(weeks=4)
SAID_DID_SHOWN = 10  # reports listed in a "you said, we did" post


@dataclass(frozen=True)
class CustomerScore:
    """The customer NPS recorded for the team's company, for one month."""

    month: str  # "2026-11"
    nps: int
    responses: int

    @property
    def first_day(self) -> date:
        year, month = self.month.split("-")
        return date(int(year), int(month), 1)


@dataclass
class Digest:
    """What one manager reads about one team for one week. A section is None (or empty)
    when it has nothing to say, and the message leaves it out."""

    team: Team
    week: Week
    locale: str
    since: datetime  # the period covered: since the last digest (7 days for the first)
    until: datetime
    manager_id: str = ""
    irritants: IrritantFigures | None = None
    pulse: PulseFigures | None = None
    customer: CustomerScore | None = None
    walk: QuarterStatus | None = None
    next_step: NextStep | None = None


def manager_digest(
    session: Session,
    policy: Policy,
    *,
    team: Team,
    manager_id: str,
    week: Week,
    locale: str,
    now: datetime,
    since: datetime | None = None,
) -> Digest:
    """The digest `manager_id` reads about `team` for `week`, as of `now`; `since` is where
    the last digest's period ended (None for the first: the 7 days before `now`)."""
    start = max(since or now - FIRST_PERIOD, now - LONGEST_PERIOD)
    figures = irritant_figures(session, policy, team=team, since=start, until=now)
    pulse = pulse_figures(session, policy, team=team, since=start, until=now, locale=locale)
    walk = _walk(session, team=team, now=now)
    return Digest(
        team=team,
        week=week,
        locale=locale,
        since=start,
        until=now,
        manager_id=manager_id,
        irritants=None if figures.empty else figures,
        pulse=pulse,
        customer=_customer(session, team=team, now=now),
        walk=walk,
        next_step=choose(figures, walk),
    )


def _walk(session: Session, *, team: Team, now: datetime) -> QuarterStatus:
    """The quarter's walk: done (with its largest gap), due or overdue."""
    quarter = quarter_of(team, now)
    walk = walk_store.of_quarter(session, team_id=team.id, quarter=quarter.label)
    return status(team, walk, now=now)


def _customer(session: Session, *, team: Team, now: datetime) -> CustomerScore | None:
    """The latest customer NPS recorded for the team, up to the current month."""
    month = now.astimezone(zone(team.timezone)).strftime("%Y-%m")
    found = store.latest_customer_nps(session, team_id=team.id, month=month)
    return CustomerScore(found.month, found.nps, found.responses) if found else None


def message(digest: Digest) -> dict[str, Any]:
    """The Block Kit message: {"text": ..., "blocks": [...]}, within Slack's limits."""
    return render("digest", digest.locale, digest=digest, **labels())


def as_text(digest: Digest) -> str:
    """A readable plain-text version (`symmetry digest preview --format text`, the demo),
    read from the message's blocks so that the two never disagree."""
    return plain.text_of(message(digest))


def admins_message(
    session: Session, policy: Policy, *, workspace_id: int, week: Week, locale: str, now: datetime
) -> dict[str, Any] | None:
    """The admins' digest for a workspace: one line per team; None when it has no team."""
    lines = admins.team_lines(session, policy, workspace_id=workspace_id, now=now)
    if not lines:
        return None
    shown = lines[: admins.LINES_SHOWN]
    return render(
        "digest_admins",
        locale,
        week=week,
        lines=shown,
        more=len(lines) - len(shown),
        total=admins.Total.of(lines),
        per_section=admins.PER_SECTION,
        threshold=policy.anonymity_threshold,
        long_wait=LONG_WAIT.days,
    )


def said_did_message(
    session: Session, policy: Policy, *, team: Team, since: datetime, until: datetime, locale: str
) -> dict[str, Any] | None:
    """ "You said, we did" for the team's channel: the irritants resolved in the period, no
    reporter named; None when none was. Only what the team's managers may see is listed: an
    anonymous report once a roundup has shown it, never one that went to the admins."""
    size = sizes.counted_size(session, team, now=until)
    threshold = policy.anonymity_threshold
    resolved = [
        i
        for i in store.resolved_between(session, team_ids=[team.id], since=since, until=until)
        if visible_to_managers(i, team_size=size, threshold=threshold)
    ]
    if not resolved:
        return None
    lines = [
        IrritantLine.of(i, start=shown_at(i) or i.resolved_at, end=i.resolved_at)
        for i in resolved[:SAID_DID_SHOWN]
    ]
    return render(
        "digest_said_did",
        locale,
        team=team,
        irritants=lines,
        total=len(resolved),
        more=len(resolved) - len(lines),
        **labels(),
    )
