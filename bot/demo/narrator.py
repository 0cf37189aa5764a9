"""The demo's voice: scene titles, what people do, and what Symmetry answered, as it happens.

Every line is flushed at once so the run reads as a story unfolding. Colours are used only on
a terminal, and never when `NO_COLOR` is set.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Iterable
from typing import TextIO

_RESET = "\033[0m"
_STYLES = {"title": "\033[1m", "bot": "\033[36m", "note": "\033[2m", "error": "\033[31m"}
MAX_WIDTH = 100


class Narrator:
    """Writes the story of a demo run to a stream."""

    def __init__(self, stream: TextIO | None = None, *, colour: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        if colour is None:
            is_tty = hasattr(self.stream, "isatty") and self.stream.isatty()
            colour = is_tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
        self.colour = colour
        self.width = min(shutil.get_terminal_size((MAX_WIDTH, 24)).columns, MAX_WIDTH)

    def _style(self, text: str, style: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if self.colour else text

    def _write(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def _wrap(self, line: str, indent: str, style: str | None = None, *, then: str = "") -> None:
        """Write one logical line wrapped to the terminal; continuation lines are indented with
        `then` (default: as much as `indent`), plus the line's own leading spaces."""
        extra = " " * (len(line) - len(line.lstrip()))
        first, rest = indent + extra, (then or " " * len(indent)) + extra
        pieces = textwrap.wrap(
            line.strip(),
            width=max(self.width, len(rest) + 30),
            initial_indent=first,
            subsequent_indent=rest,
            break_on_hyphens=False,
            break_long_words=False,  # paths and URLs stay whole
        ) or [first.rstrip()]
        for piece in pieces:
            self._write(self._style(piece, style) if style else piece)

    def banner(self, title: str, subtitle: str) -> None:
        """The opening lines of the run."""
        self._write(self._style(title, "title"))
        self._wrap(subtitle, "")

    def scene(self, number: int, title: str) -> None:
        """Start a scene: a blank line and a numbered title."""
        self._write()
        self._write(self._style(f"━━ {number}. {title} ━━", "title"))

    def step(self, text: str) -> None:
        """What a person (or Slack) does: `▸ Amélie (admin, FR) types /symmetry team`."""
        self._wrap(text, "▸ ")

    def clock(self, text: str) -> None:
        """The demo moves the clock: `⏱ The clock ticks: Tuesday 13 January, 10:00 in Paris`."""
        self._wrap(text, "⏱ ", "title")

    def note(self, text: str) -> None:
        """A remark from the narrator, dimmed."""
        self._wrap(text, "  ", "note")

    def says(self, heading: str, lines: Iterable[str]) -> None:
        """Something shown to a person (a message, a modal, a Home tab), framed and indented."""
        self._wrap(heading, "  ", "bot")
        for line in lines:
            self._wrap(line, "    │ ", then="    │ ")

    def shell(self, command: str, output: str, *, prompt: str = "$") -> None:
        """A command typed in a terminal and what it printed (a long line continues indented).
        `prompt` tells where it was typed: `$` for a shell, `demo.db>` for the database."""
        self._wrap(command, f"  {prompt} ", then="      ")
        for line in output.rstrip("\n").splitlines():
            if len(line) + 4 > self.width:
                self._wrap(line, "    ", then="      ")
            else:
                self._write(f"    {line}")

    def done(self, text: str) -> None:
        """The closing line."""
        self._write()
        self._wrap(text, "", "title")

    def error(self, text: str) -> None:
        """A failure, on stderr."""
        colour = self.colour and sys.stderr.isatty()
        message = f"{_STYLES['error']}{text}{_RESET}" if colour else text
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
