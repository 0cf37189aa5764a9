"""The command line run in this process (`bot.runtime.cli.main`), with the environment a
`symmetry` process gets against the test's database and simulated Slack: a subprocess costs
most of a second, so tests keep those for what only a process shows (exit status, stderr)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.demo.harness import server_env
from bot.demo.slack import SlackSim
from bot.runtime.cli import main


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
        status = main(list(args))
        out, err = self.capsys.readouterr()
        return Ran(status, out, err)


def cli_for(
    database_url: str,
    sim: SlackSim,
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """A `Cli` whose environment is `server_env`'s (and no `.env` from elsewhere)."""
    monkeypatch.chdir(cwd)
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in server_env(database_url, sim).items():
        monkeypatch.setenv(name, value)
    return Cli(capsys)
