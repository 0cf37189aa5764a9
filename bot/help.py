"""`/symmetry help`, and the answer to an unknown sub-command."""

from __future__ import annotations

from typing import Any

from bot.blocks import render

SUBCOMMANDS = ("help", "team")


def help_message(locale: str, *, unknown: str | None = None) -> dict[str, Any]:
    """The help message; `unknown` is the sub-command we did not understand, if any."""
    return render("help", locale, unknown=unknown)


def parse(text: str) -> tuple[str, str]:
    """Split `/symmetry` text into a lower-case sub-command (default help) and the rest."""
    word, _, rest = text.strip().partition(" ")
    return (word.lower() or "help"), rest.strip()
