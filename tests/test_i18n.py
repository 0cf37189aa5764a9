"""Translations: the French catalog is complete, in sync with the code, and well formed."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages import frontend
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.shared import i18n
from bot.shared.i18n import pick_locale, slack_locale, translate, translations

FR_PO = i18n.LOCALE_DIR / "fr" / "LC_MESSAGES" / "messages.po"
OUT_OF_SYNC = "run `python -m bot.shared.i18n` and translate"

PLACEHOLDER = re.compile(r"%\(\w+\)[sdifr]")
SLACK_REFERENCE = re.compile(r"<[#@!][^>]*>")  # <#channel>, <@user>, <!here>
CODE_SPAN = re.compile(r"`([^`]+)`")
NBSP = "\u00a0\u202f"  # no-break space, narrow no-break space


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as po_file:
        return read_po(po_file, locale=locale)


@pytest.fixture(scope="module")
def french() -> Catalog:
    """The French catalog as committed."""
    return read_catalog(FR_PO, locale="fr")


def entries(catalog: Catalog) -> list[Message]:
    """The catalog's messages, header left out."""
    return [message for message in catalog if message.id]


def pairs(message: Message) -> list[tuple[str, str]]:
    """(source, translation) for each form: the plural form is compared with msgid_plural."""
    if isinstance(message.id, str):
        return [(message.id, message.string or "")]
    singular, plural = message.id
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return [(singular if index == 0 else plural, text or "") for index, text in enumerate(strings)]


def label(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Catalog:
    """The strings in the code now, extracted exactly as `bot.shared.i18n.extract()` does.

    `extract()` writes into bot/locale, so its pybabel command lines are recorded instead of
    run; the extract one is then run with its output moved to a temporary file.
    """
    calls: list[list[str]] = []

    class Recorder:
        def run(self, argv: list[str]) -> None:
            calls.append(list(argv))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frontend, "CommandLineInterface", Recorder)
        i18n.extract()
    extract_calls = [argv for argv in calls if "extract" in argv]
    assert len(extract_calls) == 1, (
        f"bot.shared.i18n.extract() no longer runs `pybabel extract`: {calls}"
    )
    argv = extract_calls[0]
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    argv[argv.index("-o") + 1] = str(pot)
    frontend.CommandLineInterface().run(argv)
    return read_catalog(pot)


class TestCatalogComplete:
    def test_catalog_has_entries(self, french):
        """The French catalog is not empty and declares French's two plural forms."""
        assert entries(french)
        assert french.num_plurals == 2
        assert french.plural_expr.replace(" ", "") == "(n>1)"

    def test_every_message_is_translated(self, french):
        """Every msgid of the French catalog has a non-empty msgstr, every plural form included."""
        untranslated = [
            label(message)
            for message in entries(french)
            if not all(text.strip() for _, text in pairs(message))
            or (not isinstance(message.id, str) and len(pairs(message)) != french.num_plurals)
        ]
        assert untranslated == [], f"{OUT_OF_SYNC}: untranslated {untranslated}"

    def test_no_fuzzy_entries(self, french):
        """No entry is flagged fuzzy (a fuzzy translation is not used at all)."""
        fuzzy = [label(message) for message in entries(french) if message.fuzzy]
        assert fuzzy == [], f"review and unflag the fuzzy translations: {fuzzy}"
        assert not french.fuzzy, "the catalog header is flagged fuzzy"

    def test_header_has_no_template_placeholders(self):
        """The header names the project and team, not Babel's FIRST AUTHOR placeholders."""
        text = FR_PO.read_text(encoding="utf-8")
        header = text[: text.index('msgid "', text.index('msgid ""') + 1)]
        for placeholder in ("FIRST AUTHOR", "ORGANIZATION", "EMAIL@ADDRESS", "PROJECT VERSION"):
            assert placeholder not in header
        assert "Project-Id-Version: symmetry-bot" in header
        assert "Language-Team: French" in header
        assert "Last-Translator: Symmetry team" in header


class TestCatalogInSync:
    def test_every_string_in_the_code_is_in_the_catalog(self, extracted, french):
        """Every string extracted from the code and templates has an entry in the French catalog."""
        missing = sorted(
            map(
                str,
                {message.id for message in entries(extracted)} - {m.id for m in entries(french)},
            )
        )
        assert missing == [], f"{OUT_OF_SYNC}: missing {missing}"

    def test_catalog_has_no_stale_strings(self, extracted, french):
        """Every entry of the French catalog is still used by the code or the templates."""
        stale = sorted(
            map(
                str,
                {m.id for m in entries(french)} - {message.id for message in entries(extracted)},
            )
        )
        assert stale == [], f"{OUT_OF_SYNC}: no longer in the code {stale}"

    def test_template_catalog_matches_the_code(self, extracted):
        """bot/locale/messages.pot lists exactly the strings in the code."""
        committed = read_catalog(i18n.LOCALE_DIR / "messages.pot")
        assert {m.id for m in entries(committed)} == {m.id for m in entries(extracted)}, OUT_OF_SYNC


class TestTranslationsWellFormed:
    def test_placeholders_are_kept(self, french):
        """Each translation uses exactly the `%(name)s` placeholders of its source."""
        wrong = [
            (source, text)
            for message in entries(french)
            for source, text in pairs(message)
            if set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(text))
        ]
        assert wrong == []

    def test_translations_format_with_their_placeholders(self, french):
        """Each translation can be %-formatted with its source's parameters."""
        for message in entries(french):
            for source, text in pairs(message):
                params = {name: 1 for name in re.findall(r"%\((\w+)\)", source)}
                if params:
                    assert text % params, source

    def test_slack_references_are_kept(self, french):
        """`<#channel>` and `<@user>` references and `*bold*` markers survive translation."""
        for message in entries(french):
            for source, text in pairs(message):
                assert Counter(SLACK_REFERENCE.findall(source)) == Counter(
                    SLACK_REFERENCE.findall(text)
                ), source
                assert source.count("*") == text.count("*"), source
                if re.fullmatch(r"\*[^*]+\*", source):  # a bold heading stays one
                    assert re.fullmatch(r"\*[^*]+\*", text), source

    def test_backtick_commands_are_kept(self, french):
        """Backtick-quoted commands are kept verbatim; in a longer example only the free text
        after the command may be translated (`/irritant the printer jams again`)."""

        def commands(text: str) -> Counter[str]:
            spans = CODE_SPAN.findall(text)
            return Counter(span if len(span.split()) <= 2 else span.split()[0] for span in spans)

        wrong = [
            (source, text)
            for message in entries(french)
            for source, text in pairs(message)
            if commands(source) != commands(text) or source.count("`") != text.count("`")
        ]
        assert wrong == []

    def test_french_typography(self, french):
        """A no-break space comes before « : ; ? ! » and inside guillemets, never a plain one."""
        wrong = []
        for message in entries(french):
            for _, text in pairs(message):
                prose = SLACK_REFERENCE.sub("", CODE_SPAN.sub("", text))
                prose = re.sub(r"\w+://\S+", "", prose)  # URLs
                if (
                    re.search(rf"(?<![{NBSP}])[:;?!](?=\s|$)", prose)
                    or re.search(rf"«(?![{NBSP}])", prose)
                    or re.search(rf"(?<![{NBSP}])»", prose)
                ):
                    wrong.append(text)
        assert wrong == []

    def test_translations_are_trimmed(self, french):
        """A translation starts and ends like its source: no stray spaces or line breaks."""
        for message in entries(french):
            for source, text in pairs(message):
                assert text == text.strip() or source != source.strip(), source
                assert source.endswith("\n") == text.endswith("\n"), source


class TestLocales:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("fr-FR", "fr"),
            ("fr_CA", "fr"),
            ("FR-be", "fr"),
            ("fr", "fr"),
            ("en-GB", "en"),
            ("en-US", "en"),
            ("de-DE", None),
            ("ja-JP", None),
            ("", None),
            (None, None),
        ],
    )
    def test_slack_locale(self, value, expected):
        """A Slack locale maps to the language we speak, or None when we do not speak it."""
        assert slack_locale(value) == expected

    def test_pick_locale_prefers_the_person(self):
        """The person's locale wins over the team's and the default."""
        assert pick_locale("fr", "en", default="en") == "fr"
        assert pick_locale("en", "fr", default="fr") == "en"

    def test_pick_locale_falls_back_to_the_team(self):
        """Without a supported personal locale, the team's is used."""
        assert pick_locale(None, "fr", default="en") == "fr"
        assert pick_locale("de", "fr", default="en") == "fr"

    def test_pick_locale_falls_back_to_the_default(self):
        """Without a supported personal or team locale, the default is used."""
        assert pick_locale(None, None, default="fr") == "fr"
        assert pick_locale("de", "es", default="en") == "en"
        assert pick_locale(default="en") == "en"


class TestTranslate:
    def test_french_for_a_known_string(self, french):
        """`translate("fr", ...)` returns the catalog's French text."""
        assert translate("fr", "Team setup") == french["Team setup"].string
        assert translate("fr", "Team setup") != "Team setup"
        assert "équipe" in translate("fr", "Team setup").lower()

    def test_english_is_the_source(self):
        """`translate("en", ...)` returns the English source text unchanged."""
        assert translate("en", "Team setup") == "Team setup"

    def test_parameters_are_filled_in(self):
        """`translate` fills `%(name)s` parameters into the translated text."""
        french = translate("fr", "Team %(name)s saved: %(count)s members.", name="Lyon", count=4)
        assert "Lyon" in french and "4" in french
        assert french != "Team Lyon saved: 4 members."
        assert (
            translate("en", "Team %(name)s saved: %(count)s members.", name="Lyon", count=4)
            == "Team Lyon saved: 4 members."
        )

    def test_unknown_string_falls_back_to_english(self):
        """A string missing from the catalog is shown in English rather than failing."""
        assert translate("fr", "Not in any catalog") == "Not in any catalog"

    def test_french_plural_rule(self):
        """French uses the singular for 0 and 1 and the plural from 2."""
        fr = translations("fr")
        singular = fr.ngettext("%(num)s member", "%(num)s members", 1)
        assert fr.ngettext("%(num)s member", "%(num)s members", 0) == singular
        assert fr.ngettext("%(num)s member", "%(num)s members", 2) != singular
        assert singular != "%(num)s member"
