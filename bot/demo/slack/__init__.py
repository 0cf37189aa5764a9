"""A simulated Slack workspace: a fake Web API server plus a request signer.

``SlackSim`` answers the Slack Web API methods Symmetry uses (``auth.test``, ``users.*``,
``conversations.*``, ``chat.*``, ``views.*``) from an in-memory workspace, records every call,
and can script failures (HTTP errors, rate limits, random faults) and latency.  Point a real
``slack_sdk.WebClient`` at it with ``WebClient(token=sim.bot_token, base_url=sim.url)``.

``SlackClientSim`` plays the Slack platform side: it builds realistic, correctly signed slash
command, interactivity and Events API payloads and POSTs them to the app under test.

The module uses the standard library only (plus ``slack_sdk`` for signatures) and is shared by
the test suite, the ``symmetry demo`` command and the benchmarks.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import email.parser
import email.policy
import hashlib
import itertools
import json
import math
import random
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.signature import SignatureVerifier

__all__ = [
    "Call",
    "Response",
    "SimChannel",
    "SimUser",
    "SlackClientSim",
    "SlackSim",
    "form_values",
    "sign",
]

BOT_ID = "B0BOT"
SLACKBOT_ID = "USLACKBOT"
TRIGGER_TTL = 3.0
_DECODED_KEYS = ("blocks", "view", "attachments")
_MAX_PAGE = 1000


# --------------------------------------------------------------------------- data model


@dataclass
class SimUser:
    """A member of the simulated workspace."""

    id: str
    name: str
    real_name: str
    tz: str = "UTC"
    locale: str = "en-US"
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    is_bot: bool = False
    deleted: bool = False


@dataclass
class SimChannel:
    """A public or private channel of the simulated workspace."""

    id: str
    name: str
    members: list[str]
    is_private: bool = False


@dataclass(frozen=True)
class Call:
    """One request answered by the simulator (recorded when its answer is ready).

    ``params`` merges the query string and the form or JSON body; JSON strings under
    ``blocks``, ``view`` and ``attachments`` are decoded.  ``failed`` is true when the answer
    was not a successful ``{"ok": true}`` (HTTP error, scripted failure or API error).
    """

    method: str
    params: dict[str, Any]
    token: str | None
    at: float
    failed: bool = False


@dataclass
class Response:
    """An HTTP response received by ``SlackClientSim`` from the app under test."""

    status: int
    body: str
    headers: dict[str, str]
    elapsed: float
    response_key: str | None = None  # a command's response_url, as its calls' ``_key``

    def json(self) -> Any:
        """Return the parsed JSON body, or None when the body is empty."""
        return json.loads(self.body) if self.body.strip() else None


class _ApiError(Exception):
    """Raised by a Web API method implementation to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class _Reply:
    """An answer the server is about to send."""

    status: int
    payload: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the answer counts as a success."""
        if self.status != 200:
            return False
        return not isinstance(self.payload, dict) or bool(self.payload.get("ok"))


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
class _Chaos:
    """Random failures injected into a fraction of the calls to one method."""

    ratio: float
    status: int
    rng: random.Random


# --------------------------------------------------------------------------- helpers


def sign(signing_secret: str, body: str | bytes, timestamp: int | None = None) -> dict[str, str]:
    """Return the ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` headers for a body."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature or ""}


def _truthy(value: Any) -> bool:
    """Interpret a Slack boolean argument (``true``/``1``/``True``)."""
    return str(value).strip().lower() in {"1", "true", "yes"}


def _to_int(value: Any, default: int) -> int:
    """Parse an integer argument, falling back to ``default``."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _paginate(items: list[Any], params: dict[str, Any], default_limit: int) -> tuple[list, str]:
    """Slice ``items`` according to the ``cursor``/``limit`` arguments; return page and cursor."""
    limit = _to_int(params.get("limit"), default_limit)
    limit = min(limit if limit > 0 else default_limit, _MAX_PAGE)
    cursor = str(params.get("cursor") or "")
    start = 0
    if cursor:
        try:
            prefix, _, offset = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
            start = int(offset)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _ApiError("invalid_cursor") from exc
        if prefix != "sim" or start < 0:
            raise _ApiError("invalid_cursor")
    end = start + limit
    next_cursor = (
        base64.urlsafe_b64encode(f"sim:{end}".encode()).decode() if end < len(items) else ""
    )
    return items[start:end], next_cursor


def _tz_info(tz: str) -> tuple[int, str]:
    """Return the current UTC offset in seconds and a label for an IANA time zone."""
    try:
        now = datetime.now(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return 0, "UTC"
    offset = now.utcoffset()
    return (int(offset.total_seconds()) if offset else 0), now.tzname() or tz


def _form(text: str) -> dict[str, Any]:
    """Parse a urlencoded string; repeated keys become lists."""
    parsed = urllib.parse.parse_qs(text, keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in parsed.items()}


def _multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """Parse a multipart/form-data body; file parts are summarised as name and size."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    params: dict[str, Any] = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename:
            params[str(name)] = {"filename": filename, "size": len(data)}
        elif name:
            params[str(name)] = data.decode("utf-8", "replace")
    return params


def _parse_params(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """Merge query string and body arguments, decoding JSON-encoded block/view arguments."""
    params = _form(query)
    kind = content_type.split(";", 1)[0].strip().lower()
    if body:
        if kind == "application/json":
            try:
                data = json.loads(body)
            except ValueError:
                data = {"_raw": body.decode("utf-8", "replace")}
            params.update(data if isinstance(data, dict) else {"_body": data})
        elif kind == "multipart/form-data":
            params.update(_multipart(body, content_type))
        else:
            params.update(_form(body.decode("utf-8", "replace")))
    for key in _DECODED_KEYS:
        value = params.get(key)
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


# --------------------------------------------------------------------------- workspace


class _Workspace:
    """The in-memory workspace and the Web API methods; always called with the sim lock held."""

    def __init__(
        self, *, team_id: str, team_name: str, bot_token: str, bot_user_id: str, app_id: str
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.domain = re.sub(r"[^a-z0-9]+", "-", team_name.lower()).strip("-") or "workspace"
        self.bot_token = bot_token
        self.bot_user_id = bot_user_id
        self.app_id = app_id
        self.users: dict[str, SimUser] = {}
        self.channels: dict[str, SimChannel] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.external_ids: dict[str, str] = {}
        self.homes: dict[str, str] = {}
        self.triggers: dict[str, float] = {}
        self.used_triggers: set[str] = set()
        self.trigger_ttl = TRIGGER_TTL
        self._last_ts = 0
        self._view_seq = itertools.count(1)
        self.methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self.auth_test,
            "users.info": self.users_info,
            "users.list": self.users_list,
            "conversations.info": self.conversations_info,
            "conversations.members": self.conversations_members,
            "conversations.join": self.conversations_join,
            "conversations.open": self.conversations_open,
            "chat.postMessage": self.chat_post_message,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "views.open": self.views_open,
            "views.push": self.views_open,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
            "apps.connections.open": self.apps_connections_open,
            "oauth.v2.access": self.oauth_v2_access,
        }

    def call(self, method: str, params: dict[str, Any]) -> _Reply:
        """Run one Web API method and wrap its result in a reply."""
        impl = self.methods.get(method)
        if impl is None:
            return _Reply(200, {"ok": False, "error": "unknown_method"})
        try:
            return _Reply(200, {"ok": True, **impl(params)})
        except _ApiError as exc:
            return _Reply(200, {"ok": False, "error": exc.error})
        except Exception as exc:  # a simulator bug: answer loudly instead of hanging the client
            return _Reply(500, {"ok": False, "error": "sim_internal_error", "detail": repr(exc)})

    def next_ts(self) -> str:
        """Return a unique, strictly increasing message timestamp close to the current time."""
        micros = max(int(time.time() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    # ----- serialisation

    def user_json(self, user: SimUser, *, include_locale: bool = False) -> dict[str, Any]:
        """Render a user the way ``users.info``/``users.list`` do."""
        offset, label = _tz_info(user.tz)
        profile: dict[str, Any] = {"real_name": user.real_name, "display_name": user.name}
        if user.id == self.bot_user_id:
            profile["bot_id"] = BOT_ID
        data: dict[str, Any] = {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "real_name": user.real_name,
            "deleted": user.deleted,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "is_admin": user.is_admin,
            "is_owner": user.is_owner,
            "is_primary_owner": user.is_primary_owner,
            "tz": user.tz,
            "tz_label": label,
            "tz_offset": offset,
            "profile": profile,
        }
        if include_locale:
            data["locale"] = user.locale
        return data

    def channel_json(self, channel: SimChannel) -> dict[str, Any]:
        """Render a channel the way ``conversations.info`` does."""
        return {
            "id": channel.id,
            "name": channel.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_private": channel.is_private,
            "is_archived": False,
            "is_member": self.bot_user_id in channel.members,
            "num_members": len(channel.members),
        }

    # ----- lookups

    def visible_channel(self, channel_id: Any) -> SimChannel:
        """Return a channel the bot may see (private ones only when it is a member)."""
        channel = self.channels.get(str(channel_id or ""))
        if channel is None or (channel.is_private and self.bot_user_id not in channel.members):
            raise _ApiError("channel_not_found")
        return channel

    def resolve_target(self, target: Any) -> str:
        """Return the conversation id a message sent to ``target`` lands in."""
        target = str(target or "")
        if target[:1] in ("U", "W"):
            user = self.users.get(target)
            if user is None:
                raise _ApiError("channel_not_found")
            if user.deleted:
                raise _ApiError("account_inactive")
            return "D" + target
        if target.startswith("D"):
            user = self.users.get(target[1:])
            if user is not None and user.deleted:
                raise _ApiError("account_inactive")
            return target
        if target in self.channels:
            return target
        name = target.lstrip("#")
        for channel in self.channels.values():
            if name and channel.name == name:
                return channel.id
        raise _ApiError("channel_not_found")

    # ----- auth / users / conversations

    def auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        """``auth.test``: identify the bot."""
        return {
            "url": f"https://{self.domain}.slack.com/",
            "team": self.team_name,
            "user": "symmetry",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """``users.info``: one user, with ``locale`` only when ``include_locale`` is set."""
        user = self.users.get(str(params.get("user") or ""))
        if user is None:
            raise _ApiError("user_not_found")
        include_locale = _truthy(params.get("include_locale", False))
        return {"user": self.user_json(user, include_locale=include_locale)}

    def users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        """``users.list``: every user, cursor-paginated."""
        page, cursor = _paginate(list(self.users.values()), params, 200)
        include_locale = _truthy(params.get("include_locale", False))
        return {
            "members": [self.user_json(u, include_locale=include_locale) for u in page],
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": cursor},
        }

    def conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """``conversations.info``: channel metadata, or a DM's when given a ``D`` id."""
        channel_id = str(params.get("channel") or "")
        if channel_id.startswith("D") and channel_id[1:] in self.users:
            return {"channel": {"id": channel_id, "is_im": True, "user": channel_id[1:]}}
        return {"channel": self.channel_json(self.visible_channel(channel_id))}

    def conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        """``conversations.members``: member ids, cursor-paginated."""
        channel = self.visible_channel(params.get("channel"))
        page, cursor = _paginate(list(channel.members), params, 100)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        """``conversations.join``: add the bot to a public channel."""
        channel = self.channels.get(str(params.get("channel") or ""))
        if channel is None:
            raise _ApiError("channel_not_found")
        if channel.is_private:
            raise _ApiError("method_not_supported_for_channel_type")
        result: dict[str, Any] = {}
        if self.bot_user_id in channel.members:
            result["warning"] = "already_in_channel"
        else:
            channel.members.append(self.bot_user_id)
        return {"channel": self.channel_json(channel), **result}

    def conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        """``conversations.open``: a DM (``D`` + user id) or a group DM."""
        if params.get("channel"):
            return {"channel": {"id": str(params["channel"])}}
        raw = params.get("users") or ""
        ids = [u.strip() for u in (raw if isinstance(raw, list) else str(raw).split(",")) if u]
        if not ids:
            raise _ApiError("users_list_not_supplied")
        for user_id in ids:
            if user_id not in self.users:
                raise _ApiError("user_not_found")
        if len(ids) == 1:
            return {"channel": {"id": "D" + ids[0], "is_im": True, "user": ids[0]}}
        digest = hashlib.sha1(",".join(sorted(ids)).encode()).hexdigest()[:10].upper()
        return {"channel": {"id": "G" + digest, "is_mpim": True}}

    # ----- chat

    def chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        """``chat.postMessage``: post to a channel, DM id or user id."""
        channel = self.resolve_target(params.get("channel"))
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            raise _ApiError("no_text")
        ts = self.next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": BOT_ID,
            "text": params.get("text", ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(key):
                message[key] = params[key]
        return {"channel": channel, "ts": ts, "message": message}

    def chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        """``chat.postEphemeral``: a message only ``user`` sees."""
        self.resolve_target(params.get("channel"))
        user = self.users.get(str(params.get("user") or ""))
        if user is None:
            raise _ApiError("user_not_found")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            raise _ApiError("no_text")
        return {"message_ts": self.next_ts()}

    def chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        """``chat.update``: acknowledge an edit of an existing message."""
        channel = self.resolve_target(params.get("channel"))
        ts = str(params.get("ts") or "")
        if not ts:
            raise _ApiError("message_not_found")
        message = {"text": params.get("text", ""), "ts": ts}
        if params.get("blocks"):
            message["blocks"] = params["blocks"]
        return {"channel": channel, "ts": ts, "text": message["text"], "message": message}

    def chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        """``chat.delete``: acknowledge a deletion."""
        return {"channel": self.resolve_target(params.get("channel")), "ts": params.get("ts")}

    # ----- views

    def _store_view(self, view: Any, *, view_id: str | None = None, **extra: Any) -> dict:
        """Store ``view`` under a new or existing id with a fresh hash; return a copy."""
        if not isinstance(view, dict):
            raise _ApiError("invalid_arguments")
        view_id = view_id or f"V{next(self._view_seq):010d}"
        stored: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "bot_id": BOT_ID,
            **extra,
        }
        stored.update(json.loads(json.dumps(view)))  # a deep copy, many times faster
        stored.update(id=view_id, hash=f"{int(time.time())}.{secrets.token_hex(4)}")
        stored["state"] = {"values": {}}
        self.views[view_id] = stored
        if stored.get("external_id"):
            self.external_ids[str(stored["external_id"])] = view_id
        return json.loads(json.dumps(stored))

    def views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        """``views.open``/``views.push``: open a modal with a fresh, unused trigger id."""
        trigger = str(params.get("trigger_id") or params.get("interactivity_pointer") or "")
        if not trigger:
            raise _ApiError("invalid_arguments")
        issued = self.triggers.get(trigger)
        expired = issued is not None and time.monotonic() - issued > self.trigger_ttl
        if trigger in self.used_triggers or expired:
            raise _ApiError("expired_trigger_id")
        view = self._store_view(params.get("view"))
        self.used_triggers.add(trigger)
        return {"view": view}

    def views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        """``views.update``: replace an open view, checking ``hash`` when given."""
        view_id = str(params.get("view_id") or "")
        if not view_id and params.get("external_id"):
            view_id = self.external_ids.get(str(params["external_id"]), "")
        current = self.views.get(view_id)
        if current is None:
            raise _ApiError("not_found")
        if params.get("hash") and params["hash"] != current["hash"]:
            raise _ApiError("hash_conflict")
        keep = {k: current[k] for k in ("root_view_id", "previous_view_id", "external_id")}
        return {"view": self._store_view(params.get("view"), view_id=view_id, **keep)}

    def views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        """``views.publish``: replace a user's App Home; the view id is stable per user."""
        user_id = str(params.get("user_id") or "")
        if not user_id:
            raise _ApiError("invalid_arguments")
        view = self._store_view(params.get("view"), view_id=self.homes.get(user_id))
        self.homes[user_id] = view["id"]
        return {"view": view}

    def oauth_v2_access(self, params: dict[str, Any]) -> dict[str, Any]:
        """Exchange an OAuth code for the bot token (any non-empty code is accepted)."""
        if not params.get("code"):
            raise _ApiError("invalid_code")
        return {
            "access_token": self.bot_token,
            "token_type": "bot",
            "scope": "commands,chat:write,users:read",
            "bot_user_id": self.bot_user_id,
            "app_id": self.app_id,
            "team": {"id": self.team_id, "name": self.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": next(iter(self.users), "U0INSTALL")},
        }

    def apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        """``apps.connections.open``: a Socket Mode URL that is never actually served."""
        return {"url": "ws://127.0.0.1:1/never"}


# --------------------------------------------------------------------------- HTTP server


class _Server(ThreadingHTTPServer):
    """Threaded HTTP server carrying a reference to its simulator."""

    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sim: SlackSim) -> None:
        super().__init__(address, _Handler)
        self.sim = sim

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay silent when a client disconnects mid-request (no stderr tracebacks)."""


class _Handler(BaseHTTPRequestHandler):
    """Routes ``/api/<method>`` and ``/response/<key>`` requests to the simulator."""

    server: _Server
    protocol_version = "HTTP/1.0"
    server_version = "SlackSim/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request logging to stderr."""

    def do_GET(self) -> None:
        """Handle a GET request (arguments in the query string)."""
        self._dispatch()

    def do_POST(self) -> None:
        """Handle a POST request (form, JSON or multipart body)."""
        self._dispatch()

    def _read_body(self) -> bytes:
        """Read the request body, honouring Content-Length or chunked encoding."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        length = _to_int(self.headers.get("Content-Length"), 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        """Parse the request, let the simulator answer it and send the reply."""
        sim = self.server.sim
        try:
            split = urllib.parse.urlsplit(self.path)
            body = self._read_body()
            params = _parse_params(split.query, body, self.headers.get("Content-Type", ""))
            if split.path.startswith("/api/"):
                auth = self.headers.get("Authorization", "")
                token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
                token = token or (str(params["token"]) if params.get("token") else None)
                reply = sim._serve(split.path[len("/api/") :], params, token)
            elif split.path.startswith("/response/"):
                params["_key"] = urllib.parse.unquote(split.path[len("/response/") :])
                reply = sim._serve("response_url", params, None, api=False)
            else:
                reply = _Reply(404, {"ok": False, "error": "not_found"})
        except Exception as exc:  # never leave the client hanging
            reply = _Reply(500, {"ok": False, "error": "sim_internal_error", "detail": repr(exc)})
        self._send(reply)

    def _send(self, reply: _Reply) -> None:
        """Write a reply (JSON for dict payloads, plain text otherwise)."""
        if isinstance(reply.payload, dict):
            data = json.dumps(reply.payload).encode()
            content_type = "application/json; charset=utf-8"
        else:
            data = reply.payload.encode()
            content_type = "text/plain; charset=utf-8"
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


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
    ) -> None:
        self._ws = _Workspace(
            team_id=team_id,
            team_name=team_name,
            bot_token=bot_token,
            bot_user_id=bot_user_id,
            app_id=app_id,
        )
        self.delay = delay
        self._host = host
        self._port = port
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._chaos: dict[str, _Chaos] = {}
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
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """Base URL for ``WebClient(base_url=...)``, with a trailing slash."""
        return f"{self._base}/api/"

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

    @property
    def bot_user_id(self) -> str:
        """The bot's user id."""
        return self._ws.bot_user_id

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
        """Make the next ``times`` calls to ``method`` fail.

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

    def rate_limit(self, method: str, per_second: float | None) -> None:
        """Answer 429 (with Retry-After) to calls beyond ``per_second``; None lifts the limit."""
        with self._cond:
            if per_second is None:
                self._buckets.pop(method, None)
                return
            if per_second <= 0:
                raise ValueError("per_second must be positive")
            capacity = max(1.0, float(per_second))
            self._buckets[method] = _Bucket(per_second, capacity, capacity, time.monotonic())

    def fail_ratio(self, method: str, ratio: float, status: int = 500, seed: int = 0) -> None:
        """Fail a deterministic pseudo-random fraction of calls to ``method``; 0 disables."""
        if not 0.0 <= ratio <= 1.0:
            raise ValueError("ratio must be between 0 and 1")
        with self._cond:
            if ratio == 0.0:
                self._chaos.pop(method, None)
            else:
                self._chaos[method] = _Chaos(ratio, status, random.Random(seed))

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
            error = None if token == self._ws.bot_token else "invalid_auth"
        return None if error is None else _Reply(200, {"ok": False, "error": error})

    def _serve(
        self, method: str, params: dict[str, Any], token: str | None, *, api: bool = True
    ) -> _Reply:
        """Answer one request: auth, scripted failures, delay, method, then record it."""
        at = time.time()
        with self._cond:
            reply = self._auth_error(method, token) if api else None
            if reply is None:
                reply = self._scripted_failure(method)
        delay = self.delay
        if delay > 0:
            time.sleep(delay)
        with self._cond:
            if reply is None:
                reply = self._ws.call(method, params) if api else _Reply(200, "ok")
            self._calls.append(Call(method, params, token, at, failed=not reply.ok))
            self._cond.notify_all()
        return reply


# --------------------------------------------------------------------------- platform side


class SlackClientSim:
    """Plays Slack's side towards the app: signed commands, interactions and events."""

    def __init__(
        self, app_url: str, signing_secret: str, sim: SlackSim, timeout: float = 10.0
    ) -> None:
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.sim = sim
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ----- payload pieces

    def _user(self, user_id: str) -> dict[str, Any]:
        """The ``user`` object of an interaction payload."""
        user = self.sim.users.get(user_id)
        name = user.name if user else user_id
        return {"id": user_id, "username": name, "name": name, "team_id": self.sim.team_id}

    def _team(self) -> dict[str, Any]:
        """The ``team`` object of an interaction payload."""
        return {"id": self.sim.team_id, "domain": self.sim.team_domain}

    def _channel_name(self, channel_id: str) -> str:
        """The name Slack reports for a conversation id."""
        channel = self.sim.channels.get(channel_id)
        if channel is not None:
            return channel.name
        return "directmessage" if channel_id.startswith("D") else channel_id.lower()

    def _key(self, kind: str) -> str:
        """A unique key for a response_url."""
        return f"{kind}-{next(self.sim._seq)}"

    def _complete_view(self, view: dict[str, Any]) -> dict[str, Any]:
        """Copy ``view`` and fill in id/hash/metadata from the sim's record when missing."""
        result = copy.deepcopy(view)
        if "id" not in result:
            stored = self.sim._find_view(result) or {}
            result = {**stored, **result}
            result.setdefault("id", f"V{next(self.sim._seq):010d}")
            if "hash" in stored:
                result["hash"] = stored["hash"]
        result.setdefault("type", "modal")
        result.setdefault("team_id", self.sim.team_id)
        result.setdefault("app_id", self.sim.app_id)
        result.setdefault("private_metadata", "")
        result.setdefault("callback_id", "")
        result.setdefault("hash", f"{int(time.time())}.{secrets.token_hex(4)}")
        result.setdefault("state", {"values": {}})
        return result

    # ----- requests

    def command(
        self,
        user_id: str,
        command: str,
        text: str = "",
        *,
        channel_id: str = "C0GENERAL",
        timestamp: int | None = None,
    ) -> Response:
        """POST a signed slash-command payload."""
        user = self.sim.users.get(user_id)
        fields = {
            "token": "sim-verification-token",
            "team_id": self.sim.team_id,
            "team_domain": self.sim.team_domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": user.name if user else user_id,
            "command": command,
            "text": text,
            "api_app_id": self.sim.app_id,
            "is_enterprise_install": "false",
            "response_url": self.sim.response_url(key := self._key("cmd")),
            "trigger_id": self.sim.issue_trigger(),
        }
        body = urllib.parse.urlencode(fields)
        response = self._send(body, "application/x-www-form-urlencoded", timestamp)
        response.response_key = key
        return response

    def block_action(
        self,
        user_id: str,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str = "b",
        view: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        channel_id: str | None = None,
        selected_option: dict[str, Any] | None = None,
        extra_action: dict[str, Any] | None = None,
    ) -> Response:
        """POST a signed ``block_actions`` payload for a view or a message.

        Without ``view`` it is a message action: ``channel_id`` defaults to the user's DM
        (``D`` + user id) and the payload carries a ``response_url``.
        """
        action: dict[str, Any] = {
            "type": "static_select" if selected_option is not None else "button",
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": f"{time.time():.6f}",
        }
        if value is not None:
            action["value"] = value
        if selected_option is not None:
            action["selected_option"] = selected_option
        action.update(extra_action or {})
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.sim.app_id,
            "token": "sim-verification-token",
            "trigger_id": self.sim.issue_trigger(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [action],
        }
        if view is not None:
            full_view = self._complete_view(view)
            payload["view"] = full_view
            payload["container"] = {"type": "view", "view_id": full_view["id"]}
        else:
            channel = channel_id or str((message or {}).get("channel") or "D" + user_id)
            msg = {"type": "message", **copy.deepcopy(message or {})}
            msg.setdefault("ts", self.sim._next_ts())
            payload["message"] = msg
            payload["channel"] = {"id": channel, "name": self._channel_name(channel)}
            payload["state"] = {"values": {}}
            payload["response_url"] = self.sim.response_url(self._key("act"))
            payload["container"] = {
                "type": "message",
                "message_ts": msg["ts"],
                "channel_id": channel,
                "is_ephemeral": False,
            }
        return self._send_payload(payload)

    def view_submission(
        self, user_id: str, view: dict[str, Any], values: dict[str, Any]
    ) -> Response:
        """POST a signed ``view_submission`` payload with ``values`` as the view state."""
        full_view = self._complete_view(view)
        full_view["state"] = {"values": values}
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.sim.app_id,
            "token": "sim-verification-token",
            "trigger_id": self.sim.issue_trigger(),
            "view": full_view,
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }
        response = self._send_payload(payload)
        self._apply_response_action(full_view, response)
        return response

    def _apply_response_action(self, submitted: dict[str, Any], response: Response) -> None:
        """Do what Slack does with a submission's ``update`` or ``push`` answer: the modal
        shown next is stored (same id for an update), so later clicks on it can be found."""
        answer = response.json() if response.status == 200 and response.body else None
        if not isinstance(answer, dict) or not isinstance(answer.get("view"), dict):
            return
        with self.sim._cond:
            current = self.sim._ws.views.get(str(submitted.get("id") or ""))
            if current is None:
                return
            if answer.get("response_action") == "update":
                keep = {k: current[k] for k in ("root_view_id", "previous_view_id")}
                self.sim._ws._store_view(answer["view"], view_id=current["id"], **keep)
            elif answer.get("response_action") == "push":
                self.sim._ws._store_view(
                    answer["view"],
                    root_view_id=current["root_view_id"],
                    previous_view_id=current["id"],
                )

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        timestamp: int | None = None,
    ) -> Response:
        """POST a signed Events API ``event_callback`` envelope around ``event``."""
        envelope = {
            "token": "sim-verification-token",
            "team_id": self.sim.team_id,
            "api_app_id": self.sim.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self.sim._seq):010d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.sim.team_id,
                    "user_id": self.sim.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        extra = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self._send(json.dumps(envelope), "application/json", timestamp, extra)

    def _send_payload(self, payload: dict[str, Any]) -> Response:
        """POST an interactivity payload as ``payload=<json>``."""
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self._send(body, "application/x-www-form-urlencoded")

    def _send(
        self,
        body: str,
        content_type: str,
        timestamp: int | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Response:
        """Sign and POST ``body`` the way Slack does."""
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **sign(self.signing_secret, body, timestamp),
            **(extra_headers or {}),
        }
        return self.post_raw(body, headers)

    def post_raw(self, body: bytes | str, headers: dict[str, str]) -> Response:
        """POST ``body`` with exactly ``headers``; HTTP errors are returned, not raised."""
        data = body.encode() if isinstance(body, str) else body
        request = urllib.request.Request(self.app_url, data=data, headers=headers, method="POST")
        started = time.perf_counter()
        try:
            with self._opener.open(request, timeout=self.timeout) as resp:
                status, raw, resp_headers = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as err:
            with err:
                status, raw, resp_headers = err.code, err.read(), err.headers
        elapsed = time.perf_counter() - started
        text = raw.decode("utf-8", "replace")
        return Response(status, text, dict(resp_headers.items()), elapsed)


def form_values(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """The `state.values` Slack would send for `view` when a person fills it with `answers`.

    `answers` is keyed by block ID, or by the part of a block ID before its first "-" (so
    versioned IDs such as "name-new" match "name"). Values are what the person picks: text
    for inputs, an option value for selects and radio buttons, a list of option values for
    checkboxes, user/conversation IDs for those selects, "YYYY-MM-DD" for date pickers.
    Inputs left unanswered keep their initial value, as in Slack.
    """
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        block_id = block.get("block_id", "")
        key = block_id if block_id in answers else block_id.split("-", 1)[0]
        element = block["element"]
        answer = answers[key] if key in answers else _initial(element)
        values[block_id] = {element["action_id"]: _element_state(element, answer)}
    return values


def _initial(element: dict[str, Any]) -> Any:
    """What an untouched input holds: its initial value, else nothing."""
    if "initial_option" in element:
        return element["initial_option"].get("value")
    if "initial_options" in element:
        return [option.get("value") for option in element["initial_options"]]
    for name in (
        "initial_value",
        "initial_users",
        "initial_conversation",
        "initial_date",
        "initial_time",
    ):
        if name in element:
            return element[name]
    return None


def _element_state(element: dict[str, Any], answer: Any) -> dict[str, Any]:
    kind = element["type"]
    state: dict[str, Any] = {"type": kind}
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        state["value"] = None if answer is None else str(answer)
    elif kind in ("static_select", "radio_buttons", "external_select"):
        state["selected_option"] = _option(element, answer) if answer is not None else None
    elif kind in ("checkboxes", "multi_static_select"):
        state["selected_options"] = [_option(element, value) for value in answer or []]
    elif kind in ("conversations_select", "channels_select"):
        state["selected_conversation" if kind == "conversations_select" else "selected_channel"] = (
            answer
        )
    elif kind == "users_select":
        state["selected_user"] = answer
    elif kind == "multi_users_select":
        state["selected_users"] = list(answer or [])
    elif kind == "multi_conversations_select":
        state["selected_conversations"] = list(answer or [])
    elif kind == "datepicker":
        state["selected_date"] = answer
    elif kind == "timepicker":
        state["selected_time"] = answer
    else:
        state["value"] = answer
    return state


def _option(element: dict[str, Any], value: str) -> dict[str, Any]:
    options = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options.extend(group.get("options", []))
    for option in options:
        if option.get("value") == value:
            return copy.deepcopy(option)
    return {"text": {"type": "plain_text", "text": str(value)}, "value": value}
