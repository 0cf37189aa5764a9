"""The demo's stage: a throwaway directory, a migrated SQLite database, the real
`symmetry serve` process wired to the simulated workspace, and the `symmetry` commands the
story runs.

Each command (`tick`, `export`, …) is a process of its own, as an operator's would be: its
own memory, database connections and exit code, its output captured. It is forked from a
process that has already imported the program (multiprocessing's fork server), so it does
not pay the interpreter's start and the imports again: about half a second of CPU a command,
which was most of the demo's time. What the interpreter reads when it starts (PYTHON*
variables, the locale) and what the preloaded modules read when imported come from the
demo's own environment, of which a command's is the same but for the settings.

Everything is removed when the stage closes, whatever happened: the server is stopped
(SIGTERM, then SIGKILL for its whole process group), a command still running is killed and
the directory deleted. The fork server ends with the demo's process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import runpy
import secrets
import shutil
import sys
import tempfile
import traceback
from collections.abc import Sequence
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
# What the fork server imports once, before any command: what every command needs. A module
# a command imports later is imported in that command's process, under its own environment.
PRELOADED = ["bot.runtime.cli", "bot.runtime.operations", "bot.runtime.clock", __name__]


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
        """Run `symmetry ARGS` in a process of its own with the server's settings; return what
        it printed."""
        self.commands_run += 1
        out = self.dir / f"command-{self.commands_run}.out"
        err = self.dir / f"command-{self.commands_run}.err"
        forks = multiprocessing.get_context("forkserver")
        forks.set_forkserver_preload(PRELOADED)
        process = forks.Process(
            target=_command, args=(list(args), self.env, str(self.dir), str(out), str(err))
        )
        command = f"`symmetry {' '.join(args)}`"
        try:
            process.start()
            process.join(CLI_TIMEOUT)
            timed_out = process.exitcode is None
        finally:  # too long, or an interrupt or a SIGTERM while it ran: it goes too
            if process.exitcode is None:
                process.kill()
                process.join()
        said = _read(err).strip()
        if timed_out:
            raise StageError(f"{command} took over {CLI_TIMEOUT:.0f} s; it said: {said}")
        if process.exitcode != 0:
            raise StageError(f"{command} failed (exit status {process.exitcode}): {said}")
        return _read(out)

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


def _read(path: Path) -> str:
    """What a command wrote to one of its streams ("" if it never opened it)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def _command(args: Sequence[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    """In the forked process: run `python -m bot ARGS` (the module, as the interpreter would)
    in `cwd` with `env` for environment, its stdout and stderr written to files; its exit
    status is the process's (1 after an uncaught exception, whose traceback it writes, as
    the interpreter would)."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.argv = ["symmetry", *args]
    # Python's streams and the file descriptors under them: nothing reaches the demo's terminal.
    sys.stdout = open(out, "w", encoding="utf-8")  # noqa: SIM115 (flushed below)
    sys.stderr = open(err, "w", encoding="utf-8")  # noqa: SIM115
    os.dup2(sys.stdout.fileno(), 1)
    os.dup2(sys.stderr.fileno(), 2)
    try:
        runpy.run_module("bot", run_name="__main__", alter_sys=True)
    except Exception:
        traceback.print_exc()  # here, not multiprocessing's report with its own frames
        sys.exit(1)
    finally:
        logging.shutdown()  # what atexit would do: a forked process leaves through os._exit
        sys.stdout.flush()
        sys.stderr.flush()
