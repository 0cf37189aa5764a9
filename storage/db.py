"""Engine, sessions and migrations.

The caller owns the transaction: `session_scope()` commits on success and rolls back on
error; query functions only add, flush and select.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from storage import models  # noqa: F401 (its mappers are the ones configured below)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration under migrations/versions (tests/test_storage.py checks it against
# Alembic's head). A database already at it is up to date without loading Alembic, which
# took a tenth of a second of every command's start; any other is left to Alembic.
HEAD_REVISION = "0016"


# Connections a process may open. Listeners do not hold one across a Slack call (handlers
# close their session before calling Slack), but the web process runs more listeners than
# there are connections: those past their acknowledgement take turns for `AFTER_ACK` of
# them (`GATE`), and the rest stay free for the work an acknowledgement waits for.
POOL_SIZE = 32
MAX_OVERFLOW = 40
AFTER_ACK = 40

# Entered around every `session_scope` (and `Services.reading`) where it is set: the web process
# sets it for each request (bot.runtime.app.KeptAck.gate), and it makes a listener that has
# acknowledged wait for one of `AFTER_ACK` places first. Unset (the clock, the CLI): no wait.
GATE: ContextVar[Callable[[], AbstractContextManager[object]] | None] = ContextVar(
    "storage_gate", default=None
)


def gate() -> AbstractContextManager[object]:
    """The current `GATE`'s turn, or nothing to wait for."""
    current = GATE.get()
    return current() if current is not None else nullcontext()


def make_engine(url: str) -> Engine:
    """An engine tuned for the backend: WAL and a busy timeout on SQLite, a sized pool."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            hide_parameters=True,  # errors must not log user IDs or texts
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL keeps the database consistent after a crash and only waits for
            # the disk at checkpoints: a commit costs microseconds instead of an fsync.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # A deleted row is overwritten, not left in a free page: closing a round or a
            # roundup writes rows again in random order, and the old order must not survive
            # in the file a dump copies.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        @event.listens_for(engine, "savepoint")
        def _write_lock_first(connection, _name):  # type: ignore[no-untyped-def]
            # The sqlite3 module begins a transaction by itself only before an INSERT, UPDATE
            # or DELETE, which takes the write lock at once (waiting out the busy timeout). A
            # SAVEPOINT with no transaction open begins a deferred one instead: its reads fix
            # a snapshot, and its first write then fails at once with "database is locked" if
            # another connection (a delivery, a listener) committed since. Taking the write
            # lock first makes it wait its turn like any other write.
            dbapi_connection = connection.connection.driver_connection
            if not dbapi_connection.in_transaction:
                dbapi_connection.execute("BEGIN IMMEDIATE")

        return engine
    engine = create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=10,
        hide_parameters=True,
    )
    _ping_when_idle(engine)
    return engine


# A pooled connection unused for this long is checked with a ping before it is handed out
# (the server may have restarted, or a proxy dropped it). One that was in use moments ago
# is not: pinging on every checkout (`pool_pre_ping`) costs a round trip per request. A failed
# ping retires every pooled connection opened before it, the recently used ones included.
IDLE_BEFORE_PING = 10.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_since(_dbapi_connection, record):  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy):  # type: ignore[no-untyped-def]
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_BEFORE_PING:
            return  # just opened, or just used
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # as `pool_pre_ping`: a connection that cannot ping is gone
            # The pool opens a new connection instead, and retires the older ones.
            raise InvalidatePoolError() from error


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes usable after commit. The models' mappers are
    configured here, once per process, rather than by the first query: that takes about 75
    ms, which a clock's first tick or a server's first request would otherwise wait for."""
    configure_mappers()
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back when it raises
    (after waiting for a turn at the connections, where `GATE` asks it)."""
    with gate():
        session = factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Connection]:
    """A plain connection of `factory`'s engine for a read (`read_connection`), after waiting
    for a turn at the connections where `GATE` asks it: no ORM session, whose set-up and
    commit cost more CPU than a small read itself."""
    with gate(), read_connection(factory.kw["bind"]) as connection:
        yield connection


def read_connection(engine: Engine) -> Connection:
    """A connection for one read statement, as cheap as the backend allows: on PostgreSQL
    it runs outside a transaction (BEGIN and ROLLBACK would be two more round trips)."""
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        try:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        except BaseException:
            connection.close()
            raise
    return connection


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that needs no alembic.ini and uses this engine."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def pending_migrations(engine: Engine) -> bool:
    """True when the database is not at the latest migration."""
    if _stored_revisions(engine) == {HEAD_REVISION}:
        return False
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) != set(script.get_heads())


def _stored_revisions(engine: Engine) -> set[str]:
    """The revisions the database says it is at; none when it has no `alembic_version` table
    (a connection that fails raises)."""
    with read_connection(engine) as connection:
        try:
            return set(connection.scalars(text("SELECT version_num FROM alembic_version")))
        except DBAPIError:
            return set()


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not healthy"; /healthz reports it
        return False
    return True
