"""Text people typed reaches Slack as text: never a live mention, a disguised link or a link
at all (issue 10, finding 8). Every template is rendered with hostile text in every user
field; then an anonymous report, a manager's note and a named report go through the app in
this process (tests/inprocess.py) and the simulated Slack."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from bot.demo.slack import form_values
from bot.shared.blocks import mrkdwn, render
from tests.conftest import EMPLOYEE, MANAGER, SALARIEE
from tests.irritant_helpers import big_team, report
from tests.test_blocks import SAMPLES, VARIANTS
from tests.test_triage import LATER, button, dms, tick, triage_form

# What a hostile colleague types: what JSON must keep (quotes, a backslash), a channel ping,
# a mention, a disguised link, a backtick to open code, and (added by `hostile`) a tracking link.
HOSTILE = 'ZQX "b" \\ <!channel> <@U999> <#C999> <https://evil.example|Re-authenticate> `a & '
TRACKER = "https://track.example/abc"
LIVE = ("<!channel>", "<!here>", "<@U999>", "<#C999>", "<https://", "<http://")

# The fields of the templates' contexts that hold what people typed. A new kind of user text
# needs a place in a sample (tests/test_blocks.py) under one of these names, or a new name.
USER_FIELDS = {
    "name",  # team names, typed by admins
    "timezone",
    "description",
    "location",
    "locations",
    "resolution_note",
    "note",  # a reporter's added detail, a manager's note
    "comments",  # pulse comments
    "text",  # pulse questions (admins add their own)
    "unknown",  # the word after a command
    "prefill",
    "stopped_seeing",  # a walk's two answers
    "works_well",
    "place",  # a learning expedition's astonishment report
    "surprised",
    "borrow",
}
# Templates whose samples show no user text at all.
NO_USER_TEXT = {
    "digest_nps_refused",
    "digest_refused",
    "digest_settings_modal",
    "irritant_expired",
    "irritant_no_team",
    "not_admin",
    "not_allowed_survey",
    "pulse_comment_modal",
    "pulse_pause_modal",
    "walk_notice_modal",
}


def replaced(value: Any, new: Callable[[str | None, Any], Any], field: str | None = None) -> Any:
    """A copy of a template context, each field's value passed through `new(field, value)`."""
    value = new(field, value)
    if isinstance(value, SimpleNamespace):
        return SimpleNamespace(**{k: replaced(v, new, k) for k, v in vars(value).items()})
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return dataclasses.replace(
            value, **{f.name: replaced(getattr(value, f.name), new, f.name) for f in fields}
        )
    if isinstance(value, dict):
        return {k: replaced(v, new, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(replaced(v, new) for v in value)
    return value


def hostile(context: dict[str, Any]) -> dict[str, Any]:
    """The context with HOSTILE and a tracking link before every user field's text."""

    def new(field: str | None, value: Any) -> Any:
        if field not in USER_FIELDS:
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [new(field, v) for v in value]
        return f"{HOSTILE}{TRACKER} {value}" if isinstance(value, str) and value else value

    return replaced(context, new)


def text_objects(payload: Any) -> list[dict]:
    """Every text object (`mrkdwn` or `plain_text`) in a payload."""
    found: list[dict] = []
    if isinstance(payload, dict):
        if payload.get("type") in ("mrkdwn", "plain_text") and isinstance(payload.get("text"), str):
            found.append(payload)
        for value in payload.values():
            found += text_objects(value)
    elif isinstance(payload, list):
        for value in payload:
            found += text_objects(value)
    return found


def assert_inert(payload: dict, marker: str) -> list[str]:
    """No mrkdwn text holding `marker` (or the message's notification text) holds a live
    mention or link, or a link outside inline code; those text objects are verbatim, so
    Slack adds none. Returns the mrkdwn texts that held the marker."""
    texts = [payload.get("text")] if isinstance(payload.get("text"), str) else []
    shown = []
    for obj in text_objects(payload):
        if obj["type"] == "mrkdwn" and marker in obj["text"]:
            assert obj.get("verbatim") is True, obj
            texts.append(obj["text"])
            shown.append(obj["text"])
    for text in texts:
        assert not any(live in text for live in LIVE), text
        assert not re.search(r"(?<!`)https?://", text), text  # a URL only in inline code
    return shown


# Each template's sample (for /irritant help, the one with a word typed after it), which
# must show user text unless NO_USER_TEXT says it has none; then the other branches.
SHOWING = {**SAMPLES, "irritant_help": lambda locale: {"unknown": "stats"}}
CASES = [pytest.param(name, SHOWING[name], True, id=name) for name in sorted(SHOWING)]
CASES += [pytest.param(name, factory, False, id=case) for case, name, factory in VARIANTS]


class TestEveryTemplate:
    @pytest.mark.parametrize("locale", ["en", "fr"])
    @pytest.mark.parametrize(("name", "factory", "sample"), CASES)
    def test_user_text_is_escaped_in_mrkdwn_only(self, name, factory, sample, locale):
        """With hostile text in every user field, no mrkdwn text holds a live mention or link,
        plain_text shows it as typed (not escaped twice), and JSON keeps quotes and
        backslashes; a template that shows no user text is declared so."""
        payload = render(name, locale, **hostile(factory(locale)))
        shown = assert_inert(payload, "ZQX")
        typed = [o["text"] for o in text_objects(payload) if o["type"] == "plain_text"]
        typed += [e["initial_value"] for e in _inputs(payload) if "initial_value" in e]
        typed = [text for text in typed if "ZQX" in text]
        for text in typed:
            assert "&lt;" not in text and "&amp;" not in text, text
            assert text.startswith('ZQX "b" \\ <!channel> <@U999>'), text
        for text in shown:
            assert 'ZQX "b" \\ &lt;!channel&gt; &lt;@U999&gt;' in text, text
        if not sample:
            return
        if name in NO_USER_TEXT:
            assert not shown and not typed, f"{name} shows user text: take it off NO_USER_TEXT"
        else:
            assert shown or typed, (
                f"{name} shows no hostile text: is its user field in USER_FIELDS?"
            )

    @pytest.mark.parametrize("name", ["irritant_roundup", "irritant_update", "home"])
    def test_escaping_keeps_slacks_limits(self, name):
        """Escaping makes a text longer (`<` is four characters): texts made only of them
        still fit Slack's limits, so one report cannot stop a roundup from rendering."""
        context = SAMPLES[name]("en")
        worst = {"description": "<" * 3000, "location": "&" * 200, "note": ">" * 2000}
        worst |= {"resolution_note": "<" * 2000, "comments": ["&" * 1000] * 3, "text": "<" * 300}

        new = lambda field, value: worst[field] if field in worst and value else value  # noqa: E731
        payload = render(name, "en", **replaced(context, new))  # raises past a limit
        assert "&lt;" * 100 in str(payload) or "&gt;" * 100 in str(payload)


def _inputs(payload: Any) -> list[dict]:
    blocks = payload.get("blocks", [])
    return [b["element"] for b in blocks if b.get("type") == "input"]


class TestMrkdwnFilter:
    def test_escapes_slacks_three_control_characters_only(self):
        """`&`, `<` and `>` become entities; quotes and formatting characters stay."""
        assert mrkdwn('R&D <!here> "*bold*"') == 'R&amp;D &lt;!here&gt; "*bold*"'

    @pytest.mark.parametrize(
        ("typed", "shown"),
        [
            ("see https://track.example/abc.", "see `https://track.example/abc`."),
            ("<https://e.example|Log in>", "&lt;`https://e.example|Log` in&gt;"),
            (
                "mail me@corp.example, or www.corp.example",
                "mail `me@corp.example`, or `www.corp.example`",
            ),
            ("floor2.acme.com:8080/x?y=1 now", "`floor2.acme.com:8080/x?y=1` now"),
            ("3.5 degrees, e.g. 2e étage", "3.5 degrees, e.g. 2e étage"),
            ("a `https://x.example` b", "a ˋ`https://x.example`ˋ b"),
        ],
    )
    def test_links_become_code(self, typed, shown):
        """What Slack or a client could make a link of is put in inline code, which a typed
        backtick can no longer open or close."""
        result = mrkdwn(typed)
        assert result == shown
        assert not re.search(r"(?<!`)https?://", result)
        assert "<" not in result

    def test_limit_counts_the_escaped_text(self):
        """The limit is on what Slack counts: 1500 `<` fit in 1500 characters, cut whole."""
        result = mrkdwn("<" * 1500, 1500)
        assert len(result) <= 1500 and result.endswith("&lt;…")

    @pytest.mark.parametrize("limit", range(3, 40))
    def test_a_cut_keeps_entities_and_code_whole(self, limit):
        """Wherever the cut falls, no entity is split and no code span is left open."""
        result = mrkdwn("a & b https://track.example/abcdef <x>", limit)
        assert len(result) <= limit
        assert result.count("`") % 2 == 0
        assert not re.search(r"&(?!amp;|lt;|gt;)", result)


def _dm_with(slack, user_id: str, marker: str) -> dict:
    (message,) = [m for m in dms(slack, user_id) if marker in str(m)]
    return message


class TestThroughTheApp:
    def test_roundup_shows_an_anonymous_description_as_text(self, app, platform, slack, db):
        """An anonymous description with a channel ping, a mention, a disguised link and a
        tracking link reaches the managers' roundup with none of them live or clickable."""
        big_team(db, slack)
        typed = f"<!channel> <@U999> <https://evil.example|Re-authenticate> {TRACKER}"
        report(platform, slack, SALARIEE, description=typed, location=f"<!here> {TRACKER}")
        tick(app)
        message = _dm_with(slack, MANAGER, "Re-authenticate")
        (shown,) = assert_inert(message, "Re-authenticate")
        link = "&lt;`https://evil.example|Re-authenticate`&gt;"
        assert f"&lt;!channel&gt; &lt;@U999&gt; {link} `{TRACKER}`" in shown
        assert f"📍 &lt;!here&gt; `{TRACKER}`" in shown

    def test_a_managers_note_reaches_the_anonymous_reporter_without_a_link(
        self, app, platform, slack, db
    ):
        """A manager's note carrying a per-report tracking link reaches the anonymous reporter
        as text they cannot click."""
        big_team(db, slack)
        report(platform, slack, SALARIEE)
        tick(app)
        roundup = _dm_with(slack, MANAGER, "freezing")
        resolve = button(roundup, "irritant_resolve")
        platform.block_action(MANAGER, "irritant_resolve", resolve["value"], message=roundup)
        form = triage_form(slack)
        note = f"Fixed, see {TRACKER}?r=8f3a or <{TRACKER}?r=8f3b|your ticket> <!here>"
        platform.view_submission(MANAGER, form, form_values(form, {"note": note}))
        tick(app, LATER + timedelta(minutes=1))
        update = _dm_with(slack, SALARIEE, "8f3a")
        shown = assert_inert(update, "8f3a")
        assert f">Fixed, see `{TRACKER}?r=8f3a` or &lt;`{TRACKER}?r=8f3b|your`" in shown[0]

    def test_a_named_report_is_escaped_too(self, app, platform, slack, db):
        """A named report's text is shown as typed beside its reporter's live mention."""
        big_team(db, slack)
        report(platform, slack, EMPLOYEE, share=True, description=f"<!channel> look {TRACKER}")
        tick(app)
        message = _dm_with(slack, MANAGER, "look")
        assert_inert(message, "look")
        assert f"<@{EMPLOYEE}>" in str(message)  # the template's own mention stays live
