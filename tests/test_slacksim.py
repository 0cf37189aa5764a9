"""Tests for the simulated Slack workspace (bot.demo.slack)."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.demo.slack import SimChannel, SimUser, SlackClientSim, SlackSim, sign

SECRET = "sim-signing-secret"


@pytest.fixture
def sim() -> Iterator[SlackSim]:
    """A running simulator with a few users and channels."""
    with SlackSim() as s:
        s.add_user(SimUser("U1", "alice", "Alice Martin", tz="Europe/Paris", locale="fr-FR"))
        s.add_user(SimUser("U2", "bob", "Bob Stone"))
        s.add_user(SimUser("U3", "carol", "Carol Gone", deleted=True))
        s.add_channel(SimChannel("C0GENERAL", "general", ["U1", "U2"]))
        s.add_channel(SimChannel("C0SECRET", "secret", ["U1"], is_private=True))
        yield s


@pytest.fixture
def client(sim: SlackSim) -> WebClient:
    """A real slack_sdk client pointed at the simulator, without retries."""
    return WebClient(token=sim.bot_token, base_url=sim.url, retry_handlers=[])


@dataclass
class Receiver:
    """A tiny app stand-in that verifies Slack signatures and records what it got."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A stdlib HTTP server verifying signatures with slack_sdk's SignatureVerifier."""
    verifier = SignatureVerifier(SECRET)
    recorded: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        def do_POST(self) -> None:
            """Verify the signature and answer 200 (valid) or 401 (invalid)."""
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = dict(self.headers.items())
            valid = verifier.is_valid_request(body, headers)
            recorded.append({"body": body.decode(), "headers": headers, "valid": valid})
            self.send_response(200 if valid else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/slack/events", recorded)
    server.shutdown()
    server.server_close()


def _payload(request: dict[str, Any]) -> dict[str, Any]:
    """Decode the ``payload=<json>`` form body of an interactivity request."""
    return json.loads(urllib.parse.parse_qs(request["body"])["payload"][0])


def test_auth_test(client: WebClient, sim: SlackSim) -> None:
    """auth.test identifies the bot and the team."""
    resp = client.auth_test()
    assert resp["user_id"] == "U0BOT"
    assert resp["team_id"] == "T0SYMMETRY"
    assert resp["bot_id"] == "B0BOT"
    assert resp["is_enterprise_install"] is False
    assert sim.calls_to("auth.test")[0].token == sim.bot_token


def test_bad_and_missing_tokens(sim: SlackSim) -> None:
    """Wrong or missing tokens are rejected and the calls are recorded as failed."""
    with pytest.raises(SlackApiError) as bad:
        WebClient(token="xoxb-wrong", base_url=sim.url, retry_handlers=[]).auth_test()
    assert bad.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as missing:
        WebClient(base_url=sim.url, retry_handlers=[]).auth_test()
    assert missing.value.response["error"] == "not_authed"
    assert [c.failed for c in sim.calls_to("auth.test")] == [True, True]


def test_apps_connections_open_needs_app_token(sim: SlackSim) -> None:
    """apps.connections.open accepts an xapp- token and refuses the bot token."""
    app = WebClient(token="xapp-1-anything", base_url=sim.url, retry_handlers=[])
    assert app.apps_connections_open(app_token="xapp-1-anything")["url"].startswith("ws://")
    with pytest.raises(SlackApiError):
        WebClient(token=sim.bot_token, base_url=sim.url, retry_handlers=[]).api_call(
            "apps.connections.open"
        )


def test_users_info_locale_only_when_requested(client: WebClient) -> None:
    """users.info returns locale only with include_locale and computes tz_offset."""
    plain = client.users_info(user="U1")["user"]
    assert plain["real_name"] == "Alice Martin"
    assert plain["tz"] == "Europe/Paris"
    assert plain["tz_offset"] in (3600, 7200)
    assert "locale" not in plain
    assert client.users_info(user="U1", include_locale=True)["user"]["locale"] == "fr-FR"


def test_users_info_unknown_user(client: WebClient) -> None:
    """users.info answers user_not_found for an unknown id."""
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="UNOPE")
    assert err.value.response["error"] == "user_not_found"


def test_users_list_pagination(client: WebClient, sim: SlackSim) -> None:
    """users.list pages through every user, including the bot and USLACKBOT."""
    for n in range(7):
        sim.add_user(SimUser(f"UX{n}", f"user{n}", f"User {n}"))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        resp = client.users_list(limit=3, cursor=cursor)
        seen += [m["id"] for m in resp["members"]]
        pages += 1
        cursor = resp["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == list(sim.users)
    assert pages == -(-len(sim.users) // 3)
    bot = next(m for m in client.users_list()["members"] if m["id"] == "U0BOT")
    assert bot["is_bot"] is True
    assert "USLACKBOT" in seen


def test_conversations_members_pagination(client: WebClient, sim: SlackSim) -> None:
    """conversations.members pages through members with a cursor loop."""
    members = [f"UM{n}" for n in range(5)]
    sim.add_channel(SimChannel("C0BIG", "big", list(members)))
    seen: list[str] = []
    cursor = None
    while True:
        resp = client.conversations_members(channel="C0BIG", limit=2, cursor=cursor)
        seen += resp["members"]
        cursor = resp["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == members


def test_private_channels_and_join(client: WebClient, sim: SlackSim) -> None:
    """Private channels are hidden from non-member bots; join works on public ones."""
    with pytest.raises(SlackApiError) as hidden:
        client.conversations_members(channel="C0SECRET")
    assert hidden.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as join_private:
        client.conversations_join(channel="C0SECRET")
    assert join_private.value.response["error"] == "method_not_supported_for_channel_type"
    sim.join("C0SECRET", "U0BOT")
    assert client.conversations_info(channel="C0SECRET")["channel"]["num_members"] == 2
    client.conversations_join(channel="C0GENERAL")
    assert "U0BOT" in sim.channels["C0GENERAL"].members
    sim.leave("C0GENERAL", "U0BOT")
    assert "U0BOT" not in sim.channels["C0GENERAL"].members


def test_conversations_open_dm(client: WebClient) -> None:
    """conversations.open returns the DM id D + user id."""
    assert client.conversations_open(users="U2")["channel"]["id"] == "DU2"


def test_post_message_recorded_with_blocks(client: WebClient, sim: SlackSim) -> None:
    """chat.postMessage is recorded with blocks decoded, whether sent as JSON or form."""
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    first = client.chat_postMessage(channel="C0GENERAL", text="hi", blocks=blocks)
    second = client.api_call(
        "chat.postMessage", data={"channel": "U1", "text": "dm", "blocks": json.dumps(blocks)}
    )
    assert second["channel"] == "DU1"
    assert float(second["ts"]) > float(first["ts"])
    calls = sim.calls_to("chat.postMessage")
    assert [c.params["blocks"] for c in calls] == [blocks, blocks]
    assert [c.params["text"] for c in sim.messages_to("C0GENERAL")] == ["hi"]
    assert [c.params["text"] for c in sim.messages_to("U1")] == ["dm"]


def test_post_message_errors(client: WebClient, sim: SlackSim) -> None:
    """Unknown channels and deactivated users produce Slack's error codes."""
    with pytest.raises(SlackApiError) as unknown:
        client.chat_postMessage(channel="C0NOPE", text="x")
    assert unknown.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as inactive:
        client.chat_postMessage(channel="U3", text="x")
    assert inactive.value.response["error"] == "account_inactive"
    assert sim.messages_to("U3") == []
    ephemeral = client.chat_postEphemeral(channel="C0GENERAL", user="U2", text="psst")
    assert ephemeral["message_ts"]
    assert len(sim.messages_to("U2")) == 1


def test_unknown_method_is_recorded(client: WebClient, sim: SlackSim) -> None:
    """An unknown method answers unknown_method and is still recorded."""
    with pytest.raises(SlackApiError) as err:
        client.api_call("nope.nothing")
    assert err.value.response["error"] == "unknown_method"
    assert sim.calls_to("nope.nothing")[0].failed


def test_fail_next_429_with_retry_after(client: WebClient, sim: SlackSim) -> None:
    """A scripted 429 surfaces as SlackApiError with status 429 and Retry-After."""
    sim.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C0GENERAL", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"
    assert client.chat_postMessage(channel="C0GENERAL", text="x")["ok"]
    assert [c.failed for c in sim.calls_to("chat.postMessage")] == [True, False]


def test_fail_next_500_times(client: WebClient, sim: SlackSim) -> None:
    """fail_next with times=2 fails exactly two calls with HTTP 500."""
    sim.fail_next("auth.test", status=500, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            client.auth_test()
        assert err.value.response.status_code == 500
    assert client.auth_test()["ok"]


def test_fail_next_error_code(client: WebClient, sim: SlackSim) -> None:
    """fail_next with error answers HTTP 200 with that error code."""
    sim.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C0GENERAL", text="x")
    assert err.value.response.status_code == 200
    assert err.value.response["error"] == "channel_not_found"


def test_rate_limit(client: WebClient, sim: SlackSim) -> None:
    """rate_limit lets about per_second calls through, then answers 429 until lifted."""
    sim.rate_limit("auth.test", 5)
    statuses = []
    for _ in range(10):
        try:
            client.auth_test()
            statuses.append(200)
        except SlackApiError as err:
            statuses.append(err.response.status_code)
            assert int(err.response.headers["Retry-After"]) >= 1
    assert 5 <= statuses.count(200) <= 6
    assert statuses[:5] == [200] * 5
    assert 429 in statuses
    sim.rate_limit("auth.test", None)
    assert client.auth_test()["ok"]


def test_fail_ratio_is_deterministic(sim: SlackSim) -> None:
    """fail_ratio fails a seeded, reproducible fraction of calls."""

    def run() -> list[bool]:
        sim.clear_calls()
        sim.fail_ratio("auth.test", 0.5, status=503, seed=42)
        client = WebClient(token=sim.bot_token, base_url=sim.url, retry_handlers=[])
        for _ in range(20):
            try:
                client.auth_test()
            except SlackApiError as err:
                assert err.response.status_code == 503
        return [c.failed for c in sim.calls_to("auth.test")]

    first = run()
    assert 3 <= sum(first) <= 17
    assert run() == first


def test_views_open_update_and_lookup(client: WebClient, sim: SlackSim) -> None:
    """views.open then views.update changes what sim.view returns."""
    modal = {
        "type": "modal",
        "callback_id": "pulse",
        "title": {"type": "plain_text", "text": "Pulse"},
        "blocks": [],
    }
    opened = client.views_open(trigger_id="anything", view=modal)["view"]
    assert opened["id"].startswith("V")
    assert opened["callback_id"] == "pulse"
    updated = {**modal, "title": {"type": "plain_text", "text": "Thanks"}}
    resp = client.views_update(view_id=opened["id"], view=updated, hash=opened["hash"])
    assert resp["view"]["hash"] != opened["hash"]
    stored = sim.view(opened["id"])
    assert stored is not None
    assert stored["title"]["text"] == "Thanks"
    with pytest.raises(SlackApiError) as stale:
        client.views_update(view_id=opened["id"], view=updated, hash=opened["hash"])
    assert stale.value.response["error"] == "hash_conflict"
    with pytest.raises(SlackApiError) as missing:
        client.views_update(view_id="VNOPE", view=updated)
    assert missing.value.response["error"] == "not_found"


def test_trigger_reuse_and_expiry(client: WebClient, sim: SlackSim) -> None:
    """A trigger id works once and expires after trigger_ttl seconds."""
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}
    trigger = sim.issue_trigger()
    client.views_open(trigger_id=trigger, view=modal)
    with pytest.raises(SlackApiError) as reused:
        client.views_open(trigger_id=trigger, view=modal)
    assert reused.value.response["error"] == "expired_trigger_id"
    sim.trigger_ttl = 0.05
    late = sim.issue_trigger()
    time.sleep(0.1)
    with pytest.raises(SlackApiError) as expired:
        client.views_open(trigger_id=late, view=modal)
    assert expired.value.response["error"] == "expired_trigger_id"


def test_views_publish_home(client: WebClient, sim: SlackSim) -> None:
    """views.publish keeps the latest home per user under a stable view id."""
    first = client.views_publish(user_id="U1", view={"type": "home", "blocks": []})["view"]
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    second = client.views_publish(user_id="U1", view=home)["view"]
    assert first["id"] == second["id"]
    latest = sim.home("U1")
    assert latest is not None
    assert latest["blocks"] == [{"type": "divider"}]
    assert sim.home("U2") is None


def test_wait_for_count_and_timeout(client: WebClient, sim: SlackSim) -> None:
    """wait_for blocks until enough matching calls arrive and times out helpfully."""

    def post_later() -> None:
        for n in range(3):
            time.sleep(0.02)
            client.chat_postMessage(channel="C0GENERAL", text=f"m{n}")

    worker = threading.Thread(target=post_later)
    worker.start()
    calls = sim.wait_for("chat.postMessage", count=3, timeout=5)
    worker.join()
    assert [c.params["text"] for c in calls] == ["m0", "m1", "m2"]
    only = sim.wait_for("chat.postMessage", where=lambda c: c.params["text"] == "m1")
    assert len(only) == 1
    with pytest.raises(TimeoutError, match=r"chat\.postMessage x3"):
        sim.wait_for("views.open", timeout=0.1)


def test_concurrent_calls_with_delay(client: WebClient, sim: SlackSim) -> None:
    """Twenty concurrent calls with a 0.2 s delay finish well under a second."""
    sim.delay = 0.2
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: client.auth_test()["ok"], range(20)))
    elapsed = time.perf_counter() - started
    assert all(results)
    assert elapsed < 1.0
    assert len(sim.calls_to("auth.test")) == 20


def test_sign_matches_slack_sdk() -> None:
    """sign() produces headers slack_sdk's verifier accepts."""
    headers = sign(SECRET, "a=b")
    assert SignatureVerifier(SECRET).is_valid_request("a=b", headers)
    assert not SignatureVerifier("other").is_valid_request("a=b", headers)


def test_command_is_signed_and_response_url_recorded(sim: SlackSim, receiver: Receiver) -> None:
    """SlackClientSim.command posts a verifiable slash command; response_url POSTs are recorded."""
    platform = SlackClientSim(receiver.url, SECRET, sim)
    resp = platform.command("U1", "/symmetry", "irritant coffee")
    assert resp.status == 200
    request = receiver.requests[0]
    assert request["valid"]
    form = dict(urllib.parse.parse_qsl(request["body"]))
    assert form["command"] == "/symmetry"
    assert form["text"] == "irritant coffee"
    assert form["user_name"] == "alice"
    assert form["channel_name"] == "general"
    assert form["trigger_id"].startswith("trig-")
    WebhookClient(form["response_url"]).send(text="Got it", response_type="ephemeral")
    (call,) = sim.wait_for("response_url")
    assert call.params["text"] == "Got it"
    assert call.params["_key"] == form["response_url"].rsplit("/", 1)[1]


def test_stale_or_bad_signatures_are_rejected(sim: SlackSim, receiver: Receiver) -> None:
    """An old timestamp or a forged signature fails verification at the receiver."""
    platform = SlackClientSim(receiver.url, SECRET, sim)
    assert platform.command("U1", "/symmetry", timestamp=int(time.time()) - 3600).status == 401
    forged = {"Content-Type": "application/json", **sign("wrong", "{}")}
    assert platform.post_raw("{}", forged).status == 401


def test_block_action_and_view_submission_payloads(
    client: WebClient, sim: SlackSim, receiver: Receiver
) -> None:
    """Interaction payloads carry the user, the action and the sim's view id and state."""
    platform = SlackClientSim(receiver.url, SECRET, sim)
    modal = {"type": "modal", "callback_id": "walk", "private_metadata": "42", "blocks": []}
    opened = client.views_open(trigger_id=sim.issue_trigger(), view=modal)["view"]

    platform.block_action("U1", "pick", "yes")
    message_action = _payload(receiver.requests[-1])
    assert message_action["type"] == "block_actions"
    assert message_action["actions"][0]["value"] == "yes"
    assert message_action["container"]["type"] == "message"
    assert message_action["response_url"].startswith(sim.url.removesuffix("api/"))

    option = {"text": {"type": "plain_text", "text": "B"}, "value": "b"}
    platform.block_action("U1", "choose", view=opened, selected_option=option)
    view_action = _payload(receiver.requests[-1])
    assert view_action["actions"][0]["type"] == "static_select"
    assert view_action["container"] == {"type": "view", "view_id": opened["id"]}
    assert "response_url" not in view_action

    values = {"b": {"a": {"type": "plain_text_input", "value": "hello"}}}
    platform.view_submission("U1", modal, values)
    submission = _payload(receiver.requests[-1])
    assert submission["type"] == "view_submission"
    assert submission["view"]["id"] == opened["id"]
    assert submission["view"]["private_metadata"] == "42"
    assert submission["view"]["state"] == {"values": values}
    assert all(r["valid"] for r in receiver.requests)


def test_event_envelope_and_retry_headers(sim: SlackSim, receiver: Receiver) -> None:
    """event() wraps the event in an event_callback envelope and adds retry headers."""
    platform = SlackClientSim(receiver.url, SECRET, sim)
    assert platform.event({"type": "app_home_opened", "user": "U1"}).status == 200
    platform.event({"type": "app_home_opened", "user": "U1"}, event_id="Ev1", retry_num=1)
    first, retried = receiver.requests
    envelope = json.loads(first["body"])
    assert envelope["type"] == "event_callback"
    assert envelope["event"]["user"] == "U1"
    assert envelope["event_id"] != "Ev1"
    assert "X-Slack-Retry-Num" not in first["headers"]
    assert retried["headers"]["X-Slack-Retry-Num"] == "1"
    assert retried["headers"]["X-Slack-Retry-Reason"] == "http_timeout"
    assert json.loads(retried["body"])["event_id"] == "Ev1"
    assert retried["valid"]
