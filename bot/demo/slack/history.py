"""The messages of a simulated workspace, kept per conversation, and ``conversations.history``
over them.

``chat.postMessage`` is answered by ``_Workspace`` as before; ``_History`` wraps it to keep the
message (its ``metadata`` included) in the conversation Slack answered, so that
``conversations.history`` can read it back, newest first, the way Slack does: ``oldest`` and
``latest`` bound the range (exclusive unless ``inclusive``), ``limit`` and ``cursor`` page it,
and a message's ``metadata`` is returned only with ``include_all_metadata``.

Reading history takes a scope per kind of conversation (``im:history`` for a DM,
``channels:history`` for a public channel, ``groups:history`` for a private one) and opening a
DM takes ``im:write``; with ``scopes`` set (the scopes the bot token was granted), a method
whose scope is missing answers ``missing_scope`` with Slack's ``needed`` and ``provided``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.demo.slack.workspace import _ApiError, _paginate, _to_int, _truthy, _Workspace

_DEFAULT_LIMIT = 100
_MAX_LIMIT = 999


class _MissingScope(_ApiError):
    """``missing_scope``, naming the scope needed and those the token has."""

    def __init__(self, needed: str, provided: set[str]) -> None:
        super().__init__("missing_scope")
        self.needed = needed
        self.provided = provided

    def payload(self) -> dict[str, Any]:
        """The answer's body, as Slack gives it."""
        return {
            "ok": False,
            "error": "missing_scope",
            "needed": self.needed,
            "provided": ",".join(sorted(self.provided)),
        }


def _ts(value: Any, error: str) -> float | None:
    """A message timestamp argument (``"1712345678.000100"``), None when absent."""
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _ApiError(error) from None


class _History:
    """The conversations' messages; always called with the simulator's lock held."""

    def __init__(self, workspace: _Workspace) -> None:
        self.workspace = workspace
        self.messages: dict[str, list[dict[str, Any]]] = {}  # by conversation, oldest first
        self.scopes: set[str] | None = None  # None: the token has every scope
        open_dm = workspace.conversations_open
        self.methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "chat.postMessage": self.chat_post_message,
            "conversations.history": self.conversations_history,
            "conversations.open": lambda params: self._scoped("im:write", open_dm, params),
        }

    def _scoped(
        self, scope: str, method: Callable[[dict[str, Any]], dict[str, Any]], params: dict
    ) -> dict[str, Any]:
        self._require(scope)
        return method(params)

    def _require(self, scope: str) -> None:
        if self.scopes is not None and scope not in self.scopes:
            raise _MissingScope(scope, self.scopes)

    def chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        """``chat.postMessage``, keeping the message (and its ``metadata``) in its conversation."""
        result = self.workspace.chat_post_message(params)
        message = dict(result["message"])  # kept as posted: nothing changes it afterwards
        metadata = message.get("metadata")
        if isinstance(metadata, str):  # a form-encoded call sends it as a JSON string
            try:
                message["metadata"] = json.loads(metadata)
            except ValueError:
                raise _ApiError("invalid_metadata_format") from None
        if "metadata" in message and not isinstance(message["metadata"].get("event_type"), str):
            raise _ApiError("invalid_metadata_schema")
        self.messages.setdefault(result["channel"], []).append(message)
        return result

    def conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """``conversations.history``: a conversation's messages, newest first."""
        channel = str(params.get("channel") or "")
        if channel.startswith("D"):
            if channel[1:] not in self.workspace.users:
                raise _ApiError("channel_not_found")
            self._require("im:history")
        else:
            found = self.workspace.visible_channel(channel)
            self._require("groups:history" if found.is_private else "channels:history")
            if self.workspace.bot_user_id not in found.members:
                raise _ApiError("not_in_channel")
        oldest = _ts(params.get("oldest"), "invalid_ts_oldest")
        latest = _ts(params.get("latest"), "invalid_ts_latest")
        inclusive = _truthy(params.get("inclusive", False))

        def within(message: dict[str, Any]) -> bool:
            ts = float(message["ts"])
            if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
                return False
            return latest is None or ts < latest or (ts == latest and inclusive)

        newest_first = [m for m in reversed(self.messages.get(channel, [])) if within(m)]
        limit = min(max(1, _to_int(params.get("limit"), _DEFAULT_LIMIT)), _MAX_LIMIT)
        page, cursor = _paginate(newest_first, {**params, "limit": limit}, _DEFAULT_LIMIT)
        with_metadata = _truthy(params.get("include_all_metadata", False))
        messages = [
            m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in page
        ]
        return {
            "messages": messages,
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }
