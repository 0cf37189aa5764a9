"""The vocabulary of irritants: categories (fundamentals first), spaces, severities, statuses,
and the keywords that guess a category from a few words, in English and French."""

from __future__ import annotations

import re
import unicodedata

from bot.shared.i18n import N_

CATEGORIES: dict[str, str] = {
    "temperature": N_("Temperature"),
    "lighting": N_("Lighting"),
    "noise": N_("Noise"),
    "tools": N_("Tools and equipment"),
    "cleanliness": N_("Cleanliness and hygiene"),
    "break_spaces": N_("Break spaces and amenities"),
    "safety": N_("Safety"),
    "organisation": N_("Organisation and process"),
    "other": N_("Other"),
}
SPACES: dict[str, str] = {
    "employee": N_("Employee space"),
    "customer": N_("Customer space"),
}
SEVERITIES: dict[str, str] = {
    "minor": N_("Minor"),
    "annoying": N_("Annoying"),
    "blocking": N_("Blocking"),
}
SEVERITY_RANK = {key: rank for rank, key in enumerate(SEVERITIES)}  # blocking ranks highest
STATUSES: dict[str, str] = {
    "new": N_("New"),
    "acknowledged": N_("Acknowledged"),
    "planned": N_("Planned"),
    "resolved": N_("Resolved"),
    "declined": N_("Declined"),
}
OPEN_STATUSES = ("new", "acknowledged", "planned")


def labels() -> dict[str, dict[str, str]]:
    """The label tables, for templates (translated there with `_()`)."""
    return {
        "categories": CATEGORIES,
        "spaces": SPACES,
        "severities": SEVERITIES,
        "statuses": STATUSES,
    }


# Words (accents removed, lower case) that point at a category. Stems end with "*": keep them
# long enough not to catch common words of the other language ("jam*" caught "jamais", "sale*"
# the English "sales"), and leave out words with another everyday meaning (French "son").
KEYWORDS: dict[str, tuple[str, ...]] = {
    "temperature": (
        "hot", "cold", "heat*", "warm", "freez*", "temperature", "air conditioning", "aircon",
        "radiator", "chaud*", "froid*", "chaleur", "chauffage", "clim*", "temperature",
        "gel*", "etouff*", "radiateur",
    ),
    "lighting": (
        "light*", "dark", "bulb", "lamp", "flicker*", "bright", "glare", "lumiere*", "eclairage",
        "sombre", "ampoule", "neon*", "clignot*", "luminosite", "ebloui*", "lampe",
    ),
    "noise": (
        "noise", "noisy", "loud", "sound", "music", "quiet", "bruit*", "vacarme", "musique",
        "calme", "sonore", "le son", "du son",
    ),
    "tools": (
        "printer", "computer", "laptop", "screen", "tool*", "broken", "machine*", "software",
        "wifi", "network", "keyboard", "mouse", "phone", "badge", "jam", "jams", "jammed",
        "jamming", "imprimante",
        "ordinateur", "ecran", "outil*", "casse*", "panne", "logiciel", "reseau", "clavier",
        "souris", "telephone", "bourre*",
    ),
    "cleanliness": (
        "dirty", "clean*", "toilet*", "bathroom", "restroom", "smell*", "trash", "bin", "soap",
        "hygiene", "sale", "salet*", "saliss*", "propre*", "toilettes", "wc", "odeur*",
        "poubelle*", "savon", "menage", "nettoy*",
    ),
    "break_spaces": (
        "coffee", "kitchen", "break room", "fridge", "microwave", "water", "fountain", "cup*",
        "lunch", "canteen", "cafe", "cuisine", "pause", "frigo", "micro-ondes", "eau",
        "fontaine", "gobelet*", "cantine", "repas",
    ),
    "safety": (
        "danger*", "safety", "fire", "exit", "slipp*", "injur*", "accident", "cable*", "trip*",
        "securite", "incendie", "sortie", "glissant*", "bless*", "chute",
    ),
    "organisation": (
        "meeting*", "process*", "schedule*", "shift*", "approval*", "procedure*", "paperwork",
        "reunion*", "horaire*", "planning", "validation*", "organisation", "paperasse",
    ),
}  # fmt: skip


def _plain(text: str) -> str:
    """Lower case without accents, for keyword matching."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _pattern(keyword: str) -> re.Pattern[str]:
    stem = keyword.removesuffix("*")
    tail = r"\w*" if keyword.endswith("*") else ""
    return re.compile(rf"\b{re.escape(stem)}{tail}\b")


_PATTERNS = {category: [_pattern(word) for word in words] for category, words in KEYWORDS.items()}


def guess_category(text: str) -> str | None:
    """The category the words point at most (fundamentals win ties), or None."""
    plain = _plain(text)
    scores = {
        category: sum(1 for pattern in patterns if pattern.search(plain))
        for category, patterns in _PATTERNS.items()
    }
    best = max(scores.values(), default=0)
    if best == 0:
        return None
    return next(category for category in CATEGORIES if scores.get(category) == best)
