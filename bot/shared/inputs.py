"""Reading what comes back from Slack's side: button values and modal metadata are strings a
forged request can fill with anything, so they are read here, once, without raising."""

from __future__ import annotations

import json
from typing import Any

from storage.models import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH

MAX_DIGITS = 18  # more than any id or page; keeps int() cheap on hostile input


def number(value: object, *, signed: bool = False) -> int | None:
    """The integer in `value` written with ASCII digits (and a leading minus if `signed`), or
    None. `"²".isdigit()` is true but `int("²")` raises: only 0-9 count here."""
    if not isinstance(value, str):
        return None
    digits = value[1:] if signed and value.startswith("-") else value
    if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_DIGITS:
        return None
    return int(value)


def public_id(value: object) -> str | None:
    """A report's public id (see `storage.models.new_public_id`) as written by the app, or
    None for anything else."""
    if (
        isinstance(value, str)
        and len(value) == PUBLIC_ID_LENGTH
        and all(c in PUBLIC_ID_ALPHABET for c in value)
    ):
        return value
    return None


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A view's `private_metadata` as the JSON object the app wrote there, or {} for anything
    else (missing, not JSON, or JSON that is not an object)."""
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
