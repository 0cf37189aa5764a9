"""The demo's stage: a throwaway directory, a migrated SQLite database, and the real
`symmetry serve` process wired to the simulated workspace.

Everything is removed when the stage closes, whatever happened: the server is stopped
(SIGTERM, then SIGKILL for its whole process group) and the directory deleted.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.demo import harness
from bot.demo.harness import ServerError, ServerProcess, free_port, server_env
from bot.demo.slack import SlackSim
from storage.db import make_engine, make_session_factory, upgrade

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 30.0


class StageError(Exception):
    """The stage could not be set up (the message says why)."""


class Stage:
    """The temporary directory, the database and the server process of one demo run."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="symmetry-demo-"))
        self.database_url = f"sqlite:///{self.dir / 'demo.db'}"
        self.signing_secret = secrets.token_hex(16)
        self.port = free_port()
        self.log_path = self.dir / "server.log"
        self.env: dict[str, str] = {}
        self.engine: Engine | None = None
        self.sessions: sessionmaker[Session] | None = None
        self._server: ServerProcess | None = None
        self.commands_run = 0  # `symmetry` commands run through `cli`

    def __enter__(self) -> Stage:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def app_url(self) -> str:
        """Where Slack sends commands, interactions and events."""
        return f"http://127.0.0.1:{self.port}/slack/events"

    def prepare_database(self) -> None:
        """Create the SQLite database and apply the migrations."""
        self.engine = make_engine(self.database_url)
        upgrade(self.engine)
        self.sessions = make_session_factory(self.engine)

    def build_env(self, sim: SlackSim) -> dict[str, str]:
        """The environment of every `symmetry` process of the run: only the demo's settings."""
        self.env = server_env(
            self.database_url,
            sim,
            self.port,
            SLACK_SIGNING_SECRET=self.signing_secret,
            SYMMETRY_SECRET_KEY=secrets.token_hex(32),
            PYTHONIOENCODING="utf-8",
            # gunicorn 27 puts a control socket under ~/.gunicorn, shared by every server of the
            # account; a home of its own keeps the demo's files in its directory.
            HOME=str(self.dir),
        )
        return self.env

    def start_server(self) -> int:
        """Start `python -m bot serve` and wait for /healthz; return the server's pid."""
        try:
            self._server = harness.start_server(
                self.env,
                self.dir,
                self.port,
                log_path=self.log_path,
                timeout=START_TIMEOUT,
                new_session=True,  # Ctrl-C reaches the demo, which then stops the server
            )
        except ServerError as exc:
            raise StageError(exc.reason) from exc
        return self._server.pid

    def server_alive(self) -> bool:
        """True while the server process runs."""
        return self._server is not None and self._server.alive()

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's log."""
        return harness.log_tail(self.log_path, lines)

    def cli(self, *args: str) -> str:
        """Run `python -m bot ARGS` with the server's settings; return what it printed."""
        self.commands_run += 1
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=self.env,
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=CLI_TIMEOUT,
        )
        if done.returncode != 0:
            raise StageError(f"`symmetry {' '.join(args)}` failed: {done.stderr.strip()}")
        return done.stdout

    def stop_server(self) -> None:
        """Stop the server gracefully, or kill its process group when it does not stop."""
        server, self._server = self._server, None
        if server is not None:
            server.stop(timeout=STOP_TIMEOUT)

    def close(self) -> None:
        """Stop the server, close the database and delete the directory."""
        try:
            self.stop_server()
        finally:
            if self.engine is not None:
                self.engine.dispose()
                self.engine = None
            shutil.rmtree(self.dir, ignore_errors=True)
