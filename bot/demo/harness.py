"""The real `symmetry` program wired to the simulated Slack: its environment, and starting
`symmetry serve` (waiting until it answers) and stopping it.

One copy for everything that runs the product from outside: the tests' end-to-end fixtures,
the benchmarks under bench/ and the demo's stage.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bot.demo.slack import SlackSim

SIGNING_SECRET = "sim-signing-secret"
SECRET_KEY = "sim-secret-key-of-the-simulated-workspace"  # 32+ characters, as required
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
# Variables that would point a process at something other than the simulated pieces. The
# Slack SDK sends every call through HTTP(S)_PROXY and ignores NO_PROXY, so those go too.
_DROPPED_PREFIXES = ("SLACK_", "SYMMETRY_", "DATABASE_URL")
_PROXIES = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"}


class ServerError(RuntimeError):
    """The server exited or did not answer in time; the message ends with its log."""

    def __init__(self, reason: str, log: str = "") -> None:
        super().__init__(f"{reason}; its log:\n{log}" if log else reason)
        self.reason = reason


def fresh_database(url: str, *, via: str | None = None) -> None:
    """Empty and migrate the database at `url`, for a test run or a benchmark: a PostgreSQL
    database is created when missing (through the server's `postgres` database, or `via`,
    another database's URL; another process creating it meanwhile is no error) and its
    `public` schema dropped and made again; a SQLite file is migrated as it is."""
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.exc import ProgrammingError

    from storage.db import make_engine, upgrade

    if url.startswith("postgresql"):
        target = make_url(url)
        admin = create_engine(via or target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                exists = connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": target.database},
                )
                if not exists:
                    with contextlib.suppress(ProgrammingError):
                        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
        finally:
            admin.dispose()
    engine = make_engine(url)
    try:
        if url.startswith("postgresql"):
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
    finally:
        engine.dispose()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(
    database_url: str, sim: SlackSim, port: int | None = None, **extra: str
) -> dict[str, str]:
    """The environment of a `symmetry` process wired to the simulated workspace.

    The caller's SLACK_*, SYMMETRY_*, DATABASE_URL and proxy variables are left out; `port`
    sets PORT (for `serve`); `extra` adds variables or overrides these.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_DROPPED_PREFIXES) and key.upper() not in _PROXIES
    }
    env.update(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=sim.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=sim.url,
        SYMMETRY_SECRET_KEY=SECRET_KEY,
        PYTHONUNBUFFERED="1",
    )
    if port is not None:
        env["PORT"] = str(port)
    env.update(extra)
    return env


@dataclass
class ServerProcess:
    """A server started by `start_server`, and its log file."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    own_group: bool = False  # in a session of its own: a kill takes its whole process group
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id (gunicorn's arbiter for `symmetry serve`)."""
        return self.process.pid

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log."""
        return log_tail(self.log_path, lines)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, then SIGKILL when it has not exited within `timeout` seconds."""
        process = self.process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    if self.own_group:
                        os.killpg(process.pid, signal.SIGKILL)
                    else:
                        process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


def start_server(
    env: dict[str, str],
    cwd: Path,
    port: int,
    *,
    argv: list[str] | None = None,
    log_path: Path | None = None,
    timeout: float = START_TIMEOUT,
    healthy: bool = True,
    cpus: set[int] | None = None,
    new_session: bool = False,
) -> ServerProcess:
    """Start `python -m bot serve` (or `argv`) in `cwd` and wait until it answers on `port`.

    Ready means a 200 from `/healthz` (the database answers), or with `healthy=False` any HTTP
    answer (for a server without `/healthz`, such as bench/bare_bolt.py). Output goes to
    `log_path` (default `cwd/server.log`). `cpus` pins the process (and the workers it forks);
    `new_session` puts it in a session of its own, so a Ctrl-C in the terminal reaches only the
    caller. Raises ServerError, the process stopped, when it exits or does not answer within
    `timeout` seconds.
    """
    log_path = log_path or cwd / "server.log"
    log = log_path.open("wb")

    def pin() -> None:  # in the child, before exec: gunicorn's worker inherits it
        if cpus:
            os.sched_setaffinity(0, cpus)

    process = subprocess.Popen(
        argv or [sys.executable, "-m", "bot", "serve"],
        env=env,
        cwd=cwd,  # so that no stray .env of the caller's directory is read
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=pin if cpus else None,
        start_new_session=new_session,
    )
    server = ServerProcess(process, port, log_path, new_session, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            server.stop()
            reason = f"the server exited with status {process.returncode}"
            raise ServerError(reason, server.log_tail())
        if _answers(port, healthy):
            return server
        time.sleep(0.1)
    server.stop(timeout=5)
    reason = f"the server did not answer /healthz within {timeout:g} s"
    raise ServerError(reason, server.log_tail())


def log_tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log file ("" when there is none)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _answers(port: int, healthy: bool) -> bool:
    """Whether the server on `port` answers GET /healthz (with a 200 when `healthy`)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return response.status == 200 or not healthy
