"""The policy: what the domain needs from the deployment's settings, and nothing else.

`Settings` holds every environment variable (tokens, URLs, ports); the domain needs six of
them. A `Policy` carries those six, checked: the secret key that keys every pseudonymous
hash is required and never empty, so no path can hash with a missing key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.shared.i18n import LOCALES

MIN_THRESHOLD = 3
MIN_SECRET_KEY = 32  # characters: shorter keys can be brute-forced from a dump


@dataclass(frozen=True)
class Policy:
    """The rules the domain applies: the hashing key, the anonymity threshold, the defaults
    for people and teams Slack says nothing about, and the deployment's extra admins."""

    secret_key: str = field(repr=False)  # never printed, never logged
    anonymity_threshold: int = 5
    default_locale: str = "en"
    default_timezone: str = "UTC"
    admins: frozenset[str] = frozenset()
    retention_days: int = 730  # free texts of closed things are kept this long

    def __post_init__(self) -> None:
        if len(self.secret_key or "") < MIN_SECRET_KEY:
            raise ValueError(
                f"SYMMETRY_SECRET_KEY: at least {MIN_SECRET_KEY} characters are required"
            )
        if self.anonymity_threshold < MIN_THRESHOLD:
            raise ValueError(f"the anonymity threshold is at least {MIN_THRESHOLD}")
        if self.retention_days < 1:
            raise ValueError("the retention is at least one day")
        if self.default_locale not in LOCALES:
            raise ValueError(f"unknown default locale {self.default_locale!r}")
