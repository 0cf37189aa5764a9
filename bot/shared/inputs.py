"""Reading what comes back from Slack's side: button values, modal metadata, the state of a
submitted form and the IDs in an event are values a forged request can fill with anything, so
they are read here, once, without raising."""

from __future__ import annotations

import json
import re
from typing import Any

from storage.models import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH

MAX_DIGITS = 18  # keeps int() cheap on hostile input
MAX_ID = 2**31 - 1  # the largest database ID (a PostgreSQL integer), more than any page
MAX_VALUE = 2000  # Slack's limit on a button's or an option's value: longer was never ours
SLACK_ID = re.compile(r"[A-Z][A-Z0-9]{1,31}")  # U0123ABCD, C0123ABCD…, within String(32)
# What each kind of input puts in a submitted form's state: text, lists of text, options.
_TEXTS = ("type", "value", "selected_date", "selected_time", "selected_conversation")
_LISTS = ("selected_users", "selected_conversations")


def number(value: object, *, signed: bool = False) -> int | None:
    """The integer in `value` written with ASCII digits (and a leading minus if `signed`), or
    None. `"²".isdigit()` is true but `int("²")` raises: only 0-9 count here. Nothing past the
    database's integers either: on PostgreSQL a query with one fails (out of range)."""
    if not isinstance(value, str):
        return None
    digits = value[1:] if signed and value.startswith("-") else value
    if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_DIGITS:
        return None
    found = int(value)
    return found if abs(found) <= MAX_ID else None


def identifier(value: object) -> int | None:
    """A database ID the app wrote into a form's metadata, or None: JSON `true` is a Python
    int equal to 1, and an ID past the database's integers fails the query (SQLite, PostgreSQL)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return value


def slack_id(value: object) -> str | None:
    """A Slack user, channel or workspace ID as an event names it, or None for anything else."""
    return value if isinstance(value, str) and SLACK_ID.fullmatch(value) else None


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


def clicked(body: dict[str, Any]) -> tuple[str, str]:
    """(action ID, value) of the button or menu a block_actions request is about: the button's
    value or the chosen option's, "" when there is none, it is not text, or it is longer than
    Slack lets an app write."""
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else None
    if not isinstance(action, dict):
        return "", ""
    option = _option(action.get("selected_option"))
    value = option["value"] if option else action.get("value")
    action_id = action.get("action_id")
    return (
        action_id if isinstance(action_id, str) else "",
        value if isinstance(value, str) and len(value) <= MAX_VALUE else "",
    )


def submitted(view: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """A submitted view's `state.values` ({block ID: {action ID: state}}) with only what has
    the types Slack sends: text where an input puts text, options as {"value": text}, lists of
    those. Anything else is left out, as if the field had been left empty."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return {}
    return {
        block_id: {
            action_id: _input(element)
            for action_id, element in actions.items()
            if isinstance(element, dict)
        }
        for block_id, actions in values.items()
        if isinstance(actions, dict)
    }


def field_errors(view: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """`errors` by field name, keyed instead by the input block that shows the field in `view`
    (its ID is the name, or the name, "-" and the form's version), or by the view's first input
    for a field it does not show: Slack refuses errors beside a block the view lacks, and the
    person then reads only "We had some trouble connecting"."""
    blocks: dict[str, str] = {}
    for block in view.get("blocks") or []:
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        if isinstance(block_id := block.get("block_id"), str):
            blocks.setdefault(block_id.split("-", 1)[0], block_id)
    first = next(iter(blocks.values()), "")
    return {blocks.get(name, first): text for name, text in errors.items()}


def _input(state: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {key: state[key] for key in _TEXTS if isinstance(state.get(key), str)}
    for key in _LISTS:
        if isinstance(state.get(key), list):
            kept[key] = [item for item in state[key] if isinstance(item, str)]
    if (option := _option(state.get("selected_option"))) is not None:
        kept["selected_option"] = option
    if isinstance(state.get("selected_options"), list):
        kept["selected_options"] = list(filter(None, map(_option, state["selected_options"])))
    return kept


def _option(option: object) -> dict[str, str] | None:
    if isinstance(option, dict) and isinstance(option.get("value"), str):
        return {"value": option["value"]}
    return None
