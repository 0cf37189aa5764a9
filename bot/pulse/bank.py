"""The question bank: the shipped questions (questions.yml) and those an admin added."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.shared.i18n import N_, translate
from storage.models import PulseQuestion

BANK_FILE = Path(__file__).parent / "questions.yml"
ENPS = "enps"
CUSTOM_PREFIX = "custom-"

# The words on the answer buttons, from the lowest value to the highest.
LABELS = {
    "quality": (N_("Very poor"), N_("Poor"), N_("Fair"), N_("Good"), N_("Very good")),
    "agreement": (N_("Not at all"), N_("Rarely"), N_("Sometimes"), N_("Mostly"), N_("Completely")),
    "likelihood": (N_("Not at all likely"), N_("Extremely likely")),
}


@dataclass(frozen=True)
class Question:
    """A question as asked: its key, scale and texts."""

    key: str
    scale: str  # "1-5" or "0-10"
    labels: str
    en: str
    fr: str

    @property
    def values(self) -> range:
        low, high = (int(part) for part in self.scale.split("-"))
        return range(low, high + 1)

    def text(self, locale: str) -> str:
        return self.fr if locale == "fr" else self.en

    def label(self, value: int, locale: str) -> str:
        """The word shown with a value ("4 · Good"); the 0–10 scale names only its ends."""
        words = LABELS[self.labels]
        if self.scale == "0-10":
            word = words[0] if value == 0 else words[1] if value == 10 else ""
        else:
            word = words[value - 1]
        return f"{value} · {translate(locale, word)}" if word else str(value)


@cache
def shipped() -> tuple[Question, ...]:
    """The questions shipped with the product, in bank order."""
    with BANK_FILE.open(encoding="utf-8") as handle:
        rows = yaml.safe_load(handle)
    return tuple(Question(**row) for row in rows)


def custom(session: Session, *, workspace_id: int) -> list[Question]:
    """The questions the workspace's admins added (active ones)."""
    rows = session.scalars(
        select(PulseQuestion)
        .where(PulseQuestion.workspace_id == workspace_id, PulseQuestion.active.is_(True))
        .order_by(PulseQuestion.id)
    )
    return [
        Question(
            f"{CUSTOM_PREFIX}{row.id}",
            row.scale,
            _custom_labels(row.scale),
            row.text_en,
            row.text_fr,
        )
        for row in rows
    ]


def _custom_labels(scale: str) -> str:
    return "likelihood" if scale == "0-10" else "agreement"


def all_questions(session: Session, *, workspace_id: int) -> list[Question]:
    """Every question a team of the workspace may be asked, shipped ones first."""
    return [*shipped(), *custom(session, workspace_id=workspace_id)]


def by_key(session: Session, *, workspace_id: int) -> dict[str, Question]:
    return {q.key: q for q in all_questions(session, workspace_id=workspace_id)}


_CACHE: dict[int, tuple[dict[str, Question], float]] = {}
CACHE_TTL = 60.0  # seconds a workspace's questions are trusted from memory


def cached_by_key(session: Session, *, workspace_id: int) -> dict[str, Question]:
    """`by_key`, kept in memory for a minute: survey taps must not reread the bank each time."""
    entry = _CACHE.get(workspace_id)
    if entry is not None and entry[1] > time.monotonic():
        return entry[0]
    questions = by_key(session, workspace_id=workspace_id)
    _CACHE[workspace_id] = (questions, time.monotonic() + CACHE_TTL)
    return questions


def add(session: Session, *, workspace_id: int, scale: str, text_en: str, text_fr: str) -> str:
    """Add an admin's question; return its key."""
    row = PulseQuestion(
        workspace_id=workspace_id, scale=scale, text_en=text_en.strip(), text_fr=text_fr.strip()
    )
    session.add(row)
    session.flush()
    _CACHE.pop(workspace_id, None)
    return f"{CUSTOM_PREFIX}{row.id}"
