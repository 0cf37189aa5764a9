"""What every CLI command shares for talking to its caller: the error that ends a command
with a message (exit status 1), JSON on standard output, and counts in words."""

from __future__ import annotations

import json
import sys


class CommandError(Exception):
    """A command cannot be carried out; the message says why (exit status 1)."""


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def plural(number: int, noun: str) -> str:
    """ "1 team", "2 teams", "3 people": a count in the operators' output (English)."""
    if number == 1:
        return f"1 {noun}"
    return f"{number} {'people' if noun == 'person' else noun + 's'}"
