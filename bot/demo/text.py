"""Block Kit as terminal text: what a person would read in Slack, for the demo's narration.

Headers, sections, fields and context become lines; buttons become `[Label]` and selects
`[Choice ▾]`; Slack mrkdwn loses its markers and `<@U…>`/`<#C…>` become `@Name`/`#channel`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_REFERENCE = re.compile(r"<([@#!]?)([^<>|]+)(?:\|([^<>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_CODE = re.compile(r"`([^`\n]+)`")
_RULE = "─" * 24


@dataclass(frozen=True)
class Names:
    """Display names for user and channel IDs (unknown IDs are shown as they are)."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)


def plain(text: str, names: Names) -> str:
    """Slack mrkdwn as plain text: markers removed, mentions and links made readable."""

    def reference(match: re.Match[str]) -> str:
        kind, target, label = match.groups()
        if kind == "@":
            return "@" + names.users.get(target, label or target)
        if kind == "#":
            return "#" + names.channels.get(target, label or target)
        if kind == "!":  # <!here>, <!channel>, <!date^…|fallback>
            return label or "@" + target
        return label or target  # a link

    text = _REFERENCE.sub(reference, text)
    for pattern in (_CODE, _BOLD, _ITALIC, _STRIKE):
        text = pattern.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any, names: Names) -> str:
    """The readable text of a text object (`plain_text` or `mrkdwn`) or a bare string."""
    if isinstance(obj, str):
        return plain(obj, names)
    if not isinstance(obj, dict):
        return ""
    text = str(obj.get("text", ""))
    return plain(text, names) if obj.get("type") == "mrkdwn" else text


def element(element: dict[str, Any], names: Names) -> str:
    """One interactive element as a short bracketed label, e.g. `[Save]` or `[English ▾]`."""
    kind = element.get("type", "")
    placeholder = _text(element.get("placeholder"), names)
    if kind == "button":
        return f"[{_text(element.get('text'), names)}]"
    if kind in ("static_select", "external_select", "overflow"):
        chosen = _text((element.get("initial_option") or {}).get("text"), names)
        return _select(chosen or placeholder)
    if kind in ("users_select", "multi_users_select"):
        ids = element.get("initial_users") or [element.get("initial_user")]
        chosen = ", ".join("@" + names.users.get(i, i) for i in ids if i)
        return _select(chosen or placeholder)
    if kind in ("conversations_select", "channels_select"):
        channel = element.get("initial_conversation") or element.get("initial_channel")
        chosen = "#" + names.channels.get(channel, channel) if channel else ""
        return _select(chosen or placeholder)
    if kind in ("checkboxes", "radio_buttons"):
        chosen = {o.get("value") for o in element.get("initial_options", [])}
        chosen.add((element.get("initial_option") or {}).get("value"))
        return "  ".join(
            ("☑ " if option.get("value") in chosen else "☐ ") + _text(option.get("text"), names)
            for option in element.get("options", [])
        )
    if kind.endswith("_input"):
        return f"[{element.get('initial_value') or placeholder}]"
    if kind == "datepicker":
        return _select(element.get("initial_date") or placeholder)
    if kind == "timepicker":
        return _select(element.get("initial_time") or placeholder)
    return f"[{placeholder or kind}]"


def _select(label: str) -> str:
    return f"[{label} ▾]" if label else "[▾]"


def block(block: dict[str, Any], names: Names) -> list[str]:
    """One block as lines of text (a block of an unknown type gives none)."""
    kind = block.get("type")
    if kind == "header":
        return ["■ " + _text(block.get("text"), names)]
    if kind == "divider":
        return [_RULE]
    if kind == "section":
        lines = _text(block.get("text"), names).splitlines() if block.get("text") else []
        for item in block.get("fields", []):
            label, _, value = _text(item, names).partition("\n")
            lines.append(f"{label} — {' '.join(value.split())}" if value else label)
        if "accessory" in block and block["accessory"].get("type") != "image":
            lines.append(element(block["accessory"], names))
        return lines
    if kind == "context":
        texts = [_text(e, names) for e in block.get("elements", []) if e.get("type") != "image"]
        return ("· " + " · ".join(texts)).splitlines() if texts else []
    if kind == "actions":
        return ["  ".join(element(e, names) for e in block.get("elements", []))]
    if kind == "input":
        lines = [f"{_text(block.get('label'), names)}  {element(block['element'], names)}"]
        if block.get("hint"):
            lines.append(f"  ({_text(block['hint'], names)})")
        return lines
    if kind == "image":
        return [f"[🖼 {block.get('alt_text', '')}]"]
    if kind == "rich_text":
        return ["".join(_rich_text(part) for part in block.get("elements", []))]
    return []


def _rich_text(part: dict[str, Any]) -> str:
    if "elements" in part:
        return "".join(_rich_text(child) for child in part["elements"])
    return str(part.get("text", ""))


def message(payload: dict[str, Any], names: Names) -> list[str]:
    """A message (chat.postMessage, a response_url answer or an ack body) as lines."""
    lines = [line for b in payload.get("blocks") or [] for line in block(b, names)]
    return lines or _text(payload.get("text", ""), names).splitlines()


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Query results as aligned columns under their names; NULL for None."""
    cells = [list(columns), *(["NULL" if v is None else str(v) for v in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def view(payload: dict[str, Any], names: Names) -> list[str]:
    """A modal or Home tab as lines: its title, its blocks, then its buttons."""
    lines: list[str] = []
    if payload.get("title"):
        lines.append("■ " + _text(payload["title"], names))
    lines.extend(line for b in payload.get("blocks", []) for line in block(b, names))
    buttons = [f"[{_text(payload[key], names)}]" for key in ("close", "submit") if payload.get(key)]
    if buttons:
        lines.append("  ".join(buttons))
    return lines
