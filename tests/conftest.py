"""Shared fixtures: databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), the
simulated Slack workspace, the app in this process (`app`, `platform`: tests/inprocess.py), the
command line in this process (`cli`: tests/cli_inprocess.py) and the real `symmetry serve`
process (`server`, `http_platform`) for the end-to-end tier.
"""

from __future__ import annotations

import compileall
import contextlib
import gc
import os
import secrets
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.demo import harness
from bot.demo.harness import SECRET_KEY as SECRET_KEY  # the server's key, for tests to reuse
from bot.demo.harness import SIGNING_SECRET, ServerProcess, free_port, server_env
from bot.demo.slack import SimChannel, SimUser, SlackClientSim, SlackSim
from bot.runtime.config import Settings
from bot.runtime.delivery import Deliverer
from bot.shared.policy import Policy
from storage import queries
from storage.db import make_engine, make_session_factory
from storage.models import Membership, Team
from tests.cli_inprocess import Cli, cli_for
from tests.inprocess import AppUnderTest, InProcessPlatform, app_settings, running_app

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite", "postgres"]
POLICY = Policy(secret_key=SECRET_KEY)  # what domain tests hand the domain

# The simulated people every test starts with.
ADMIN = "UADMIN01"  # workspace admin, English, New York
MANAGER = "UMANAG01"  # French manager, Paris (not a Slack admin)
EMPLOYEE = "UEMPLO01"  # English employee, London
SALARIEE = "USALAR01"  # French employee, Lyon
OTHERBOT = "UOTHBOT1"  # another app's bot user
GONE = "UGONE001"  # a deactivated account
TEAM_CHANNEL = "CTEAM001"
PRIVATE_CHANNEL = "CPRIV001"
OTHER_CHANNEL = "COTHER01"
# The simulated workspace (`sim`): the one workspace whose row outlives `Database.reset`.
SIMULATED_TEAM = "T0SYMMETRY"


# The garbage collector's thresholds in a test process (Python's: 700, 10, 10). With Python's,
# a test process spent about a tenth of its CPU in the collector, mostly in full passes over
# the modules it loaded, which live as long as it does (see `pytest_collection_finish`).
TEST_GC_THRESHOLDS = (50_000, 20, 20)


def pytest_configure(config: pytest.Config) -> None:
    """Collect garbage less often (`TEST_GC_THRESHOLDS`); compile the project's modules once,
    before any test starts a `symmetry` process. Where PYTHONDONTWRITEBYTECODE is set (this
    machine, some CI runners) a process does not keep what it compiles, and each one compiled
    the ~100 modules again: 0.4 s of CPU out of the 1.5 s a command takes. It still reads
    bytecode it finds, which is what this writes."""
    gc.set_threshold(*TEST_GC_THRESHOLDS)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # done by the process that started the workers
    for package in ("bot", "storage", "handlers"):
        compileall.compile_dir(ROOT / package, quiet=1)


# The longest modules first, longest first: with one worker per module (`--dist loadfile`),
# a long one that starts late is the suite's tail while the other workers are idle. The
# demo's two narrated runs take 10-15 s of set-up before its first test.
FIRST = (
    "test_demo.py",
    "test_observability.py",
    "test_server_e2e.py",
    "test_fuzz_listeners.py",
    "test_privacy.py",
    "test_delivery_crash.py",
    "test_clock_e2e.py",
    "test_cli.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules in `FIRST` first, in its order; the others after, as collected."""
    rank = {name: index for index, name in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(FIRST)))


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection loaded (the product, its libraries, the tests) lives as long as the
    test process: out of the garbage collector's passes with it."""
    gc.collect()
    gc.freeze()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than the cores. About a third of a worker's time went to
    waiting (for the `symmetry` processes and servers it starts, PostgreSQL, the simulated
    Slack): with one worker per core, the cores were idle that long."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) + 1


def seed(sim: SlackSim) -> None:
    """Reset the simulated workspace to the standard cast."""
    sim.users.clear()
    sim.channels.clear()
    sim.add_user(SimUser(sim.bot_user_id, "symmetry", "Symmetry", is_bot=True))
    sim.add_user(
        SimUser(ADMIN, "alice", "Alice Admin", tz="America/New_York", locale="en-US", is_admin=True)
    )
    sim.add_user(SimUser(MANAGER, "marie", "Marie Dubois", tz="Europe/Paris", locale="fr-FR"))
    sim.add_user(SimUser(EMPLOYEE, "ben", "Ben Carter", tz="Europe/London", locale="en-GB"))
    sim.add_user(SimUser(SALARIEE, "chloe", "Chloé Martin", tz="Europe/Paris", locale="fr-FR"))
    sim.add_user(SimUser(OTHERBOT, "otherbot", "Other Bot", is_bot=True))
    sim.add_user(SimUser(GONE, "gone", "Gone Person", deleted=True))
    sim.add_channel(
        SimChannel(
            TEAM_CHANNEL,
            "workshop",
            [MANAGER, EMPLOYEE, SALARIEE, OTHERBOT, GONE, "USLACKBOT"],
        )
    )
    sim.add_channel(SimChannel(PRIVATE_CHANNEL, "secret", [MANAGER], is_private=True))
    sim.add_channel(SimChannel(OTHER_CHANNEL, "sales", [ADMIN, EMPLOYEE]))
    sim.clear_calls()
    sim.clear_files()
    sim.clear_history()
    sim.scopes = None


def crowd(slack: SlackSim, db: Database, size: int) -> set[str]:
    """A team of `size` simulated people (UCROWD0000…), all due a welcome; their ids."""
    members = [f"UCROWD{i:04d}" for i in range(size)]
    for user_id in members:
        slack.add_user(SimUser(user_id, user_id.lower(), f"Person {user_id}", tz="Europe/Paris"))
    with db.sessions.begin() as session:
        workspace = queries.get_or_create_workspace(session, slack_team_id=slack.team_id)
        team = Team(
            workspace_id=workspace.id,
            name="Crowd",
            channel_id="CCROWD01",
            timezone="Europe/Paris",
            locale="en",
            survey_enabled=False,
        )
        team.memberships = [Membership(user_id=user_id) for user_id in members]
        session.add(team)
    return set(members)


def _postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def worker_database(url: str) -> str:
    """The PostgreSQL database of this pytest-xdist worker: `<name>_gw0`, `<name>_gw1`…, so
    that workers never empty each other's tables; `url` itself when the tests run in one
    process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    return base.set(database=f"{base.database}_{worker}").render_as_string(hide_password=False)


@dataclass
class Database:
    """A migrated test database and how to reach it."""

    backend: str
    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    def reset(self) -> None:
        """Empty every table but the migrations' own, and every workspace but the simulated
        one (whose ID the session's `symmetry serve` caches): a workspace another test made
        (the fuzz tests' foreign one, a second workspace of the outbox's…) is gone too."""
        keep = {"alembic_version", "workspaces"}
        tables = [t for t in reversed(_sorted_tables(self.engine)) if t not in keep]
        for attempt in range(5):
            try:
                with self.engine.begin() as connection:
                    for table in tables:  # dependents first
                        connection.execute(text(f"DELETE FROM {table}"))
                    connection.execute(
                        text("DELETE FROM workspaces WHERE slack_team_id <> :kept"),
                        {"kept": SIMULATED_TEAM},
                    )
                    if self.backend == "postgres":
                        # IDs start again at 1, as on SQLite. (DELETE and setval take a few
                        # milliseconds on these small tables; TRUNCATE took a few hundred.)
                        restart = ", ".join(
                            f"setval(pg_get_serial_sequence('{table}', 'id'), 1, false)"
                            for table in tables
                        )
                        connection.execute(text(f"SELECT {restart}"))
                return
            except OperationalError:
                # `symmetry serve` may still be finishing the previous test's last request (a
                # PostgreSQL deadlock, or a busy SQLite): let it end, then retry. (The
                # in-process app waits for its listeners before the next test starts.)
                if attempt == 4:
                    raise
                time.sleep(0.2)


def _sorted_tables(engine: Engine) -> list[str]:
    from storage.models import Base

    known = set(inspect(engine).get_table_names())
    names = [t.name for t in Base.metadata.sorted_tables if t.name in known]
    return names + sorted(known - set(names) - {"alembic_version"})


@contextlib.contextmanager
def scratch_engine(db: Database, tmp_path: Path, name: str) -> Iterator[Engine]:
    """An empty database of `db`'s backend, apart from the shared one and the server using it
    (for migration tests): a PostgreSQL schema `name`, or a SQLite file."""
    if db.backend == "postgres":
        with db.engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {name}"))
        engine = create_engine(db.url, connect_args={"options": f"-csearch_path={name}"})
    else:
        engine = make_engine(f"sqlite:///{tmp_path / f'{name}.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


def create_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Database:
    """A fresh, migrated database of the given backend (skips PostgreSQL when not configured)."""
    if backend == "postgres":
        url = _postgres_url()
        if url is None:
            if os.environ.get("SYMMETRY_REQUIRE_POSTGRES"):
                pytest.fail("SYMMETRY_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not")
            pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
        base = Settings(DATABASE_URL=url).database_url
        url = worker_database(base)
        harness.fresh_database(url, via=base)  # created when missing, emptied, migrated
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'symmetry.db'}"
        harness.fresh_database(url)
    engine = make_engine(url)
    return Database(backend, url, engine, make_session_factory(engine))


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Database]:
    """A migrated database per backend, shared by the session's tests."""
    db = create_database(request.param, tmp_path_factory)
    yield db
    db.engine.dispose()


@pytest.fixture
def db(database: Database) -> Database:
    """The backend's database, emptied for this test."""
    database.reset()
    return database


@pytest.fixture(scope="session")
def sim() -> Iterator[SlackSim]:
    """The simulated Slack workspace, shared by the session."""
    with SlackSim(team_id=SIMULATED_TEAM) as slack:
        yield slack


@pytest.fixture
def slack(sim: SlackSim) -> SlackSim:
    """The simulated workspace with the standard cast and no recorded calls."""
    return fresh_workspace(sim)


def fresh_workspace(sim: SlackSim) -> SlackSim:
    """`sim` answering at once, installed in a plain workspace, with the standard cast and no
    recorded calls."""
    sim.delay = 0.0
    sim.install_as("workspace")
    seed(sim)
    return sim


@pytest.fixture
def workspace_id(db: Database, slack: SlackSim) -> int:
    """The simulated workspace's row (what the outbox's messages belong to)."""
    with db.sessions.begin() as session:
        return queries.get_or_create_workspace(session, slack_team_id=slack.team_id).id


@pytest.fixture
def deliverer(db: Database, slack: SlackSim) -> Iterator[Deliverer]:
    """A deliverer whose clock is real time, with a client pointed at the simulated Slack
    (no retries: the tests see every answer)."""
    client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
    made = Deliverer(db.sessions, lambda _id: client, now=lambda: datetime.now(UTC), seed=1)
    yield made
    made.close()


@dataclass
class RunningServer:
    """A `symmetry serve` process and the simulated Slack platform that talks to it."""

    server: ServerProcess
    platform: SlackClientSim

    @property
    def process(self) -> subprocess.Popen:
        return self.server.process

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def log_path(self) -> Path:
        return self.server.log_path

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def start_server(env: dict[str, str], cwd: Path, port: int, sim: SlackSim) -> RunningServer:
    """Start `python -m bot serve` and wait until /healthz answers (see bot.demo.harness)."""
    server = harness.start_server(env, cwd, port)
    platform = SlackClientSim(f"{server.base_url}/slack/events", SIGNING_SECRET, sim)
    return RunningServer(server, platform)


def stop_server(running: RunningServer) -> None:
    running.server.stop()


OAUTH_ENV = {"SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "oauth-secret"}


@contextlib.contextmanager
def multi_workspace_server(database: Database, sim: SlackSim, cwd: Path) -> Iterator[RunningServer]:
    """`symmetry serve` with a client ID and secret instead of a bot token (installations
    over OAuth)."""
    port = free_port()
    env = server_env(database.url, sim, port, **OAUTH_ENV)
    del env["SLACK_BOT_TOKEN"]
    running = start_server(env, cwd, port, sim)
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="session")
def server_process(database: Database, sim: SlackSim, tmp_path_factory) -> Iterator[RunningServer]:
    """The real production server (`symmetry serve`) on this backend's database."""
    port = free_port()
    cwd = tmp_path_factory.mktemp("server")
    running = start_server(server_env(database.url, sim, port), cwd, port, sim)
    yield running
    stop_server(running)


@pytest.fixture
def server(server_process: RunningServer, db: Database, slack: SlackSim) -> RunningServer:
    """The running server, with an empty database and a freshly seeded workspace."""
    return server_process


@pytest.fixture
def http_platform(server: RunningServer) -> SlackClientSim:
    """Slack's side of the conversation: sends signed requests to `symmetry serve` over HTTP."""
    return server.platform


@pytest.fixture
def app(db: Database, slack: SlackSim, tmp_path: Path) -> Iterator[AppUnderTest]:
    """The app built by `create_app()` in this process, on an emptied database, talking to a
    freshly seeded simulated Slack; its clock starts at tests.inprocess.APP_START. Listener
    work still running when the test ends is waited for before the next test starts, and a
    listener that raised fails the test (`symmetry serve` would only have logged it)."""
    with app_under_test(db, slack, tmp_path / "app.log") as under_test:
        yield under_test


@contextlib.contextmanager
def app_under_test(db: Database, slack: SlackSim, log_path: Path) -> Iterator[AppUnderTest]:
    """What the `app` fixture gives, for a fixture of a wider scope: the app in this process
    on `db` and `slack` as they are; a listener that raised meanwhile fails the test."""
    settings = app_settings(
        db.url, slack, slack_signing_secret=SIGNING_SECRET, secret_key=SECRET_KEY
    )
    with running_app(settings, db.sessions, db.engine, slack, log_path=log_path) as under_test:
        yield under_test
    log = under_test.log_path.read_text().splitlines()
    raised = [line for line in log if "listener failed" in line]
    if raised:
        pytest.fail("a listener raised (app log):\n" + "\n".join(raised), pytrace=False)


@pytest.fixture
def cli(
    db: Database,
    slack: SlackSim,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """`symmetry` in this process (tests/cli_inprocess.py), in `tmp_path`, with the
    environment of a process against this test's database and simulated Slack."""
    return cli_for(db.url, slack, tmp_path, monkeypatch, capsys)


@pytest.fixture
def oauth_cli(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`symmetry` in this process in multi-workspace mode (no bot token: installations)."""
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    for name, value in OAUTH_ENV.items():
        monkeypatch.setenv(name, value)
    return cli


@pytest.fixture
def platform(app: AppUnderTest) -> InProcessPlatform:
    """Slack's side of the conversation: signed requests dispatched to the in-process app."""
    return app.platform


def answer_of(response, slack: SlackSim) -> dict:
    """A command's answer: in the HTTP response when the app acked with it, else the
    message it sent to the response URL afterwards (first contact)."""
    body = response.json() if response.body else None
    if body and body.get("blocks"):
        return body
    (answer,) = slack.wait_for(
        "response_url", where=lambda c: c.params.get("_key") == response.response_key
    )
    return answer.params


def random_secret() -> str:
    return secrets.token_urlsafe(16)
