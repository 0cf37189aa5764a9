"""Values that come back from Slack's side (button values, modal metadata) read without
raising, whatever a forged request puts in them."""

from __future__ import annotations

import pytest

from bot.shared.inputs import (
    clicked,
    field_errors,
    identifier,
    metadata,
    number,
    slack_id,
    submitted,
)


class TestNumber:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [("42", 42), ("0", 0), ("007", 7), ("-3", None), ("", None), ("4 2", None)],
    )
    def test_ascii_digits_only(self, value, expected):
        """Plain digits make a number; anything else makes none."""
        assert number(value) == expected

    @pytest.mark.parametrize("value", ["²", "١٢", "４２", "𝟒𝟐", "1²"])
    def test_unicode_digits_are_not_numbers(self, value):
        """Digits that pass str.isdigit() but that int() refuses (or reads differently)."""
        assert value.isdigit()
        assert number(value) is None

    def test_signed_only_when_asked(self):
        """A leading minus is accepted only for signed values."""
        assert (number("-3", signed=True), number("-", signed=True)) == (-3, None)

    def test_not_a_string_and_too_long(self):
        """None, a list, or a thousand digits: no number, no exception."""
        assert number(None) is None and number([1]) is None and number("9" * 1000) is None

    def test_nothing_past_the_database_integers(self):
        """Past a PostgreSQL integer (queries with it fail there): no number."""
        assert (number("2147483647"), number("2147483648"), number("-2147483648", signed=True)) == (
            2147483647,
            None,
            None,
        )


class TestMetadata:
    @pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", "42", '"text"', "null", "{", "\x00"])
    def test_anything_but_an_object_is_empty(self, raw):
        """Metadata a forged submission filled with JSON that is not an object, or no JSON."""
        assert metadata({"private_metadata": raw}) == {}

    def test_an_object_is_read(self):
        """What the app wrote is read back."""
        assert metadata({"private_metadata": '{"team_id": 3}'}) == {"team_id": 3}


class TestIdentifier:
    @pytest.mark.parametrize("value", [True, False, 0, -1, 2**31, 10**30, 1.0, "1", None, [1]])
    def test_only_a_database_id(self, value):
        """JSON `true` is a Python int equal to 1; numbers past the integers fail queries."""
        assert identifier(value) is None

    def test_an_id_is_read(self):
        assert (identifier(1), identifier(2**31 - 1)) == (1, 2**31 - 1)


class TestSlackId:
    @pytest.mark.parametrize("value", ["U0123ABCD", "CTEAM001", "USLACKBOT"])
    def test_ids(self, value):
        assert slack_id(value) == value

    @pytest.mark.parametrize("value", [None, "", "u0123", "U", "U" + "1" * 32, ["U1"], "U1\x00"])
    def test_anything_else(self, value):
        """Missing, lower case, too long for the columns (PostgreSQL refuses), not text."""
        assert slack_id(value) is None


class TestClicked:
    def test_a_button_and_a_menu(self):
        """A button's value; a menu's chosen option."""
        button = {"actions": [{"action_id": "b", "value": "7"}]}
        menu = {"actions": [{"action_id": "m", "selected_option": {"value": "3"}}]}
        assert (clicked(button), clicked(menu)) == (("b", "7"), ("m", "3"))

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"actions": "x"},
            {"actions": [None]},
            {"actions": [{"action_id": "b", "value": [1]}]},
            {"actions": [{"action_id": "b", "selected_option": [None, 150]}]},
            {"actions": [{"action_id": "b", "value": "9" * 2001}]},
        ],
    )
    def test_no_value(self, body):
        """No action, a value that is not text, or longer than Slack lets an app write."""
        assert clicked(body)[1] == ""


class TestSubmitted:
    @pytest.mark.parametrize("state", [None, [], "x", {"values": None}, {"values": [1]}])
    def test_no_state(self, state):
        assert submitted({"state": state}) == {}

    def test_only_slack_types_are_kept(self):
        """Text where an input puts text, options with text values, lists of text."""
        values = {
            "a": {"value": {"type": "plain_text_input", "value": {"x": 1}}},
            "b": {"value": {"selected_option": [1], "selected_options": [{"value": "on"}, 3]}},
            "c": {"value": {"selected_users": ["U1", 2], "selected_date": "2026-02-05"}},
            "d": [1],
            "e": {"value": None},
        }
        assert submitted({"state": {"values": values}}) == {
            "a": {"value": {"type": "plain_text_input"}},
            "b": {"value": {"selected_options": [{"value": "on"}]}},
            "c": {"value": {"selected_users": ["U1"], "selected_date": "2026-02-05"}},
            "e": {},
        }


SETTINGS_VIEW = {
    "blocks": [
        {"type": "section", "block_id": "pick"},
        {"type": "input", "block_id": "enabled-3"},
        {"type": "input", "block_id": "cadence-3"},
    ]
}


class TestFieldErrors:
    def test_beside_the_fields_block(self):
        """A field's error goes beside its block, whatever the form's version."""
        assert field_errors(SETTINGS_VIEW, {"cadence": "Choose one."}) == {
            "cadence-3": "Choose one."
        }

    def test_a_field_the_form_lacks(self):
        """An error for a field the view does not show goes beside its first input."""
        assert field_errors(SETTINGS_VIEW, {"team": "No."}) == {"enabled-3": "No."}
