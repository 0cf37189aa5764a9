"""Block Kit lives in Jinja2 templates that render JSON; this module renders and checks them.

`render(name, locale, **context)` renders `templates/<name>.json.j2` with the locale's
translations and returns the decoded payload: a view (`"type": "modal"` or `"home"`) or a
message (`{"text": ..., "blocks": [...]}`). It raises `BlockKitLimitError` when the payload
breaks one of Slack's limits, so a too-long team name fails here, loudly, instead of at Slack.

Text that people typed (descriptions, places, notes, comments, team names, questions) goes
into a `mrkdwn` text object only through the `mrkdwn` filter (see `mrkdwn`), and that text
object says `"verbatim": true`; into `plain_text` it goes as it is (Slack shows it literally).
tests/test_mrkdwn.py renders every template with hostile text in every such field.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, cached_property
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from jinja2 import BytecodeCache, Environment, PackageLoader, StrictUndefined
from jinja2.bccache import Bucket

from bot.shared.i18n import translations
from bot.shared.worktime import day_of, zone


class BlockKitLimitError(ValueError):
    """A rendered payload breaks one of Slack's Block Kit limits."""


MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
TEXT_LIMITS = {
    "section": 3000,
    "header": 150,
    "button": 75,
    "option": 75,
    "field": 2000,
    "title": 24,
    "submit": 24,
    "close": 24,
    "label": 2000,
    "placeholder": 150,
    "context": 2000,
}


def _local(value: date | datetime, timezone: str | None) -> date:
    """The date of `value`; for an instant, the date it was in `timezone` (as is, without)."""
    if isinstance(value, datetime):
        return (value.astimezone(zone(timezone)) if timezone else value).date()
    return value


def _truncate(value: str, limit: int) -> str:
    """Shorten user-provided text to `limit` characters, marking the cut with an ellipsis."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


# Slack's control characters, and a typed backtick, which must not open or close inline code.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "`": "ˋ"})
_WORDS = re.compile(r"([\s<>`]+)")  # words, between spaces, Slack's brackets and backticks
# What Slack, or a client displaying the text, could make a link of: a word with a scheme,
# or with a domain name in it (an address's too).
_LINKLIKE = re.compile(r"://|\w\.[a-z]{2,}\b", re.IGNORECASE)
_OPENING, _CLOSING = "([{'\"", ")]}'\".,;:!?"  # punctuation around a link, left out of it


def mrkdwn(value: object, limit: int | None = None) -> str:
    """User text made safe to put into a `mrkdwn` text object, in at most `limit` characters.

    - `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`, so that `<!channel>`, `<@U…>`,
      `<#C…>` and `<https://…|Re-authenticate>` read as typed instead of pinging a channel,
      naming a colleague or disguising a link.
    - What looks like a link (a URL, a domain name, an address) is put in inline code, and a
      backtick typed by the person becomes `ˋ` so that it cannot open or close that code:
      a link shown as code is not clickable. Some texts cross the anonymity line (an
      anonymous report read by managers, a manager's note read by its anonymous reporter,
      a pulse comment): a per-report tracking link, once clicked, would tell who reported.
      Doing it to all user text keeps one rule: no template has to judge which text crosses.
    - The text object carrying it must say `"verbatim": true`: otherwise Slack itself turns
      bare URLs, domain names and channel names into links and parses some mentions
      (docs.slack.dev, Block Kit text object, `verbatim`). Escaping covers what Slack
      parses in any case; verbatim and code cover what it would add.

    `limit` counts what Slack counts, the escaped text: the cut (marked `…`) never splits
    an entity or leaves a code span open. Plain_text must not go through here: Slack shows
    it literally, entities included.
    """
    parts: list[tuple[str, bool]] = []  # (raw text, shown as code)
    for word in _WORDS.split(str(value)):
        core = word.rstrip(_CLOSING)
        link = core.lstrip(_OPENING)
        if _LINKLIKE.search(link):
            start = len(core) - len(link)
            parts += [(word[:start], False), (link, True), (word[len(core) :], False)]
        else:
            parts.append((word, False))
    whole = "".join(
        f"`{t.translate(_ESCAPES)}`" if code else t.translate(_ESCAPES) for t, code in parts
    )
    if limit is None or len(whole) <= limit:
        return whole
    return _cut(parts, limit - 1) + "…"


def _cut(parts: list[tuple[str, bool]], budget: int) -> str:
    """The escaped `parts` in at most `budget` characters, whole entities and closed code."""
    out: list[str] = []
    used = 0
    for text, code in parts:
        if code:
            if used + 3 > budget:  # no room for a backtick, a character and a backtick
                break
            out.append("`")
            used += 1
        for char in text:
            piece = char.translate(_ESCAPES)
            if used + len(piece) + code > budget:
                return "".join(out) + ("`" if code else "")
            out.append(piece)
            used += len(piece)
        if code:
            out.append("`")
            used += 1
    return "".join(out)


class _CompiledOnce(BytecodeCache):
    """Each template's compiled code, shared by every locale's environment. The environments
    are configured alike and differ only in their translations and filters' locale, which the
    code looks up as it runs: so a template is compiled once per process, not once per locale
    (compiling every template was most of a server's warm-up, 0.3 s per locale)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # checked against the template's source

    def dump_bytecode(self, bucket: Bucket) -> None:
        code = bucket.bytecode_to_string()
        with self._lock:
            self._code[bucket.key] = code


_COMPILED = _CompiledOnce()


@cache
def environment(locale: str) -> Environment:
    """The Jinja2 environment for one locale (one per locale keeps rendering thread-safe)."""
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        bytecode_cache=_COMPILED,
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        autoescape=False,  # the output is JSON: every value goes through `tojson`
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the code: no disk check on every render
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["truncate_text"] = _truncate  # for plain_text; user text in mrkdwn: `mrkdwn`
    env.filters["mrkdwn"] = mrkdwn
    env.filters["format_user"] = lambda user_id: f"<@{user_id}>"
    env.filters["format_channel"] = lambda channel_id: f"<#{channel_id}>"
    env.filters["signed"] = lambda value: f"{value:+g}" if isinstance(value, int | float) else value
    env.filters["team_day"] = day_of  # an instant's day in a team's calendar, as kept
    env.filters["day"] = lambda value, timezone=None: format_date(
        _local(value, timezone), format="medium", locale=locale
    )
    # Numbers in the reader's language: "3.5" or "3,5"; `signed` shows "+" on gains too.
    env.filters["number"] = lambda value, signed=False: format_decimal(
        value, "+#,##0.#;-#,##0.#" if signed else "#,##0.#", locale=locale
    )
    env.filters["percent"] = lambda value: format_percent(value, locale=locale)
    env.filters["month"] = lambda value: format_date(value, format="LLLL y", locale=locale)
    return env


def render(name: str, locale: str, /, **context: Any) -> dict[str, Any]:
    """Render template `name` in `locale` and check it against Slack's limits."""
    template = environment(locale).get_template(f"{name}.json.j2")
    text = template.render(locale=locale, **context)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BlockKitLimitError(f"template {template.name} rendered invalid JSON: {exc}") from exc
    check_limits(payload, where=template.name or "template")
    return payload


@dataclass(frozen=True)
class Kept:
    """A rendered payload kept for reuse, as JSON text: each use parses its own copy, which
    is half the work of copying a dict (and the kept one cannot be changed by a caller), or
    shares one read-only copy (`frozen`) when it only sends the payload on."""

    text: str

    def copy(self) -> dict[str, Any]:
        return json.loads(self.text)

    @cached_property
    def frozen(self) -> ReadOnly:
        """The payload decoded once and shared by every caller: its dicts refuse changes and
        its lists are tuples, so that no caller can alter what the next one is given. Slack
        clients encode it as they would the dict (a dict subclass, tuples as arrays)."""
        return _freeze(json.loads(self.text))


class ReadOnly(dict[str, Any]):
    """A dict that refuses every change after it is made (see `Kept.frozen`); `copy.copy`
    and `copy.deepcopy` give plain dicts and lists, the caller's own."""

    def _refuse(self, *_args: Any, **_kwargs: Any) -> None:
        raise TypeError("a kept payload is shared: change a copy (Kept.copy) instead")

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, _memo: dict[int, Any]) -> dict[str, Any]:
        return fresh(self)  # tuples come back as lists


def _freeze(value: Any) -> Any:
    """Decoded JSON made read-only: dicts as `ReadOnly`, lists as tuples."""
    if isinstance(value, dict):
        return ReadOnly((key, _freeze(item)) for key, item in value.items())
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value


def kept(payload: dict[str, Any]) -> Kept:
    return Kept(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))


def fresh(payload: dict[str, Any]) -> dict[str, Any]:
    """An independent copy of a rendered payload, for callers that keep one rendered.

    A JSON round trip: many times faster than `copy.deepcopy` on Block Kit's nested dicts,
    which on a large modal cost milliseconds per request.
    """
    return json.loads(json.dumps(payload))


def check_limits(payload: dict[str, Any], *, where: str = "payload") -> None:
    """Raise BlockKitLimitError when `payload` exceeds a Slack limit."""
    kind = payload.get("type", "message")
    if kind not in MAX_BLOCKS:
        raise BlockKitLimitError(f"{where}: unknown payload type {kind!r}")
    blocks = payload.get("blocks", [])
    if len(blocks) > MAX_BLOCKS[kind]:
        raise BlockKitLimitError(f"{where}: {len(blocks)} blocks, Slack allows {MAX_BLOCKS[kind]}")
    if kind == "message" and len(payload.get("text", "")) > 40000:
        raise BlockKitLimitError(f"{where}: message text over 40000 characters")
    if kind != "message":
        for key in ("title", "submit", "close"):
            if key in payload:
                _check_text(payload[key], TEXT_LIMITS[key], f"{where}: modal {key}")
        if len(payload.get("private_metadata", "")) > 3000:
            raise BlockKitLimitError(f"{where}: private_metadata over 3000 characters")
    for index, block in enumerate(blocks):
        _check_block(block, f"{where}: block {index} ({block.get('type')})")


def _check_text(obj: Any, limit: int, where: str) -> None:
    text = obj.get("text", "") if isinstance(obj, dict) else str(obj)
    if len(text) > limit:
        raise BlockKitLimitError(f"{where}: text of {len(text)} characters, limit {limit}")


def _check_block(block: dict[str, Any], where: str) -> None:
    kind = block.get("type")
    if kind == "section":
        if "text" in block:
            _check_text(block["text"], TEXT_LIMITS["section"], where)
        fields = block.get("fields", [])
        if len(fields) > 10:
            raise BlockKitLimitError(f"{where}: {len(fields)} fields, limit 10")
        for field in fields:
            _check_text(field, TEXT_LIMITS["field"], where)
        if "accessory" in block:
            _check_element(block["accessory"], where)
    elif kind == "header":
        _check_text(block["text"], TEXT_LIMITS["header"], where)
    elif kind == "context":
        if len(block.get("elements", [])) > 10:
            raise BlockKitLimitError(f"{where}: more than 10 context elements")
        for element in block.get("elements", []):
            _check_text(element, TEXT_LIMITS["context"], where)
    elif kind == "actions":
        if len(block.get("elements", [])) > 25:
            raise BlockKitLimitError(f"{where}: more than 25 action elements")
        for element in block.get("elements", []):
            _check_element(element, where)
    elif kind == "input":
        _check_text(block["label"], TEXT_LIMITS["label"], where)
        _check_element(block["element"], where)


def _check_element(element: dict[str, Any], where: str) -> None:
    if element.get("type") == "button":
        _check_text(element["text"], TEXT_LIMITS["button"], f"{where} button")
        if len(element.get("value", "")) > 2000:
            raise BlockKitLimitError(f"{where}: button value over 2000 characters")
    if "placeholder" in element:
        _check_text(element["placeholder"], TEXT_LIMITS["placeholder"], f"{where} placeholder")
    options = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options.extend(group.get("options", []))
    if len(options) > 100:
        raise BlockKitLimitError(f"{where}: {len(options)} options, limit 100")
    for option in options:
        _check_text(option["text"], TEXT_LIMITS["option"], f"{where} option")
        if len(option.get("value", "")) > 150:
            raise BlockKitLimitError(f"{where}: option value over 150 characters")
