"""`symmetry demo`: the real command in a subprocess, and its Block Kit rendering."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from bot.demo import cast
from bot.demo.context import DIGESTS, WALKS, topic
from bot.demo.irritant_scenes import (
    COLD,
    DECLINE_NOTE,
    PLAN_NOTE,
    PRINTER,
    RADIO,
    RESOLVE_NOTE,
    SOAP,
    SOAP_TOO,
)
from bot.demo.pulse_scenes import (
    CHLOE_CHANGED,
    CHLOE_FIRST,
    COMMENT,
    DAVID,
    EMMA,
    HUGO,
    MARC,
    SOFIA,
)
from bot.demo.pulse_scenes import QUESTIONS as PULSE_QUESTIONS
from bot.demo.runner import detect_locale
from bot.demo.slack import Call
from bot.demo.text import Names, element, message, plain, table, view
from bot.demo.walk_scenes import BORROW, DRAUGHT, FINDINGS, ODOUR, PLACE, SURPRISED, WALK, WAX
from bot.irritants import triage
from bot.irritants.actions import done_text
from bot.irritants.catalog import CATEGORIES
from bot.pulse import bank
from bot.pulse.answers import error_text
from bot.shared.blocks import render
from bot.shared.i18n import translate, translations
from bot.walks.quarters import Quarter
from bot.walks.schedule import PROMPT_TIME
from bot.walks.senses import PROMPTS, SENSES
from tests import test_blocks as blocks

TIME_LIMIT = 150  # about 12 s on an idle machine; generous for busy CI runners (both run at once)
PARIS = ZoneInfo("Europe/Paris")


@dataclass
class DemoRun:
    """What one `symmetry demo` run printed, and how it ended."""

    locale: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    dates: tuple[date, date]  # the day in Paris when the run started and when it ended


LOCALES = ("en", "fr")


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoRun]:
    """`python -m bot demo --locale LOCALE` for each narration language, each in an empty cwd.

    The two runs go at once (each keeps about one core busy): the suite waits for the slower
    one instead of both in turn. A run's seconds are from the
    start until it was seen to end, so at most the slower run's.
    """
    # Without COLUMNS and LINES the narration has its own width, which the parsing below
    # expects (pytest-xdist's workers set COLUMNS=80, which wrapped the printed tables).
    inherited = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env = {**inherited, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
    started, first_day = time.monotonic(), datetime.now(PARIS).date()
    running = {}
    for locale in LOCALES:
        cwd: Path = tmp_path_factory.mktemp(f"demo-{locale}")
        out, err = cwd / "stdout.txt", cwd / "stderr.txt"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "demo", "--locale", locale],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )
        running[locale] = (process, out, err)
    runs = {}
    try:
        for locale, (process, out, err) in running.items():
            left = TIME_LIMIT - (time.monotonic() - started)
            returncode = process.wait(timeout=max(left, 0.1))
            seconds, last_day = time.monotonic() - started, datetime.now(PARIS).date()
            runs[locale] = DemoRun(
                locale,
                returncode,
                out.read_text(encoding="utf-8"),
                err.read_text(encoding="utf-8"),
                seconds,
                (first_day, last_day),
            )
    finally:
        for process, _, _ in running.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return runs


@pytest.fixture(scope="module", params=LOCALES)
def demo_run(request: pytest.FixtureRequest, demo_runs: dict[str, DemoRun]) -> DemoRun:
    """The run narrated in one language."""
    return demo_runs[request.param]


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


def query_result(stdout: str, query: str) -> list[dict[str, str]]:
    """The rows the demo showed for the database query starting with `query` (the narration
    prints `demo.db> QUERY`, its continuation lines, then the result's aligned columns)."""
    lines = stdout[stdout.index(f"demo.db> {query}") :].splitlines()[1:]
    while lines[0].startswith("      "):  # the query, continued
        lines.pop(0)
    result = []
    for line in lines:
        if not line.startswith("    ") or line.startswith("     "):
            break
        result.append(re.split(r"\s{2,}", line.strip()))
    header, *rows = result
    return [dict(zip(header, row, strict=True)) for row in rows]


def export_listing(stdout: str, what: str = "irritants") -> list[dict]:
    """The trimmed JSON the demo printed for `symmetry export WHAT --format json`."""
    start = stdout.index(f"$ symmetry export {what} --format json")
    block = []
    for line in stdout[start:].splitlines()[1:]:
        block.append(line)
        if line.strip() == "]":
            break
    return json.loads("\n".join(block))


def next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


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
        """The admin is told the team has the channel's 6 humans (the other app's bot left out)."""
        dm = framed(demo_run.stdout, "  Symmetry → Amélie")
        assert "Atelier Lyon" in dm and "#atelier-lyon" in dm
        assert re.search(r"\b6\b", dm) and not re.search(r"\b[78]\b", dm)

    def test_joining_the_channel_makes_a_member(self, demo_run):
        """After Chloé joins the channel, the real CLI lists the team with 7 members."""
        [team] = team_listing(demo_run.stdout)
        assert (team["name"], team["members"], team["locale"]) == ("Atelier Lyon", 7, "fr")

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

    def test_ends_with_the_summary(self, demo_run):
        """The run ends with its duration, in the narration's number format, and counts the
        21 `symmetry` commands it ran (15 ticks, team list, outbox status, team add, 3 exports)."""
        summary = flat(demo_run.stdout.strip().split("\n\n")[-1])
        decimal = r"\d+,\d" if demo_run.locale == "fr" else r"\d+\.\d"
        assert re.search(decimal, summary)
        assert re.search(r"\b21 (symmetry commands|commandes symmetry)\b", summary)
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
        "summary": "Welcome messages sent: 7, one to each member of the team Atelier Lyon, "
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
        "summary": f"Messages de bienvenue envoyés{NBSP}: 7, un à chaque membre de l’équipe "
        "Atelier Lyon, aucun en double.",
    },
}


class TestDemoClock:
    def test_ticks_at_the_stories_instants(self, demo_run):
        """The demo runs the real `symmetry tick --now` at eight instants before its pulse
        surveys. In January: Tuesday 10:00 in Paris welcomes Marc, Sofia, Julien, Emma and Hugo; the
        same instant again sends nothing;
        14:05 welcomes David; Saturday sends nothing; Monday 08:00 welcomes Chloé. Then on the
        working day after the run's day (the irritants are reported today): 09:00 sends Marc
        the named report, 16:05 the roundup, 16:30 each reporter's news."""
        found = ticks(demo_run.stdout)
        assert found[:5] == [
            ("2026-01-13T10:00:00+01:00", ["Marc", "Sofia", "Julien", "Emma", "Hugo"]),
            ("2026-01-13T10:00:00+01:00", []),
            ("2026-01-13T14:05:00+01:00", ["David"]),
            ("2026-01-17T11:00:00+01:00", []),
            ("2026-01-19T08:00:00+01:00", ["Chloé"]),
        ]
        later = [(datetime.fromisoformat(instant), shown) for instant, shown in found[5:8]]
        assert [(i.strftime("%H:%M"), i.utcoffset() == PARIS.utcoffset(i)) for i, _ in later] == [
            ("09:00", True),
            ("16:05", True),
            ("16:30", True),
        ]
        assert {i.date() for i, _ in later} <= {next_working_day(d) for d in demo_run.dates}
        assert [shown for _, shown in later] == [
            ["Marc"],
            ["Marc"],
            ["Chloé", "Julien", "David", "Sofia"],
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
        """The operator's `symmetry outbox status` shows the 7 welcomes sent, and the demo
        counts one welcome per team member, none twice."""
        text = scene(demo_run.stdout, 6)
        status = between(text, "$ symmetry outbox status")
        assert re.search(r"\bsent: 7\b", status) and re.search(r"\bqueued: 0\b", status)
        assert SAID[demo_run.locale]["summary"] in text


def after_tick(stdout: str, hour: str) -> str:
    """The flattened output from the irritant story's tick at `hour` (e.g. "T16:05") to the
    next tick or scene."""
    start = stdout.index(f"--now {next(i for i, _ in ticks(stdout) if hour in i)}")
    ends = [stdout.find(mark, start + 1) for mark in ("⏱", "━━")]
    return flat(stdout[start : min(e for e in ends if e != -1)])


def framed(stdout: str, heading: str) -> str:
    """The flattened framed lines (what a person is shown) after the first line starting with
    `heading` (and the heading's wrapped continuation, if any)."""
    lines = stdout[stdout.index(heading) :].splitlines()[1:]
    while lines and lines[0].startswith("  ") and not lines[0].startswith(("    │", "  Symmetry")):
        lines.pop(0)  # the heading, continued
    shown = []
    for line in lines:
        if not line.startswith("    │"):
            break
        shown.append(line)
    return flat("\n".join(shown))


ANONYMOUS_IDS = {"U0CHLOE", "U0JULIEN", "U0DAVID"}
PUBLIC_ID = re.compile(r"^[a-z0-9]{10}$")


def public_ids(stdout: str) -> dict[str, str]:
    """The public id of each report, by its description, from the irritants table the demo
    showed before the roundup (each report has its own category)."""
    rows = query_result(stdout, "SELECT public_id, category")
    by_category = {row["category"]: row["public_id"] for row in rows}
    return {r.description: by_category[r.category] for r in (COLD, SOAP, PRINTER, RADIO)}


def me_too(count: int, locale: str) -> str:
    """The "me too" count as an irritant's card shows it to managers: `1 « moi aussi »`."""
    return translations(locale).ngettext("%(num)s “me too”", "%(num)s “me too”", count) % {
        "num": count
    }


class TestDemoIrritants:
    """Facts of the irritant scenes (7–12), whatever the narration's language."""

    def test_reports_in_both_languages(self, demo_run):
        """Chloé reports in French, anonymously; Sofia in English with her name; each sees
        her report in her own language."""
        text = scene(demo_run.stdout, 7)
        chloe = between(text, "/irritant", SOAP.person.user.real_name)
        assert COLD.description in chloe and "anonym" in chloe
        assert translate("fr", CATEGORIES[COLD.category]) in chloe
        sofia = between(text, SOAP.person.user.real_name, PRINTER.person.user.real_name)
        assert SOAP.description in sofia and "anonym" not in sofia
        assert CATEGORIES[SOAP.category] in sofia

    def test_irritant_text_prefills_and_guesses(self, demo_run):
        """`/irritant TEXT` opens the modal with TEXT as the description and the category
        guessed from its words (Tools and equipment, in Julien's French)."""
        text = scene(demo_run.stdout, 7)
        julien = between(text, f"/irritant {PRINTER.typed}", SOAP_TOO.person.user.real_name)
        assert f"[{PRINTER.typed}]" in julien
        assert f"[{translate('fr', CATEGORIES[PRINTER.category])} ▾]" in julien

    def test_me_too_counts_a_vote_not_a_report(self, demo_run):
        """David's report like Sofia's open one is shown hers instead; his "me too" counts once
        on it, as a keyed code, and no report of his is stored for it."""
        david = between(scene(demo_run.stdout, 7), SOAP_TOO.description, RADIO.description)
        assert SOAP.description in david
        ids = public_ids(demo_run.stdout)
        [vote] = query_result(demo_run.stdout, "SELECT i.public_id AS irritant")
        assert vote["irritant"] == ids[SOAP.description] and vote["voter_hash"].endswith("…")
        votes = {row["id"]: row["votes"] for row in export_listing(demo_run.stdout)}
        assert votes == {public_id: int(d == SOAP.description) for d, public_id in ids.items()}
        assert SOAP_TOO.description not in scene(demo_run.stdout, 12)

    def test_me_too_shows_to_the_manager_from_the_roundup(self, demo_run):
        """David's "me too" was counted before the morning, but Marc's 09:00 message about
        Sofia's report shows no count; after the roundup his Home tab shows it on her report
        (counts change for managers only at the team's roundup)."""
        counted = me_too(1, "fr")
        morning = after_tick(demo_run.stdout, "T09:00")
        assert SOAP.description in morning and "moi aussi" not in morning
        heading = translate(demo_run.locale, "%(name)s's Home tab:", name="Marc")
        marc = framed(raw_scene(demo_run.stdout, 12), f"  {heading}")
        card = between(marc, SOAP.description)
        assert counted in card[: card.index("[")]
        assert marc.count("moi aussi") == 1

    def test_anonymous_rows_hold_no_user_id(self, demo_run):
        """In the irritants table the anonymous reports have no reporter ID, only a hash, and
        only their day; Sofia's named one has her ID."""
        rows = query_result(demo_run.stdout, "SELECT public_id, category")
        assert [(r["category"], r["anonymous"]) for r in rows] == [
            ("temperature", "1"),
            ("cleanliness", "0"),
            ("tools", "1"),
            ("noise", "1"),
        ]
        for row in rows:
            if row["anonymous"] == "1":
                assert row["reporter_id"] == "NULL" and row["reporter_hash"] != "NULL"
                assert row["created_at"].endswith(" 00:00:00.000000")
            else:
                assert (row["reporter_id"], row["reporter_hash"]) == ("U0SOFIA", "NULL")
        assert not any(user in scene(demo_run.stdout, 8) for user in ANONYMOUS_IDS)

    def test_reports_are_known_by_random_public_ids(self, demo_run):
        """Outside the database a report is known by a public id of 10 random letters and
        digits, not a row number: the narration names the anonymous ones by it, and the
        triage buttons and the export carry it."""
        ids = public_ids(demo_run.stdout)
        assert len(set(ids.values())) == 4
        assert all(PUBLIC_ID.match(i) and not i.isdigit() for i in ids.values())
        assert not {i for i in ids.values() if i.isdigit() or len(i) < 8}
        anonymous = [ids[r.description] for r in (COLD, PRINTER, RADIO)]
        assert ", ".join(anonymous) in scene(demo_run.stdout, 8)
        assert {row["id"] for row in export_listing(demo_run.stdout)} == set(ids.values())

    def test_roundup_writes_the_anonymous_reports_again(self, demo_run):
        """After the roundup the table lists Sofia's named report first and the anonymous ones
        after it, with the same public ids, and still only their day."""
        ids = public_ids(demo_run.stdout)
        rows = query_result(demo_run.stdout, "SELECT public_id, anonymous, created_at")
        assert [(r["public_id"], r["anonymous"]) for r in rows[:1]] == [
            (ids[SOAP.description], "0")
        ]
        anonymous = {ids[r.description] for r in (COLD, PRINTER, RADIO)}
        assert {r["public_id"] for r in rows[1:]} == anonymous
        assert all(r["anonymous"] == "1" for r in rows[1:])
        assert all(r["created_at"].endswith(" 00:00:00.000000") for r in rows[1:])

    def test_only_the_named_report_reaches_the_manager_at_once(self, demo_run):
        """After the reports the outbox holds one message, Sofia's named report for Marc; the
        next tick (09:00) delivers it to him, and nothing about the anonymous ones."""
        outbox = query_result(demo_run.stdout, "SELECT kind, recipient, state")
        assert outbox == [{"kind": "irritant_new", "recipient": "U0MARC", "state": "queued"}]
        morning = after_tick(demo_run.stdout, "T09:00")
        assert "@Sofia Rossi" in morning and SOAP.description in morning
        assert not any(r.description in morning for r in (COLD, PRINTER, RADIO))

    def test_roundup_brings_the_anonymous_reports_together(self, demo_run):
        """At 16:05 Marc gets one roundup listing the three anonymous reports, in French; it
        names nobody and leaves out Sofia's named one."""
        roundup = after_tick(demo_run.stdout, "T16:05")
        assert all(r.description in roundup for r in (COLD, PRINTER, RADIO))
        assert SOAP.description not in roundup and "@" not in roundup
        assert translate("fr", CATEGORIES[RADIO.category]) in roundup

    def test_forged_click_is_refused(self, demo_run):
        """Julien, not a manager, is refused (in French) and nothing changes."""
        text = scene(demo_run.stdout, 10)
        refusal = triage.error_text("not_allowed", locale="fr")
        assert refusal in between(text, "Julien Moreau", "Marc")
        assert refusal != triage.error_text("not_allowed", locale="en")

    def test_triage(self, demo_run):
        """Marc acknowledges (confirmed privately, in French), plans with a date, declines
        with an explanation and resolves with a note."""
        text = scene(demo_run.stdout, 10)
        assert done_text("fr", "acknowledged") in text
        assert all(note in text for note in (PLAN_NOTE, DECLINE_NOTE, RESOLVE_NOTE))
        ids = public_ids(demo_run.stdout)
        statuses = {row["id"]: row["status"] for row in export_listing(demo_run.stdout)}
        assert statuses == {
            ids[COLD.description]: "acknowledged",
            ids[SOAP.description]: "resolved",
            ids[PRINTER.description]: "planned",
            ids[RADIO.description]: "declined",
        }

    def test_each_reporter_hears_back_in_their_language(self, demo_run):
        """The 16:30 tick tells Chloé and Julien in French, David and Sofia in English, with
        the manager's note and the planned date; the anonymous reporters are reminded so."""
        stdout = demo_run.stdout[demo_run.stdout.index("T16:30") :]
        printer = public_ids(demo_run.stdout)[PRINTER.description]
        [eta] = [row["eta"] for row in export_listing(demo_run.stdout) if row["id"] == printer]
        eta = date.fromisoformat(eta)
        chloe, julien, david, sofia = (
            framed(stdout, f"  Symmetry → {name}") for name in ("Chloé", "Julien", "David", "Sofia")
        )
        assert translate("fr", CATEGORIES[COLD.category]) in chloe and "anonym" in chloe
        assert PLAN_NOTE in julien and format_date(eta, "medium", locale="fr") in julien
        assert translate("fr", CATEGORIES[PRINTER.category]) in julien and "anonym" in julien
        assert DECLINE_NOTE in david and CATEGORIES[RADIO.category] in david
        assert "anonym" in david
        assert RESOLVE_NOTE in sofia and CATEGORIES[SOAP.category] in sofia
        assert "anonym" not in sofia

    def test_delivered_anonymous_news_keeps_no_recipient(self, demo_run):
        """Once delivered, the anonymous reporters' outbox rows have no recipient and no
        content; Sofia's keeps hers. No anonymous reporter's ID shows anywhere in the scene."""
        rows = query_result(demo_run.stdout, "SELECT key, recipient")
        assert [(r["recipient"], r["state"]) for r in rows] == [
            ("NULL", "sent"),
            ("NULL", "sent"),
            ("NULL", "sent"),
            ("U0SOFIA", "sent"),
        ]
        assert all(r["payload"].startswith('{"scrub_recipient": true') for r in rows[:3])
        assert not any(user in scene(demo_run.stdout, 11) for user in ANONYMOUS_IDS)

    def test_export_names_only_the_named_reporter(self, demo_run):
        """`symmetry export irritants` gives no reporter for anonymous reports."""
        ids = public_ids(demo_run.stdout)
        reporters = {row["id"]: row["reporter"] for row in export_listing(demo_run.stdout)}
        assert reporters == {
            public_id: "U0SOFIA" if description == SOAP.description else None
            for description, public_id in ids.items()
        }

    def test_home_tabs(self, demo_run):
        """Marc's Home tab has the team's board, Sofia named on hers and the anonymous reports
        not; Chloé's lists her anonymous report alone."""
        text = scene(demo_run.stdout, 12)
        marc = between(text, cast.MARC.user.real_name, cast.CHLOE.user.real_name)
        chloe = between(text, cast.CHLOE.user.real_name)
        assert all(r.description in marc for r in (COLD, PRINTER, RADIO, SOAP))
        assert marc.count("@") == 1 and "@Sofia Rossi" in marc
        assert COLD.description in chloe
        assert not any(r.description in chloe for r in (PRINTER, RADIO, SOAP))


def raw_scene(stdout: str, number: int) -> str:
    """The output of scene `number` as printed (lines kept, for `framed`)."""
    start = stdout.index(f"━━ {number}. ")
    end = stdout.find(f"━━ {number + 1}. ", start)
    return stdout[start : end if end != -1 else None]


def first_tuesday_after(day: date) -> date:
    return day + timedelta(days=(1 - day.weekday()) % 7 or 7)


def tick_reports(stdout: str) -> list[dict[str, int]]:
    """For each tick: what the real `symmetry tick` printed that it did (its own English, e.g.
    `welcomes: 3; …; pulse rounds: 2 round(s) opened, 9 survey(s) and 0 reminder(s) queued, 0
    round(s) closed; pulse follow-ups: …; delivery: 3 sent, …`). Counts of the same kind are
    added up across the report's stages."""
    patterns = {
        "welcomes": r"(\d+) welcome\(s\)|welcomes: (\d+)",
        "rounds": r"(\d+) round\(s\) opened",
        "surveys": r"(\d+) survey\(s\)",
        "reminders": r"(\d+) reminder\(s\) queued",
        "closed": r"(\d+) round\(s\) closed",
        "sent": r"delivery: (\d+) sent",
    }
    found = []
    for chunk in stdout.split("⏱")[1:]:
        said = flat(chunk.split("━━")[0])
        said = said[said.index("symmetry: tick at") :]
        counts = {}
        for key, pattern in patterns.items():
            matches = re.findall(pattern, said)
            assert matches, (key, said)
            counts[key] = sum(int("".join(m) if isinstance(m, tuple) else m) for m in matches)
        found.append(counts)
    return found


def walks_aside(stdout: str, locale: str) -> list[int]:
    """For each tick: how many sensory-walk messages and weekly digests it sent that the
    narration set aside ("This tick also sent sensory-walk messages, not shown here…: 2, to
    Amélie, Marc."), both of which may go at any tick, depending on the day the demo runs."""
    notes = [
        "This tick also sent sensory-walk messages, not shown here (walks have the last "
        "scenes): %(count)s, to %(names)s.",
        "This tick also sent weekly digests, not shown here (the digest has the last "
        "scene): %(count)s, to %(names)s.",
    ]
    patterns = [
        re.escape(translate(locale, note, count="§", names="¤"))
        .replace("§", r"(\d+)")
        .replace("¤", r"[^.]+")
        for note in notes
    ]
    found = []
    for chunk in stdout.split("⏱")[1:]:
        said = flat(chunk.split("━━")[0])
        found.append(sum(int(n) for pattern in patterns for n in re.findall(pattern, said)))
    return found


def pulse_listing(stdout: str) -> list[dict]:
    """The trimmed JSON the demo printed for `symmetry export pulses --format json`."""
    start = stdout.index("$ symmetry export pulses --format json")
    block = []
    for line in stdout[start:].splitlines()[1:]:
        block.append(line)
        if line.strip() == "]":
            break
    return json.loads("\n".join(block))


def label(question: str, value: int, locale: str) -> str:
    """An answer button's words, as the survey shows them: `2 · Mauvaise`."""
    return {q.key: q for q in bank.shipped()}[question].label(value, locale)


def question_text(question: str, locale: str) -> str:
    return {q.key: q for q in bank.shipped()}[question].text(locale)


class TestDemoPulses:
    """Facts of the pulse survey scenes (13–16), and of the setup that keeps surveys off until
    then, whatever the narration's language."""

    def test_surveys_off_until_the_manager_switches_them_on(self, demo_run):
        """At setup the admin turns the team's surveys off, so no tick before scene 13 opens a
        round; Marc finds them off in the settings, switches them on and is told the schedule
        (weekly, Tuesday, 10:00 in each person's zone, 3 questions, open 5 days)."""
        off = translate("fr", "Pulse surveys are off for *%(team)s*.", team=cast.TEAM_NAME)
        assert plain(off, NAMES) in scene(demo_run.stdout, 1)
        assert [r["rounds"] for r in tick_reports(demo_run.stdout)[:8]] == [0] * 8
        raw = raw_scene(demo_run.stdout, 13)
        modal = framed(raw, "  Slack")
        assert f"☐ {translate('fr', 'On for this team')}" in modal
        saved = framed(raw, "  Symmetry → Marc")
        assert all(word in saved for word in ("Atelier Lyon", "mardi", "10:00", "3", "5"))

    def test_second_team_from_the_command_line(self, demo_run):
        """`symmetry team add` creates the shop's team from its channel: Amélie, Inès, Oliver."""
        text = scene(demo_run.stdout, 13)
        assert "$ symmetry team add 'Boutique Lyon' --channel C0BOUTIQUE" in text
        assert "Team 'Boutique Lyon' created from C0BOUTIQUE: 3 members" in text

    def test_pulse_ticks(self, demo_run):
        """Five ticks around the first Tuesday after the irritant story's day, in Paris: Monday
        17:00 plans both rounds; Tuesday 10:05 delivers the surveys of people in Paris (Chloé's
        shown in full, Emma's briefly); 16:05 Sofia's (London) and David's (New York); Friday
        14:05 reminds Marc and David; Sunday 10:05 closes: Julien's survey is shown changed in
        place, and his late tap is refused."""
        found = ticks(demo_run.stdout)[8:13]
        instants = [datetime.fromisoformat(instant) for instant, _ in found]
        tuesday = instants[1].date()
        assert tuesday in {first_tuesday_after(next_working_day(d)) for d in demo_run.dates}
        story = [(-1, 17, 0), (0, 10, 5), (0, 16, 5), (3, 14, 5), (5, 10, 5)]
        assert [(i.date(), i.hour, i.minute) for i in instants] == [
            (tuesday + timedelta(days=days), hour, minute) for days, hour, minute in story
        ]
        assert all(i.utcoffset() == PARIS.utcoffset(i) for i in instants)
        assert [shown for _, shown in found] == [
            [],
            ["Chloé", "Emma"],
            ["Sofia", "David"],
            ["Marc", "David"],
            ["Julien", "Julien"],
        ]

    def test_what_each_tick_did(self, demo_run):
        """The day before, one tick welcomes the shop's 3 people and plans 2 rounds with 10
        surveys; then 8 go at 10:05, 2 at 16:05; Friday queues and sends 2 reminders; Sunday
        closes both rounds, sends nothing new and changes the 10 surveys (chat.update).
        (Sensory-walk messages, which may go at any of these ticks depending on the day the
        demo runs, are counted apart.)"""
        reports = tick_reports(demo_run.stdout)[8:13]
        aside = walks_aside(demo_run.stdout, demo_run.locale)[8:13]
        assert [(r["welcomes"], r["rounds"], r["surveys"]) for r in reports] == [
            (3, 2, 10),
            (0, 0, 0),
            (0, 0, 0),
            (0, 0, 0),
            (0, 0, 0),
        ]
        sent = [r["sent"] - walks for r, walks in zip(reports, aside, strict=True)]
        assert sent == [3, 8, 2, 2, 10]
        assert [(r["reminders"], r["closed"]) for r in reports] == [
            (0, 0),
            (0, 0),
            (0, 0),
            (2, 0),
            (0, 2),
        ]

    def test_full_french_survey_and_brief_english(self, demo_run):
        """Chloé's survey is shown whole, in French: the eNPS on 0–10 and two questions with
        labelled buttons, then comment, skip and pause. Emma's English one shows its questions."""
        raw = raw_scene(demo_run.stdout, 14)
        chloe = framed(raw, "  Symmetry → Chloé")
        assert all(question_text(q, "fr") in chloe for q in PULSE_QUESTIONS)
        assert "  ".join(f"[{value}]" for value in range(11)) in chloe
        assert all(f"[{label('temperature', v, 'fr')}]" in chloe for v in range(1, 6))
        for button in ("Add a comment", "Skip this round", "Pause surveys until…"):
            assert f"[{translate('fr', button)}]" in chloe
        emma = framed(raw, "  Symmetry → Emma")
        assert all(question_text(q, "en") in emma for q in PULSE_QUESTIONS)
        assert not any(question_text(q, "fr") in emma for q in PULSE_QUESTIONS)

    def test_taps_update_the_message(self, demo_run):
        """Each tap updates Chloé's message in place (“Votre réponse : …”); her second tap on
        the temperature replaces the first."""
        text = scene(demo_run.stdout, 14)

        def answer(question: str, value: int) -> str:
            shown = value if question == "enps" else label(question, value, "fr")
            return translate("fr", "Your answer: %(answer)s", answer=shown)

        assert answer("enps", 9) in text and answer("lighting", 4) in text
        first = text.index(answer("temperature", 3))
        assert text.index(answer("temperature", 2)) > first

    def test_comment_skip_and_pause(self, demo_run):
        """Chloé's comment is stored under a code, without her name; Julien's survey says he
        skipped; Sofia's pause is stored until twelve days after the survey day."""
        text = scene(demo_run.stdout, 14)
        assert COMMENT in text
        skipped = translate(
            "fr",
            "You skipped this round: no reminder will come. You can still answer until it closes.",
        )
        assert skipped in text
        [comment] = query_result(demo_run.stdout, "SELECT round_id, substr(respondent")
        assert comment["text"] == COMMENT and comment["respondent"].endswith("…")
        tuesday = datetime.fromisoformat(ticks(demo_run.stdout)[9][0]).date()
        assert query_result(demo_run.stdout, "SELECT user_id, until") == [
            {"user_id": "U0SOFIA", "until": (tuesday + timedelta(days=12)).isoformat()}
        ]

    def test_reminder_in_each_language(self, demo_run):
        """Marc's reminder is in French, David's in English; both give the closing day."""
        raw = raw_scene(demo_run.stdout, 15)
        tuesday = datetime.fromisoformat(ticks(demo_run.stdout)[9][0]).date()
        closes = tuesday + timedelta(days=5)
        marc = framed(raw, "  Symmetry → Marc")
        assert "Atelier Lyon" in marc and format_date(closes, "medium", locale="fr") in marc
        david = framed(raw, "  Symmetry → David")
        assert david == translate(
            "en",
            "A gentle reminder: your short survey is still open until %(date)s.",
            date=format_date(closes, "medium", locale="en"),
        )

    def test_closed_survey_says_so(self, demo_run):
        """After the close, Julien's survey, changed in place, says in French that it is
        closed, has no button left, and points to the workshop's results."""
        julien = framed(raw_scene(demo_run.stdout, 15), "  Symmetry → Julien")
        assert "Ce sondage est clos." in julien and "[" not in julien
        assert "bilan de la semaine" in julien

    def test_late_tap_is_refused(self, demo_run):
        """After the close, Julien's tap (from a screen not yet changed) is refused, in French."""
        raw = raw_scene(demo_run.stdout, 15)
        after_the_change = raw[raw.index("  Symmetry → Julien") + 1 :]
        julien = framed(after_the_change, "  Symmetry → Julien")
        assert julien == error_text("fr", "closed")

    def test_results_shown_above_the_threshold_hidden_below(self, demo_run):
        """The workshop's 6 respondents out of 7 (5 besides Marc, its manager) give its means
        and eNPS; the shop's 3 (2 besides Amélie) give counts only."""
        workshop, shop = pulse_listing(demo_run.stdout)
        answers = [dict(CHLOE_FIRST, **dict([CHLOE_CHANGED]))]
        answers += [a.values for a in (EMMA, HUGO, SOFIA, MARC, DAVID)]
        enps = [a["enps"] for a in answers]
        promoters, detractors = sum(v >= 9 for v in enps), sum(v <= 6 for v in enps)
        assert workshop["team"] == "Atelier Lyon" and workshop["suppressed"] is False
        assert (workshop["sent"], workshop["responded"]) == (7, 6)
        assert workshop["participation"] == pytest.approx(6 / 7, abs=0.001)
        assert [q["key"] for q in workshop["questions"]] == list(PULSE_QUESTIONS)
        for question in workshop["questions"]:
            values = [a[question["key"]] for a in answers]
            assert question["responses"] == 6
            assert question["mean"] == pytest.approx(sum(values) / 6, abs=0.01)
        assert workshop["questions"][0]["enps"] == round(100 * (promoters - detractors) / 6)
        assert shop["team"] == "Boutique Lyon" and shop["suppressed"] is True
        assert (shop["sent"], shop["responded"], shop["participation"]) == (3, 3, 1.0)
        assert all(q["mean"] is None for q in shop["questions"])
        assert shop["questions"][0]["enps"] is None

    def test_answers_hold_no_user_id_and_no_time(self, demo_run):
        """The answers table has 5 columns, none a user ID or a time; respondents are codes."""
        rows = query_result(demo_run.stdout, "SELECT id, round_id, question")
        assert len(rows) == 6
        assert list(rows[0]) == ["id", "round_id", "question", "respondent", "value"]
        assert all(row["respondent"].endswith("…") for row in rows)
        assert "U0" not in scene(demo_run.stdout, 16)


def walked_quarter(stdout: str) -> Quarter:
    """The quarter of the walk scenes: the one after the pulse story's last tick."""
    closed = datetime.fromisoformat(ticks(stdout)[12][0])
    return Quarter.of(closed.date()).next


def gap_line(sense: str, customer: int, employee: int) -> str:
    """A sense's line in the walk's summary, as Marc reads it (in French)."""
    gap = customer - employee
    return f"{translate('fr', SENSES[sense])} — " + translate(
        "fr",
        "Customers %(customer)s · Employees %(employee)s · Gap %(gap)s",
        customer=customer,
        employee=employee,
        gap=f"{gap:+d}" if gap else "0",
    )


class TestDemoWalks:
    """Facts of the sensory walk scenes (17–18), whatever the narration's language."""

    def test_the_quarters_prompt_reaches_the_managers(self, demo_run):
        """The 14th tick is 09:30 in Paris on the next quarter's first working day; it sends
        the quarter's prompt to Marc (shown whole, in French, with its three buttons) and to
        Amélie, the shop's manager, and nothing else about walks."""
        quarter = walked_quarter(demo_run.stdout)
        instant, shown = ticks(demo_run.stdout)[13]
        prompt_at = datetime.combine(quarter.first_working_day(None), PROMPT_TIME, tzinfo=PARIS)
        assert datetime.fromisoformat(instant) == prompt_at
        assert shown == ["Marc", "Amélie"]
        assert re.search(r"walks: 2 prompt\(s\)", scene(demo_run.stdout, 17))
        prompt = framed(raw_scene(demo_run.stdout, 17), "  Symmetry → Marc")
        period = translate("fr", "Q%(number)s %(year)s", number=quarter.number, year=quarter.year)
        assert translate("fr", "Your sensory walk · %(quarter)s", quarter=period) in prompt
        buttons = ("Start my walk", "Done already", "Remind me in a week")
        assert "  ".join(f"[{translate('fr', b)}]" for b in buttons) in prompt

    def test_the_walk_modal_has_the_five_senses(self, demo_run):
        """Marc's modal names the five senses in French, each with what to notice."""
        modal = between(scene(demo_run.stdout, 17), "Slack", "▸")
        for sense, label in SENSES.items():
            assert f"{translate('fr', label)} · {translate('fr', PROMPTS[sense])}" in modal

    def test_two_findings_became_named_irritants(self, demo_run):
        """Of Marc's three notes, the two about the employee spaces became irritants of the
        team, in the categories chosen (cleanliness for the smell, temperature for the
        draught), named (Marc is their reporter), new in triage; the summary lists them."""
        rows = query_result(demo_run.stdout, "SELECT i.public_id, i.category")
        assert [
            (r["category"], r["space"], r["reporter_id"], r["anonymous"], r["status"]) for r in rows
        ] == [
            ("cleanliness", "employee", "U0MARC", "0", "new"),
            ("temperature", "employee", "U0MARC", "0", "new"),
        ]
        assert all(PUBLIC_ID.match(r["public_id"]) for r in rows)
        text = scene(demo_run.stdout, 17)
        for note in (WAX, ODOUR, DRAUGHT):
            assert note in between(text, translate("fr", "Walk findings"))
        summary = text[text.rindex(translate("fr", "Sensory walk")) :]
        created = translations("fr").ngettext(
            "*%(num)s irritant created*, in triage now:",
            "*%(num)s irritants created*, in triage now:",
            2,
        ) % {"num": 2}
        assert plain(created, NAMES) in summary
        for note, category in FINDINGS.items():
            line = f"• {translate('fr', CATEGORIES[category])} · "
            line += f"{translate('fr', 'Employee spaces')} — {note}"
            assert line in summary
        assert f"— {WAX}" not in summary
        [walk] = [
            w
            for w in export_listing(demo_run.stdout, "walks")
            if (w["team"], w["quarter"]) == ("Atelier Lyon", walked_quarter(demo_run.stdout).label)
        ]
        assert sorted(walk["findings"]) == sorted(r["public_id"] for r in rows)

    def test_the_gap_per_sense_is_shown(self, demo_run):
        """The summary gives, per sense, both ratings and the gap: smell +3 and touch +2 worse
        in the employee spaces, the others even; the export has the same gaps."""
        summary = scene(demo_run.stdout, 17)
        for sense in WALK:
            assert gap_line(sense.key, sense.customer, sense.employee) in summary
        quarter = walked_quarter(demo_run.stdout).label
        gaps = {
            w["quarter"]: w["gap"]
            for w in export_listing(demo_run.stdout, "walks")
            if w["team"] == "Atelier Lyon"
        }
        assert gaps[quarter] == {"sight": 0, "hearing": 0, "smell": 3, "touch": 2, "taste": 0}

    def test_the_expedition_is_kept_and_listed(self, demo_run):
        """Marc's astonishment report is saved from his Home tab, which then counts it; the
        export lists it once, with the walk of the quarter of the visit (today's)."""
        text = scene(demo_run.stdout, 18)
        assert all(words in text for words in (PLACE, SURPRISED, BORROW))
        one = translations("fr").ngettext(
            "%(num)s learning expedition this quarter",
            "%(num)s learning expeditions this quarter",
            1,
        ) % {"num": 1}
        assert one in text
        assert f"{translate('fr', 'Smell')} · {translate('fr', 'gap %(gap)s', gap='+3')}" in text
        visits = [
            (w["team"], w["quarter"], e["place"], e["date"])
            for w in export_listing(demo_run.stdout, "walks")
            for e in w["expeditions"]
        ]
        days = {d.isoformat(): Quarter.of(d).label for d in demo_run.dates}
        [(team, quarter, place, day)] = visits
        assert (team, place) == ("Atelier Lyon", PLACE)
        assert days.get(day) == quarter


class TestWalkMessages:
    def test_walk_and_digest_messages_are_told_apart(self):
        """Of every message template the bot sends, those about a walk (the prompt and its
        reminder, the admins' notice, a teammate's invite, new notes) and the weekly digests
        (a manager's, the admins', the channel's "you said, we did") are the ones the demo's
        ticks set aside by topic; no other message is."""
        walk = {"walk_prompt", "walk_overdue", "walk_invite", "walk_notes_added"}
        digest = {"digest", "digest_admins", "digest_said_did"}
        cases = [(name, name, factory) for name, factory in blocks.SAMPLES.items()]
        for _, name, factory in [*cases, *blocks.VARIANTS]:
            payload = render(name, "en", **factory("en"))
            if payload.get("type") in ("modal", "home"):
                continue
            call = Call("chat.postMessage", {"channel": "U0MARC", **payload}, None, 0.0)
            expected = DIGESTS if name in digest else WALKS if name in walk else None
            assert topic(call) == expected, name


class TestDemoDigest:
    """Facts of the weekly digest scene (19), whatever the narration's language."""

    def test_the_monday_tick_sends_marc_his_digest(self, demo_run):
        """The last tick is 09:05 in Paris on the Monday after the walk's week; it queues the
        two managers' digests and the admins' one, and Marc's (shown whole, in French) opens
        with a header naming the week."""
        instant, shown = ticks(demo_run.stdout)[-1]
        monday = datetime.fromisoformat(instant)
        walked = datetime.combine(
            walked_quarter(demo_run.stdout).first_working_day(None), PROMPT_TIME, tzinfo=PARIS
        ).date()
        assert monday.weekday() == 0 and monday.utcoffset() == PARIS.utcoffset(monday)
        assert (monday.hour, monday.minute) == (9, 5)
        assert 0 < (monday.date() - walked).days <= 7
        assert shown[0] == "Marc"
        text = scene(demo_run.stdout, 19)
        assert "digests: 2 manager digest(s), 1 admins' digest(s)" in text
        week = monday.isocalendar().week
        title = translate("fr", "Weekly digest — week %(number)s", number=week)
        assert f"■ {title}" in text
        assert "1 file(s) uploaded, 0 upload(s) failed" in text

    def test_its_block_kit_json_and_chart_are_written(self, demo_run):
        """The scene names two files: the Block Kit JSON Marc received (its first block the
        week's header) and the chart uploaded into his direct message (a PNG of the size the
        narration gives)."""
        text = raw_scene(demo_run.stdout, 19)
        json_path, png_path = (
            Path(p) for p in re.findall(r"(/\S+/digest-\d{4}-W\d{2}\.(?:json|png))", text)
        )
        payload = json.loads(json_path.read_text(encoding="utf-8"))
        assert set(payload) == {"blocks", "text"}
        assert payload["blocks"][0]["type"] == "header"
        assert len(payload["blocks"]) <= 50
        chart = png_path.read_bytes()
        assert chart.startswith(b"\x89PNG\r\n\x1a\n")
        assert re.search(rf"\b{len(chart)}\b", flat(text))


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

    def test_query_results_as_a_table(self):
        """Query results read as aligned columns under their names, NULL for None."""
        assert table(["id", "reporter_id"], [(1, None), (12, "U0SOFIA")]).splitlines() == [
            "id  reporter_id",
            "1   NULL",
            "12  U0SOFIA",
        ]

    def test_context_lines_stay_lines(self):
        """A context element's line breaks are kept, as Slack shows them."""
        payload = {
            "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "a\nb"}]}]
        }
        assert message(payload, NAMES) == ["· a", "b"]

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
