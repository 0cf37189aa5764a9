"""End to end: the real `symmetry serve` process, signed requests, the simulated Slack."""

from __future__ import annotations

import gc
import json
import time

import pytest
from sqlalchemy import func, select

from bot.demo import harness
from bot.demo.slack import SimUser, SlackClientSim, sign
from bot.runtime import usage
from storage.models import SlackUser
from tests.conftest import (
    ADMIN,
    EMPLOYEE,
    MANAGER,
    SALARIEE,
    SIGNING_SECRET,
    RunningServer,
    answer_of,
)
from tests.irritant_helpers import big_team, open_modal


def all_text(payload: dict) -> str:
    """Every text of a message or view, joined, for assertions on content."""
    return json.dumps(payload, ensure_ascii=False)


class TestHealth:
    def test_healthz_says_ok(self, server):
        """/healthz answers 200 with {"status": "ok"} when the database answers."""
        status, body = server.get("/healthz")
        assert status == 200
        assert json.loads(body) == {"status": "ok"}

    def test_unknown_path_is_404(self, server):
        """A path the server does not serve answers 404."""
        assert server.get("/nope")[0] == 404


class TestWarmUp:
    def test_not_healthy_until_warm_then_no_auth_test_per_request(self, db, slack, tmp_path):
        """A fresh server answers /healthz 503 while it warms up (here Slack's auth.test takes
        1.5 s), then 200; by then it has authorized once, and 20 commands sent at once make
        no auth.test of their own (Bolt's lazy authorization made one each)."""
        from concurrent.futures import ThreadPoolExecutor

        slack.slow("auth.test", 1.5)
        port = harness.free_port()
        env = harness.server_env(db.url, slack, port)
        process = harness.start_server(env, tmp_path, port, healthy=False)
        try:
            server = RunningServer(
                process, SlackClientSim(f"{process.base_url}/slack/events", SIGNING_SECRET, slack)
            )
            status, body = server.get("/healthz")
            assert (status, json.loads(body)) == (503, {"status": "starting"})
            deadline = time.monotonic() + 30
            while server.get("/healthz")[0] != 200:
                assert time.monotonic() < deadline, "never became healthy"
                time.sleep(0.05)
            assert len(slack.calls_to("auth.test")) == 1
            people = [EMPLOYEE, SALARIEE, MANAGER, ADMIN] * 5
            with ThreadPoolExecutor(max_workers=len(people)) as pool:
                responses = list(
                    pool.map(lambda who: server.platform.command(who, "/symmetry", "help"), people)
                )
            assert [r.status for r in responses] == [200] * len(people)
            for response in responses:  # first contact: each answer comes after the ack
                assert "/irritant" in all_text(answer_of(response, slack))
            assert len(slack.calls_to("auth.test")) == 1
        finally:
            slack.slow("auth.test", None)
            process.stop()


class TestHelp:
    def test_known_person_gets_help_in_the_ack(self, server, http_platform, db):
        """A person whose profile is cached gets help in their language within 3 s, in the ack."""
        answer_of(http_platform.command(EMPLOYEE, "/symmetry", "help"), server.platform.sim)
        response = http_platform.command(EMPLOYEE, "/symmetry", "help")
        assert response.status == 200
        assert response.elapsed < 3
        assert "/irritant" in response.body
        assert "Symmetry" in response.json()["text"]

    def test_help_in_the_ack_is_the_whole_message_as_json(self, server, http_platform, db):
        """The help sent as it was kept (encoded once): JSON, UTF-8, ephemeral, the same
        message as the one rendered for a first contact, in the person's language."""
        answer_of(http_platform.command(MANAGER, "/symmetry", "help"), server.platform.sim)
        response = http_platform.command(MANAGER, "/symmetry", "help")
        assert response.status == 200
        headers = {name.lower(): value for name, value in response.headers.items()}
        assert headers["content-type"].startswith("application/json")
        assert response.json() == usage.help_message("fr")
        assert response.json()["response_type"] == "ephemeral"
        assert "é" in response.body  # UTF-8 as it is, read back as such

    def test_first_contact_answers_in_the_persons_language(self, server, http_platform, slack):
        """Someone never seen is acked at once, then answered in French via response_url."""
        slack.add_user(
            SimUser("UFRESH01", "lea", "Léa Nouvelle", tz="Europe/Paris", locale="fr-FR")
        )
        response = http_platform.command("UFRESH01", "/symmetry", "")
        assert response.status == 200
        assert response.elapsed < 3
        answer = slack.wait_for("response_url")[0].params
        assert "signaler" in all_text(answer).lower()

    def test_unknown_subcommand_answers_with_help(self, server, http_platform, slack):
        """An unknown sub-command says so and shows help."""
        answer = answer_of(http_platform.command(EMPLOYEE, "/symmetry", "frobnicate"), slack)
        assert "frobnicate" in all_text(answer)
        assert "/irritant" in all_text(answer)


class TestRequestVerification:
    def test_forged_signature_is_rejected(self, server, db):
        """A request signed with the wrong secret gets 401 and changes nothing."""
        body = "command=%2Fsymmetry&text=help&user_id=UEMPLO01&team_id=T0SYMMETRY"
        response = server.platform.post_raw(body, sign("not-the-secret", body))
        assert response.status == 401
        with db.sessions() as session:
            assert session.scalar(select(func.count()).select_from(SlackUser)) == 0

    def test_stale_timestamp_is_rejected(self, server):
        """A correctly signed request older than 5 minutes gets 401."""
        body = "command=%2Fsymmetry&text=help&user_id=UEMPLO01&team_id=T0SYMMETRY"
        stale = int(time.time()) - 6 * 60
        response = server.platform.post_raw(body, sign(SIGNING_SECRET, body, stale))
        assert response.status == 401

    def test_malformed_body_is_4xx_and_server_keeps_serving(self, server, http_platform, slack):
        """A signed but unparseable body gets a 4xx; the next request is served normally."""
        body = '{"type": "event_callback", "event": '
        headers = sign(SIGNING_SECRET, body)
        headers["Content-Type"] = "application/json"
        response = server.platform.post_raw(body, headers)
        assert 400 <= response.status < 500
        assert server.get("/healthz")[0] == 200
        response = http_platform.command(EMPLOYEE, "/symmetry", "help")
        assert response.status == 200
        # At first contact the answer comes after the ack: wait for it, or it could reach the
        # simulated Slack during the next test (and be counted among its answers).
        assert "/irritant" in all_text(answer_of(response, slack))

    @pytest.mark.parametrize(
        "body",
        ["payload=%5B1%2C2%5D", "payload=42", "payload=%22text%22", "payload=null", "[]", "null"],
    )
    def test_a_payload_that_is_not_an_object_is_4xx(self, server, body):
        """A signed body, or a form's payload, that is JSON but not an object (a list, a
        number…) gets a 4xx, not a 500, and the server keeps serving."""
        headers = sign(SIGNING_SECRET, body)
        form = body.startswith("payload=")
        headers["Content-Type"] = f"application/{'x-www-form-urlencoded' if form else 'json'}"
        response = server.platform.post_raw(body, headers)
        assert 400 <= response.status < 500, response.status
        assert server.get("/healthz")[0] == 200


class TestSlowSlack:
    def test_a_slow_slack_call_does_not_delay_other_acks(self, server, http_platform, slack):
        """While more listeners than the server has request threads wait on a 4 s Slack API
        after their ack, other commands are still acked fast: the listeners past their ack do
        not hold every listener thread."""
        from concurrent.futures import ThreadPoolExecutor

        from bot.runtime.server import SERVER_THREADS

        waiting = SERVER_THREADS + 16
        answer_of(http_platform.command(EMPLOYEE, "/symmetry", "help"), slack)  # meet the person
        answered_before = len(slack.calls_to("response_url"))
        slack.slow("users.info", 4.0)
        try:
            with ThreadPoolExecutor(max_workers=waiting + 5) as pool:
                # Unknown people: each ack is followed by a users.info call that takes 4 s.
                # With only as many listener threads as request threads, the last 16 acks
                # waited for a thread until Bolt gave up (3 s, then 404).
                slow = [
                    pool.submit(http_platform.command, f"USLOW{i:04d}", "/symmetry", "help")
                    for i in range(waiting)
                ]
                assert [f.result().status for f in slow] == [200] * waiting
                assert max(f.result().elapsed for f in slow) < 1.5
                fast = [
                    pool.submit(http_platform.command, EMPLOYEE, "/symmetry", "help")
                    for _ in range(5)
                ]
                fast_times = [f.result().elapsed for f in fast]
            assert len(slack.calls_to("response_url")) == answered_before  # all in users.info
            assert max(fast_times) < 1.0, fast_times
            # Let the slow listeners finish (users.info, then their answer), so that nothing
            # of this test reaches the simulated Slack during the next one.
            slack.wait_for("response_url", count=answered_before + waiting, timeout=30)
        finally:
            slack.slow("users.info", None)


class TestKeptAliveConnections:
    def test_the_listeners_calls_to_slack_reuse_their_connections(self, server, db, slack):
        """Each /irritant opens its modal over a connection kept from the call before: no
        connection (no TCP or TLS handshake, with Slack) per call."""
        big_team(db, slack)
        open_modal(server.platform, slack, EMPLOYEE)  # the first may open one
        before = slack.connections
        for person in (EMPLOYEE, MANAGER, SALARIEE, EMPLOYEE):
            view = open_modal(server.platform, slack, person)
            assert view["callback_id"] == "irritant_report"
        assert slack.connections == before


class TestHealthUnavailable:
    def test_healthz_is_503_when_the_database_does_not_answer(self, tmp_path):
        """/healthz answers 503 when the database cannot be reached."""
        from wsgiref.util import setup_testing_defaults

        from bot.runtime.server import wsgi_app
        from storage.db import make_engine

        engine = make_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
        application = wsgi_app(app=None, engine=engine)  # type: ignore[arg-type]
        environ: dict = {"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"}
        setup_testing_defaults(environ)
        seen: list[str] = []
        body = b"".join(application(environ, lambda status, headers: seen.append(status)))
        assert seen == ["503 Service Unavailable"]
        assert json.loads(body) == {"status": "unavailable"}


class TestGracefulStop:
    def test_sigterm_stops_the_server_cleanly(self, db, slack, tmp_path):
        """SIGTERM makes `symmetry serve` finish and exit 0 well within the platforms' 30 s."""
        from tests.conftest import free_port, server_env, start_server

        port = free_port()
        running = start_server(server_env(db.url, slack, port), tmp_path, port, slack)
        started = time.monotonic()
        running.process.terminate()
        assert running.process.wait(timeout=30) == 0
        assert time.monotonic() - started < 30


class TestInFlight:
    def test_the_server_counts_the_slack_requests_it_is_handling(self, tmp_path):
        """`IN_FLIGHT` (which tells `KeptAck` whether the server is busy) counts a Slack request
        while Bolt handles it, and no longer once it is answered, a failed one included."""
        import io
        import urllib.parse
        from wsgiref.util import setup_testing_defaults

        from slack_bolt import App
        from slack_bolt.authorization import AuthorizeResult

        from bot.runtime.app import IN_FLIGHT
        from bot.runtime.server import wsgi_app
        from storage.db import make_engine

        seen: list[int] = []
        bolt = App(
            signing_secret="unused",
            request_verification_enabled=False,
            authorize=lambda **_: AuthorizeResult(
                enterprise_id=None, team_id="T1", bot_token="xoxb-1", bot_user_id="U1"
            ),
        )

        @bolt.command("/count")
        def count(ack):
            seen.append(IN_FLIGHT.count)
            ack("counted")

        @bolt.command("/fail")
        def fail(ack):
            raise RuntimeError("before its ack")

        engine = make_engine(f"sqlite:///{tmp_path}/db.sqlite")
        application = wsgi_app(bolt, engine)
        for command in ("/count", "/fail"):
            body = urllib.parse.urlencode(
                {"command": command, "team_id": "T1", "user_id": "U2", "text": ""}
            ).encode()
            environ: dict = {
                "PATH_INFO": "/slack/events",
                "REQUEST_METHOD": "POST",
                "CONTENT_TYPE": "application/x-www-form-urlencoded",
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": io.BytesIO(body),
            }
            setup_testing_defaults(environ)
            statuses: list[str] = []
            answer = b"".join(
                application(environ, lambda status, _, kept=statuses: kept.append(status))
            )
            if command == "/count":
                assert statuses == ["200 OK"] and b"counted" in answer
            else:
                assert statuses and not statuses[0].startswith("200")
            assert IN_FLIGHT.count == 0
        assert seen == [1]
        engine.dispose()


def test_a_worker_collects_garbage_rarely_once_loaded():
    """`GunicornServer.load` (in each worker, after the fork) builds the app, freezes what it
    loaded out of the collector's reach and sets the worker's thresholds: a young collection
    stops every request in flight, and at Python's 700 allocations one ran every few commands."""
    from bot.runtime.server import GC_THRESHOLDS, GunicornServer

    built = []
    server = GunicornServer(lambda: built.append(object()) or (lambda environ, respond: []), port=0)
    gc.collect()  # what `load` freezes stays frozen: garbage left by earlier tests too
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    try:
        server.load()
        assert built and gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > frozen
    finally:
        gc.set_threshold(*before)  # no unfreezing: it would release what conftest froze too
