"""`/symmetry help`, and the answer to an unknown sub-command."""

from __future__ import annotations

from functools import cache
from typing import Any

from bot.shared.blocks import Kept, kept, render

SUBCOMMANDS = ("help", "team", "survey", "walk", "nps", "digest")


def help_message(locale: str, *, unknown: str | None = None) -> dict[str, Any]:
    """The help message; `unknown` is the sub-command we did not understand, if any."""
    if unknown is None:
        return plain_help(locale).copy()
    return render("help", locale, unknown=unknown)


@cache
def plain_help(locale: str) -> Kept:
    """The help message as asked for: the same for everyone, rendered and encoded once."""
    return kept(render("help", locale, unknown=None))


def parse(text: str) -> tuple[str, str]:
    """Split `/symmetry` text into a lower-case sub-command (default help) and the rest."""
    word, _, rest = text.strip().partition(" ")
    return (word.lower() or "help"), rest.strip()
