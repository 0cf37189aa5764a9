"""Tests for the simulated Slack workspace (bot.demo.slack)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.demo.slack import SimChannel, SimUser, SlackClientSim, SlackSim, sign
from bot.demo.slack.webapi import _Window

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


def test_sliding_window_counts_the_last_second() -> None:
    """A sliding window passes `limit` calls in any second and no more, even after a pause
    that would refill a token bucket; Retry-After waits for the oldest call to age out."""
    window = _Window(limit=3, span=1.0, times=deque())
    assert [window.take(t) for t in (0.0, 0.1, 0.2)] == [None, None, None]
    assert window.take(0.6) == 1  # a bucket of 3/s would have a token again by now
    assert window.take(0.99) == 1  # the refused calls are not counted
    assert window.take(1.01) is None  # the call at 0.0 left the window
    assert window.take(1.05) == 1
    assert [window.take(t) for t in (1.11, 1.21)] == [None, None]


def test_rate_limit_window_over_http(client: WebClient, sim: SlackSim) -> None:
    """rate_limit(shape="window") answers 429 with Retry-After beyond the window, then lifts."""
    sim.rate_limit("auth.test", 3, shape="window")
    for _ in range(3):
        assert client.auth_test()["ok"]
    with pytest.raises(SlackApiError) as err:
        client.auth_test()
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    sim.rate_limit("auth.test", None)
    assert client.auth_test()["ok"]
    with pytest.raises(ValueError):
        sim.rate_limit("auth.test", 3, shape="cone")


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


# --------------------------------------------------------------------------- file uploads

CHART = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # not text: every byte value


def _issue(client: WebClient, content: bytes = CHART, **args: Any) -> dict[str, Any]:
    """files.getUploadURLExternal for `content` (length and filename unless overridden)."""
    data = {"filename": "chart.png", "length": len(content), **args}
    return client.api_call("files.getUploadURLExternal", data=data).data  # type: ignore[return-value]


def _post_bytes(url: str, content: bytes) -> tuple[int, str]:
    """POST raw bytes to an upload URL, as slack_sdk does (no multipart, no token)."""
    request = urllib.request.Request(url, data=content, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _complete(client: WebClient, files: Any, **args: Any) -> dict[str, Any]:
    """files.completeUploadExternal; the answer, or the error answer's body."""
    data = {"files": files if isinstance(files, str) else json.dumps(files), **args}
    try:
        return client.api_call("files.completeUploadExternal", data=data).data  # type: ignore[return-value]
    except SlackApiError as exc:
        return exc.response.data  # type: ignore[return-value]


def test_files_upload_v2_runs_the_external_flow(client: WebClient, sim: SlackSim) -> None:
    """slack_sdk's files_upload_v2 gets an upload URL on the simulator, POSTs the raw bytes
    to it and completes the upload: the file is shared in the DM with its title and bytes."""
    answer = client.files_upload_v2(
        channel="DU1", file=CHART, filename="chart.png", title="Week 50", request_file_info=False
    )
    assert answer["file"]["title"] == "Week 50"
    (issued,) = sim.calls_to("files.getUploadURLExternal")
    assert issued.params["filename"] == "chart.png"
    assert int(issued.params["length"]) == len(CHART)
    (posted,) = sim.calls_to("upload_url")
    assert posted.params["length"] == len(CHART)
    (completed,) = sim.calls_to("files.completeUploadExternal")
    assert completed.params["channel_id"] == "DU1"
    assert completed.params["files"] == [{"id": answer["file"]["id"], "title": "Week 50"}]
    (shared,) = sim.files_in("U1")
    assert (shared.filename, shared.title, shared.channel) == ("chart.png", "Week 50", "DU1")
    assert shared.content == CHART and shared.length == len(CHART)
    assert sim.files == [shared] and sim.files_in("U2") == []


def test_get_upload_url_requires_filename_and_length(client: WebClient, sim: SlackSim) -> None:
    """filename and length are required (invalid_arguments, naming the field); a length of 0
    is missing_argument; a good call answers an upload URL on the simulator and a file id."""
    for missing in ("filename", "length"):
        data = {"filename": "chart.png", "length": 10}
        del data[missing]
        with pytest.raises(SlackApiError) as refused:
            client.api_call("files.getUploadURLExternal", data=data)
        assert refused.value.response["error"] == "invalid_arguments"
        assert missing in str(refused.value.response["response_metadata"]["messages"])
    with pytest.raises(SlackApiError) as empty:
        _issue(client, length=0)
    assert empty.value.response["error"] == "missing_argument"
    with pytest.raises(SlackApiError) as garbled:
        _issue(client, length="ten")
    assert garbled.value.response["error"] == "invalid_arguments"
    issued = _issue(client)
    assert issued["upload_url"].startswith(sim.url.removesuffix("api/") + "upload/")
    assert issued["file_id"].startswith("F")
    assert sim.files == []


def test_upload_url_takes_raw_bytes_and_refuses_unknown_urls(
    client: WebClient, sim: SlackSim
) -> None:
    """The upload URL takes the raw bytes (answering 200 "OK - n"); an URL never issued is
    refused with 404; bytes differing from the declared length are kept as sent (Slack
    documents no check), the declared length beside them."""
    issued = _issue(client, length=5)
    assert _post_bytes(issued["upload_url"], b"abc") == (200, "OK - 3")
    assert _post_bytes(issued["upload_url"].rstrip("/") + "x", b"abc")[0] == 404
    assert _post_bytes(sim.url.removesuffix("api/") + "upload/v1/nope", b"abc")[0] == 404
    assert _complete(client, [{"id": issued["file_id"]}], channel_id="DU2")["ok"]
    (shared,) = sim.files_in("U2")
    assert (shared.content, shared.length, shared.title) == (b"abc", 5, "chart.png")
    assert [c.failed for c in sim.calls_to("upload_url")] == [False, True, True]


def test_complete_refuses_a_user_id(client: WebClient, sim: SlackSim) -> None:
    """channel_id must be a conversation id (C, G, D or Z): a user id is refused with Slack's
    invalid_arguments and its regex message, and nothing is shared."""
    issued = _issue(client)
    _post_bytes(issued["upload_url"], CHART)
    for user_id in ("U1", "W1"):
        refused = _complete(client, [{"id": issued["file_id"], "title": "t"}], channel_id=user_id)
        assert refused["error"] == "invalid_arguments"
        assert "^[CGDZ]" in refused["response_metadata"]["messages"][0]
    assert sim.files == []
    assert _complete(client, [{"id": issued["file_id"], "title": "t"}], channel_id="DU1")["ok"]


def test_complete_needs_files_issued_and_uploaded_once(client: WebClient, sim: SlackSim) -> None:
    """Every file must have been issued and uploaded (file_not_found otherwise, and none of
    the files is shared); a completed file cannot be completed again; files is required."""
    uploaded, waiting = _issue(client), _issue(client)
    _post_bytes(uploaded["upload_url"], CHART)
    assert _complete(client, [{"id": "F0NEVER"}], channel_id="DU1")["error"] == "file_not_found"
    both = [{"id": uploaded["file_id"]}, {"id": waiting["file_id"]}]
    assert _complete(client, both, channel_id="DU1")["error"] == "file_not_found"
    assert sim.files == []
    assert _complete(client, [{"id": uploaded["file_id"]}], channel_id="DU1")["ok"]
    again = _complete(client, [{"id": uploaded["file_id"]}], channel_id="DU1")
    assert again["error"] == "file_not_found"
    assert _post_bytes(uploaded["upload_url"], CHART)[0] == 404  # the ticket is used up
    assert len(sim.files) == 1
    for files in ("", "not json", "[]", '[{"title": "no id"}]'):
        assert _complete(client, files, channel_id="DU1")["error"] == "invalid_arguments"


def test_complete_checks_the_channel(client: WebClient, sim: SlackSim) -> None:
    """An unknown or hidden channel is channel_not_found, one without the bot not_in_channel;
    without channel_id the file is completed but shared nowhere (private)."""
    issued = _issue(client)
    _post_bytes(issued["upload_url"], CHART)
    files = [{"id": issued["file_id"], "title": "t"}]
    assert _complete(client, files, channel_id="C0NOPE")["error"] == "channel_not_found"
    assert _complete(client, files, channel_id="DUNKNOWN")["error"] == "channel_not_found"
    assert _complete(client, files, channel_id="C0SECRET")["error"] == "channel_not_found"
    assert _complete(client, files, channel_id="C0GENERAL")["error"] == "not_in_channel"
    sim.join("C0GENERAL", sim.bot_user_id)
    assert _complete(client, files, channel_id="C0GENERAL")["ok"]
    assert [f.channel for f in sim.files_in("C0GENERAL")] == ["C0GENERAL"]
    private = _issue(client)
    _post_bytes(private["upload_url"], CHART)
    assert _complete(client, [{"id": private["file_id"]}])["ok"]
    assert [f.channel for f in sim.files] == ["C0GENERAL", None]


def test_upload_steps_fail_on_demand(client: WebClient, sim: SlackSim) -> None:
    """fail_next applies to each step: a 429 from files.getUploadURLExternal, a 500 from the
    upload URL (slack_sdk raises), an error from files.completeUploadExternal; nothing is
    shared until a clean run."""
    upload = partial(client.files_upload_v2, channel="DU1", file=CHART, filename="chart.png")
    sim.fail_next("files.getUploadURLExternal", status=429, retry_after=3)
    with pytest.raises(SlackApiError) as limited:
        upload()
    assert limited.value.response.status_code == 429
    sim.fail_next("upload_url", status=500)
    with pytest.raises(urllib.error.HTTPError):
        upload()
    sim.fail_next("files.completeUploadExternal", error="not_in_channel")
    with pytest.raises(SlackApiError):
        upload()
    assert sim.files == []
    upload()
    assert len(sim.files_in("U1")) == 1


class TestHistory:
    def post(self, client: WebClient, channel: str, n: int, **extra: Any) -> list[str]:
        return [
            client.chat_postMessage(channel=channel, text=f"m{i}", **extra)["ts"] for i in range(n)
        ]

    def test_newest_first_paged_with_a_cursor(self, client):
        """conversations.history gives a DM's messages newest first, `limit` at a time."""
        sent = self.post(client, "U1", 5)
        first = client.conversations_history(channel="DU1", limit=2)
        assert [m["ts"] for m in first["messages"]] == sent[:2:-1]
        assert first["has_more"] is True
        cursor = first["response_metadata"]["next_cursor"]
        rest = client.conversations_history(channel="DU1", limit=10, cursor=cursor)
        assert [m["ts"] for m in rest["messages"]] == sent[2::-1]
        assert rest["has_more"] is False and rest["response_metadata"]["next_cursor"] == ""

    def test_oldest_and_latest_bound_the_range(self, sim, client):
        """`oldest` and `latest` are exclusive unless `inclusive` is set."""
        sim.join("C0GENERAL", sim.bot_user_id)
        sent = self.post(client, "C0GENERAL", 4)
        between = client.conversations_history(channel="C0GENERAL", oldest=sent[0], latest=sent[3])
        assert [m["ts"] for m in between["messages"]] == [sent[2], sent[1]]
        inclusive = client.conversations_history(
            channel="C0GENERAL", oldest=sent[1], latest=sent[2], inclusive=True
        )
        assert [m["ts"] for m in inclusive["messages"]] == [sent[2], sent[1]]

    def test_metadata_only_when_asked(self, client):
        """A message's metadata is kept, and returned only with include_all_metadata."""
        metadata = {"event_type": "thing_done", "event_payload": {"id": "42"}}
        self.post(client, "U2", 1, metadata=metadata)
        (plain,) = client.conversations_history(channel="DU2")["messages"]
        assert "metadata" not in plain
        (full,) = client.conversations_history(channel="DU2", include_all_metadata=True)["messages"]
        assert full["metadata"] == metadata

    def test_missing_scope(self, sim, client):
        """Without im:history (or im:write to open a DM) Slack answers missing_scope, naming
        the scope needed."""
        sim.scopes = {"chat:write"}
        with pytest.raises(SlackApiError) as refused:
            client.conversations_history(channel="DU1")
        assert refused.value.response["error"] == "missing_scope"
        assert refused.value.response["needed"] == "im:history"
        with pytest.raises(SlackApiError) as not_opened:
            client.conversations_open(users="U1")
        assert not_opened.value.response["needed"] == "im:write"
        sim.scopes = {"im:history", "channels:history"}
        assert client.conversations_history(channel="DU1")["ok"]

    def test_channels_need_their_scope_and_membership(self, sim, client):
        """A channel's history takes channels:history (groups:history when private), and the
        bot must be in it."""
        sim.scopes = {"im:history"}
        with pytest.raises(SlackApiError) as refused:
            client.conversations_history(channel="C0GENERAL")
        assert refused.value.response["needed"] == "channels:history"
        sim.scopes = None
        with pytest.raises(SlackApiError) as outside:
            client.conversations_history(channel="C0GENERAL")
        assert outside.value.response["error"] == "not_in_channel"
