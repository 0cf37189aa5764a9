"""The demo's stage: a throwaway directory, a migrated SQLite database, and the real
`symmetry serve` process wired to the simulated workspace.

Everything is removed when the stage closes, whatever happened: the server is stopped
(SIGTERM, then SIGKILL for its whole process group) and the directory deleted.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.demo.slack import SlackSim
from storage.db import make_engine, make_session_factory, upgrade

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 30.0
# Variables that would point the server at something other than the demo's own pieces. The
# Slack SDK sends every call through HTTP(S)_PROXY and ignores NO_PROXY, so those go too.
_DROPPED_PREFIXES = ("SLACK_", "SYMMETRY_", "DATABASE_URL")
_PROXIES = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"}


class StageError(Exception):
    """The stage could not be set up (the message says why)."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        self._process: subprocess.Popen[bytes] | None = None
        self.commands_run = 0  # `symmetry` commands run through `cli`
        self._log: IO[bytes] | None = None

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
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(_DROPPED_PREFIXES) and key.upper() not in _PROXIES
        }
        env.update(
            DATABASE_URL=self.database_url,
            SLACK_BOT_TOKEN=sim.bot_token,
            SLACK_SIGNING_SECRET=self.signing_secret,
            SLACK_API_URL=sim.url,
            SYMMETRY_SECRET_KEY=secrets.token_hex(32),
            PORT=str(self.port),
            PYTHONUNBUFFERED="1",
            PYTHONIOENCODING="utf-8",
            # gunicorn 27 puts a control socket under ~/.gunicorn, shared by every server of the
            # account; a home of its own keeps the demo's files in its directory.
            HOME=str(self.dir),
        )
        self.env = env
        return env

    def start_server(self) -> int:
        """Start `python -m bot serve` and wait for /healthz; return the server's pid."""
        self._log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=self.env,
            cwd=self.dir,  # so that no stray .env of the caller's directory is read
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the demo, which then stops the server
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise StageError(f"the server exited with status {self._process.returncode}")
            try:
                with opener.open(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return self._process.pid
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise StageError(f"the server did not answer /healthz within {START_TIMEOUT:g} s")

    def server_alive(self) -> bool:
        """True while the server process runs."""
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])

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
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def close(self) -> None:
        """Stop the server, close the database and delete the directory."""
        try:
            self.stop_server()
        finally:
            if self.engine is not None:
                self.engine.dispose()
                self.engine = None
            shutil.rmtree(self.dir, ignore_errors=True)
