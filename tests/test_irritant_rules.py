"""Irritant rules without Slack: the category guessed from the words of `/irritant TEXT` (EN
and FR), which open report a new one may be a "me too" on, reopening, and the CSV export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.irritants import reporter, triage
from bot.irritants.catalog import guess_category
from bot.irritants.reporting import similar
from bot.runtime import exports as export
from storage import irritants as store
from storage.models import Irritant
from tests.conftest import POLICY
from tests.irritant_helpers import stored_report


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("The printer jams again", "tools"),
        ("L'imprimante bourre encore", "tools"),
        ("The staff room is freezing every morning", "temperature"),
        ("Il fait un froid glacial en salle de pause le matin", "temperature"),
        ("The neon light flickers all day", "lighting"),
        ("La radio est trop forte, quel vacarme", "noise"),
        ("Le son est trop fort dans l'atelier", "noise"),
        ("Les toilettes du personnel sont sales", "cleanliness"),
        ("Toilets are dirty", "cleanliness"),
        ("The coffee machine in the kitchen leaks", "break_spaces"),
        ("Le sol est glissant près de la sortie", "safety"),
        ("Too many meetings in my schedule", "organisation"),
    ],
)
def test_words_point_at_the_category(text, category):
    assert guess_category(text) == category


@pytest.mark.parametrize(
    "text",
    [
        "Le planning n'est jamais prêt à temps",  # "jamais" is not a paper jam
        "Son planning change tout le temps",  # "son" is "his", not a sound
        "The sales team never gets the schedule on time",  # "sales" is not "sale" (dirty)
    ],
)
def test_common_words_of_the_other_language_do_not_mislead(text):
    assert guess_category(text) == "organisation"


def test_no_known_word_guesses_nothing():
    assert guess_category("Something bothers me") is None


@pytest.mark.parametrize(
    ("location", "matches"),
    [("Warehouse", True), ("the warehouse, gate 2", True), ("", True), ("2nd floor", False)],
)
def test_a_similar_report_is_one_from_the_same_place(db, location, matches):
    """The same words about another place are another irritant; a report without a place
    may still match."""
    team_id = stored_report(
        db,
        reported=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        description="The heater is broken and it is freezing",
        location="Warehouse",
        category="temperature",
    )
    fields = {
        "team_id": str(team_id),
        "category": "temperature",
        "space": "employee",
        "location": location,
        "description": "the heater is broken, it's freezing",
    }
    with db.sessions() as session:
        assert (similar(session, fields) is not None) is matches


def test_reopening_forgets_the_old_date(db):
    """Planned, resolved, reopened: no expected date is shown for the reopened irritant, and
    the plan stays in its history."""
    stored_report(db, reported=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    now = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    steps = [
        triage.Change(action="plan", eta=date(2026, 12, 8)),
        triage.Change(action="resolve", note="New fan"),
        triage.Change(action="reopen"),
    ]
    for change in steps:
        with db.sessions.begin() as session:
            irritant = store.get(
                session, public_id=session.scalars(select(Irritant.public_id)).one()
            )
            triage.apply(
                session,
                POLICY,
                irritant=irritant,
                change=change,
                actor_id="U0NIGHT0",
                actor_role="manager",
                now=now,
            )
    with db.sessions() as session:
        irritant = store.get(session, public_id=session.scalars(select(Irritant.public_id)).one())
        assert (irritant.status, irritant.eta, irritant.resolution_note) == (
            "acknowledged",
            None,
            None,
        )
        assert [e.eta for e in irritant.events if e.action == "plan"] == [date(2026, 12, 8)]


def test_csv_cells_never_start_a_formula():
    """A report's text that starts like a spreadsheet formula is exported as text in CSV,
    and as written in JSON."""
    rows = [{"id": 1, "description": '=HYPERLINK("http://x.example","pay")', "votes": -1}]
    rows.append({"id": 2, "description": "- the door\n- the window", "votes": 0})
    as_csv = list(
        csv.DictReader(io.StringIO(export.write(rows, ("id", "description", "votes"), fmt="csv")))
    )
    assert [r["description"] for r in as_csv] == [
        '\'=HYPERLINK("http://x.example","pay")',
        "'- the door\n- the window",
    ]
    assert as_csv[0]["votes"] == "-1"  # numbers are not text
    assert json.loads(export.write(rows, (), fmt="json")) == rows


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("list", ("list", "")),
        ("liste 2", ("list", "2")),
        ("LIST 3", ("list", "3")),
        ("list 99999999999", ("list", "999999")),
        ("list ²", (None, "list ²")),  # a digit to Python, not a page number
        ("list of things that annoy me", (None, "list of things that annoy me")),
        ("help", ("help", "")),
        ("  the printer jams  ", (None, "the printer jams")),
    ],
)
def test_subcommands_and_text(text, parsed):
    assert reporter.parse(text) == parsed
