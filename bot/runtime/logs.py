"""How the processes log: JSON lines when the output is not a terminal (a platform's log
drain), readable text on one; every line with the id of the request (or tick) it belongs to,
and no secret.

The request id lives in a context variable: the web layer sets one per HTTP request
(bot/runtime/server.py), the clock one per tick and the worker one per delivery run. Thread
pools that work for a request (Bolt's listeners, the deliverer's senders) are `ContextPool`s,
which carry it into their threads. Lines outside any request (start, stop) carry `null`.

What no line may hold (secrets, user text, who made an anonymous report) is kept out where
the lines are written: messages name ids and error codes, SQLAlchemy hides statement
parameters (storage/db.py). `Redacting` is the safety net behind that: whatever a line
holds, Slack tokens and the configured secrets are replaced before it is written.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import itertools
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from pythonjsonlogger.json import JsonFormatter

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Slack tokens (bot, user, app-level, rotating and refresh: xoxb-, xoxp-, xapp-, xoxe.xoxb-,
# xoxe-) wherever they appear; the configured secrets are added by `configure`.
TOKEN = re.compile(r"\b(?:xox[a-z.]*|xapp)-[A-Za-z0-9-]+")
REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
JSON_FIELDS = ("asctime", "levelname", "name", "process", "request_id", "message")
QUIET = ("slack_bolt", "slack_sdk", "alembic", "apscheduler.executors.default")
# slack_sdk's clients build their DEBUG lines (the request's whole body, the response's
# headers and body) whenever their own logger's level, not the effective one, is DEBUG or
# unset: on every Web API call, 30-50 us for a modal. Set on these loggers themselves (to
# see those lines, set these two to DEBUG: setting "slack_sdk" alone no longer reaches them).
SLACK_CLIENT_LOGGERS = ("slack_sdk.web.base_client", "slack_sdk.webhook.client")


def new_id(prefix: str = "") -> str:
    """A fresh random id: it says nothing of who or what the request was, nor of the
    requests before it (ids from `random` could be predicted from a few hundred of them, and
    counted a worker's traffic between two of one's own)."""
    return prefix + _IDS.next()


class _Ids:
    """Unpredictable ids without a system call each: a keyed hash (BLAKE2b, 64 bits) of a
    counter, under a key drawn from the system's random source once per process, and again
    in a forked child (gunicorn's workers). Drawing each id from the system (`os.urandom`)
    let go of the GIL on every request, before its ack: under load, the request then waited
    for another thread's turn to end to get it back."""

    def __init__(self) -> None:
        self.rekey()

    def rekey(self) -> None:
        self._keyed = hashlib.blake2b(key=os.urandom(32), digest_size=8)
        self._count = itertools.count()

    def next(self) -> str:
        hashed = self._keyed.copy()
        hashed.update(next(self._count).to_bytes(8, "little"))
        return hashed.hexdigest()


_IDS = _Ids()
os.register_at_fork(after_in_child=_IDS.rekey)


@contextlib.contextmanager
def requesting(prefix: str = "") -> Iterator[str]:
    """Lines logged meanwhile (in this thread, and in `ContextPool`s it submits to) carry a
    fresh request id, or the one already set (a tick within the clock's job keeps the job's)."""
    token = request_id.set(request_id.get() or new_id(prefix))
    try:
        yield request_id.get() or ""
    finally:
        request_id.reset(token)


class ContextPool(ThreadPoolExecutor):
    """A thread pool whose tasks run in the context of the thread that submitted them (a
    plain pool's threads keep their own, so a listener's lines lost their request's id)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


class RequestId(logging.Filter):
    """Puts the current request id on each record (`request_id`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class Redactor:
    """Replaces Slack tokens and the given secrets in a line."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # A secret may stand in a JSON line escaped: both spellings go.
        import json

        known = {s for s in secrets if s}
        known |= {json.dumps(s)[1:-1] for s in known}
        self.secrets = sorted(known, key=len, reverse=True)

    def __call__(self, line: str) -> str:
        line = TOKEN.sub(REDACTED, line)
        for secret in self.secrets:
            if secret in line:
                line = line.replace(secret, REDACTED)
        return line


class Redacting(logging.Formatter):
    """A formatter whose every line goes through a `Redactor` (see `Json` and `Text`)."""

    redact: Redactor = Redactor()
    converter = time.gmtime  # times in UTC, whatever the machine's zone

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class Json(Redacting, JsonFormatter):
    """One JSON object per line: time (UTC, ISO-8601), level, logger, process, request id,
    message, the exception when there is one, and any `extra` fields."""

    def __init__(self) -> None:
        super().__init__(
            JSON_FIELDS,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )


class Text(Redacting):
    """Readable lines for a terminal."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)


def formatter(*, json: bool) -> logging.Formatter:
    return Json() if json else Text()


def wants_json(stream: Any = None) -> bool:
    """JSON unless the output is a terminal."""
    stream = stream if stream is not None else sys.stderr
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):
        return True


def configure(secrets: Iterable[str | None] = (), *, stream: Any = None) -> logging.Handler:
    """Log INFO and up to stderr (JSON or text, see `wants_json`), libraries quieter (Bolt logs
    request bodies at DEBUG); uncaught exceptions and warnings become log lines too. Adds no
    handler when the root logger has one already (tests running a command in-process)."""
    stream = stream if stream is not None else sys.stderr
    Redacting.redact = Redactor(secrets)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(json=wants_json(stream)))
    handler.addFilter(RequestId())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    for noisy in QUIET + SLACK_CLIENT_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if handler in logging.getLogger().handlers:
        logging.captureWarnings(True)
        sys.excepthook = _log_uncaught
        threading.excepthook = lambda args: _log_uncaught(
            args.exc_type, args.exc_value, args.exc_traceback
        )
    return handler


def _log_uncaught(kind: type[BaseException], value: BaseException | None, tb: Any) -> None:
    logging.getLogger("symmetry").critical("uncaught %s", kind.__name__, exc_info=(kind, value, tb))
