"""The command line run in this process (`bot.runtime.cli.main`), with the environment a
`symmetry` process gets against the test's database and simulated Slack: a subprocess costs
most of a second, so tests keep those for what only a process shows (the installed entry
point, a crash, several processes at once, the servers).

What a process would throw away when it exits is put back after each command: the logging
configuration (the levels `configure_logging` gives libraries; its `basicConfig` adds no
handler, since pytest's, and the in-process app's log, are on the root logger already: what a
command logs goes there, not to its stderr), the signal handlers, the engines the command
opened (disposed). A command that leaves one of its threads running fails the test.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

import storage.db
from bot.demo.harness import server_env
from bot.demo.slack import SlackSim
from bot.runtime.cli import main

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class Ran:
    """What a command did: its exit status and what it printed."""

    status: int
    out: str
    err: str


class Cli:
    """`symmetry ARGS` in this process; `run` returns its exit status and output."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def run(self, *args: str) -> Ran:
        self.capsys.readouterr()  # what came before is not this command's
        with as_a_process():
            try:
                status = main(list(args))
            except SystemExit as exc:  # argparse's usage errors: the status a process exits with
                status = exc.code if isinstance(exc.code, int) else 1
        out, err = self.capsys.readouterr()
        return Ran(status, out, err)


@contextlib.contextmanager
def as_a_process() -> Iterator[None]:
    """Run a command as if in a process of its own, then undo what it changed globally:
    logging, signal handlers, the engines it made, the garbage collector's thresholds."""
    thresholds = gc.get_threshold()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    loggers = {
        name: (logger.level, logger.disabled)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    signals = {number: signal.getsignal(number) for number in _SIGNALS}
    threads = set(threading.enumerate())
    engines: list[Engine] = []
    create_engine = storage.db.create_engine

    def recorded(*args, **kwargs) -> Engine:  # type: ignore[no-untyped-def]
        engine = create_engine(*args, **kwargs)
        engines.append(engine)
        return engine

    storage.db.create_engine = recorded
    try:
        yield
    finally:
        storage.db.create_engine = create_engine
        for engine in engines:
            engine.dispose()
        for handler in set(root.handlers) - set(handlers):
            handler.close()
        root.handlers = handlers
        root.setLevel(level)
        for name, logger in list(logging.root.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger):
                was, logger.disabled = loggers.get(name, (logging.NOTSET, False))
                logger.setLevel(was)
        for number, handler in signals.items():
            signal.signal(number, handler)
        gc.set_threshold(*thresholds)
    left = [t for t in set(threading.enumerate()) - threads if not t.daemon and t.is_alive()]
    assert not left, f"the command left threads running: {left}"


def cli_for(
    database_url: str,
    sim: SlackSim,
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """A `Cli` whose environment is `server_env`'s, in `cwd` (so no `.env` from elsewhere)."""
    monkeypatch.chdir(cwd)
    env = server_env(database_url, sim)
    for name in set(os.environ) - set(env):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Cli(capsys)
