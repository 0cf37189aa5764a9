"""The in-process tier: the app that `create_app()` builds, driven in this process.

Slack's side is the same `SlackClientSim` as in the end-to-end tier (same payloads, same
signatures); only its transport changes: instead of POSTing to `symmetry serve`, each signed
request goes through Bolt's `App.dispatch`, as bolt-python's own scenario tests do, and
signature verification stays on. The app's Web API client talks to the simulated Slack over
HTTP, as in production. What only the HTTP server does (routing, /healthz, malformed bodies,
acks under load, SIGTERM) stays in the end-to-end tier.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from slack_bolt import App, BoltRequest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.demo.slack import Response, SlackClientSim, SlackSim
from bot.runtime.app import create_app
from bot.runtime.clients import workspace_clients
from bot.runtime.clock import running_clock
from bot.runtime.clock import tick as clock_tick
from bot.runtime.config import Settings, policy_of

PARIS = ZoneInfo("Europe/Paris")
# The instant the in-process app's clock starts at in every test (it then runs with real
# time), so that no test depends on the day or hour it is run: a Thursday morning. The next
# working day, when the triage tests' roundups tick, is then a Friday, too late for the week's
# pulse round to open late and add survey DMs (with the real day, a run on Monday to Wednesday
# failed them); and no change of summer time falls in the weeks the tests reach.
APP_START = datetime(2026, 2, 5, 10, 0, tzinfo=PARIS)
TODAY = APP_START.date()

# What `symmetry serve` keeps out of its log (bot.runtime.operations.configure_logging).
QUIET_LOGGERS = ("slack_bolt", "slack_sdk", "alembic", "apscheduler.executors.default")


def app_settings(database_url: str, sim: SlackSim, **values: object) -> Settings:
    """The settings `server_env` gives `symmetry serve`, plus `values`, without reading the
    environment or a .env file (every field is given, so none comes from the machine)."""
    given: dict[str, object] = {
        name: field.get_default(call_default_factory=True)
        for name, field in Settings.model_fields.items()
    }
    given.update(database_url=database_url, slack_bot_token=sim.bot_token, slack_api_url=sim.url)
    given.update(values)
    return Settings(_env_file=None, **given)  # type: ignore[call-arg]


class InProcessPlatform(SlackClientSim):
    """`SlackClientSim` whose signed requests are dispatched to a Bolt app in this process."""

    def __init__(self, app: App, signing_secret: str, sim: SlackSim) -> None:
        super().__init__("in-process:/slack/events", signing_secret, sim)
        self.app = app

    def post_raw(self, body: bytes | str, headers: dict[str, str]) -> Response:
        """Dispatch `body` with exactly `headers`, as the WSGI adapter of `symmetry serve`
        does, and answer what it would have sent back."""
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        started = time.perf_counter()
        answer = self.app.dispatch(BoltRequest(body=text, headers=dict(headers)))
        elapsed = time.perf_counter() - started
        return Response(answer.status, answer.body, answer.first_headers(), elapsed)


@dataclass
class AppUnderTest:
    """The in-process app, the platform that talks to it, its log and its clock."""

    app: App
    platform: InProcessPlatform
    settings: Settings
    sessions: sessionmaker[Session]
    engine: Engine
    log_path: Path
    now: Callable[[], datetime]


@contextmanager
def running_app(
    settings: Settings,
    sessions: sessionmaker[Session],
    engine: Engine,
    sim: SlackSim,
    *,
    log_path: Path,
    start: datetime = APP_START,
) -> Iterator[AppUnderTest]:
    """Build the app with a clock starting at `start`; on exit, wait for every listener
    still running after its ack (so none of its work reaches the next test)."""
    now = running_clock(start)
    app = create_app(settings, sessions, engine=engine, now=now)
    platform = InProcessPlatform(app, settings.slack_signing_secret or "", sim)
    with app_log(log_path):
        try:
            yield AppUnderTest(app, platform, settings, sessions, engine, log_path, now)
        finally:
            app.listener_runner.listener_executor.shutdown(wait=True)


class _ServerLevels(logging.Filter):
    """INFO and up, but WARNING and up from the libraries `symmetry serve` quietens."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(QUIET_LOGGERS):
            return record.levelno >= logging.WARNING
        return record.levelno >= logging.INFO


@contextmanager
def app_log(path: Path) -> Iterator[Path]:
    """Write to `path` what the process logs meanwhile, at the levels `symmetry serve` logs
    at (its log is what the anonymity tests read)."""
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_ServerLevels())
    level = root.level
    root.setLevel(min(level, logging.INFO) if level else logging.INFO)
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def tick(under_test: AppUnderTest, when: datetime, **settings: object) -> str:
    """What `symmetry tick --now WHEN` does (plan, then deliver), run in this process with the
    app's settings (changed by `settings`); its one-line report. The command itself is tested
    through its process in tests/test_cli.py and tests/test_clock_e2e.py."""
    changed = under_test.settings.model_copy(update=settings)
    sessions, engine = under_test.sessions, under_test.engine
    client_for = workspace_clients(changed, sessions, engine, retries=False)
    return clock_tick(policy_of(changed), sessions, client_for, now=when)
