"""The category guessed from the words of `/irritant TEXT`, in English and French, and which
open report a new one is offered a "me too" on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.irritants.catalog import guess_category
from bot.irritants.reporting import similar
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
