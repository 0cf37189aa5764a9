"""Observability, end to end: the JSON log lines of real `symmetry serve` and `symmetry tick`
processes (a request id on each request's lines, no secret, no user text, no anonymous
reporter), and `GET /metrics` with and without its token."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.demo import harness
from bot.demo.slack import SlackClientSim, sign
from bot.runtime import logs
from tests.conftest import (
    EMPLOYEE,
    SECRET_KEY,
    SIGNING_SECRET,
    answer_of,
    free_port,
    server_env,
    start_server,
    stop_server,
)
from tests.irritant_helpers import big_team, irritants, report, wait_until

METRICS_TOKEN = "metrics-token-of-the-tests-0123456789"
REPORT_TEXT = "The coffee machine in the back office leaks on the floor"
TUESDAY_10_PARIS = "2026-01-13T10:00:00+01:00"


def json_lines(path: Path) -> list[dict]:
    """Every whole line of a log (one still being written aside), each parsed as JSON (a line
    that is not fails the test)."""
    text = path.read_text(encoding="utf-8")
    parsed = []
    for line in text[: text.rfind("\n") + 1].splitlines():
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
    return parsed


def sample(body: str, name: str) -> float:
    """The value of one sample of a Prometheus text exposition."""
    (value,) = [line.split()[-1] for line in body.splitlines() if line.startswith(name + " ")]
    return float(value)


def get(base_url: str, path: str, token: str | None = None) -> tuple[int, str, dict]:
    request = urllib.request.Request(base_url + path)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


@pytest.fixture(scope="module")
def metrics_dir(database, tmp_path_factory) -> Path:
    """The metered server's prometheus-client multiprocess directory, which a tick can share
    (one per backend)."""
    return tmp_path_factory.mktemp("metrics")


@pytest.fixture(scope="module")
def metered_process(database, sim, metrics_dir, tmp_path_factory):
    """`symmetry serve` with SYMMETRY_METRICS_TOKEN set, its output (stdout and stderr) to a
    file: not a terminal; one for the module's tests on each backend."""
    port = free_port()
    env = server_env(
        database.url,
        sim,
        port,
        SYMMETRY_METRICS_TOKEN=METRICS_TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    running = start_server(env, tmp_path_factory.mktemp("metered"), port, sim)
    yield running
    stop_server(running)


@pytest.fixture
def metered(metered_process, db, slack):
    """The metered server, with an empty database and a freshly seeded workspace. Its
    counters go on from the module's earlier tests: a test compares a scrape with the one
    before (`count`)."""
    return metered_process


def count(base_url: str, name: str) -> float:
    """A counter or histogram count scraped from /metrics now (0 before its first sample)."""
    body = get(base_url, "/metrics", METRICS_TOKEN)[1]
    found = [line.split()[-1] for line in body.splitlines() if line.startswith(name + " ")]
    return float(found[0]) if found else 0.0


def wait_for_line(path: Path, request_id: str) -> list[dict]:
    """The log's lines once the access line of request `request_id` is in it (gunicorn
    writes it after the response)."""
    deadline = time.monotonic() + 10
    while True:
        lines = json_lines(path)
        if any(line.get("request_id") == request_id for line in lines):
            return lines
        assert time.monotonic() < deadline, f"no line of request {request_id}"
        time.sleep(0.02)


class TestServerLogs:
    def test_every_line_is_json_with_request_ids_and_nothing_secret(self, metered, db, slack):
        """Through an anonymous /irritant report (signed requests), every line the server
        writes, gunicorn's included, is JSON; each request's lines carry its id (the one in
        X-Request-Id); no line holds a secret, the report's text or its reporter's user ID."""
        earlier = len(json_lines(metered.log_path))  # the module's earlier tests' lines
        big_team(db, slack)
        response = report(metered.platform, slack, EMPLOYEE, description=REPORT_TEXT)
        assert response.status == 200
        wait_until(lambda: len(irritants(db)) == 1, timeout=20)
        assert irritants(db)[0].anonymous
        status, _, headers = get(metered.base_url, "/healthz")
        assert status == 200

        every = wait_for_line(metered.log_path, headers["X-Request-Id"])
        keys = {"time", "level", "logger", "request_id", "message"}
        assert all(keys <= set(line) for line in every)
        assert any(line["logger"] == "gunicorn.error" for line in every)
        lines = every[earlier:]
        access = [line for line in lines if line["logger"] == "gunicorn.access"]
        [health] = [a for a in access if a["request_id"] == headers["X-Request-Id"]]
        assert health["message"].split()[:2] == ["GET", "/healthz"]
        posts = [a for a in access if a["message"].startswith("POST /slack/events")]
        assert len(posts) >= 2  # the command, the submission
        assert all(a["request_id"] for a in posts)
        assert len({a["request_id"] for a in posts}) == len(posts)
        text = metered.log_path.read_text(encoding="utf-8")
        for secret in (slack.bot_token, SIGNING_SECRET, SECRET_KEY, METRICS_TOKEN):
            assert secret not in text
        assert REPORT_TEXT not in text and "coffee" not in text
        assert EMPLOYEE not in text

    def test_a_listener_line_carries_its_request_id(self, metered, slack):
        """A line logged by a listener (in Bolt's thread pool), here a failure, has the id of
        the request it served; tokens in it are redacted."""
        earlier = len(json_lines(metered.log_path))  # the module's earlier tests' lines
        slack.fail_next("users.info", error="fatal_error")
        response = metered.platform.command("UNEWCOMER1", "/symmetry", "help")
        assert response.status == 200
        request_id = response.headers["X-Request-Id"]
        deadline = time.monotonic() + 30
        while True:
            lines = json_lines(metered.log_path)[earlier:]
            failed = [line for line in lines if "listener failed" in line["message"]]
            if failed:
                break
            assert time.monotonic() < deadline, metered.server.log_tail()
            time.sleep(0.05)
        assert [line["request_id"] for line in failed] == [request_id], failed
        assert "UNEWCOMER1" not in json.dumps(failed), failed


class TestMetrics:
    def test_absent_without_its_setting(self, server):
        """Without SYMMETRY_METRICS_TOKEN there is no /metrics: 404, with or without a token."""
        assert get(server.base_url, "/metrics")[0] == 404
        assert get(server.base_url, "/metrics", "anything-at-all-anything-at-all")[0] == 404

    def test_bearer_only(self, metered, db, slack):
        """401 without a bearer or with a wrong one; 200 with it, with the ack histogram of
        the listener just hit and the outbox's depth by state."""
        name = 'symmetry_ack_seconds_count{kind="command",listener="/symmetry"}'
        before = count(metered.base_url, name)
        answer_of(metered.platform.command(EMPLOYEE, "/symmetry", "help"), slack)
        status, _, headers = get(metered.base_url, "/metrics")
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
        assert get(metered.base_url, "/metrics", METRICS_TOKEN[:-1] + "x")[0] == 401
        assert get(metered.base_url, "/metrics", "")[0] == 401
        status, body, headers = get(metered.base_url, "/metrics", METRICS_TOKEN)
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        assert sample(body, name) == before + 1
        assert 'symmetry_ack_seconds_bucket{kind="command",le="3.0",listener="/symmetry"}' in body
        assert 'symmetry_outbox_messages{state="queued"} 0.0' in body
        assert 'symmetry_outbox_messages{state="dead"} 0.0' in body
        assert EMPLOYEE not in body

    def test_acks_are_counted_by_listener(self, metered, db, slack):
        """Each ack is counted under what the request was for, read from the body Bolt
        read: a button by its action id without the part after a colon, an event by its type,
        a URL verification (which Bolt answers itself) by its type."""
        platform = metered.platform
        names = [
            f'symmetry_ack_seconds_count{{kind="{kind}",listener="{listener}"}}'
            for kind, listener in [
                ("action", "pulse_answer"),
                ("event", "app_home_opened"),
                ("url_verification", ""),
            ]
        ]
        before = [count(metered.base_url, name) for name in names]
        assert platform.block_action(EMPLOYEE, "pulse_answer:q1", "nothing").status == 200
        event = {"type": "app_home_opened", "user": EMPLOYEE, "tab": "messages"}
        assert platform.event(event).status == 200
        body = json.dumps({"type": "url_verification", "challenge": "c", "token": "t"})
        headers = {**sign(SIGNING_SECRET, body), "Content-Type": "application/json"}
        assert platform.post_raw(body, headers).status == 200
        scraped = get(metered.base_url, "/metrics", METRICS_TOKEN)[1]
        for name, earlier in zip(names, before, strict=True):
            assert sample(scraped, name) == earlier + 1, name
        assert "pulse_answer:q1" not in scraped

    def test_several_workers_count_together(self, db, slack, tmp_path):
        """With two gunicorn workers, every scrape, whichever worker answers it, counts the
        acks both made (prometheus-client's multiprocess mode, in a directory of serve's)."""
        if db.backend != "sqlite":
            pytest.skip("about gunicorn's processes, not the database: one backend is enough")
        port = free_port()
        env = server_env(
            db.url, slack, port, SYMMETRY_METRICS_TOKEN=METRICS_TOKEN, WEB_CONCURRENCY="2"
        )
        server = harness.start_server(env, tmp_path, port)
        try:
            platform = SlackClientSim(f"{server.base_url}/slack/events", SIGNING_SECRET, slack)
            answer_of(platform.command(EMPLOYEE, "/symmetry", "help"), slack)
            for _ in range(7):
                assert platform.command(EMPLOYEE, "/symmetry", "help").status == 200
            name = 'symmetry_ack_seconds_count{kind="command",listener="/symmetry"}'
            scrapes = [get(server.base_url, "/metrics", METRICS_TOKEN)[1] for _ in range(6)]
            pids = {line["process"] for line in json_lines(server.log_path)}
        finally:
            server.stop()
        assert [sample(body, name) for body in scrapes] == [8.0] * 6
        assert len(pids) == 3  # the arbiter and its two workers


class TestTickLogs:
    def test_tick_lines_are_json_with_stage_durations(
        self, metered, metrics_dir, db, slack, tmp_path
    ):
        """A `symmetry tick` process writes JSON lines on stderr, all with the tick's request
        id where they are about the tick, and the time each stage took; with the multiprocess
        directory shared with the web, its figures show in the web's metrics."""
        big_team(db, slack)
        stage = 'symmetry_tick_stage_seconds_count{stage="welcomes"}'
        outcomes = 'symmetry_delivery_outcomes_total{outcome="sent"}'
        before = {name: count(metered.base_url, name) for name in (stage, outcomes)}
        env = server_env(db.url, slack, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
        done = subprocess.run(
            [sys.executable, "-m", "bot", "tick", "--now", TUESDAY_10_PARIS],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        lines = [json.loads(line) for line in done.stderr.splitlines()]
        planned = [line for line in lines if line["message"].startswith("planned in")]
        ticked = [line for line in lines if line["message"].startswith("ticked in")]
        assert len(planned) == len(ticked) == 1
        assert {"welcomes", "pulse rounds", "digests"} <= set(planned[0]["stage_seconds"])
        assert set(ticked[0]["stage_seconds"]) == {"total"}
        assert planned[0]["request_id"].startswith("tick-")
        assert ticked[0]["request_id"] == planned[0]["request_id"]
        for secret in (slack.bot_token, SECRET_KEY):
            assert secret not in done.stderr
        # The web process's /metrics reads the same directory (a clock on the same machine).
        body = get(metered.base_url, "/metrics", METRICS_TOKEN)[1]
        assert sample(body, stage) == before[stage] + 1
        sent = sample(body, 'symmetry_outbox_messages{state="sent"}')
        assert sent > 0
        assert sample(body, outcomes) == before[outcomes] + sent


class TestRedaction:
    def test_tokens_and_secrets_are_redacted(self):
        """Slack tokens of every kind and the configured secrets never reach a line."""
        redact = logs.Redactor(['s3cr"t-value-long-enough'])
        line = redact(
            'a xoxb-1-2-abc b xoxe.xoxb-1-xyz c xoxe-1-refresh d xapp-1-A-2 e "s3cr\\"t-value'
            '-long-enough" f s3cr"t-value-long-enough'
        )
        assert "xox" not in line and "xapp" not in line and "s3cr" not in line
        assert line.count(logs.REDACTED) == 6


class _Watched(dict):
    """A payload part that counts how often it is turned into text."""

    shown = 0

    def __repr__(self) -> str:
        _Watched.shown += 1
        return super().__repr__()


class TestLibraryDebugLines:
    def test_slack_clients_build_no_debug_lines(self, sim, monkeypatch):
        """slack_sdk builds a DEBUG line of each call's whole body when its client's own
        logger has no level, whatever the root logger's: after `configure`, a call turns no
        part of its payload into text, and the webhook client (`respond`) is quiet too."""
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError
        from slack_sdk.webhook import WebhookClient

        def call() -> int:
            before = _Watched.shown
            client = WebClient(token=sim.bot_token, base_url=sim.url)
            with contextlib.suppress(SlackApiError):
                client.api_call("chat.postMessage", json={"channel": "C0", "blocks": [_Watched()]})
            return _Watched.shown - before

        # `configure` sets process-wide state: put it back afterwards (`setLevel` also
        # clears the loggers' cached answers).
        monkeypatch.setattr(logs.Redacting, "redact", logs.Redacting.redact)
        levels = {
            name: logging.getLogger(name).level for name in logs.QUIET + logs.SLACK_CLIENT_LOGGERS
        }
        try:
            for name in logs.SLACK_CLIENT_LOGGERS:
                logging.getLogger(name).setLevel(logging.NOTSET)
            assert call() > 0  # the cost this guards against
            logs.configure(stream=io.StringIO())
            assert call() == 0
            assert WebhookClient(sim.url).logger.level > logging.DEBUG
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)


class TestSetting:
    @pytest.mark.parametrize("value", ["short", "x" * 23, "tab\tinside-a-long-enough-token"])
    def test_a_guessable_token_is_refused(self, cli, monkeypatch, value):
        """A SYMMETRY_METRICS_TOKEN shorter than 24 characters (or unprintable) stops the
        program: exit 2, one line naming the variable."""
        monkeypatch.setenv("SYMMETRY_METRICS_TOKEN", value)
        result = cli.run("outbox", "status")
        assert result.status == 2
        assert result.err.startswith("symmetry: SYMMETRY_METRICS_TOKEN: must be at least 24")

    def test_an_empty_token_means_no_metrics(self):
        """An empty value is the setting left out."""
        from bot.runtime.config import load_settings

        assert load_settings(SYMMETRY_METRICS_TOKEN="  ").metrics_token is None


class TestTerminal:
    def test_text_on_a_terminal_json_elsewhere(self, tmp_path):
        """On a terminal the lines stay readable text, with the request id; elsewhere JSON."""
        import logging

        class Terminal:
            def isatty(self) -> bool:
                return True

        assert not logs.wants_json(Terminal())
        with (tmp_path / "file.log").open("w") as file:
            assert logs.wants_json(file)
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("xoxb-1-a",), None)
        with logs.requesting("tick-") as request_id:
            logs.RequestId().filter(record)
        line = logs.formatter(json=False).format(record)
        assert f"INFO x [{request_id}]: hello [redacted]" in line
        assert json.loads(logs.formatter(json=True).format(record))["request_id"] == request_id


class TestOutboxDepth:
    def test_a_database_that_does_not_answer_leaves_the_other_metrics(self, tmp_path):
        """When the outbox cannot be counted the scrape still answers, without that family."""
        from bot.runtime import metrics
        from storage.db import make_engine

        metrics.acknowledged("command", "/irritant", 0.01)
        body = metrics.exposition(make_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite"))
        assert b"symmetry_ack_seconds_count" in body
        assert b"symmetry_outbox_messages" not in body


def test_request_ids_differ_between_forked_workers():
    """gunicorn's workers are forked from one process: each must still draw request ids of
    its own."""
    import os

    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the worker
        os.close(read)
        os.write(write, " ".join(logs.new_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        theirs = pipe.read().split()
    os.waitpid(child, 0)
    ours = [logs.new_id() for _ in range(3)]
    assert len(theirs) == 3 and all(len(i) == 16 for i in theirs + ours)
    assert not set(theirs) & set(ours)
