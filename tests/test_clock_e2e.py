"""The clock end to end: `symmetry tick` and `symmetry worker`, the simulated Slack, a real
database — welcomes in local time, catch-up, idempotence, crashes, two workers. Processes
where only they show it (kill -9 mid fan-out, two workers at once); the other commands run
in this process (tests/cli_inprocess.py), as `symmetry` would run them (tests/test_cli.py
runs each command once as a program)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from storage import outbox
from storage.models import OutboxMessage
from tests.cli_inprocess import Cli
from tests.conftest import (
    EMPLOYEE,
    MANAGER,
    SALARIEE,
    TEAM_CHANNEL,
    crowd,
    free_port,
    server_env,
)

TUESDAY_10_PARIS = "2026-01-13T10:00:00+01:00"
SATURDAY_11_PARIS = "2026-01-17T11:00:00+01:00"
MONDAY_0800_PARIS = "2026-01-19T08:00:00+01:00"


@pytest.fixture
def env(db, slack) -> dict[str, str]:
    """The environment of a `symmetry` process against this test's database and Slack."""
    return server_env(db.url, slack, free_port())


def add_team(cli: Cli, db) -> None:
    """The workshop team, set up with the real CLI; its pulse surveys are turned off so that
    these tests see welcome messages only (surveys have tests of their own)."""
    result = cli.run(
        "team", "add", "Atelier", "--channel", TEAM_CHANNEL, "--manager", MANAGER,
        "--timezone", "Europe/Paris", "--locale", "fr",
    )  # fmt: skip
    assert result.status == 0, result.err
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE teams SET survey_enabled = false"))


def welcomes(slack) -> Counter:
    """Successful welcome DMs by recipient."""
    return Counter(
        c.params["channel"]
        for c in slack.calls_to("chat.postMessage")
        if not c.failed
        and c.params.get("text", "").startswith(("Welcome to Symmetry", "Bienvenue"))
    )


class TestWelcome:
    def test_each_member_is_welcomed_once_in_their_language(self, cli, db, slack):
        """A tick on a working morning welcomes each member once; the same tick again sends
        nothing more."""
        add_team(cli, db)
        result = cli.run("tick", "--now", TUESDAY_10_PARIS)
        assert result.status == 0, result.err
        assert welcomes(slack) == {MANAGER: 1, EMPLOYEE: 1, SALARIEE: 1}
        texts = {c.params["channel"]: c.params["text"] for c in slack.calls_to("chat.postMessage")}
        assert "Bienvenue" in texts[MANAGER] and "Welcome" in texts[EMPLOYEE]
        again = cli.run("tick", "--now", TUESDAY_10_PARIS)
        assert again.status == 0, again.err
        assert welcomes(slack) == {MANAGER: 1, EMPLOYEE: 1, SALARIEE: 1}

    def test_a_later_member_is_welcomed_once(self, cli, slack, db):
        """Someone joining the channel after the team was set up is welcomed at the next tick."""
        add_team(cli, db)
        assert cli.run("tick", "--now", TUESDAY_10_PARIS).status == 0
        slack.join(TEAM_CHANNEL, "UADMIN01")
        assert cli.run("team", "sync").status == 0
        assert cli.run("tick", "--now", "2026-01-13T15:00:00+01:00").status == 0
        assert welcomes(slack)["UADMIN01"] == 1
        assert sum(welcomes(slack).values()) == 4

    def test_weekend_tick_holds_until_monday_0800_local(self, cli, slack, db):
        """On Saturday the welcome waits; at Monday 08:00 Paris (07:00 in London) it goes, in
        each person's own time zone."""
        add_team(cli, db)
        saturday = cli.run("tick", "--now", SATURDAY_11_PARIS)
        assert saturday.status == 0, saturday.err
        assert welcomes(slack) == {}
        with db.sessions() as session:
            due = {m.recipient: m.not_before for m in session.scalars(select(OutboxMessage))}
        assert due[MANAGER] == datetime(2026, 1, 19, 7, 0, tzinfo=UTC)  # 08:00 Paris
        assert due[EMPLOYEE] == datetime(2026, 1, 19, 8, 0, tzinfo=UTC)  # 08:00 London
        monday = cli.run("tick", "--now", MONDAY_0800_PARIS)
        assert monday.status == 0, monday.err
        assert welcomes(slack) == {MANAGER: 1, SALARIEE: 1}
        assert cli.run("tick", "--now", "2026-01-19T09:00:00+01:00").status == 0
        assert welcomes(slack) == {MANAGER: 1, SALARIEE: 1, EMPLOYEE: 1}

    def test_catch_up_after_a_gap(self, cli, slack, db):
        """With no tick for days, the next tick still welcomes everyone, once."""
        add_team(cli, db)
        result = cli.run("tick", "--now", "2026-02-03T10:00:00+01:00")
        assert result.status == 0, result.err
        assert welcomes(slack) == {MANAGER: 1, EMPLOYEE: 1, SALARIEE: 1}

    def test_a_broken_team_does_not_stop_the_clock(self, cli, slack, db):
        """A team with corrupt survey settings: the tick logs it and still welcomes people."""
        add_team(cli, db)
        with db.engine.begin() as connection:
            connection.execute(
                text("UPDATE teams SET survey_enabled = true, survey_time = '99:99'")
            )
        result = cli.run("tick", "--now", TUESDAY_10_PARIS)
        assert result.status == 0, result.err
        assert "pulse rounds: 0 round(s) opened" in result.out
        assert "(1 of 1 unit(s) failed, logged)" in result.out
        assert welcomes(slack) == {MANAGER: 1, EMPLOYEE: 1, SALARIEE: 1}

    def test_outbox_status(self, cli, slack, db):
        """outbox status prints the counts by state and the last errors."""
        add_team(cli, db)
        slack.users[SALARIEE].deleted = True
        assert cli.run("tick", "--now", TUESDAY_10_PARIS).status == 0
        result = cli.run("outbox", "status")
        assert result.status == 0, result.err
        assert "sent: 2" in result.out and "dead: 1" in result.out
        assert "account_inactive" in result.out


def sent_count(db) -> int:
    with db.sessions() as session:
        return session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.state == outbox.SENT)
        )


class TestCrashAndConcurrency:
    def test_worker_killed_mid_fan_out_then_resumed(self, cli, env, slack, db, tmp_path):
        """kill -9 during a fan-out, then a tick after the lease: nobody is missed and nobody
        gets two (those in flight at the kill are found in their DM: test_delivery_crash.py)."""
        crowd(slack, db, 150)
        slack.delay = 0.02
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "tick", "--now", TUESDAY_10_PARIS],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        slack.wait_for("chat.postMessage", count=40, timeout=60)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        assert sent_count(db) < 150
        # Ten minutes later every lease has run out: another tick (in this process) resumes.
        result = cli.run("tick", "--now", "2026-01-13T10:10:00+01:00")
        assert result.status == 0, result.err
        counts = welcomes(slack)
        assert set(counts) == {f"UCROWD{i:04d}" for i in range(150)}
        assert max(counts.values()) == 1
        assert sent_count(db) == 150

    def test_two_workers_drain_one_outbox_without_duplicates(self, cli, env, slack, db, tmp_path):
        """Two `symmetry worker` processes on PostgreSQL share a fan-out; nobody gets two."""
        if db.backend != "postgres":
            pytest.skip("several delivery processes need PostgreSQL (SQLite: one process)")
        crowd(slack, db, 300)
        tick = cli.run("tick", "--now", "2026-01-17T11:00:00+01:00")
        assert tick.status == 0, tick.err  # Saturday: queued, held for Monday
        logs = [tmp_path / f"worker{n}.log" for n in range(2)]
        workers = []
        for log in logs:
            with log.open("w") as stderr:
                workers.append(
                    subprocess.Popen(
                        # Tuesday morning in Paris, whatever the real day and hour of the run.
                        [sys.executable, "-m", "bot", "worker", "--now", TUESDAY_10_PARIS],
                        env=env,
                        cwd=tmp_path,
                        stdout=subprocess.DEVNULL,
                        stderr=stderr,
                    )
                )
        try:
            # Due only once both workers run (on a busy machine one could start after the
            # other had sent everything), and slow enough to send that both get a share:
            # three claims of 128, each sent by 32 threads in four rounds of 0.25 s.
            deadline = time.monotonic() + 60
            while not all("worker started" in log.read_text() for log in logs):
                assert time.monotonic() < deadline, [log.read_text() for log in logs]
                time.sleep(0.1)
            slack.delay = 0.25
            with db.engine.begin() as connection:
                connection.execute(
                    OutboxMessage.__table__.update().values(
                        not_before=datetime(2026, 1, 1, tzinfo=UTC)
                    )
                )
            deadline = time.monotonic() + 90
            while sent_count(db) < 300 and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=30)
        counts = welcomes(slack)
        assert len(counts) == 300 and max(counts.values()) == 1
        with db.sessions() as session:
            by_worker = session.execute(
                select(OutboxMessage.claimed_by, func.count()).group_by(OutboxMessage.claimed_by)
            ).all()
        assert len(by_worker) == 2, by_worker
        assert json.dumps([w.returncode for w in workers]) == "[0, 0]"
