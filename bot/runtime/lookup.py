"""Finding a message in doubt in Slack before sending it again: exactly once across crashes.

Every chat.postMessage carries Slack message metadata (`marker`) naming its outbox message.
The deliverer records `attempting` (with `attempted_at`) before the call; a message still in
that state when its worker died may have been posted or not. Before it is sent again,
`look_up` reads the conversation from a little before `attempted_at`
(`conversations.history` with `include_all_metadata`) and, when our marker is there, gives
Slack's `ts` and channel so the message is recorded as sent without being posted twice.

What it reads, and why:
- a DM (the recipient is a person): its D… id comes from an earlier message sent to them, else
  from `conversations.open` (scope `im:write`); reading it takes `im:history`, the bot's own
  DMs only. When Slack refuses (`missing_scope`, `not_allowed_token_type`…), the workspace is
  marked (`workspaces.history_unreadable_at`), `symmetry outbox status` says delivery is
  at-least-once there, and the message is sent again; the mark goes at the next look-up
  Slack allows.
- a channel (C…, G…): not read. It would take `channels:history`/`groups:history`, which let
  the bot read every conversation of every channel it is in: too much for a tool whose
  promise is to listen only to what people choose to tell it. A channel post in doubt (the
  weekly team post of the digests) is sent again: at-least-once, a rare second copy of a
  public summary, against reading a whole channel.

The marker of a message to an anonymous person (`payload["scrub_recipient"]`) is not its key:
keys such as `irritant:41:event:7` name a report, and metadata is readable by any app or
export that can read the DM, so the key would tie the reporter to their report. It carries a
random reference instead, kept in the payload until the message is settled, when the payload
is scrubbed (storage.outbox): after that nothing links the DM to the report, not even for
someone holding both the database and the secret key. A digest of the key would not do: keys
are few and guessable, so a plain hash is reversed by trying them, and a keyed one is reversed
by anyone holding the key.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from storage import outbox
from storage.db import session_scope
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

EVENT_TYPE = "symmetry_outbox"
REFERENCE = "outbox_ref"  # payload entry: an anonymous message's random marker
MARGIN = timedelta(seconds=60)  # our clock and Slack's may differ a little
PAGE = 200
PAGES = 5  # a DM with the bot rarely holds a thousand messages within minutes of a crash
# Slack will not let this token read the conversation back: delivery there is at-least-once.
REFUSED = frozenset(
    {
        "missing_scope",
        "not_allowed_token_type",
        "no_permission",
        "access_denied",
        "ekm_access_denied",
    }
)


class Unavailable(Exception):
    """Slack did not answer the look-up (429, 5xx, connection): try the message later."""

    def __init__(self, error: str, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after


def slack_time() -> datetime:
    """The wall clock, for `attempted_at`: it is compared with Slack's message timestamps,
    so it is Slack's time, not the injected `now` of the program (`tick --now`)."""
    return datetime.now(UTC)


def with_reference(message: OutboxMessage) -> dict[str, Any] | None:
    """The payload to store before a first attempt when the message needs a reference it
    does not have yet (a message to an anonymous person); None when nothing changes."""
    payload = message.payload
    if not payload.get("scrub_recipient") or payload.get(REFERENCE):
        return None
    return {**payload, REFERENCE: secrets.token_hex(16)}


def marker(message: OutboxMessage) -> dict[str, Any]:
    """The `metadata` a chat.postMessage carries: the outbox key, or an anonymous message's
    random reference (see the module docstring)."""
    if message.payload.get("scrub_recipient"):
        return {"event_type": EVENT_TYPE, "event_payload": {"ref": message.payload[REFERENCE]}}
    return {"event_type": EVENT_TYPE, "event_payload": {"key": message.key}}


def look_up(
    client: WebClient,
    sessions: sessionmaker[Session],
    message: OutboxMessage,
    recipient: str,
    *,
    now: datetime,
) -> tuple[str, str] | None:
    """Slack's (ts, channel) for `message` when it is already in its conversation; None when
    it is not, or cannot be known (then it is sent again). Raises `Unavailable` when Slack did
    not answer."""
    if recipient[:1] not in ("U", "W", "D") or message.attempted_at is None:
        return None  # a channel post: at-least-once (see the module docstring)
    if REFERENCE not in message.payload and message.payload.get("scrub_recipient"):
        return None  # never attempted with a marker
    wanted = marker(message)
    try:
        channel = (
            recipient if recipient.startswith("D") else _dm(client, sessions, message, recipient)
        )
        found = _search(client, channel, wanted, since=message.attempted_at - MARGIN)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
        if error in REFUSED:
            log.warning(
                "workspace %s: Slack refused to read the bot's DMs back (%s): a message in "
                "doubt is sent again (at-least-once)",
                message.workspace_id,
                error,
            )
            with session_scope(sessions) as session:
                outbox.set_history_unreadable(session, workspace_id=message.workspace_id, at=now)
            return None
        status = exc.response.status_code
        if status == 429 or status >= 500 or error in ("ratelimited", "internal_error"):
            retry_after = exc.response.headers.get("Retry-After") if status == 429 else None
            raise Unavailable(error, float(retry_after) if retry_after else None) from None
        return None  # the person or DM is gone: sending will say so
    except OSError as exc:  # urllib's errors included
        raise Unavailable(type(exc).__name__) from None
    with session_scope(sessions) as session:
        outbox.set_history_unreadable(session, workspace_id=message.workspace_id, at=None)
    return found


def _dm(
    client: WebClient, sessions: sessionmaker[Session], message: OutboxMessage, person: str
) -> str:
    """The DM's id: Slack's answer to an earlier message to the same person, else
    `conversations.open` (it opens nothing new: the DM exists if the message was posted)."""
    with session_scope(sessions) as session:
        known = outbox.known_dm(session, workspace_id=message.workspace_id, recipient=person)
    if known:
        return known
    opened = client.conversations_open(users=person)
    return str(opened["channel"]["id"])


def _search(
    client: WebClient, channel: str, wanted: dict[str, Any], *, since: datetime
) -> tuple[str, str] | None:
    cursor = None
    for _ in range(PAGES):
        page = client.conversations_history(
            channel=channel,
            oldest=f"{since.timestamp():.6f}",
            include_all_metadata=True,
            limit=PAGE,
            cursor=cursor,
        )
        for posted in page.get("messages") or []:
            metadata = posted.get("metadata") or {}
            if (metadata.get("event_type"), metadata.get("event_payload")) == (
                wanted["event_type"],
                wanted["event_payload"],
            ):
                return str(posted["ts"]), channel
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    return None
