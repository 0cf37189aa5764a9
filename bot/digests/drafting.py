"""A manager's digest ready to send: its message and, when there is one, its chart (the clock
queues them together; `/symmetry digest` posts them at once, as a preview)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.digests import chart, compose
from bot.digests.weeks import Week
from bot.shared.i18n import translate
from bot.shared.policy import Policy
from bot.shared.sending import with_file
from storage.models import Team

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chart:
    filename: str
    title: str
    content: bytes


@dataclass(frozen=True)
class Draft:
    message: dict[str, Any]
    chart: Chart | None

    def queued(self) -> dict[str, Any]:
        """The outbox payload: the message, with the chart to upload after it."""
        if self.chart is None:
            return self.message
        return with_file(
            self.message,
            filename=self.chart.filename,
            title=self.chart.title,
            content=self.chart.content,
        )


def manager_draft(
    session: Session,
    policy: Policy,
    *,
    team: Team,
    manager_id: str,
    week: Week,
    locale: str,
    now: datetime,
    since: datetime | None,
) -> Draft:
    """What `manager_id` reads about `team` for `week`, as of `now`, covering from `since`."""
    digest = compose.manager_digest(
        session,
        policy,
        team=team,
        manager_id=manager_id,
        week=week,
        locale=locale,
        now=now,
        since=since,
    )
    return Draft(compose.message(digest), _chart(session, policy, team, week, locale, now))


def _chart(
    session: Session, policy: Policy, team: Team, week: Week, locale: str, now: datetime
) -> Chart | None:
    """The team's 12 weeks drawn, or None: nothing to draw, or drawing failed (logged; the
    digest goes without it). Read in a savepoint: a failed query rolls back only that, where
    PostgreSQL would otherwise refuse the digest's own statements in the aborted transaction."""
    try:
        with session.begin_nested():
            series = chart.weekly_series(session, policy, team=team, week=week, now=now)
        content = chart.png(series, locale)
    except Exception:  # a chart is an extra: its failure must never hold the digest back
        log.exception("digest chart of team %s for %s failed", team.id, week.label)
        return None
    if not content:
        return None
    title = translate(locale, "The last 12 weeks — %(team)s", team=team.name)
    return Chart(f"digest-{week.label}.png", title, content)
