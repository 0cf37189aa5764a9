"""Web API calls over kept-alive connections (bot/runtime/transport.py), against the
simulated Slack's real HTTP server."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import threading
import urllib.error

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.demo.harness import free_port
from bot.demo.slack import SimUser, SlackSim
from bot.runtime import transport
from bot.runtime.transport import Connections, KeptAliveClient


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sim():
    with SlackSim() as sim:
        sim.add_user(SimUser("U1", "ann", "Ann"))
        yield sim


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(sim: SlackSim, clock: Clock) -> KeptAliveClient:
    """A client with connections of its own (an injected clock), none left open after, and
    no retry handler: a call on a dead connection would fail, not be tried again."""
    client = KeptAliveClient(token=sim.bot_token, base_url=sim.url, retry_handlers=[])
    client.connections = Connections(clock=clock)
    yield client
    client.connections.clear()


class TestReuse:
    def test_calls_one_after_another_share_one_connection(self, sim, client):
        for i in range(5):
            sent = client.chat_postMessage(channel="U1", text=f"message {i}")
            assert sent["message"]["text"] == f"message {i}"
        assert sim.connections == 1
        assert len(sim.calls_to("chat.postMessage")) == 5

    def test_slack_sdks_own_client_opens_one_per_call(self, sim):
        """What this replaces, measured on the same server."""
        plain = WebClient(token=sim.bot_token, base_url=sim.url)
        for _ in range(3):
            plain.auth_test()
        assert sim.connections == 3

    def test_a_connection_the_server_closed_is_not_reused(self, sim, client):
        client.auth_test()
        sim.drop_connections()
        assert client.auth_test()["ok"] is True
        assert sim.connections == 2

    def test_a_connection_idle_too_long_is_replaced(self, sim, client, clock):
        client.auth_test()
        clock.now += transport.MAX_IDLE - 1
        client.auth_test()
        assert sim.connections == 1
        clock.now += transport.MAX_IDLE + 1
        client.auth_test()
        assert sim.connections == 2

    def test_the_oldest_idle_connections_beyond_the_limit_are_closed(self, sim, clock):
        connections = Connections(clock=clock, per_address=2)
        host, port = sim.url.split("//")[1].split("/")[0].split(":")
        address = ("http", host, int(port))
        taken = [connections.take(address, timeout=5, context=None) for _ in range(3)]
        for conn in taken:
            conn.connect()
            clock.now += 1
            connections.give_back(address, conn)
        assert taken[0].sock is None  # the oldest, closed
        # The two kept, the most recent first, still open.
        assert connections.take(address, timeout=5, context=None) is taken[2]
        assert connections.take(address, timeout=5, context=None) is taken[1]
        assert taken[1].sock is not None and taken[2].sock is not None
        taken[1].close()
        taken[2].close()

    def test_threads_at_once_each_get_their_own_answer(self, sim, client):
        answers: dict[tuple[int, int], str] = {}
        failures: list[BaseException] = []

        def send(thread: int) -> None:
            try:
                for i in range(8):
                    text = f"thread {thread} message {i}"
                    answers[thread, i] = client.chat_postMessage(channel="U1", text=text)[
                        "message"
                    ]["text"]
            except BaseException as exc:  # reported below
                failures.append(exc)

        threads = [threading.Thread(target=send, args=(t,)) for t in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert failures == []
        assert answers == {(t, i): f"thread {t} message {i}" for t in range(12) for i in range(8)}
        assert sim.connections <= 12


class TestTls:
    def test_https_calls_share_one_connection(self, tmp_path, clock):
        """Slack is HTTPS: one handshake for many calls, where slack_sdk's own client makes
        one per call."""
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip("no openssl to make a test certificate")
        cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
        subprocess.run(
            [
                *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
                *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
                *("-addext", "subjectAltName=IP:127.0.0.1"),
            ],
            check=True,
            capture_output=True,
        )
        served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        served.load_cert_chain(cert, key)
        trusted = ssl.create_default_context(cafile=str(cert))
        with SlackSim(tls=served) as sim:
            assert sim.url.startswith("https://")
            kept = KeptAliveClient(token=sim.bot_token, base_url=sim.url, ssl=trusted)
            kept.connections = Connections(clock=clock)
            assert [kept.auth_test()["ok"] for _ in range(3)] == [True] * 3
            assert sim.connections == 1
            plain = WebClient(token=sim.bot_token, base_url=sim.url, ssl=trusted)
            assert [plain.auth_test()["ok"] for _ in range(3)] == [True] * 3
            assert sim.connections == 4
            kept.connections.clear()


class TestAnswersAsSlackSdk:
    def test_a_429_carries_its_retry_after_and_keeps_the_connection(self, sim, client):
        sim.fail_next("chat.postMessage", status=429, retry_after=7)
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel="U1", text="hello")
        assert raised.value.response.status_code == 429
        assert raised.value.response.headers["Retry-After"] == "7"
        assert raised.value.response["error"] == "ratelimited"
        assert client.chat_postMessage(channel="U1", text="again")["ok"] is True
        assert sim.connections == 1

    def test_slack_sdks_rate_limit_handler_retries_over_it(self, sim, client):
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
        sim.fail_next("chat.postMessage", status=429, retry_after=0)
        assert client.chat_postMessage(channel="U1", text="hello")["ok"] is True
        assert len(sim.calls_to("chat.postMessage")) == 2

    def test_a_500_is_an_api_error_with_its_status(self, sim, client):
        sim.fail_next("chat.postMessage", status=500)
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel="U1", text="hello")
        assert raised.value.response.status_code == 500
        assert raised.value.response["error"] == "internal_error"

    def test_an_api_error_is_read_from_the_body(self, sim, client):
        sim.fail_next("chat.postMessage", error="channel_not_found")
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel="U1", text="hello")
        assert raised.value.response.status_code == 200
        assert raised.value.response["error"] == "channel_not_found"

    def test_nothing_listening_is_a_url_error_as_with_urllib(self, clock):
        url = f"http://127.0.0.1:{free_port()}/api/"
        kept = KeptAliveClient(token="xoxb-1", base_url=url, retry_handlers=[])
        kept.connections = Connections(clock=clock)
        plain = WebClient(token="xoxb-1", base_url=url, retry_handlers=[])
        for client in (kept, plain):
            with pytest.raises(urllib.error.URLError):
                client.auth_test()

    def test_slack_gone_is_not_answered_over_a_kept_connection(self, client):
        sim = SlackSim().start()
        client.base_url = sim.url
        client.token = sim.bot_token
        client.auth_test()
        sim.stop()
        with pytest.raises(urllib.error.URLError):
            client.auth_test()

    def test_a_proxy_goes_through_slack_sdks_own_path(self, sim, clock):
        """With a proxy, urllib's opener as before (here a proxy that is not there)."""
        client = KeptAliveClient(
            token=sim.bot_token,
            base_url=sim.url,
            proxy=f"http://127.0.0.1:{free_port()}",
            retry_handlers=[],
        )
        client.connections = Connections(clock=clock)
        with pytest.raises(urllib.error.URLError):
            client.auth_test()
        assert sim.connections == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_does_not_use_its_parents_connections(sim):
    client = KeptAliveClient(token=sim.bot_token, base_url=sim.url)
    client.auth_test()
    held = sum(len(queue) for queue in transport.CONNECTIONS._idle.values())
    assert held >= 1
    pid = os.fork()
    if pid == 0:  # the child: nothing idle, and a call of its own opens its own connection
        code = 0
        try:
            if transport.CONNECTIONS._idle or not client.auth_test()["ok"]:
                code = 1
        except BaseException:  # the exit code says it
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sim.connections == 2
    assert client.auth_test()["ok"] is True  # the parent's connection still works
    assert sim.connections == 2
    transport.CONNECTIONS.clear()
