"""Values that come back from Slack's side (button values, modal metadata) read without
raising, whatever a forged request puts in them."""

from __future__ import annotations

import pytest

from bot.shared.inputs import metadata, number


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


class TestMetadata:
    @pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", "42", '"text"', "null", "{", "\x00"])
    def test_anything_but_an_object_is_empty(self, raw):
        """Metadata a forged submission filled with JSON that is not an object, or no JSON."""
        assert metadata({"private_metadata": raw}) == {}

    def test_an_object_is_read(self):
        """What the app wrote is read back."""
        assert metadata({"private_metadata": '{"team_id": 3}'}) == {"team_id": 3}
