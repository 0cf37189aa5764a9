"""Translations: Babel catalogs for English and French, and the locale order.

Source strings are English; `bot/locale/fr/LC_MESSAGES/messages.po` holds the French. The
catalogs are compiled in memory when first used, so no generated `.mo` file is committed.
After changing strings, run `python -m bot.shared.i18n` to extract them into
`bot/locale/messages.pot` and merge them into each catalog; then translate the new entries.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("en", "fr")
LOCALE_DIR = Path(__file__).parent.parent / "locale"


@cache
def translations(locale: str) -> NullTranslations:
    """The gettext translations for `locale` (English is the source language)."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == "en" or not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def N_(message: str) -> str:
    """Mark a string for translation where it is defined; translate it where it is shown."""
    return message


def translate(locale: str, message: str, **params: object) -> str:
    """Translate `message` into `locale`, then fill in `%(name)s` parameters."""
    text = translations(locale).gettext(message)
    return text % params if params else text


def slack_locale(value: str | None) -> str | None:
    """Map a Slack locale such as `fr-FR` to one of ours, or None when we do not speak it."""
    if not value:
        return None
    language = value.replace("_", "-").split("-", 1)[0].lower()
    return language if language in LOCALES else None


def pick_locale(*candidates: str | None, default: str) -> str:
    """The first supported locale among the person's, the team's, then the default."""
    for candidate in candidates:
        if candidate in LOCALES:
            return candidate
    return default


def extract() -> None:
    """Regenerate messages.pot from the code and templates, and merge it into each catalog."""
    from babel.messages.frontend import CommandLineInterface

    root = LOCALE_DIR.parent.parent
    keywords = [
        "-k",
        "_",
        "-k",
        "gettext",
        "-k",
        "ngettext:1,2",
        "-k",
        "N_",
        "-k",
        "translate:2",
    ]
    pot = str(LOCALE_DIR / "messages.pot")
    cli = CommandLineInterface()
    cli.run(
        [
            *("pybabel", "-q", "extract", "-F", str(root / "babel.cfg"), *keywords),
            *("--no-location", "--sort-output", "--omit-header", "-o", pot, str(root)),
        ]
    )
    cli.run(["pybabel", "-q", "update", "-i", pot, "-d", str(LOCALE_DIR), "--no-fuzzy-matching"])


if __name__ == "__main__":
    extract()
