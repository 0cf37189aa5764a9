"""``SlackSim``: the fake Slack Web API, served over HTTP from a simulated workspace.

It answers the Web API methods Symmetry uses (``auth.test``, ``users.*``, ``conversations.*``,
``chat.*``, ``views.*``) from ``_Workspace``, and the external file upload flow
(``files.getUploadURLExternal``, the upload URL, ``files.completeUploadExternal``) from
``_Files``; it keeps the messages posted and answers ``conversations.history`` from
``_History``, within the scopes granted to the bot token (``scopes``); it records every call
(the upload URL's as ``upload_url``), and can script failures (HTTP errors, rate limits,
random faults) and latency. Point a real ``slack_sdk.WebClient``
at it with ``WebClient(token=sim.bot_token, base_url=sim.url)``.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
import ssl
import threading
import time
import urllib.parse
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.demo.slack.files import SimFile, _Files
from bot.demo.slack.history import _History
from bot.demo.slack.httpd import _Server
from bot.demo.slack.workspace import SLACKBOT_ID, Call, SimChannel, SimUser, _Reply, _Workspace

# --------------------------------------------------------------------------- failures


@dataclass(frozen=True)
class _Failure:
    """A scripted failure, queued by ``fail_next`` or produced by rate limits and chaos."""

    status: int = 500
    retry_after: int | None = None
    error: str | None = None

    def reply(self) -> _Reply:
        """Build the HTTP answer for this failure."""
        if self.error is not None:
            return _Reply(200, {"ok": False, "error": self.error})
        headers = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        code = "ratelimited" if self.status == 429 else "internal_error"
        return _Reply(self.status, {"ok": False, "error": code}, headers)


@dataclass
class _Bucket:
    """A token bucket refilled at ``rate`` tokens per second up to ``capacity``."""

    rate: float
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float) -> int | None:
        """Consume a token; return None on success or the Retry-After seconds when empty."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - self.tokens) / self.rate))


@dataclass
class _Window:
    """A sliding window: at most ``limit`` calls in any ``span`` seconds. A refused call is not
    counted; Retry-After is the whole seconds until the oldest counted call leaves."""

    limit: int
    span: float
    times: deque[float]

    def take(self, now: float) -> int | None:
        """Count a call; return None when it passes or the Retry-After seconds when refused."""
        while self.times and self.times[0] <= now - self.span:
            self.times.popleft()
        if len(self.times) < self.limit:
            self.times.append(now)
            return None
        return max(1, math.ceil(self.times[0] + self.span - now))


@dataclass
class _Chaos:
    """Random failures injected into a fraction of the calls to one method."""

    ratio: float
    status: int
    rng: random.Random


# --------------------------------------------------------------------------- simulator


class SlackSim:
    """A fake Slack workspace served over HTTP; see the module docstring."""

    def __init__(
        self,
        *,
        team_id: str = "T0SYMMETRY",
        team_name: str = "Symmetry Demo",
        bot_token: str = "xoxb-sim-token",
        bot_user_id: str = "U0BOT",
        app_id: str = "A0SYMMETRY",
        delay: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._ws = _Workspace(
            team_id=team_id,
            team_name=team_name,
            bot_token=bot_token,
            bot_user_id=bot_user_id,
            app_id=app_id,
        )
        self._made_with_token = bot_token
        self._files = _Files(self._ws, lambda: self._base)
        self._ws.methods.update(self._files.methods)
        self._history = _History(self._ws)
        self._ws.methods.update(self._history.methods)
        self.delay = delay
        self._host = host
        self._port = port
        self._tls = tls  # a server context: served over HTTPS, as Slack
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._buckets: dict[str, _Bucket | _Window] = {}
        self._chaos: dict[str, _Chaos] = {}
        self._slow: dict[str, float] = {}
        self._seq = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.add_user(SimUser(bot_user_id, "symmetry", "Symmetry", is_bot=True))
        self.add_user(SimUser(SLACKBOT_ID, "slackbot", "Slackbot"))

    # ----- lifecycle

    def start(self) -> SlackSim:
        """Start serving in a background daemon thread (no-op when already running)."""
        if self._server is None:
            self._server = _Server((self._host, self._port), self)
            if self._tls is not None:
                # The handshake in each connection's thread (on its first read), not in the
                # accepting one, which a client that never starts TLS would hold up.
                self._server.socket = self._tls.wrap_socket(
                    self._server.socket, server_side=True, do_handshake_on_connect=False
                )
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="slacksim",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (no-op when not running)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()  # clients' kept-alive ones too: Slack is gone
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> SlackSim:
        """Start the simulator for a ``with`` block."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop the simulator at the end of a ``with`` block."""
        self.stop()

    @property
    def _base(self) -> str:
        """Root URL of the running server."""
        if self._server is None:
            raise RuntimeError("SlackSim is not started; call start() first")
        host, port = self._server.server_address[:2]
        host = "127.0.0.1" if host in ("0.0.0.0", "") else str(host)
        return f"{'https' if self._tls else 'http'}://{host}:{port}"

    @property
    def url(self) -> str:
        """Base URL for ``WebClient(base_url=...)``, with a trailing slash."""
        return f"{self._base}/api/"

    @property
    def connections(self) -> int:
        """How many connections clients have opened to the running server (a kept-alive one
        counts once, however many calls it carries)."""
        if self._server is None:
            raise RuntimeError("SlackSim is not started; call start() first")
        return self._server.accepted

    def drop_connections(self) -> None:
        """Close every connection clients hold open (as a server does with idle ones); the
        server goes on accepting new ones."""
        if self._server is not None:
            self._server.close_connections()

    def response_url(self, key: str) -> str:
        """Return a response_url whose POSTs are recorded as ``response_url`` calls."""
        return f"{self._base}/response/{urllib.parse.quote(key, safe='')}"

    # ----- identity

    @property
    def team_id(self) -> str:
        """The workspace id."""
        return self._ws.team_id

    @property
    def team_name(self) -> str:
        """The workspace name."""
        return self._ws.team_name

    @property
    def team_domain(self) -> str:
        """The workspace subdomain derived from its name."""
        return self._ws.domain

    @property
    def bot_token(self) -> str:
        """The only bot token the Web API accepts."""
        return self._ws.bot_token

    def grant_install(
        self, *, team_id: str, team_name: str, bot_token: str, accepted: bool = True
    ) -> None:
        """Make the next OAuth install (``oauth.v2.access``) one of another workspace, whose
        bot token is ``bot_token``. The Web API accepts that token too (answering from this
        workspace's people and channels) unless ``accepted`` is False: every call with it then
        answers ``invalid_auth``, as Slack does for a token it does not honour."""
        with self._cond:
            self._ws.grants.append((team_id, team_name, bot_token))
            if accepted:
                self._ws.other_tokens.add(bot_token)
            else:
                self._ws.other_tokens.discard(bot_token)

    def refuse_token(self, bot_token: str) -> None:
        """Answer ``invalid_auth`` to every call with ``bot_token`` from now on."""
        with self._cond:
            self._ws.other_tokens.discard(bot_token)

    def reset_installs(self) -> None:
        """Forget the other workspaces' installs: only ``bot_token`` is accepted again."""
        with self._cond:
            self._ws.grants.clear()
            self._ws.other_tokens.clear()

    @property
    def bot_user_id(self) -> str:
        """The bot's user id."""
        return self._ws.bot_user_id

    @property
    def enterprise_id(self) -> str | None:
        """The Enterprise Grid organisation the workspace belongs to (None: not in one)."""
        return self._ws.enterprise_id

    @property
    def enterprise_name(self) -> str | None:
        """The organisation's name (None: not in one)."""
        return self._ws.enterprise_name

    @property
    def is_enterprise_install(self) -> bool:
        """Whether the app is installed for the whole organisation (org-wide)."""
        return self._ws.is_enterprise_install

    def install_as(
        self,
        kind: str = "workspace",
        *,
        enterprise_id: str = "E0SYMGRID",
        enterprise_name: str = "Symmetry Group",
        bot_token: str | None = None,
    ) -> None:
        """How the app is installed, which shapes ``oauth.v2.access``, ``auth.test``,
        ``users.info`` and the payloads ``SlackClientSim`` sends: ``"workspace"`` (a plain
        workspace, the default), ``"grid"`` (one workspace of an Enterprise Grid organisation)
        or ``"org"`` (org-wide: the whole organisation). ``bot_token`` is the installation's,
        the only token the Web API accepts (default: the one the simulator was made with)."""
        if kind not in ("workspace", "grid", "org"):
            raise ValueError(f"unknown installation kind: {kind!r}")
        with self._cond:
            grid = kind != "workspace"
            self._ws.enterprise_id = enterprise_id if grid else None
            self._ws.enterprise_name = enterprise_name if grid else None
            self._ws.is_enterprise_install = kind == "org"
            self._ws.bot_token = bot_token or self._made_with_token
            self._ws.refresh_token = None
            self._ws.token_expiry.clear()

    def rotate_tokens(self, *, expires_in: float) -> str:
        """Turn token rotation on: the bot token expires in ``expires_in`` seconds (already
        expired when negative; then Slack answers ``token_expired``) and
        ``oauth.v2.access`` with ``grant_type=refresh_token`` and the refresh token returned
        here gives a new one. ``install_as`` turns it off again."""
        with self._cond:
            self._ws.refresh_token = "xoxe-1-sim-refresh-0"
            self._ws.token_expiry[self._ws.bot_token] = time.time() + expires_in
            return self._ws.refresh_token

    @property
    def app_id(self) -> str:
        """The app id used in payloads."""
        return self._ws.app_id

    # ----- workspace content

    @property
    def users(self) -> dict[str, SimUser]:
        """Users by id (includes the bot and USLACKBOT)."""
        return self._ws.users

    @property
    def channels(self) -> dict[str, SimChannel]:
        """Channels by id."""
        return self._ws.channels

    @property
    def trigger_ttl(self) -> float:
        """Seconds a trigger id issued by ``issue_trigger`` stays valid (default 3)."""
        return self._ws.trigger_ttl

    @trigger_ttl.setter
    def trigger_ttl(self, value: float) -> None:
        self._ws.trigger_ttl = value

    @property
    def scopes(self) -> set[str] | None:
        """The scopes the bot token was granted; None (the default) grants every scope. A
        method needing one not granted (``conversations.history`` in a DM needs
        ``im:history``, ``conversations.open`` needs ``im:write``) answers ``missing_scope``."""
        return self._history.scopes

    @scopes.setter
    def scopes(self, value: set[str] | None) -> None:
        with self._cond:
            self._history.scopes = None if value is None else set(value)

    def history(self, channel_id: str) -> list[dict[str, Any]]:
        """The messages kept in a conversation (a DM is ``D`` + user id), oldest first."""
        with self._cond:
            return copy.deepcopy(self._history.messages.get(channel_id, []))

    def clear_history(self) -> None:
        """Forget the messages kept in every conversation."""
        with self._cond:
            self._history.messages.clear()

    def add_user(self, user: SimUser) -> SimUser:
        """Add or replace a user."""
        with self._cond:
            self._ws.users[user.id] = user
        return user

    def add_channel(self, channel: SimChannel) -> SimChannel:
        """Add or replace a channel."""
        with self._cond:
            self._ws.channels[channel.id] = channel
        return channel

    def join(self, channel_id: str, user_id: str) -> None:
        """Add ``user_id`` to a channel's members (KeyError for an unknown channel)."""
        with self._cond:
            members = self._ws.channels[channel_id].members
            if user_id not in members:
                members.append(user_id)

    def leave(self, channel_id: str, user_id: str) -> None:
        """Remove ``user_id`` from a channel's members (KeyError for an unknown channel)."""
        with self._cond:
            members = self._ws.channels[channel_id].members
            if user_id in members:
                members.remove(user_id)

    def _next_ts(self) -> str:
        """A unique message timestamp (see ``_Workspace.next_ts``)."""
        with self._cond:
            return self._ws.next_ts()

    def issue_trigger(self) -> str:
        """Return a new trigger id, valid once and for ``trigger_ttl`` seconds."""
        trigger = f"trig-{next(self._seq)}"
        with self._cond:
            self._ws.triggers[trigger] = time.monotonic()
        return trigger

    def view(self, view_id: str) -> dict[str, Any] | None:
        """Return the latest content of a view opened, pushed, updated or published."""
        with self._cond:
            view = self._ws.views.get(view_id)
            return copy.deepcopy(view) if view is not None else None

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """Return a posted message as it now stands (after any ``chat.update``)."""
        with self._cond:
            message = self._ws.messages.get((channel, ts))
            return copy.deepcopy(message) if message is not None else None

    def home(self, user_id: str) -> dict[str, Any] | None:
        """Return the App Home last published for ``user_id``."""
        with self._cond:
            view_id = self._ws.homes.get(user_id)
            return self.view(view_id) if view_id else None

    def _find_view(self, view: dict[str, Any]) -> dict[str, Any] | None:
        """Find the stored view an app-sent view dict most likely corresponds to."""
        with self._cond:
            if view.get("external_id") and view["external_id"] in self._ws.external_ids:
                return self.view(self._ws.external_ids[view["external_id"]])
            for stored in reversed(list(self._ws.views.values())):
                if stored.get("callback_id") == view.get("callback_id", "") and stored.get(
                    "private_metadata"
                ) == view.get("private_metadata", ""):
                    return copy.deepcopy(stored)
        return None

    # ----- recorded traffic

    @property
    def calls(self) -> list[Call]:
        """A copy of every recorded call, in order."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls (successful or not) to ``method``."""
        with self._cond:
            return [c for c in self._calls if c.method == method]

    def clear_calls(self) -> None:
        """Forget the recorded calls."""
        with self._cond:
            self._calls.clear()

    def wait_for(
        self,
        method: str,
        *,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until ``count`` calls to ``method`` (matching ``where``) were recorded.

        Returns every matching call recorded so far; raises TimeoutError otherwise.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matched = [
                    c for c in self._calls if c.method == method and (where is None or where(c))
                ]
                remaining = deadline - time.monotonic()
                if len(matched) >= count:
                    return matched
                if remaining <= 0:
                    seen = Counter(c.method for c in self._calls)
                    summary = ", ".join(f"{m} x{n}" for m, n in seen.items()) or "none"
                    predicate = " matching `where`" if where is not None else ""
                    raise TimeoutError(
                        f"timed out after {timeout:g}s waiting for {count} call(s) to "
                        f"{method!r}{predicate}; got {len(matched)}. Calls seen: {summary}"
                    )
                self._cond.wait(remaining)

    def messages_to(self, channel_or_user: str) -> list[Call]:
        """Successful postMessage/postEphemeral calls addressed to a channel or user.

        A user id also matches messages sent to its DM (``D`` + user id) and ephemeral
        messages whose ``user`` is that id.
        """
        targets = {channel_or_user, "D" + channel_or_user}
        with self._cond:
            return [
                c
                for c in self._calls
                if not c.failed
                and c.method in ("chat.postMessage", "chat.postEphemeral")
                and (
                    c.params.get("channel") in targets
                    or (
                        c.method == "chat.postEphemeral" and c.params.get("user") == channel_or_user
                    )
                )
            ]

    @property
    def files(self) -> list[SimFile]:
        """Every file completed through the external upload flow, in order."""
        with self._cond:
            return list(self._files.shared)

    def files_in(self, channel_or_user: str) -> list[SimFile]:
        """The files shared in a conversation; a user id also matches their DM (``D`` + id)."""
        targets = {channel_or_user, "D" + channel_or_user}
        return [f for f in self.files if f.channel in targets]

    def clear_files(self) -> None:
        """Forget the files shared and the uploads under way."""
        with self._cond:
            self._files.clear()

    # ----- failure scripting

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        retry_after: int | None = None,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (``upload_url`` for the POST of a
        file's bytes to its upload URL).

        With ``error`` the answer is HTTP 200 ``{"ok": false, "error": error}``; otherwise it is
        HTTP ``status`` (``ratelimited`` for 429, ``internal_error`` else), with a Retry-After
        header when ``retry_after`` is set.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if error is None and not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error code (400-599)")
        with self._cond:
            queue = self._failures.setdefault(method, deque())
            queue.extend([_Failure(status, retry_after, error)] * times)

    def rate_limit(self, method: str, per_second: float | None, *, shape: str = "bucket") -> None:
        """Answer 429 (with Retry-After) to calls beyond ``per_second``; None lifts the limit.

        ``shape="bucket"``: a token bucket of ``per_second`` tokens, full at first (a burst
        of that many passes), refilled continuously. ``shape="window"``: a sliding one-second
        window, as Slack does it: no more than ``per_second`` calls in any second, the
        Retry-After rounded up to whole seconds. Calls that fail otherwise (a 500) count."""
        with self._cond:
            if per_second is None:
                self._buckets.pop(method, None)
                return
            if per_second <= 0:
                raise ValueError("per_second must be positive")
            if shape == "window":
                limit = max(1, math.floor(per_second))
                self._buckets[method] = _Window(limit, 1.0, deque())
            elif shape == "bucket":
                capacity = max(1.0, float(per_second))
                self._buckets[method] = _Bucket(per_second, capacity, capacity, time.monotonic())
            else:
                raise ValueError("shape must be 'bucket' or 'window'")

    def fail_ratio(self, method: str, ratio: float, status: int = 500, seed: int = 0) -> None:
        """Fail a deterministic pseudo-random fraction of calls to ``method``; 0 disables."""
        if not 0.0 <= ratio <= 1.0:
            raise ValueError("ratio must be between 0 and 1")
        with self._cond:
            if ratio == 0.0:
                self._chaos.pop(method, None)
            else:
                self._chaos[method] = _Chaos(ratio, status, random.Random(seed))

    def slow(self, method: str, seconds: float | None) -> None:
        """Answer calls to ``method`` after ``seconds`` instead of ``delay``; None undoes it."""
        with self._cond:
            if seconds is None:
                self._slow.pop(method, None)
            else:
                self._slow[method] = seconds

    def _scripted_failure(self, method: str) -> _Reply | None:
        """Return the failure reply due for this call, if any (lock held)."""
        queue = self._failures.get(method)
        if queue:
            return queue.popleft().reply()
        bucket = self._buckets.get(method)
        if bucket is not None:
            wait = bucket.take(time.monotonic())
            if wait is not None:
                return _Failure(429, wait).reply()
        chaos = self._chaos.get(method)
        if chaos is not None and chaos.rng.random() < chaos.ratio:
            return _Failure(chaos.status, 1 if chaos.status == 429 else None).reply()
        return None

    def _auth_error(self, method: str, token: str | None) -> _Reply | None:
        """Return the auth failure for this call, if any."""
        if not token and method != "oauth.v2.access":
            error = "not_authed"
        elif method == "apps.connections.open":
            error = None if token.startswith("xapp-") else "invalid_auth"
        elif method == "oauth.v2.access":
            error = None  # authenticated by client ID and secret, not a token
        else:
            error = self._ws.token_error(token)
        return None if error is None else _Reply(200, {"ok": False, "error": error})

    def _serve(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        *,
        api: bool = True,
        body: bytes = b"",
    ) -> _Reply:
        """Answer one request: auth, scripted failures, delay, method, then record it.
        Outside the Web API (``api=False``) come ``response_url`` posts and ``upload_url``
        posts, whose raw ``body`` is a file's bytes."""
        at = time.time()
        with self._cond:
            reply = self._auth_error(method, token) if api else None
            if reply is None:
                reply = self._scripted_failure(method)
            delay = self._slow.get(method, self.delay)
        if delay > 0:
            time.sleep(delay)
        with self._cond:
            if reply is None:
                if api:
                    reply = self._ws.call(method, params)
                elif method == "upload_url":
                    reply = self._files.receive(params["_key"], body)
                else:
                    reply = _Reply(200, "ok")
            self._calls.append(Call(method, params, token, at, failed=not reply.ok))
            self._cond.notify_all()
        return reply
