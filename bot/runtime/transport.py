"""Web API calls over kept-alive connections.

slack_sdk's `WebClient` opens a connection for every call (urllib's `urlopen`) and closes it
after the answer: to Slack, a TCP and a TLS handshake per message sent, per modal opened. A
`KeptAliveClient` is the same client whose calls take an idle connection to the same address
when there is one, and give it back after a complete answer. Everything else (arguments,
retries, rate-limit handling, errors) stays slack_sdk's: only the step that sends one request
and reads its answer is replaced, and it answers as urllib does for slack_sdk (a dict for a
2xx, an `HTTPError` for the rest, redirects not followed: Slack's Web API sends none; a
`URLError` when the request could not be sent; what failed afterwards, a timeout waiting for
the answer say, as it is, so that slack_sdk's connection handler does not send it again).

A connection is never shared by two calls at once, nor between clients of different TLS
contexts, and none is reused once its answer said `Connection: close`, once the server closed
it (checked before reuse), once a call on it failed, or after `MAX_IDLE` seconds unused. A
failed call is not sent again here: slack_sdk's retry handlers decide that, as for a fresh
connection (the outbox asks for no retries and looks a message in doubt up instead,
bot/runtime/delivery.py). A server may still close an idle connection just as a call takes
it: that call fails as a dropped connection does. A client with a proxy goes through
slack_sdk's own path.
"""

from __future__ import annotations

import collections
import http.client
import io
import logging
import os
import select
import ssl
import threading
import time
import urllib.parse
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

from slack_sdk import WebClient

MAX_IDLE = 15.0  # seconds: under the idle timeout of common load balancers (60 s) and servers
IDLE_PER_ADDRESS = 256  # the listener pool's size: one idle connection per thread that calls

# Scheme, host, port, and the client's TLS context (None: the default one): a connection
# opened without checking certificates is never lent to a client that checks them.
Address = tuple[str, str, int, ssl.SSLContext | None]


class Connections:
    """Idle connections by address, shared by every client of the process.

    Taken most recent first (the likeliest to be alive); the oldest are closed once unused
    for `max_idle` seconds, and past `per_address` idle ones. After a fork, the child forgets
    what the parent had open: a socket two processes write to mixes their requests.
    """

    def __init__(
        self,
        *,
        max_idle: float = MAX_IDLE,
        per_address: int = IDLE_PER_ADDRESS,
        clock: Any = time.monotonic,
    ) -> None:
        self.max_idle = max_idle
        self.per_address = per_address
        self._clock = clock
        self._lock = threading.Lock()
        self._idle: dict[Address, collections.deque[tuple[http.client.HTTPConnection, float]]] = {}

    def take(self, address: Address, *, timeout: float) -> http.client.HTTPConnection:
        """An idle connection to `address` still open, or a new one (connected on first use)."""
        now = self._clock()
        while True:
            with self._lock:
                idle = self._idle.get(address)
                if not idle:
                    break
                conn, since = idle.pop()
            if now - since <= self.max_idle and not _closed_by_peer(conn):
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
                conn.timeout = timeout
                return conn
            conn.close()
        scheme, host, port, context = address
        if scheme == "https":  # without a context, the one urllib would make
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def give_back(self, address: Address, conn: http.client.HTTPConnection) -> None:
        """Keep `conn` for the next call to `address`, closing what has been idle too long."""
        now = self._clock()
        closing = []
        with self._lock:
            idle = self._idle.setdefault(address, collections.deque())
            idle.append((conn, now))
            while idle and (len(idle) > self.per_address or now - idle[0][1] > self.max_idle):
                closing.append(idle.popleft()[0])
        for old in closing:
            old.close()

    def clear(self) -> None:
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for queue in idle.values():
            for conn, _ in queue:
                conn.close()

    def forget(self) -> None:
        """In a forked child: drop the parent's connections without touching their sockets'
        state (closing a copy of a descriptor leaves the parent's open)."""
        self._lock = threading.Lock()
        self.clear()


def _closed_by_peer(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle connection can no longer carry a request: its socket is gone, or it is
    readable while no answer is due (the server closed it, or sent what nobody asked for)."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])  # Windows
    except (OSError, ValueError):
        return True


CONNECTIONS = Connections()
os.register_at_fork(after_in_child=CONNECTIONS.forget)


class KeptAliveClient(WebClient):  # type: ignore[misc]
    """slack_sdk's `WebClient`, its calls over `connections` (the process's)."""

    connections = CONNECTIONS

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if self.proxy is not None or scheme not in ("http", "https") or not parts.hostname:
            return super()._perform_urllib_http_request_internal(url, req)
        port = parts.port or (443 if scheme == "https" else 80)
        address = (scheme, parts.hostname, port, self.ssl if scheme == "https" else None)
        conn = self.connections.take(address, timeout=self.timeout)
        try:
            try:
                conn.request(
                    req.get_method(), req.selector, body=req.data, headers=dict(req.header_items())
                )
            except OSError as exc:  # not sent, or not all: a URLError, as urllib says it
                raise URLError(exc) from exc
            # Sent: what fails now is raised as it is, as from urllib (a TimeoutError is not
            # a URLError, which slack_sdk's connection handler would send again).
            resp = conn.getresponse()
            body = resp.read()
        except BaseException:
            conn.close()
            raise
        if resp.will_close:
            conn.close()
        else:
            self.connections.give_back(address, conn)
        headers = resp.headers
        if not 200 <= resp.status < 300:
            # What urllib raises, and what slack_sdk reads a 429's Retry-After or a 5xx from.
            raise HTTPError(url, resp.status, resp.reason, headers, io.BytesIO(body))
        binary = headers.get_content_type() == "application/gzip"  # admin.analytics.getFile
        answer = body if binary else body.decode(headers.get_content_charset() or "utf-8")
        if self._logger.level <= logging.DEBUG:
            self._logger.debug(
                "Received the following response - "
                f"status: {resp.status}, headers: {dict(headers)}, "
                f"body: {'(binary)' if binary else answer}"
            )
        return {"status": resp.status, "headers": headers, "body": answer}
