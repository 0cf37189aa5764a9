"""What every weekly digest's planning shares (a manager's, the admins', the channel's): whose
digest is due from their preference and zone, and queueing a due week's digest once, with the
record of the period it covered."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.digests.timing import Window, due, maybe_due, weekday_of
from bot.shared.policy import Policy
from bot.shared.sending import Recipient, queue, timezone_for
from bot.teams.directory import PROFILE_MAX_AGE, Profile, is_fresh
from storage import digest_records as records
from storage.models import DigestPreference, SlackUser

log = logging.getLogger(__name__)

# The outbox kind of each kind of digest record.
OUTBOX_KINDS = {
    records.MANAGER: "digest",
    records.ADMINS: "digest_admins",
    records.CHANNEL: "digest_channel",
}


@dataclass
class Report:
    managers: int = 0
    admins: int = 0
    channels: int = 0

    def __str__(self) -> str:
        return (
            f"{self.managers} manager digest(s), {self.admins} admins' digest(s) and "
            f"{self.channels} channel post(s) queued"
        )


def windows(
    now: datetime,
    policy: Policy,
    *,
    preference: DigestPreference | None,
    profile: SlackUser | Profile | None,
    team_zone: str | None,
    holidays: str | None,
    existing_since: datetime,
    cached: bool = False,
) -> list[Window]:
    """The weeks whose digest is due for this reader at `now`: none when they turned it off,
    nor one due before what it is about existed (`existing_since`: a team made on Tuesday
    starts with next week's). From a `cached` profile that is stale or missing, the zone is
    not trusted: the weeks due anywhere, whatever `existing_since` (the directory is then
    asked, and the exact answer given)."""
    if preference is not None and not preference.enabled:
        return []
    weekday = weekday_of(preference.weekday if preference else None)
    if cached and not is_fresh(profile, now=now, max_age=PROFILE_MAX_AGE):
        return maybe_due(now, weekday=weekday, holidays=holidays)
    tz = timezone_for(profile.timezone if profile else None, team_zone, policy.default_timezone)
    found = due(now, weekday=weekday, tz=tz, holidays=holidays)
    return [w for w in found if w.opens >= existing_since]


def not_recorded(
    session: Session,
    *,
    workspace_id: int,
    team_id: int | None,
    kind: str,
    waiting: dict[str, list[Window]],
) -> dict[str, list[Window]]:
    """Those of `waiting` whose digest of a due week is not queued yet, with those weeks."""
    done = records.recorded_weeks(
        session,
        workspace_id=workspace_id,
        kind=kind,
        recipients=waiting,
        weeks={w.week.label for found in waiting.values() for w in found},
        team_id=team_id,
    )
    left = {
        person: [w for w in found if (person, w.week.label) not in done]
        for person, found in waiting.items()
    }
    return {person: found for person, found in left.items() if found}


def queue_due(
    session: Session,
    policy: Policy,
    *,
    to: Recipient,
    team_id: int | None,
    kind: str,
    found: list[Window],
    key: Callable[[Window], str],
    content: Callable[[Window, datetime | None], dict[str, Any] | None],
    now: datetime,
) -> int:
    """Queue the digests of the weeks in `found` not queued yet for `to.user_id` (a person,
    or a channel); how many were queued. `content` makes one from the week and where the
    last one ended (None before the first); None when there is nothing to say, which is
    recorded all the same (nothing queued), so that it is not computed again every minute
    and the next one starts where it ended."""
    assert to.user_id is not None  # a digest's reader is always known
    waiting = not_recorded(
        session,
        workspace_id=to.workspace_id,
        team_id=team_id,
        kind=kind,
        waiting={to.user_id: found},
    )
    queued = 0
    for planned in waiting.get(to.user_id, []):
        since = records.last_covered(
            session, workspace_id=to.workspace_id, kind=kind, recipient=to.user_id, team_id=team_id
        )
        payload = content(planned, since)
        if payload is not None and not queue(
            session,
            to=to,
            key=key(planned),
            kind=OUTBOX_KINDS[kind],
            payload=payload,
            earliest=now,
            default_timezone=policy.default_timezone,
            latest=planned.closes,
        ):
            continue  # queued by another clock a moment ago
        records.record(
            session,
            workspace_id=to.workspace_id,
            team_id=team_id,
            kind=kind,
            recipient=to.user_id,
            week=planned.week.label,
            covers_until=now,
        )
        queued += payload is not None
    return queued
