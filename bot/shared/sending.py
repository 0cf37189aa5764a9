"""Queueing a message for a person's working hours: the one way the domain says something on
its own initiative (welcomes, surveys, reminders, roundups, follow-ups, and next walks and
digests). The message becomes an outbox row; the deliverer sends it when it is due."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.shared.worktime import is_timezone, next_opening, zone
from storage import outbox


@dataclass(frozen=True)
class Recipient:
    """Who a message is for and the zones that decide when it may reach them. `user_id` is
    None for an anonymous reporter, found only at the moment of sending."""

    workspace_id: int
    user_id: str | None
    timezone: str | None = None  # the person's own, as Slack gives it
    team_timezone: str | None = None
    holidays: str | None = None  # the team's public holidays ("FR", "US-NY"), kept like weekends


def timezone_for(person: str | None, team: str | None, default: str) -> ZoneInfo:
    """The zone a person's messages follow: their own, else their team's, else the default."""
    for candidate in (person, team, default):
        if candidate and is_timezone(candidate):
            return zone(candidate)
    return zone(None)


def queue(
    session: Session,
    *,
    to: Recipient,
    key: str,
    kind: str,
    payload: dict[str, Any],
    earliest: datetime,
    default_timezone: str,
    latest: datetime | None = None,
) -> bool:
    """Queue `payload` for `to`, at `earliest` or the next opening of their working hours
    after it (their team's public holidays skipped); nothing when that falls at or after
    `latest`, and a row still unsent at `latest` is never sent (it expires). The key makes it
    idempotent: True only when a row was queued now."""
    tz = timezone_for(to.timezone, to.team_timezone, default_timezone)
    at = next_opening(earliest, tz, to.holidays)
    if latest is not None and at >= latest:
        return False
    return outbox.enqueue(
        session,
        workspace_id=to.workspace_id,
        key=key,
        kind=kind,
        recipient=to.user_id,
        payload=payload,
        timezone=tz.key,
        holidays=to.holidays,
        not_before=at,
        expires_at=latest,
    )


@dataclass(frozen=True)
class Queued:
    """One message of `queue_many`: for whom, under which key, saying what."""

    to: Recipient
    key: str
    payload: dict[str, Any]


def queue_many(
    session: Session,
    messages: list[Queued],
    *,
    kind: str,
    earliest: datetime,
    default_timezone: str,
) -> int:
    """`queue` for many messages of one kind in a few statements (a fan-out of welcomes);
    return how many were queued now."""
    rows = []
    for message in messages:
        to = message.to
        tz = timezone_for(to.timezone, to.team_timezone, default_timezone)
        rows.append(
            {
                "workspace_id": to.workspace_id,
                "key": message.key,
                "kind": kind,
                "recipient": to.user_id,
                "payload": message.payload,
                "timezone": tz.key,
                "holidays": to.holidays,
                "not_before": next_opening(earliest, tz, to.holidays),
            }
        )
    return outbox.enqueue_many(session, rows)


def with_file(
    payload: dict[str, Any], *, filename: str, title: str, content: bytes
) -> dict[str, Any]:
    """`payload` with a file to upload into the same conversation once the message is sent
    (the digest's chart). The deliverer uploads it after the message; a failed upload never
    holds the message back."""
    return {
        **payload,
        "upload": {
            "filename": filename,
            "title": title,
            "content": base64.b64encode(content).decode("ascii"),
        },
    }


def file_of(payload: dict[str, Any]) -> tuple[str, str, bytes] | None:
    """The file `with_file` attached to `payload`, as (filename, title, content)."""
    upload = payload.get("upload")
    if not isinstance(upload, dict):
        return None
    return upload["filename"], upload["title"], base64.b64decode(upload["content"])
