"""The simulated workspace: its people, channels and views, and the Web API methods that
read and change them (``SlackSim`` records the calls; posted messages are kept so that
``chat.update`` can change them, as Slack does, and a test can read what a message now says;
``history.py`` keeps each conversation's messages, metadata included, for
``conversations.history``).

``_Workspace`` holds the state and implements each method (``users.info``, ``chat.postMessage``,
``views.open``, ``oauth.v2.access``...) as a function of the call's arguments; ``SlackSim``
(``webapi.py``) serves it over HTTP and always calls it with its lock held.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

BOT_ID = "B0BOT"
SLACKBOT_ID = "USLACKBOT"
TRIGGER_TTL = 3.0
ROTATED_TOKEN_LIFETIME = 12 * 3600  # seconds a rotated token lives, as Slack's do
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


class _ApiError(Exception):
    """Raised by a Web API method implementation to answer ``{"ok": false, "error": ...}``,
    with Slack's ``response_metadata.messages`` when ``messages`` are given."""

    def __init__(self, error: str, *messages: str) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)

    def payload(self) -> dict[str, Any]:
        """The answer's body."""
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


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


# --------------------------------------------------------------------------- arguments


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
        # Enterprise Grid: the organisation the workspace belongs to (None: a plain workspace),
        # and whether the app is installed for the whole organisation (see SlackSim.install_as).
        self.enterprise_id: str | None = None
        self.enterprise_name: str | None = None
        self.is_enterprise_install = False
        # Other workspaces' installs: what the next oauth.v2.access answers hand out, and the
        # tokens they gave that the Web API accepts too (answering from this workspace).
        self.grants: deque[tuple[str, str, str]] = deque()
        self.other_tokens: set[str] = set()
        # Token rotation (off until SlackSim.rotate_tokens): the refresh token that
        # ``oauth.v2.access`` takes, and when each token of a rotation expires (wall time).
        self.refresh_token: str | None = None
        self.token_expiry: dict[str, float] = {}
        self._rotations = itertools.count(1)
        self.users: dict[str, SimUser] = {}
        self.channels: dict[str, SimChannel] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.external_ids: dict[str, str] = {}
        self.homes: dict[str, str] = {}
        # Posted messages by (conversation, ts): what chat.update finds and changes.
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
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
            return _Reply(200, exc.payload())
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
        if self.enterprise_id:
            data["enterprise_user"] = {
                "id": user.id,
                "enterprise_id": self.enterprise_id,
                "enterprise_name": self.enterprise_name,
                "is_admin": user.is_admin,
                "is_owner": user.is_owner,
                "is_primary_owner": user.is_primary_owner,
                "teams": [self.team_id],
            }
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
        """``auth.test``: identify the bot; in a Grid organisation with its ``enterprise_id``,
        and for an org-wide installation's token the organisation in place of a workspace."""
        answer: dict[str, Any] = {
            "url": f"https://{self.domain}.slack.com/",
            "team": self.team_name,
            "user": "symmetry",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": BOT_ID,
            "is_enterprise_install": self.is_enterprise_install,
        }
        if self.enterprise_id:
            answer["enterprise_id"] = self.enterprise_id
        if self.is_enterprise_install:
            org = re.sub(r"[^a-z0-9]+", "-", str(self.enterprise_name).lower()).strip("-")
            answer.update(
                url=f"https://{org}.enterprise.slack.com/",
                team=self.enterprise_name,
                team_id=self.enterprise_id,
            )
        return answer

    def users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """``users.info``: one user, with ``locale`` only when ``include_locale`` is set."""
        user = self.users.get(str(params.get("user") or ""))
        if user is None:
            raise _ApiError("user_not_found")
        include_locale = _truthy(params.get("include_locale", False))
        return {"user": self.user_json(user, include_locale=include_locale)}

    def users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        """``users.list``: every user, cursor-paginated; an org-wide installation's token must
        name the workspace (``team_id``), as in Slack."""
        if self.is_enterprise_install and not params.get("team_id"):
            raise _ApiError("missing_argument")
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
        self.messages[(channel, ts)] = message
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
        """``chat.update``: replace the text and blocks of a message posted earlier."""
        channel = self.resolve_target(params.get("channel"))
        message = self.messages.get((channel, str(params.get("ts") or "")))
        if message is None:
            raise _ApiError("message_not_found")
        message["text"] = params.get("text", "")
        message.pop("blocks", None)
        if params.get("blocks"):
            message["blocks"] = params["blocks"]
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": message,
        }

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
        """Exchange an OAuth code for the bot token (any non-empty code is accepted), or, with
        ``grant_type=refresh_token``, a refresh token for a new bot token. Installed in one
        workspace of a Grid organisation, the answer names both; installed org-wide, the
        organisation only (``team`` is null). With token rotation on, the answer carries
        ``refresh_token`` and ``expires_in``, as Slack's does."""
        if params.get("grant_type") == "refresh_token":
            self._rotate(str(params.get("refresh_token") or ""))
        elif not params.get("code"):
            raise _ApiError("invalid_code")
        enterprise = (
            {"id": self.enterprise_id, "name": self.enterprise_name} if self.enterprise_id else None
        )
        refreshing = params.get("grant_type") == "refresh_token"
        team_id, team_name, token = (
            self.grants.popleft()
            if self.grants and not refreshing
            else (self.team_id, self.team_name, self.bot_token)
        )
        team = {"id": team_id, "name": team_name}
        answer = {
            "access_token": token,
            "token_type": "bot",
            "scope": "commands,chat:write,users:read",
            "bot_user_id": self.bot_user_id,
            "app_id": self.app_id,
            "team": None if self.is_enterprise_install else team,
            "enterprise": enterprise,
            "is_enterprise_install": self.is_enterprise_install,
            "authed_user": {"id": next(iter(self.users), "U0INSTALL")},
        }
        if self.refresh_token is not None:
            expires_in = self.token_expiry.get(self.bot_token, time.time()) - time.time()
            answer.update(refresh_token=self.refresh_token, expires_in=int(expires_in))
        return answer

    def _rotate(self, refresh_token: str) -> None:
        """A refresh: a new bot token for ``ROTATED_TOKEN_LIFETIME`` and a new refresh token;
        the previous token keeps working until its own expiry."""
        if self.refresh_token is None or refresh_token != self.refresh_token:
            raise _ApiError("invalid_refresh_token")
        n = next(self._rotations)
        self.bot_token = f"xoxe.xoxb-1-sim-rotated-{n}"
        self.refresh_token = f"xoxe-1-sim-refresh-{n}"
        self.token_expiry[self.bot_token] = time.time() + ROTATED_TOKEN_LIFETIME

    def token_error(self, token: str) -> str | None:
        """Why a bot token is refused (``invalid_auth``, ``token_expired``), or None."""
        if token in self.other_tokens:
            return None
        if token != self.bot_token and token not in self.token_expiry:
            return "invalid_auth"
        expiry = self.token_expiry.get(token)
        return "token_expired" if expiry is not None and expiry <= time.time() else None

    def apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        """``apps.connections.open``: a Socket Mode URL that is never actually served."""
        return {"url": "ws://127.0.0.1:1/never"}
