"""Storage: migrations on both backends, and the query functions the domain relies on."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import storage.db
from storage import irritants as store
from storage import queries
from storage.db import (
    alembic_config,
    make_engine,
    pending_migrations,
    ping,
    read_connection,
    upgrade,
)
from storage.models import Base, Irritant, Membership, Team, TeamSize
from tests.conftest import scratch_engine


class TestMigrations:
    def test_migrated_schema_matches_the_models(self, db):
        """After upgrade, every model table exists and no migration is pending."""
        tables = set(inspect(db.engine).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        assert not pending_migrations(db.engine)

    def test_downgrade_and_upgrade_again(self, db, tmp_path):
        """The migrations go up, down to nothing and back up without error (on a database of
        their own, so the shared one and the server using it are left alone)."""
        with scratch_engine(db, tmp_path, "migration_test") as engine:
            upgrade(engine)
            assert not pending_migrations(engine)
            command.downgrade(alembic_config(engine), "-1")  # one behind: Alembic tells
            assert pending_migrations(engine)
            command.downgrade(alembic_config(engine), "base")
            assert pending_migrations(engine)
            assert "teams" not in inspect(engine).get_table_names()
            upgrade(engine)
            assert not pending_migrations(engine)

    def test_head_revision_is_alembics_head(self):
        """HEAD_REVISION, which spares a command loading Alembic, is the newest migration."""
        engine = create_engine("sqlite://")  # Alembic reads the scripts only
        try:
            script = ScriptDirectory.from_config(alembic_config(engine))
        finally:
            engine.dispose()
        assert script.get_heads() == [storage.db.HEAD_REVISION]

    def test_models_and_migrations_agree(self, db):
        """Autogenerate finds nothing to add: every model change has its migration."""
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "target_metadata": Base.metadata}
            )
            assert compare_metadata(context, Base.metadata) == []

    def test_ping(self, db):
        """ping is true for a reachable database."""
        assert ping(db.engine)


def _left_in_the_file(tmp_path, name: str, *, secure: bool | None) -> bool:
    """Whether a deleted row's text is still in the SQLite file after a checkpoint, on an
    engine of this app (`secure`: None as the app sets it, else forced on or off)."""
    path = tmp_path / name
    engine = make_engine(f"sqlite:///{path}")
    marker = "answered-at-09:41-by-the-late-one"
    with engine.connect() as connection:
        if secure is not None:
            connection.execute(text(f"PRAGMA secure_delete={'ON' if secure else 'OFF'}"))
        connection.execute(text("CREATE TABLE kept (id INTEGER PRIMARY KEY, note TEXT)"))
        connection.execute(text("INSERT INTO kept (note) VALUES (:n)"), {"n": marker * 50})
        connection.execute(text("INSERT INTO kept (note) VALUES ('other')"))
        connection.commit()
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        assert marker.encode() in path.read_bytes()
        connection.execute(text("DELETE FROM kept WHERE note != 'other'"))
        connection.commit()
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return marker.encode() in path.read_bytes()


def test_a_deleted_row_leaves_nothing_in_the_sqlite_file(tmp_path):
    """What a rewrite deletes (a round's answers in their old order, a roundup's reports) is
    overwritten in the file, not left in a free page for a copy of the file to show; some
    SQLite builds do that by default, others not (the control forces it off)."""
    assert _left_in_the_file(tmp_path, "control.db", secure=False)
    assert not _left_in_the_file(tmp_path, "app.db", secure=None)
    with make_engine(f"sqlite:///{tmp_path / 'app.db'}").connect() as connection:
        assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1


def test_a_sqlite_savepoint_waits_its_turn_to_write(tmp_path):
    """A transaction begun by a savepoint (a planning unit, a listener's replay guard) that
    reads, then writes after another connection committed, waits for the writer instead of
    failing at once with "database is locked": the clock delivers while it plans."""
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (text TEXT)"))
    session = Session(engine)
    other_wrote = threading.Event()

    def other_writer() -> None:  # a delivery's commit, from another thread
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO notes VALUES ('delivery')"))
        other_wrote.set()

    with session.begin(), session.begin_nested():
        assert session.execute(text("SELECT count(*) FROM notes")).scalar() == 0
        writer = threading.Thread(target=other_writer)
        writer.start()
        other_wrote.wait(0.5)  # it waits for this transaction (before: it committed now)
        session.execute(text("INSERT INTO notes VALUES ('planning')"))
    writer.join(timeout=10)
    assert other_wrote.is_set()
    with engine.connect() as connection:
        written = connection.execute(text("SELECT text FROM notes")).scalars().all()
    assert written == ["planning", "delivery"]
    engine.dispose()


class TestPool:
    @staticmethod
    def backend_pid(engine) -> int:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT pg_backend_pid()"))

    def terminate(self, db, pid: int) -> None:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            connection.commit()

    def test_a_read_connection_goes_back_to_the_pool_transactional(self, db):
        """`read_connection` runs outside a transaction on PostgreSQL; the same pooled
        connection, handed out next, is transactional again."""
        engine = make_engine(db.url)
        try:
            with read_connection(engine) as connection:
                assert connection.scalar(text("SELECT 1")) == 1
                raw = connection.connection.driver_connection
                if db.backend == "postgres":
                    assert raw.info.transaction_status == TransactionStatus.IDLE
            with engine.connect() as connection:
                assert connection.connection.driver_connection is raw
                if db.backend == "postgres":
                    connection.execute(text("SELECT 1"))
                    assert raw.info.transaction_status == TransactionStatus.INTRANS
        finally:
            engine.dispose()

    def test_a_failed_ping_retires_the_recently_used_connections_too(self, db, monkeypatch):
        """PostgreSQL restarted: the first ping that fails retires every older pooled
        connection, so the ones used moments ago (not pinged) are not handed out dead."""
        if db.backend != "postgres":
            pytest.skip("about PostgreSQL connections")
        engine = make_engine(db.url)
        pid = text("SELECT pg_backend_pid()")
        try:
            with engine.connect() as one, engine.connect() as two:
                old = {one.scalar(pid), two.scalar(pid)}
            for backend in old:
                self.terminate(db, backend)
            monkeypatch.setattr(storage.db, "IDLE_BEFORE_PING", 0.0)
            with engine.connect() as connection:  # pinged: the ping fails
                fresh = {connection.scalar(pid)}
            monkeypatch.setattr(storage.db, "IDLE_BEFORE_PING", 3600.0)  # no more pings
            with engine.connect() as one, engine.connect() as two:
                fresh |= {one.scalar(pid), two.scalar(pid)}
            assert not fresh & old
        finally:
            engine.dispose()

    def test_an_idle_connection_dropped_by_the_server_is_replaced(self, db, monkeypatch):
        """PostgreSQL: a pooled connection idle for a while is pinged before use, so one the
        server dropped is replaced and the request goes on; one used moments ago is handed
        out without that round trip (if it was dropped, that one request fails and the pool
        starts afresh)."""
        if db.backend != "postgres":
            pytest.skip("about PostgreSQL connections")
        engine = make_engine(db.url)
        try:
            first = self.backend_pid(engine)
            self.terminate(db, first)
            with pytest.raises(OperationalError):  # used moments ago: no ping
                self.backend_pid(engine)
            second = self.backend_pid(engine)  # the pool was invalidated: a new connection
            assert second != first

            self.terminate(db, second)
            monkeypatch.setattr(storage.db, "IDLE_BEFORE_PING", 0.0)  # "idle for a while"
            third = self.backend_pid(engine)
            assert third not in (first, second)
        finally:
            engine.dispose()


class TestQueries:
    def test_workspace_is_created_once(self, db):
        """get_or_create_workspace returns the same row for the same Slack team."""
        with db.sessions.begin() as session:
            first = queries.get_or_create_workspace(session, slack_team_id="T0STORE01").id
        with db.sessions.begin() as session:
            again = queries.get_or_create_workspace(session, slack_team_id="T0STORE01").id
        assert first == again

    def test_members_and_managers(self, db):
        """set_members reports joins and departures; names are unique without regard to case."""
        with db.sessions.begin() as session:
            workspace = queries.get_or_create_workspace(session, slack_team_id="T0STORE02")
            team = Team(
                workspace_id=workspace.id,
                name="Atelier",
                channel_id="C1",
                timezone="UTC",
                locale="en",
            )
            session.add(team)
            session.flush()
            assert queries.set_members(session, team=team, user_ids=["U1", "U2"]) == (2, 0)
            assert queries.set_members(session, team=team, user_ids=["U2", "U3"]) == (1, 1)
            queries.set_managers(session, team=team, user_ids=["U9"])
            assert queries.add_member(session, team=team, user_id="U4")
            assert not queries.add_member(session, team=team, user_id="U4")
            assert queries.get_team_by_name(session, workspace_id=workspace.id, name=" atelier ")
            managed = queries.teams_managed_by(session, workspace_id=workspace.id, user_id="U9")
            assert [t.name for t in managed] == ["Atelier"]
            assert queries.remove_member(session, team=team, user_id="U2")
            assert not queries.remove_member(session, team=team, user_id="U2")
            assert {m.user_id for m in team.memberships} == {"U3", "U4"}

    def test_event_claims(self, db):
        """An event_id is claimed once; a released claim can be claimed again; old ones go."""
        with db.sessions.begin() as session:
            assert queries.claim_event(session, event_id="Ev1")
            assert not queries.claim_event(session, event_id="Ev1")
            queries.release_event(session, event_id="Ev1")
            assert queries.claim_event(session, event_id="Ev1")
        later = datetime.now(UTC) + timedelta(days=2)
        with db.sessions.begin() as session:
            assert queries.prune_events(session, before=later) == 1


class TestReportChoices:
    """`report_choices`: what the report modal offers, read in one query."""

    @staticmethod
    def team(session, workspace_id: int, name: str, members: list[str], at: datetime) -> Team:
        team = Team(
            workspace_id=workspace_id,
            name=name,
            channel_id=f"C{name.upper()}",
            timezone="UTC",
            locale="en",
            created_at=at,
        )
        team.memberships = [Membership(user_id=user_id) for user_id in members]
        session.add(team)
        session.flush()
        return team

    @staticmethod
    def irritant(session, team: Team, location: str, *, anonymous=False, shown=False) -> None:
        now = datetime(2026, 3, 2, tzinfo=UTC)
        session.add(
            Irritant(
                workspace_id=team.workspace_id,
                team_id=team.id,
                category="noise",
                space="employee",
                location=location,
                severity="minor",
                description="Loud",
                anonymous=anonymous,
                reporter_id=None if anonymous else "U1",
                reporter_hash="h" if anonymous else None,
                created_at=now,
                updated_at=now,
                rounded_up_at=now if shown else None,
            )
        )
        session.flush()

    def test_teams_sizes_and_recent_places(self, db):
        """The person's teams oldest first with their sizes; their teams' places newest
        first, once each, ten at most, never another team's nor an anonymous report's place
        before the roundup has shown it."""
        day = datetime(2026, 1, 5, tzinfo=UTC)
        with db.sessions.begin() as session:
            workspace = queries.get_or_create_workspace(session, slack_team_id="T0CHOICES")
            other = queries.get_or_create_workspace(session, slack_team_id="T0OTHERWS")
            later = self.team(session, workspace.id, "Later", ["U1"], day + timedelta(days=1))
            first = self.team(session, workspace.id, "First", ["U1", "U2", "U3"], day)
            theirs = self.team(session, workspace.id, "Theirs", ["U2"], day)
            elsewhere = self.team(session, other.id, "Elsewhere", ["U1"], day)
            for place in ("Hall", "Dock", "Hall"):
                self.irritant(session, first, place)
            self.irritant(session, later, "Kitchen")
            self.irritant(session, later, "")
            self.irritant(session, first, "Secret room", anonymous=True)
            self.irritant(session, first, "Shown room", anonymous=True, shown=True)
            self.irritant(session, theirs, "Not mine")
            self.irritant(session, elsewhere, "Other workspace")
            ids = (first.id, later.id)

        with db.sessions() as session:
            choices = store.report_choices(
                session, workspace_id=workspace.id, user_id="U1", since=day
            )
        assert choices.teams == [
            (ids[0], "First", queries.SizeFacts(3, None, None)),
            (ids[1], "Later", queries.SizeFacts(1, None, None)),
        ]
        assert choices.locations == ["Shown room", "Kitchen", "Hall", "Dock"]

        with db.sessions.begin() as session:
            for n in range(12):
                self.irritant(session, session.get(Team, ids[1]), f"Room {n}")
        with db.sessions() as session:
            choices = store.report_choices(
                session, workspace_id=workspace.id, user_id="U1", since=day
            )
            nobody = store.report_choices(
                session, workspace_id=workspace.id, user_id="U9", since=day
            )
        assert choices.locations == [f"Room {n}" for n in range(11, 1, -1)]
        assert nobody == store.ReportChoices([], [])

        # On a plain connection (the report modal's path) the statement goes straight to the
        # driver: the same answer, the size facts' instant converted as SQLAlchemy would.
        exactly = day + timedelta(hours=1, microseconds=5)  # a record at `since` counts from it
        with db.sessions.begin() as session:
            session.add(TeamSize(team_id=ids[0], size=2, recorded_at=exactly))
            session.add(TeamSize(team_id=ids[0], size=1, recorded_at=day - timedelta(hours=1)))
        for since in (day, exactly, day + timedelta(hours=2)):
            with db.sessions() as session:
                expected = store.report_choices(
                    session, workspace_id=workspace.id, user_id="U1", since=since
                )
            with read_connection(db.engine) as connection:
                assert (
                    store.report_choices(
                        connection, workspace_id=workspace.id, user_id="U1", since=since
                    )
                    == expected
                )
        assert expected.teams[0][2] == queries.SizeFacts(3, None, 2)
        with read_connection(db.engine) as connection:
            for since, facts in ((day, (3, 2, 1)), (exactly, (3, 2, 1))):
                choices = store.report_choices(
                    connection, workspace_id=workspace.id, user_id="U1", since=since
                )
                assert choices.teams[0][2] == queries.SizeFacts(*facts)
