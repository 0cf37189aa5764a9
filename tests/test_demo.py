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


def between(text: str, start: str, end: str | None = None) -> str:
    """The part of `text` from `start` up to `end` (or to the end)."""
    begin = text.index(start)
    stop = text.index(end, begin) if end else len(text)
    return text[begin:stop]


def ticks(stdout: str) -> list[tuple[str, list[str]]]:
    """For each tick the demo ran: its `--now` instant and who was shown a message after it."""
    found = []
    for chunk in stdout.split("⏱")[1:]:
        chunk = chunk.split("━━")[0]
        [instant] = re.findall(r"\$ symmetry tick --now (\S+)", chunk)
        found.append((instant, re.findall(r"^  Symmetry → (\w+)", chunk, flags=re.MULTILINE)))
    return found


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
        text = scene(demo_run.stdout, 7)
        assert "Bienvenue dans Symmetry" in text and "Atelier Lyon" in text
        assert "Welcome to Symmetry" in text

    def test_ends_with_the_summary(self, demo_run):
        """The run ends with its duration, in the narration's number format, and counts the
        7 `symmetry` commands it ran (5 ticks, team list, outbox status)."""
        summary = flat(demo_run.stdout.strip().split("\n\n")[-1])
        decimal = r"\d+,\d" if demo_run.locale == "fr" else r"\d+\.\d"
        assert re.search(decimal, summary)
        assert re.search(r"\b7 (symmetry commands|commandes symmetry)\b", summary)
        if demo_run.locale == "en":
            assert "went through the real app (its HTTP server and its command line)" in summary


# What the narration says about the clock, in each language (NBSP: a no-break space).
NBSP = "\u00a0"
SAID = {
    "en": {
        "david_held": "David's welcome is held: it is 04:00 in New York. It will go at 08:00 "
        "New York time (14:00 in Paris).",
        "again": "The clock ticks again, at the same instant: Tuesday 13 January, 10:00 in Paris",
        "nothing_again": "Nothing was sent again",
        "afternoon": "The clock ticks: Tuesday 13 January, 14:05 in Paris",
        "david_gets": "Symmetry → David, the same welcome in English (08:05 in New York)",
        "chloe_held": "No welcome went out: it is the weekend. The outbox holds Chloé's until "
        "Monday 19 January, 08:00 in Paris",
        "monday": "The clock ticks: Monday 19 January, 08:00 in Paris",
        "summary": "Welcome messages sent: 5, one to each member of the team Atelier Lyon, "
        "none twice.",
    },
    "fr": {
        "david_held": f"Le message de bienvenue de David attend{NBSP}: il est 4{NBSP}h{NBSP}00 "
        f"à New York. Il partira à 8{NBSP}h{NBSP}00, heure de New York "
        f"(14{NBSP}h{NBSP}00 à Paris).",
        "again": f"Nouveau top d’horloge, au même instant{NBSP}: mardi 13 janvier, "
        f"10{NBSP}h{NBSP}00 à Paris",
        "nothing_again": f"Rien n’est reparti{NBSP}:",
        "afternoon": f"Top d’horloge{NBSP}: mardi 13 janvier, 14{NBSP}h{NBSP}05 à Paris",
        "david_gets": "Symmetry → David, le même message de bienvenue en anglais "
        f"(8{NBSP}h{NBSP}05 à New York)",
        "chloe_held": "La file d’envoi garde celui de Chloé jusqu’au lundi 19 janvier, "
        f"8{NBSP}h{NBSP}00 à Paris",
        "monday": f"Top d’horloge{NBSP}: lundi 19 janvier, 8{NBSP}h{NBSP}00 à Paris",
        "summary": f"Messages de bienvenue envoyés{NBSP}: 5, un à chaque membre de l’équipe "
        "Atelier Lyon, aucun en double.",
    },
}


class TestDemoClock:
    def test_ticks_at_the_stories_instants(self, demo_run):
        """The demo runs the real `symmetry tick --now` at five instants: Tuesday 10:00 in
        Paris welcomes Marc, Sofia and Julien; the same instant again sends nothing; 14:05
        welcomes David; Saturday sends nothing; Monday 08:00 welcomes Chloé."""
        assert ticks(demo_run.stdout) == [
            ("2026-01-13T10:00:00+01:00", ["Marc", "Sofia", "Julien"]),
            ("2026-01-13T10:00:00+01:00", []),
            ("2026-01-13T14:05:00+01:00", ["David"]),
            ("2026-01-17T11:00:00+01:00", []),
            ("2026-01-19T08:00:00+01:00", ["Chloé"]),
        ]

    def test_welcome_in_each_persons_language(self, demo_run):
        """Marc (French) and Sofia (English) are shown their whole welcome, each in their
        language; Julien's French notification text follows."""
        text = scene(demo_run.stdout, 5)
        marc = between(text, "Symmetry → Marc", "Symmetry → Sofia")
        assert "Bienvenue dans Symmetry" in marc
        assert "Vous faites désormais partie de l’équipe Atelier Lyon" in marc
        assert "Welcome to Symmetry" not in marc
        sofia = between(text, "Symmetry → Sofia", "Symmetry → Julien")
        assert "Welcome to Symmetry" in sofia and "You are now part of Atelier Lyon" in sofia
        assert "Bienvenue" not in sofia
        julien = between(text, "Symmetry → Julien", "David")
        assert "Bienvenue dans Symmetry" in julien

    def test_new_york_welcome_waits_for_new_york_morning(self, demo_run):
        """At 10:00 in Paris it is 04:00 in New York: David's welcome is held, then goes with
        the 14:05 tick (08:05 his time), in English."""
        said = SAID[demo_run.locale]
        text = scene(demo_run.stdout, 5)
        morning = between(text, "2026-01-13T10:00", said["afternoon"])
        assert said["david_held"] in morning
        assert "Symmetry → David" not in morning
        afternoon = between(text, said["afternoon"])
        assert said["david_gets"] in afternoon
        assert "Welcome to Symmetry" in between(afternoon, said["david_gets"])

    def test_same_tick_twice_sends_nothing_more(self, demo_run):
        """The second tick at the same instant sends nothing, and the narration says why."""
        said = SAID[demo_run.locale]
        text = scene(demo_run.stdout, 5)
        second = between(text, said["again"], said["afternoon"])
        assert said["nothing_again"] in second and "Symmetry →" not in second

    def test_weekend_arrival_waits_for_monday_0800(self, demo_run):
        """Chloé joins on Saturday; the Saturday tick sends nothing and her welcome waits
        until Monday 08:00 in Paris, when she gets it in French."""
        said = SAID[demo_run.locale]
        text = scene(demo_run.stdout, 6)
        saturday = between(text, "2026-01-17T11:00", said["monday"])
        assert said["chloe_held"] in saturday and "Symmetry →" not in saturday
        monday = between(text, said["monday"])
        assert "Bienvenue dans Symmetry" in between(monday, "Symmetry → Chloé")

    def test_nothing_sent_twice(self, demo_run):
        """The operator's `symmetry outbox status` shows the 5 welcomes sent, and the demo
        counts one welcome per team member, none twice."""
        text = scene(demo_run.stdout, 6)
        status = between(text, "$ symmetry outbox status")
        assert re.search(r"\bsent: 5\b", status) and re.search(r"\bqueued: 0\b", status)
        assert SAID[demo_run.locale]["summary"] in text


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
