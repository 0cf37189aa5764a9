"""A clock that fails over: two `symmetry clock` processes on PostgreSQL, one ticking and one
standing by on the advisory lock; the ticking one killed with SIGKILL mid-fan-out, the other
takes over and nobody gets a message twice or none. On SQLite a second clock is not needed
and says so. The lock itself (bot/runtime/leader.py) is checked in this process."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.runtime import clock, leader
from bot.shared.policy import Policy
from storage import outbox
from storage.models import OutboxMessage
from tests.conftest import SECRET_KEY, crowd, free_port, server_env

SATURDAY_11_PARIS = "2026-01-17T11:00:00+01:00"  # welcomes queued, held for Monday
MONDAY_10_PARIS = "2026-01-19T10:00:00+01:00"
# The standby's clock starts ten minutes on: when it takes over, the leases of the messages
# the dead clock had claimed have run out, as they would have in a real takeover's minutes.
MONDAY_10_10_PARIS = "2026-01-19T10:10:00+01:00"
POLL = "0.3"


def postgres_only(db) -> None:
    if db.backend != "postgres":
        pytest.skip("two clocks take turns on PostgreSQL only (SQLite: one clock)")


def posts(slack) -> Counter:
    return Counter(c.params["channel"] for c in slack.calls_to("chat.postMessage") if not c.failed)


def start_clock(env, cwd: Path, log: Path, now: str) -> subprocess.Popen:
    with log.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "clock", "--now", now, "--standby-poll", POLL,
             "--tick-every", "1"],
            env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip


def wait_for_line(log: Path, words: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while words not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def waiting_for_the_lock(db) -> int:  # type: ignore[no-untyped-def]
    """Sessions queued for an advisory lock, not granted it yet."""
    with db.engine.connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        ).scalar()


def eventually(attempt, timeout: float = 15) -> bool:
    """True once `attempt()` is (a terminated backend frees its locks as it exits, a moment
    after pg_terminate_backend returns; seconds when the machine is busy)."""
    deadline = time.monotonic() + timeout
    while not attempt():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def claimers(db) -> set[str]:
    with db.sessions() as session:
        return set(
            session.scalars(
                select(OutboxMessage.claimed_by).where(OutboxMessage.claimed_by.is_not(None))
            )
        )


class TestTwoClocks:
    def test_standby_takes_over_after_kill_9_and_nothing_is_sent_twice(
        self, cli, db, slack, tmp_path
    ):
        """Clock A holds the lock and ticks, clock B stands by and does not tick; A is killed
        mid-fan-out; B takes the lock within its poll, ticks, and each of the 40 people has
        exactly one welcome (those Slack had from A found in their DM, not re-sent)."""
        postgres_only(db)
        people = crowd(slack, db, 40)
        assert cli.run("tick", "--now", SATURDAY_11_PARIS).status == 0
        held = OutboxMessage.__table__.update()
        with db.engine.begin() as connection:  # due only once both clocks run
            connection.execute(held.values(not_before=datetime(2030, 1, 1, tzinfo=UTC)))
        env = server_env(db.url, slack, free_port())
        logs = {name: tmp_path / f"clock-{name}.log" for name in "ab"}
        a = start_clock(env, tmp_path, logs["a"], MONDAY_10_PARIS)
        b = None
        try:
            wait_for_line(logs["a"], "holds the lock; ticking")
            b = start_clock(env, tmp_path, logs["b"], MONDAY_10_10_PARIS)
            wait_for_line(logs["b"], "standing by")
            wait_for_line(logs["a"], "tick: ")  # A ticks (nothing due yet)...
            slack.delay = 0.5
            with db.engine.begin() as connection:
                connection.execute(held.values(not_before=datetime(2026, 1, 1, tzinfo=UTC)))
            slack.wait_for("chat.postMessage", count=1, timeout=30)
            assert {c.split(":")[1] for c in claimers(db)} == {str(a.pid)}  # ...B does not
            os.kill(a.pid, signal.SIGKILL)
            a.wait(timeout=10)
            with db.sessions() as session:  # what A recorded: B may take over at once
                recorded = Counter(session.scalars(select(OutboxMessage.state)))
            assert recorded[outbox.SENT] < 40, "the kill came after the whole fan-out"
            time.sleep(slack.delay + 0.3)  # the calls under way at the kill reach Slack
            slack.delay = 0.0
            killed_at = time.monotonic()
            wait_for_line(logs["b"], "holds the lock; ticking", timeout=20)
            took_over = time.monotonic() - killed_at
            deadline = time.monotonic() + 30
            while sum(posts(slack).values()) < 40 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.5)  # a tick or two more: nothing is sent again
        finally:
            for process in (a, b):
                if process is not None and process.poll() is None:
                    process.terminate()
                    process.wait(timeout=30)
        counts = posts(slack)
        assert set(counts) == people and set(counts.values()) == {1}  # 0 lost, 0 doubled
        with db.sessions() as session:
            assert Counter(session.scalars(select(OutboxMessage.state))) == {outbox.SENT: 40}
        assert took_over < 5, took_over
        standby = logs["b"].read_text()
        assert (
            standby.index("standing by")
            < standby.index("holds the lock; ticking")
            < standby.index("tick: ")
        )  # B ticked only once it held the lock
        found = sum(int(n) for n in re.findall(r"(\d+) found already sent", standby))
        assert found > 0  # A's messages in flight at the kill, found in their DM
        assert b.returncode == 0 and "clock stopped" in standby, standby


class TestAdvisoryLock:
    def test_a_holder_that_loses_its_connection_stops_holding(self, db):
        """One lock holder at a time; when the holder's connection is cut it can no longer
        prove it holds the lock (and says so), and the other takes it."""
        postgres_only(db)
        first, second = leader.AdvisoryLock(db.url), leader.AdvisoryLock(db.url)
        try:
            assert first.acquire() and first.holds()
            assert not second.acquire() and not second.holds()
            with db.engine.begin() as connection:
                connection.execute(
                    text("SELECT pg_terminate_backend(:pid)"), {"pid": first.backend_pid}
                )
            assert not first.holds()
            assert eventually(second.acquire) and second.holds()
            assert not first.acquire()  # a new connection, but the lock is taken now
        finally:
            first.release()
            second.release()

    def test_the_clock_stops_ticking_when_its_connection_is_cut(self, db, monkeypatch, caplog):
        """A ticking clock (in this process, ticks counted) whose lock connection the server
        ends stops ticking at once, though it lives on, and another holder takes the lock."""
        postgres_only(db)
        caplog.set_level(logging.INFO, logger="bot.runtime.clock")
        ticks: list[datetime] = []
        monkeypatch.setattr(clock, "tick", lambda *_a, now, **_k: ticks.append(now) or "")
        holder = leader.AdvisoryLock(db.url)
        stop = threading.Event()
        running = threading.Thread(
            target=clock.run_forever,
            args=(Policy(secret_key=SECRET_KEY), db.sessions, lambda _id: None),
            kwargs={"leadership": holder, "standby_poll": 0.1, "tick_every": 0.05, "stop": stop},
        )
        # Another session, to queue for the lock before the holder's connection is cut.
        other = db.engine.connect()
        queued: threading.Thread | None = None
        running.start()
        try:
            deadline = time.monotonic() + 10
            while len(ticks) < 2:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            # The other session queues for the lock first: when the holder's backend ends, the
            # lock goes to it, not to the holder's next try (PostgreSQL serves its queue
            # before a later request; a race between two tries was lost under load).
            taken = threading.Event()
            queued = threading.Thread(
                target=lambda: (
                    other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": holder.key}),
                    taken.set(),
                )
            )
            queued.start()
            assert eventually(lambda: waiting_for_the_lock(db) == 1)
            with db.engine.begin() as connection:
                connection.execute(
                    text("SELECT pg_terminate_backend(:pid)"), {"pid": holder.backend_pid}
                )
            assert taken.wait(15)
            assert eventually(lambda: "standing by" in caplog.text)  # its next try failed
            counted = len(ticks)
            time.sleep(0.5)
            assert len(ticks) == counted  # no tick since
            assert running.is_alive()
        finally:
            stop.set()
            running.join(timeout=10)
            if queued is not None:
                queued.join(timeout=10)
            other.invalidate()  # its session ends, and its advisory lock with it
            other.close()


class TestSqliteOneClock:
    def test_a_second_clock_is_not_needed_and_exits_1(self, cli, db, slack, tmp_path):
        """On SQLite, with a clock running, `symmetry clock` says in one line that it is not
        needed and exits 1; once the first is killed (-9) a clock may start again."""
        if db.backend != "sqlite":
            pytest.skip("on PostgreSQL a second clock stands by (test above)")
        log = tmp_path / "clock.log"
        env = server_env(db.url, slack, free_port())
        first = start_clock(env, tmp_path, log, MONDAY_10_PARIS)
        try:
            wait_for_line(log, "holds the lock; ticking")
            second = cli.run("clock")
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        assert second.status == 1
        (line,) = second.err.strip().splitlines()
        assert "another clock is running" in line and "not needed" in line
        path = leader.leadership_for(db.url)
        assert path.acquire()  # the kernel freed the dead clock's lock
        path.release()

    def test_a_lock_file_that_cannot_be_made_is_one_line(self, cli, db, monkeypatch, tmp_path):
        """A clock whose lock file beside the SQLite database cannot be made (its folder gone
        or read-only) says so in one line and exits 1, rather than with a traceback."""
        if db.backend != "sqlite":
            pytest.skip("PostgreSQL takes an advisory lock, no file")
        nowhere = leader.FileLock(tmp_path / "gone" / "symmetry.db.clock.lock")
        monkeypatch.setattr(leader, "leadership_for", lambda url: nowhere)
        ran = cli.run("clock")
        assert ran.status == 1
        (line,) = ran.err.strip().splitlines()
        assert "lock file" in line and "writable" in line
