"""`symmetry demo`: the real command in a subprocess, and its Block Kit rendering."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.demo import detect_locale
from bot.demo.text import Names, element, message, plain, view

TIME_LIMIT = 60


@dataclass
class DemoRun:
    """What one `symmetry demo` run printed, and how it ended."""

    locale: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float


@pytest.fixture(scope="module", params=["en", "fr"])
def demo_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """`python -m bot demo --locale LOCALE`, run once per narration language in an empty cwd."""
    cwd: Path = tmp_path_factory.mktemp(f"demo-{request.param}")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--locale", request.param],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIME_LIMIT,
    )
    seconds = time.monotonic() - started
    return DemoRun(request.param, done.returncode, done.stdout, done.stderr, seconds)


def flat(stdout: str) -> str:
    """The output as one line, frames and wrapping removed, for phrase assertions."""
    return " ".join(line.strip().removeprefix("│").strip() for line in stdout.splitlines())


def scene(stdout: str, number: int) -> str:
    """The flattened output of scene `number` (from its title to the next one)."""
    start = stdout.index(f"━━ {number}. ")
    end = stdout.find(f"━━ {number + 1}. ", start)
    return flat(stdout[start : end if end != -1 else None])


def team_listing(stdout: str) -> list[dict]:
    """The JSON printed by `symmetry team list --json` inside the demo's output."""
    start = stdout.index("$ symmetry team list --json")
    block = []
    for line in stdout[start:].splitlines()[1:]:
        block.append(line)
        if line.strip() == "]":
            break
    return json.loads("\n".join(block))


class TestDemoCommand:
    def test_succeeds_quickly(self, demo_run):
        """The demo exits 0 well within the time limit."""
        assert demo_run.returncode == 0, demo_run.stderr
        assert demo_run.seconds < TIME_LIMIT

    def test_no_traceback(self, demo_run):
        """Nothing the demo or its server did ended in a Python traceback."""
        assert "Traceback" not in demo_run.stdout + demo_run.stderr

    def test_team_created_from_the_channels_humans(self, demo_run):
        """The admin is told the team has the channel's 4 humans (the other app's bot left out)."""
        setup = scene(demo_run.stdout, 1)
        dm = setup[setup.index("Symmetry → Amélie") :]
        assert "Atelier Lyon" in dm and "#atelier-lyon" in dm
        assert re.search(r"\b4\b", dm) and not re.search(r"\b5\b", dm)

    def test_joining_the_channel_makes_a_member(self, demo_run):
        """After Chloé joins the channel, the real CLI lists the team with 5 members."""
        [team] = team_listing(demo_run.stdout)
        assert (team["name"], team["members"], team["locale"]) == ("Atelier Lyon", 5, "fr")

    def test_non_admin_is_refused(self, demo_run):
        """The non-admin who asks for team setup is told only admins can."""
        assert "Only workspace owners and admins" in scene(demo_run.stdout, 2)

    def test_help_in_both_languages(self, demo_run):
        """Help reaches the English and the French speaker in their own language."""
        text = scene(demo_run.stdout, 3)
        assert text.count("/irritant list") == 2
        assert "Report the small irritants of everyday work" in text
        assert "Signalez les petits irritants du quotidien" in text

    def test_unknown_subcommand(self, demo_run):
        """An unknown sub-command is answered with "I don't know" (in French here) and help."""
        text = scene(demo_run.stdout, 4)
        assert "Je ne connais pas météo" in text and "/irritant list" in text

    def test_home_tabs(self, demo_run):
        """The manager's Home tab lists the team; the employee's welcomes her in English."""
        text = scene(demo_run.stdout, 6)
        assert "Bienvenue dans Symmetry" in text and "Atelier Lyon" in text
        assert "Welcome to Symmetry" in text

    def test_ends_with_the_summary(self, demo_run):
        """The run ends with its duration, in the narration's number format."""
        summary = demo_run.stdout.strip().split("\n\n")[-1]
        decimal = r"\d+,\d" if demo_run.locale == "fr" else r"\d+\.\d"
        assert re.search(decimal, summary)
        if demo_run.locale == "en":
            assert "went through the real app over signed HTTP requests" in flat(summary)


NAMES = Names(users={"U0MARC": "Marc Lefèvre"}, channels={"C0ATELIER": "atelier-lyon"})


class TestPlain:
    def test_mentions_become_names(self):
        """User and channel mentions read as @Name and #channel."""
        assert plain("<@U0MARC> in <#C0ATELIER>", NAMES) == "@Marc Lefèvre in #atelier-lyon"

    def test_unknown_ids_and_labels(self):
        """An unknown channel keeps its label, a link keeps its text, specials stay readable."""
        text = "<#C9|ventes> <https://example.com|the site> <!here>"
        assert plain(text, NAMES) == "#ventes the site @here"

    def test_markers_are_removed(self):
        """Bold, italic, strike and code markers go; snake_case and entities survive."""
        text = "*Managers* _now_ ~old~ `/irritant` SYMMETRY_ADMINS &lt;3 &amp; more"
        assert plain(text, NAMES) == "Managers now old /irritant SYMMETRY_ADMINS <3 & more"


class TestRendering:
    def test_message_blocks(self):
        """Headers, section text, fields and context each become readable lines."""
        payload = {
            "text": "fallback",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Hello"}},
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": "*Team* <#C0ATELIER>"},
                    "fields": [{"type": "mrkdwn", "text": "*Managers*\n<@U0MARC>"}],
                },
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "small print"}]},
            ],
        }
        assert message(payload, NAMES) == [
            "■ Hello",
            "Team #atelier-lyon",
            "Managers — @Marc Lefèvre",
            "· small print",
        ]

    def test_message_without_blocks_uses_text(self):
        """A plain-text message is shown as its text."""
        assert message({"text": "*Saved*"}, NAMES) == ["Saved"]

    def test_modal_inputs_and_buttons(self):
        """A modal shows its title, each input with its current value, and its buttons."""
        modal = {
            "type": "modal",
            "title": {"type": "plain_text", "text": "Team setup"},
            "submit": {"type": "plain_text", "text": "Save"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [
                {
                    "type": "input",
                    "label": {"type": "plain_text", "text": "Time zone"},
                    "element": {"type": "plain_text_input", "initial_value": "Europe/Paris"},
                },
                {
                    "type": "input",
                    "label": {"type": "plain_text", "text": "Managers"},
                    "element": {"type": "multi_users_select", "initial_users": ["U0MARC"]},
                },
            ],
        }
        assert view(modal, NAMES) == [
            "■ Team setup",
            "Time zone  [Europe/Paris]",
            "Managers  [@Marc Lefèvre ▾]",
            "[Cancel]  [Save]",
        ]

    def test_buttons_and_empty_selects(self):
        """A button reads [Label]; a select with nothing chosen reads [▾]."""
        button = {"type": "button", "text": {"type": "plain_text", "text": "Plan a fix"}}
        assert element(button, NAMES) == "[Plan a fix]"
        assert element({"type": "conversations_select"}, NAMES) == "[▾]"


class TestDetectLocale:
    @pytest.mark.parametrize(
        ("environ", "expected"),
        [
            ({"LANG": "fr_FR.UTF-8"}, "fr"),
            ({"LC_ALL": "fr_CA.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
            ({"LC_ALL": "C.UTF-8", "LANG": "fr_FR.UTF-8"}, "en"),
            ({}, "en"),
        ],
    )
    def test_language_from_environment(self, environ, expected):
        """LC_ALL wins over LANG; French locales narrate in French, anything else in English."""
        assert detect_locale(environ) == expected
