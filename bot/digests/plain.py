"""A Block Kit message read as plain text, for a terminal (`symmetry digest preview --format
text`, the demo). It is read from the rendered blocks, so that it never says anything the
message does not: headers underlined, sections with their fields, context lines, buttons in
brackets. Slack's three escaped characters are shown as typed."""

from __future__ import annotations

from typing import Any

_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def _unescape(text: str) -> str:
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def _text(obj: dict[str, Any] | None) -> str:
    return _unescape(obj.get("text", "")) if isinstance(obj, dict) else ""


def _button(element: dict[str, Any]) -> str:
    return f"[{_text(element.get('text'))}]" if element.get("type") == "button" else ""


def _block(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text(block.get("text"))
        return [title, "=" * len(title)]
    if kind == "section":
        lines = [_text(block["text"])] if "text" in block else []
        lines += [_text(field) for field in block.get("fields", [])]
        accessory = _button(block.get("accessory", {}))
        return lines + ([accessory] if accessory else [])
    if kind == "context":
        return [" · ".join(_text(e) for e in block.get("elements", []) if "text" in e)]
    if kind == "actions":
        return [" ".join(b for e in block.get("elements", []) if (b := _button(e)))]
    if kind == "divider":
        return ["-" * 40]
    return []


def text_of(payload: dict[str, Any]) -> str:
    """The message's blocks as lines of text, a blank line between blocks."""
    parts = ["\n".join(lines) for block in payload.get("blocks", []) if (lines := _block(block))]
    return "\n\n".join(part for part in parts if part.strip()) + "\n"
