"""What every CLI command shares for talking to its caller: the error that ends a command
with a message (exit status 1) and JSON on standard output."""

from __future__ import annotations

import json
import sys


class CommandError(Exception):
    """A command cannot be carried out; the message says why (exit status 1)."""


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
