"""A weekly digest's content: built from the database for one team, one reader and one ISO
week, then rendered (Block Kit from templates, or plain text).

INTERFACE (groundwork): the schedule, `/symmetry digest`, `symmetry digest preview`, the demo
and bench/digest.py call only `manager_digest`, `message`, `as_text`, `admins_message` and
`said_did_message`. The sections are filled in by the content work of issue 12.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.digests.weeks import Week
from bot.shared.blocks import render
from bot.shared.policy import Policy
from storage.models import Team

FIRST_PERIOD = timedelta(days=7)  # what the first digest covers


@dataclass
class Digest:
    """What one manager reads about one team for one week."""

    team: Team
    week: Week
    locale: str
    since: datetime  # the period covered: since the last digest (7 days for the first)
    until: datetime


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
    return Digest(team=team, week=week, locale=locale, since=since or now - FIRST_PERIOD, until=now)


def message(digest: Digest) -> dict[str, Any]:
    """The Block Kit message: {"text": ..., "blocks": [...]}, within Slack's limits."""
    return render("digest", digest.locale, digest=digest)


def as_text(digest: Digest) -> str:
    """A readable plain-text version (`symmetry digest preview --format text`, the demo)."""
    payload = message(digest)
    return payload["blocks"][0]["text"]["text"]


def admins_message(
    session: Session, policy: Policy, *, workspace_id: int, week: Week, locale: str, now: datetime
) -> dict[str, Any] | None:
    """The admins' digest for a workspace: one line per team; None when it has no team."""
    return None


def said_did_message(
    session: Session, policy: Policy, *, team: Team, since: datetime, until: datetime, locale: str
) -> dict[str, Any] | None:
    """ "You said, we did" for the team's channel: the irritants resolved in the period, no
    reporter named; None when none was."""
    return None
