"""Web API calls over kept-alive connections (bot/runtime/transport.py), against the
simulated Slack's real HTTP server."""

from __future__ import annotations

import gzip
import os
import shutil
import ssl
import subprocess
import threading
import time
import urllib.error
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator

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
        address = ("http", host, int(port), None)
        taken = [connections.take(address, timeout=5) for _ in range(3)]
        for conn in taken:
            conn.connect()
            clock.now += 1
            connections.give_back(address, conn)
        assert taken[0].sock is None  # the oldest, closed
        # The two kept, the most recent first, still open.
        assert connections.take(address, timeout=5) is taken[2]
        assert connections.take(address, timeout=5) is taken[1]
        assert taken[1].sock is not None and taken[2].sock is not None
        taken[1].close()
        taken[2].close()

    def test_threads_at_once_each_get_their_own_answer(self, sim, client):
        client.timeout = 5  # two calls on one connection would fail, not hang
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


@pytest.fixture
def certificate(tmp_path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (made here, for a day)."""
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
    return cert, key


@pytest.fixture
def https_sim(certificate) -> Iterator[SlackSim]:
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(*certificate)
    with SlackSim(tls=served) as sim:
        yield sim


class TestTls:
    def test_https_calls_share_one_connection(self, https_sim, certificate, clock):
        """Slack is HTTPS: one handshake for many calls, where slack_sdk's own client makes
        one per call."""
        sim = https_sim
        trusted = ssl.create_default_context(cafile=str(certificate[0]))
        assert sim.url.startswith("https://")
        kept = KeptAliveClient(token=sim.bot_token, base_url=sim.url, ssl=trusted)
        kept.connections = Connections(clock=clock)
        assert [kept.auth_test()["ok"] for _ in range(3)] == [True] * 3
        assert sim.connections == 1
        plain = WebClient(token=sim.bot_token, base_url=sim.url, ssl=trusted)
        assert [plain.auth_test()["ok"] for _ in range(3)] == [True] * 3
        assert sim.connections == 4
        kept.connections.clear()

    def test_a_connection_is_not_lent_to_a_client_that_checks_certificates(self, https_sim, clock):
        """A connection opened by a client that does not check the certificate would let one
        that does talk to a server it refuses."""
        sim = https_sim
        shared = Connections(clock=clock)
        lax = KeptAliveClient(
            token=sim.bot_token,
            base_url=sim.url,
            ssl=ssl._create_unverified_context(),
            retry_handlers=[],
        )
        strict = KeptAliveClient(token=sim.bot_token, base_url=sim.url, retry_handlers=[])
        lax.connections = strict.connections = shared
        assert lax.auth_test()["ok"] is True
        with pytest.raises(urllib.error.URLError) as raised:
            strict.auth_test()  # the default context: a self-signed certificate is refused
        assert isinstance(raised.value.reason, ssl.SSLCertVerificationError)
        shared.clear()


class _NoWait(RetryIntervalCalculator):
    def calculate_sleep_duration(self, current_attempt: int) -> float:
        return 0.0


class TestTimeouts:
    @pytest.mark.parametrize("kind", [KeptAliveClient, WebClient])
    def test_an_answer_too_slow_is_a_timeout_not_sent_again(self, sim, clock, kind):
        """The request reached Slack: the call fails as a timeout, which slack_sdk's
        connection handler (the listeners' clients have one) does not send again, as with
        slack_sdk's own client."""
        client = kind(
            token=sim.bot_token,
            base_url=sim.url,
            timeout=0.3,
            retry_handlers=[
                ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=_NoWait())
            ],
        )
        client.connections = Connections(clock=clock)
        sim.slow("chat.postMessage", 0.6)
        with pytest.raises(TimeoutError):
            client.chat_postMessage(channel="U1", text="hello")
        sim.wait_for("chat.postMessage", count=1, timeout=5)
        time.sleep(0.5)  # a second try would have been sent at once, and answered by now
        assert len(sim.calls_to("chat.postMessage")) == 1
        client.connections.clear()

    def test_a_kept_connection_takes_the_timeout_of_the_call(self, sim, client):
        client.timeout = 5
        client.auth_test()
        client.timeout = 0.3
        sim.slow("auth.test", 0.6)
        with pytest.raises(TimeoutError):
            client.auth_test()
        assert sim.connections == 1  # the kept one, with the shorter timeout


class _Gzip(BaseHTTPRequestHandler):
    """A server answering every POST with gzip bytes, as admin.analytics.getFile does."""

    protocol_version = "HTTP/1.1"
    body = gzip.compress(b'{"team_id": "T1"}\n')

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_gzip_answer_is_given_as_bytes_as_by_slack_sdk(clock):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gzip)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api/"
        kept = KeptAliveClient(token="xoxp-1", base_url=url, retry_handlers=[])
        kept.connections = Connections(clock=clock)
        plain = WebClient(token="xoxp-1", base_url=url, retry_handlers=[])
        for client in (kept, plain):
            answer = client.admin_analytics_getFile(type="member", date="2026-12-01")
            assert answer.data == _Gzip.body
        kept.connections.clear()
    finally:
        server.shutdown()
        server.server_close()


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
