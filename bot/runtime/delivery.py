"""Delivering the outbox: at the rate Slack allows, retrying what may pass, never twice.

A `Deliverer` claims due messages with a lease and keeps a thread pool fed with them: it
claims more as the pool drains, so a fan-out flows without a pause at each batch's end.
Calls are paced per workspace and method at the rate learned from Slack's 429 answers
(`bot.runtime.pacing`; other workspaces go on); 5xx and connection errors are retried with
exponential backoff and jitter for about an hour, then the message is `failed`; permanent
errors make it `dead` at once.

Exactly once across crashes: a message is committed `attempting` (with `attempted_at`)
before its Slack call, and posted with metadata naming it. A message a dead worker left
`attempting` is in doubt: once its lease runs out, the next worker looks it up in the DM
(`bot.runtime.lookup`) and records it as sent if Slack has it, else sends it. Where Slack
will not let the bot read its DMs back (no `im:history`), delivery is at-least-once.

A message may carry a file (the weekly digest's chart, `bot.shared.sending.with_file`): once
the message is sent, the file is uploaded into the conversation Slack answered, once. A
failed upload, a 429 included (the files methods are rate limited too), is counted and
logged, and changes nothing of the message: the text already says what the chart shows.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import urllib.error
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.runtime import logs, lookup, metrics
from bot.runtime.pacing import Pacer
from bot.shared import tenants
from bot.shared.sending import file_of
from bot.shared.uploads import upload
from bot.shared.worktime import is_working_time, next_opening, zone
from storage import outbox
from storage.db import session_scope
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
T = TypeVar("T")

LEASE = timedelta(minutes=5)
# Seconds before the first retry: a lone 500 should not make a tail (the last welcomes of a
# fan-out at 200/s, failing twice, waited 0.1-0.3 s with 0.1 s).
BACKOFF_BASE = 0.025
BACKOFF_CAP = 600.0  # no wait longer than ten minutes between tries
RETRY_HERE = 1.0  # seconds: a shorter backoff after a 5xx is waited out by the thread
MAX_ATTEMPTS = 20  # 25 ms doubling to 10 min: about an hour of trying in all
# After a call that got no answer, wait at least this long before looking the message up:
# Slack may still be finishing the request that reached it.
UNANSWERED_WAIT = 10.0
PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "user_not_found",
        "users_not_found",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "cannot_dm_bot",
        "user_disabled",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "no_permission",
        "missing_scope",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "restricted_action",
        "workspace_uninstalled",
    }
)
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)


def backoff(attempt: int, rng: random.Random) -> float:
    """Seconds to wait after the `attempt`-th failure: doubling, capped, with jitter."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)) * rng.uniform(0.5, 1.0)


@dataclass
class Report:
    """What one delivery run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    dead: int = 0
    rate_limited: int = 0
    held: int = 0
    expired: int = 0
    uploaded: int = 0  # files that went with their sent message
    upload_failed: int = 0  # files that did not (their message was sent all the same)
    found: int = 0  # in doubt after a crash, found in Slack and recorded as sent, not re-sent
    token_refused: int = 0  # put back to wait: their workspace's token was refused
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Workspaces whose token Slack refused during this run: none of their messages is tried.
    refused: set[int] = field(default_factory=set, repr=False)

    def add(self, outcome: str) -> None:
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)
        metrics.delivered(outcome)

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.retried} to retry, {self.failed} failed, {self.dead} dead, "
            f"{self.rate_limited} rate-limited answers, {self.held} held for working hours, "
            f"{self.expired} expired, {self.uploaded} file(s) uploaded, "
            f"{self.upload_failed} upload(s) failed, {self.found} found already sent"
        ) + (f", {self.token_refused} waiting for a refused token" if self.token_refused else "")


class Deliverer:
    """Sends due outbox messages; several may run at once against PostgreSQL."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client_for: Callable[[int], WebClient | None],
        *,
        now: Callable[[], datetime],
        threads: int = 32,
        worker: str | None = None,
        seed: int | None = None,
        resolve: Callable[[dict], tuple[str, dict] | None] | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.sessions = sessions
        self.client_for = client_for
        self.now = now
        self.threads = threads
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.resolve = resolve
        # A long-running process passes one pacer to every deliverer it makes: the rate it
        # learned outlives a tick.
        self.gate = pacer or Pacer()
        self.rng = random.Random(seed)
        # The two writes of every message (attempting, sent) of all threads are committed
        # together, a batch per transaction: one at a time they were the bottleneck at 200/s
        # (SQLite has one writer; each commit costs a flush and a session).
        self._write = GroupCommit(sessions)
        self._pool = logs.ContextPool(max_workers=threads, thread_name_prefix="deliver")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def run(
        self, *, wait_up_to: timedelta = timedelta(seconds=0), report: Report | None = None
    ) -> Report:
        """Deliver everything due now; also wait for retries due within `wait_up_to`. The
        outcomes are counted in `report` (a new one by default), which is returned.

        Up to twice `threads` messages are claimed at a time; once half of them are done,
        more are claimed, so the pool never waits for a whole batch (a retry that fell due
        meanwhile goes with the next claim). A claimed message waits a few seconds at most
        for its slot, far inside its lease."""
        report = Report() if report is None else report
        running: set[Future[None]] = set()
        while True:
            if len(running) <= self.threads:
                running |= self._claim_more(self.threads * 2 - len(running), report)
            if running:
                done, running = wait_for(running, timeout=0.1, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()  # an unexpected error ends the run, as before
                continue
            with session_scope(self.sessions) as session:
                due = outbox.next_due(session)
            if due is None or due > self.now() + wait_up_to:
                return report
            time.sleep(min(1.0, max(0.0, (due - self.now()).total_seconds())) + 0.01)

    def _claim_more(self, limit: int, report: Report) -> set[Future[None]]:
        """Claim up to `limit` due messages and hand them to the pool."""
        with session_scope(self.sessions) as session:
            batch = outbox.claim(
                session, worker=self.worker, now=self.now(), limit=limit, lease=LEASE
            )
        # Waiting out 429s must end well inside the lease, counted from the claim.
        deadline = time.monotonic() + LEASE.total_seconds() / 2
        return {
            self._pool.submit(self._deliver, message, report=report, deadline=deadline)
            for message in batch
        }

    def _deliver(self, message: OutboxMessage, report: Report, deadline: float) -> None:
        if message.expires_at is not None and self.now() >= message.expires_at:
            # Too late to say (a walk's prompt once its quarter is over): never sent.
            with session_scope(self.sessions) as session:
                outbox.mark_expired(session, message_id=message.id, worker=self.worker)
            report.add("expired")
            return None
        if not message.urgent:
            # Due while nobody ran (a weekend, a holiday, a night): it still waits for working
            # hours.
            tz = zone(message.timezone)
            now = self.now()
            if not is_working_time(now, tz, message.holidays):
                with session_scope(self.sessions) as session:
                    outbox.hold(
                        session,
                        message_id=message.id,
                        worker=self.worker,
                        until=next_opening(now, tz, message.holidays),
                    )
                report.add("held")
                return None
        if message.workspace_id in report.refused:
            return self._wait_for_token(message, report)
        client = self.client_for(message.workspace_id)
        if client is None:
            return self._finish(message, report, outbox.DEAD, "workspace_uninstalled")
        channel, content = message.recipient, _content(message)
        if channel is None:
            # Written at the moment of sending (an anonymous person's follow-up): nothing
            # waiting in the outbox held who it was for.
            found = self.resolve(message.payload) if self.resolve else None
            if found is None:
                return self._finish(message, report, outbox.DEAD, "recipient_gone")
            channel, written = found
            content = {"text": written.get("text", ""), "blocks": written.get("blocks", [])}
        if outbox.in_doubt(message) and _method(message) == POST:
            try:
                posted = lookup.look_up(client, self.sessions, message, channel, now=self.now())
            except lookup.Unavailable as exc:  # still in doubt: looked up again later
                return self._retry(
                    message, report, exc.error, exc.retry_after, count=True, unanswered=True
                )
            if posted is not None:
                return self._sent(client, message, report, *posted, found=True)
        key = (message.workspace_id, _method(message))
        while True:
            # `attempting` is committed before the slot is waited for, not after: the call
            # then goes at its slot, where the pacer counts it, not a write's time later
            # (which varies with the load, and made the calls bunch at Slack's side).
            if not self._attempting(message):
                return None  # the lease ran out while it waited: another worker has it now
            self.gate.wait(key)
            try:
                response = _call(client, message, channel, content)
            except SlackApiError as exc:
                status = exc.response.status_code
                error = str(exc.response.get("error") or f"http_{status}")
                if status == 429 or error == "ratelimited":
                    report.add("rate_limited")
                    retry_after = float(exc.response.headers.get("Retry-After", 1) or 1)
                    self.gate.pause(key, retry_after)
                    if time.monotonic() + retry_after < deadline:
                        continue  # wait at the gate, then try again within this claim
                    return self._retry(message, report, error, retry_after, count=False)
                self.gate.succeeded(key)  # answered, if with an error: the call used its slot
                if status >= 500 or error in TRANSIENT_ERRORS:
                    if self._retry_here(message, report, error, deadline):
                        continue  # its backoff waited out in this thread, still claimed
                    return self._retry(message, report, error, None, count=True)
                return self._finish(message, report, outbox.DEAD, error)
            except (urllib.error.URLError, OSError) as exc:
                # No answer: Slack may have posted it, so it stays in doubt.
                return self._retry(
                    message, report, type(exc).__name__, None, count=True, unanswered=True
                )
            self.gate.succeeded(key)
            return self._sent(client, message, report, response["ts"], response["channel"])

    def _attempting(self, message: OutboxMessage) -> bool:
        """Commit `attempting` before the call (see `outbox.mark_attempting`); False when the
        message is no longer this worker's. A message to an anonymous person gets its random
        reference here, stored before any call carries it."""
        payload = lookup.with_reference(message)
        attempted_at = lookup.slack_time()
        lease_until = self.now() + LEASE
        if payload is None:  # the common case: batched with the other threads' attempts
            mine = self._write.many(
                outbox.mark_attempting_many,
                outbox.Attempt(message.id, self.worker, attempted_at, lease_until),
            )
        else:
            mine = self._write(
                lambda session: outbox.mark_attempting(
                    session,
                    message_id=message.id,
                    worker=self.worker,
                    attempted_at=attempted_at,
                    lease_until=lease_until,
                    payload=payload,
                )
            )
        if mine:
            message.attempted_at = attempted_at
            if payload is not None:
                message.payload = payload
        return mine

    def _sent(
        self,
        client: WebClient,
        message: OutboxMessage,
        report: Report,
        ts: str,
        channel: str,
        *,
        found: bool = False,
    ) -> None:
        """Record Slack's acceptance (`found`: seen in the conversation after a crash), then
        upload the message's file, if any: one in doubt never got there (it follows `sent`)."""
        now, scrub = self.now(), bool(message.payload.get("scrub_recipient"))
        if scrub:
            self._write(
                lambda session: outbox.mark_sent(
                    session,
                    message_id=message.id,
                    worker=self.worker,
                    ts=ts,
                    channel=channel,
                    now=now,
                )
            )
        else:  # batched with the other threads' (nothing to scrub)
            self._write.many(
                outbox.mark_sent_many, outbox.Sent(message.id, self.worker, ts, channel, now)
            )
        report.add("found" if found else "sent")
        return self._upload(client, message, channel, report)

    def _upload(
        self, client: WebClient, message: OutboxMessage, channel: str, report: Report
    ) -> None:
        """Upload the file that goes with a sent message into `channel`, the conversation
        chat.postMessage answered (a DM's D… id: files.completeUploadExternal refuses user
        ids). Tried once, outside the 429 gate: a failed upload never sends the message again.
        A message to an anonymous person carries no file; one put there is left out."""
        attached = file_of(message.payload)
        if attached is None or message.recipient is None or message.payload.get("scrub_recipient"):
            return None
        filename, title, content = attached
        if upload(client, channel=channel, filename=filename, title=title, content=content):
            report.add("uploaded")
        else:
            log.info("message %s: sent without its file", message.id)
            report.add("upload_failed")
        return None

    def _retry_here(
        self, message: OutboxMessage, report: Report, error: str, deadline: float
    ) -> bool:
        """After a 5xx, wait a short backoff (up to `RETRY_HERE`) in this thread and keep the
        message claimed, rather than queue it and wait for a later claim: at the end of a
        fan-out, the last welcomes' retries would otherwise each add a claim's delay. The
        failed attempt is recorded first (Slack answered: not in doubt). False when the retry
        must go through the queue: a longer backoff, the last attempt, outside working hours
        or past its expiry."""
        attempt = message.attempts + 1
        if attempt >= MAX_ATTEMPTS:
            return False
        wait = backoff(attempt, self.rng)
        at = self.now() + timedelta(seconds=wait)
        late = message.expires_at is not None and at >= message.expires_at
        closed = not message.urgent and not is_working_time(
            at, zone(message.timezone), message.holidays
        )
        if wait > RETRY_HERE or time.monotonic() + wait >= deadline or late or closed:
            return False
        kept = _kept_error(message, error)
        mine = self._write(
            lambda session: outbox.mark_failed_try(
                session, message_id=message.id, worker=self.worker, error=kept
            )
        )
        if not mine:
            return False  # no longer this worker's: nothing more to do here
        message.attempts = attempt
        message.attempted_at = None
        report.add("retried")
        time.sleep(wait)
        return True

    def _retry(
        self,
        message: OutboxMessage,
        report: Report,
        error: str,
        delay: float | None,
        *,
        count: bool,
        unanswered: bool = False,
    ) -> None:
        error = _kept_error(message, error)
        attempt = message.attempts + 1
        if count and attempt >= MAX_ATTEMPTS:
            return self._finish(message, report, outbox.FAILED, error)
        wait = delay if delay is not None else backoff(attempt, self.rng)
        if unanswered:
            wait = max(wait, UNANSWERED_WAIT)
        at = self.now() + timedelta(seconds=wait)
        if not message.urgent:
            at = next_opening(at, zone(message.timezone), message.holidays)
        with session_scope(self.sessions) as session:
            outbox.mark_retry(
                session,
                message_id=message.id,
                worker=self.worker,
                error=error,
                at=at,
                count=count,
                unanswered=unanswered,
            )
        log.info("message %s: %s, retry at %s", message.id, error, at.isoformat())
        report.add("retried")
        return None

    def _finish(self, message: OutboxMessage, report: Report, state: str, error: str) -> None:
        if error in tenants.TOKEN_ERRORS and self._token_refused(message, report, error):
            return None
        error = _kept_error(message, error)
        with session_scope(self.sessions) as session:
            outbox.mark_final(
                session, message_id=message.id, worker=self.worker, state=state, error=error
            )
        log.warning("message %s %s: %s", message.id, state, error)
        report.add(state)
        return None

    def _token_refused(self, message: OutboxMessage, report: Report, error: str) -> bool:
        """True when the error was about the workspace's token, not the recipient, and the
        message is taken care of: put back to wait when Slack refused the token (the workspace
        is marked, and planning and delivery leave it until it is installed again:
        bot.shared.tenants), tried again at once when the token had been replaced."""
        workspace_id = message.workspace_id
        refused = (
            error
            if workspace_id in report.refused
            else tenants.confirmed(self.client_for, workspace_id, error)
        )
        if refused is None:
            return False
        if refused == tenants.REPLACED:
            self._retry(message, report, error, 0.0, count=False)
            return True
        if workspace_id not in report.refused:
            report.refused.add(workspace_id)
            tenants.mark_refused(
                self.sessions, workspace_id=workspace_id, error=refused, now=self.now()
            )
        self._wait_for_token(message, report)
        return True

    def _wait_for_token(self, message: OutboxMessage, report: Report) -> None:
        """Put the message back untouched: it is sent once its workspace is installed again."""
        with session_scope(self.sessions) as session:
            outbox.hold(
                session,
                message_id=message.id,
                worker=self.worker,
                until=message.not_before,
                answered=True,  # Slack answered: it did not post it
            )
        report.add("token_refused")
        return None


class GroupCommit:
    """Writes from many threads committed together: `write(fn)` queues `fn(session)` and
    returns its result once the transaction that ran it has committed. One thread commits
    whatever was queued meanwhile in one transaction; should that fail, each write of the
    batch is run again in its own, so one bad write fails alone. The thread starts on
    demand and ends after a second with nothing to write.

    `write.many(fn, item)` queues an item for `fn(session, items)`, which writes all the
    items of a batch queued for the same `fn` in one statement and returns their results in
    order (or None): at 200 messages a second the deliverer's two writes per message were 400
    statements, each with its round trip on PostgreSQL."""

    IDLE = 1.0

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._queued: list[Queued] = []
        self._ready = threading.Condition()
        self._running = False

    def __call__(self, write: Callable[[Session], T]) -> T:
        return self._queue(Queued(write, Future()))

    def many(self, write: Callable[[Session, list[Any]], list[T] | None], item: Any) -> T | None:
        return self._queue(Queued(write, Future(), item))

    def _queue(self, queued: Queued) -> Any:
        with self._ready:
            self._queued.append(queued)
            if not self._running:
                self._running = True
                threading.Thread(target=self._loop, name="group-commit", daemon=True).start()
            self._ready.notify()
        return queued.done.result()

    def _loop(self) -> None:
        while True:
            with self._ready:
                if not self._queued:
                    self._ready.wait(self.IDLE)
                if not self._queued:
                    self._running = False
                    return
                batch, self._queued = self._queued, []
            self._commit(batch)

    def _commit(self, batch: list[Queued]) -> None:
        results: list[Any] = [None] * len(batch)
        together: dict[Callable[..., Any], list[int]] = {}
        try:
            with session_scope(self._sessions) as session:
                for index, (write, _, item) in enumerate(batch):
                    if item is _ALONE:
                        results[index] = write(session)
                    else:
                        together.setdefault(write, []).append(index)
                for write, indexes in together.items():
                    answers = write(session, [batch[index].item for index in indexes])
                    if answers is None:  # a write that answers nothing
                        answers = [None] * len(indexes)
                    for index, answer in zip(indexes, answers, strict=True):
                        results[index] = answer
        except Exception as exc:
            if len(batch) > 1:
                for queued in batch:
                    self._commit([queued])
            else:
                batch[0].done.set_exception(exc)
            return
        for queued, result in zip(batch, results, strict=True):
            queued.done.set_result(result)


_ALONE = object()


class Queued(NamedTuple):
    """A write waiting for `GroupCommit`'s next transaction: `write(session)` when no `item`
    is given, else one item of `write(session, items)`; `done` gets its result."""

    write: Callable[..., Any]
    done: Future[Any]
    item: Any = _ALONE


ANONYMOUS_ERROR = "undelivered"


def _kept_error(message: OutboxMessage, error: str) -> str:
    """The error a message keeps (and the log shows). A message to an anonymous person keeps
    none of Slack's detail: `account_inactive` next to a report's key would tell a dump's
    holder, or `outbox status`, that its reporter left."""
    return ANONYMOUS_ERROR if message.payload.get("scrub_recipient") else error


def _content(message: OutboxMessage) -> dict:
    """The chat.postMessage arguments stored with the message."""
    payload = message.payload
    content = {"text": payload.get("text", "")}
    if payload.get("blocks"):
        content["blocks"] = payload["blocks"]
    return content


POST, UPDATE = "chat.postMessage", "chat.update"


def _method(message: OutboxMessage) -> str:
    """The Web API method that delivers a message: a new message, or an update of one already
    sent (`payload["update"]` holds the `channel` and `ts` it changes)."""
    return UPDATE if message.payload.get("update") else POST


def _call(client: WebClient, message: OutboxMessage, channel: str, content: dict):  # type: ignore[no-untyped-def]
    """Make the Slack call that delivers `message`; chat.update changes the message named by
    `payload["update"]` and is safe to repeat. A new message carries metadata naming it, so
    that it can be found after a crash (`bot.runtime.lookup`)."""
    target = message.payload.get("update")
    if target:
        return client.chat_update(channel=target["channel"], ts=target["ts"], **content)
    return client.chat_postMessage(channel=channel, metadata=lookup.marker(message), **content)
