"""Slack's side towards the app: signed slash commands, interactions and Events API
callbacks (``SlackClientSim``), and the view state a filled-in form sends (``form_values``).
"""

from __future__ import annotations

import copy
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from slack_sdk.signature import SignatureVerifier

from bot.demo.slack.webapi import SlackSim


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


def sign(signing_secret: str, body: str | bytes, timestamp: int | None = None) -> dict[str, str]:
    """Return the ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` headers for a body."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature or ""}


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
        """The ``team`` object of an interaction payload (naming its Grid organisation)."""
        team = {"id": self.sim.team_id, "domain": self.sim.team_domain}
        if self.sim.enterprise_id:
            team.update(
                enterprise_id=self.sim.enterprise_id, enterprise_name=self.sim.enterprise_name
            )
        return team

    def _enterprise(self) -> dict[str, Any] | None:
        """The ``enterprise`` object of an interaction payload (null outside a Grid)."""
        if not self.sim.enterprise_id:
            return None
        return {"id": self.sim.enterprise_id, "name": self.sim.enterprise_name}

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
            "is_enterprise_install": "true" if self.sim.is_enterprise_install else "false",
            "response_url": self.sim.response_url(key := self._key("cmd")),
            "trigger_id": self.sim.issue_trigger(),
        }
        if self.sim.enterprise_id:
            fields["enterprise_id"] = self.sim.enterprise_id
            fields["enterprise_name"] = str(self.sim.enterprise_name)
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
            "enterprise": self._enterprise(),
            "is_enterprise_install": self.sim.is_enterprise_install,
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
            "enterprise": self._enterprise(),
            "is_enterprise_install": self.sim.is_enterprise_install,
        }
        response = self._send_payload(payload)
        self._apply_response_action(full_view, response)
        return response

    def view_closed(self, user_id: str, view: dict[str, Any], values: dict[str, Any]) -> Response:
        """POST a signed ``view_closed`` payload: the person closed ``view`` (a modal that
        asked for ``notify_on_close``) holding ``values``."""
        full_view = self._complete_view(view)
        full_view["state"] = {"values": values}
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.sim.app_id,
            "token": "sim-verification-token",
            "view": full_view,
            "is_cleared": False,
            "enterprise": self._enterprise(),
            "is_enterprise_install": self.sim.is_enterprise_install,
        }
        return self._send_payload(payload)

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
        """POST a signed Events API ``event_callback`` envelope around ``event``. In a Grid
        organisation the envelope names it; the authorization of an org-wide installation names
        the organisation and no workspace (``team_id``: null)."""
        sim = self.sim
        envelope: dict[str, Any] = {
            "token": "sim-verification-token",
            "team_id": sim.team_id,
            "api_app_id": sim.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(sim._seq):010d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": sim.enterprise_id,
                    "team_id": None if sim.is_enterprise_install else sim.team_id,
                    "user_id": sim.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": sim.is_enterprise_install,
                }
            ],
            "is_ext_shared_channel": False,
        }
        if sim.enterprise_id:
            envelope.update(
                enterprise_id=sim.enterprise_id,
                context_team_id=sim.team_id,
                context_enterprise_id=sim.enterprise_id,
            )
        return self._post_event(envelope, retry_num, timestamp)

    def uninstalled(self, event: dict[str, Any] | None = None) -> Response:
        """POST ``app_uninstalled`` (or ``event``, a ``tokens_revoked``) as Slack sends it:
        with no ``authorizations`` (the app is gone); from an org-wide installation it names
        the organisation and no workspace."""
        envelope = self._bare_envelope(event or {"type": "app_uninstalled"})
        if not self.sim.is_enterprise_install:
            envelope["team_id"] = self.sim.team_id
        if self.sim.enterprise_id:
            envelope["enterprise_id"] = self.sim.enterprise_id
        return self._post_event(envelope, None, None)

    def team_access(self, team_ids: list[str], *, granted: bool) -> Response:
        """POST ``team_access_granted`` (or ``_revoked``) as Slack sends it to an org-wide
        installation: the organisation, no workspace, no ``authorizations``."""
        kind = "team_access_granted" if granted else "team_access_revoked"
        event = {"type": kind, "team_ids": list(team_ids), "event_ts": f"{time.time():.6f}"}
        envelope = self._bare_envelope(event)
        envelope["enterprise_id"] = self.sim.enterprise_id
        return self._post_event(envelope, None, None)

    def _bare_envelope(self, event: dict[str, Any]) -> dict[str, Any]:
        """An ``event_callback`` envelope naming no workspace and no authorization."""
        return {
            "token": "sim-verification-token",
            "api_app_id": self.sim.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{next(self.sim._seq):010d}",
            "event_time": int(time.time()),
        }

    def _post_event(
        self, envelope: dict[str, Any], retry_num: int | None, timestamp: int | None
    ) -> Response:
        """Sign and POST an Events API envelope (as a redelivery when ``retry_num``)."""
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


# --------------------------------------------------------------------------- forms


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
