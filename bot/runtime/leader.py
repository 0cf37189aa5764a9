"""Which `symmetry clock` ticks, when more than one runs against a database.

On PostgreSQL a session-level advisory lock, held on a connection of its own for the life of
the process: the clock that holds it ticks, the others stand by and try again now and then.
PostgreSQL frees a session's locks when its connection ends, so a clock killed outright
(kill -9, a lost machine: the server's TCP keepalives, set short here, end the session) leaves
the lock to the next one that tries. The holder proves it still holds the lock before every
tick (a query on that connection); when it cannot, it stops ticking and stands by in turn.

On SQLite one clock only: an OS file lock (`flock`) on a file beside the database file. The
kernel frees it when the process ends however it ends, so a clock killed with kill -9 never
leaves a stale lock behind (a heartbeat row would, for as long as its timeout, and would be
read by a clock that cannot tell a slow holder from a dead one).

The lock saves work and keeps logs readable; it is not what prevents a message being sent
twice: two clocks ticking at once (the old holder's last tick overlapping the new holder's
first) plan idempotently and deliver through the outbox's claims, leases and keys.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# The advisory lock's key: "SYMC" as a number. Advisory locks are per database, so two
# deployments on two databases of one server do not meet.
LOCK_KEY = 0x53594D43
# libpq on the client side, and the server for this session: a peer that vanished without
# closing its socket is noticed within about 25 s instead of the system's two hours.
KEEPALIVE = {"idle": 10, "interval": 5, "count": 3}


class Leadership(Protocol):
    """The right to tick: taken, checked before each tick, given back at exit."""

    def acquire(self) -> bool:
        """Take the lock if free (or keep it if held); True when this process holds it."""
        ...

    def holds(self) -> bool:
        """Whether this process can prove, now, that it holds the lock."""
        ...

    def release(self) -> None: ...


class AdvisoryLock:
    """PostgreSQL: `pg_try_advisory_lock` on a dedicated connection (autocommit, no pool)."""

    def __init__(self, database_url: str, *, key: int = LOCK_KEY) -> None:
        self.key = key
        self._engine: Engine = create_engine(
            make_url(database_url),
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={
                "connect_timeout": 10,
                "keepalives": 1,
                "keepalives_idle": KEEPALIVE["idle"],
                "keepalives_interval": KEEPALIVE["interval"],
                "keepalives_count": KEEPALIVE["count"],
                "options": (
                    f"-c tcp_keepalives_idle={KEEPALIVE['idle']} "
                    f"-c tcp_keepalives_interval={KEEPALIVE['interval']} "
                    f"-c tcp_keepalives_count={KEEPALIVE['count']} "
                    "-c statement_timeout=10000"
                ),
            },
        )
        self._connection: Connection | None = None
        self._held = False
        # The clock's loop and its tick thread both ask; a connection serves one at a time.
        self._lock = threading.RLock()

    def acquire(self) -> bool:
        with self._lock:
            return self._acquire()

    def holds(self) -> bool:
        with self._lock:
            return self._holds()

    def release(self) -> None:
        with self._lock:
            self._drop()  # closing the session frees its advisory locks
        self._engine.dispose()

    @property
    def backend_pid(self) -> int | None:
        """The server process of the lock's connection (tests end it to play a lost link)."""
        with self._lock:
            if self._connection is None:
                return None
            return self._connection.execute(text("SELECT pg_backend_pid()")).scalar()

    def _acquire(self) -> bool:
        if self._holds():
            return True
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
            taken = self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar()
        except SQLAlchemyError as exc:
            log.warning("clock lock: the database did not answer (%s)", type(exc).__name__)
            self._drop()
            return False
        self._held = bool(taken)
        return self._held

    def _holds(self) -> bool:
        if not self._held or self._connection is None:
            return False
        try:
            # Session-level advisory locks live as long as this connection: an answer on it
            # that lists the lock is the proof.
            count = self._connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND classid::bigint = :high"
                    " AND objid::bigint = :low AND objsubid = 1"
                ),
                {"high": self.key >> 32, "low": self.key & 0xFFFFFFFF},
            ).scalar()
        except SQLAlchemyError as exc:
            log.warning("clock lock: lost its connection (%s)", type(exc).__name__)
            self._drop()
            return False
        self._held = bool(count)
        return self._held

    def _drop(self) -> None:
        self._held = False
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except SQLAlchemyError:
                pass  # already gone: nothing to give back


class FileLock:
    """SQLite: an exclusive `flock` on `<database file>.clock.lock`, taken without waiting."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        import fcntl

        if self._file is not None:
            return True
        handle = open(self.path, "ab")  # noqa: SIM115 (held open for the process's life)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def holds(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            handle.close()  # closing the file frees the lock


class Alone:
    """An in-memory SQLite database: no other process can share it, so no other clock."""

    def acquire(self) -> bool:
        return True

    def holds(self) -> bool:
        return True

    def release(self) -> None:
        pass


def leadership_for(database_url: str) -> Leadership:
    """The lock that decides which clock ticks on this database."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(database_url)
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        return Alone()
    return FileLock(Path(os.path.abspath(database + ".clock.lock")))


def shares_clocks(database_url: str) -> bool:
    """Whether several clocks may run on this database, one ticking and the others standing
    by (PostgreSQL), or only one (SQLite)."""
    return make_url(database_url).get_backend_name() == "postgresql"
