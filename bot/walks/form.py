"""The walk's forms: the manager's (per sense, a 1–5 rating and a note for the customer spaces
and for the employee spaces; two closing questions; teammates to invite; draft or done) and
an invited teammate's (the notes only). Reading what comes back, which a forged request can
fill with anything, and the draft kept between two openings."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.shared.blocks import render
from bot.shared.i18n import N_, translate
from bot.shared.inputs import number, submitted
from bot.walks.quarters import Quarter
from bot.walks.senses import PROMPTS, RATINGS, SENSES, SPACES
from storage.models import Walk

MAX_NOTE = 1000
MAX_ANSWER = 2000
MAX_INVITES = 10
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
FINISH = ("draft", "done")

ERRORS = {
    "rating": N_("Choose a rating from 1 to 5."),
    "note_too_long": N_("At most 1000 characters, please."),
    "answer_too_long": N_("At most 2000 characters, please."),
    "invites": N_("Invite at most 10 teammates."),
    "finish": N_("Choose whether to save a draft or finish the walk."),
    "nothing_rated": N_("Rate at least one space before finishing, or save a draft."),
    "no_note": N_("Write at least one note."),
    "team": N_("Choose one of the teams you manage."),
}


@dataclass
class Form:
    """What a walk form holds: ratings and notes per sense and space, the two answers,
    the teammates named, and whether the walker is done."""

    scores: dict[str, dict[str, int | None]] = field(
        default_factory=lambda: {s: dict.fromkeys(SPACES) for s in SENSES}
    )
    notes: dict[str, dict[str, str]] = field(
        default_factory=lambda: {s: dict.fromkeys(SPACES, "") for s in SENSES}
    )
    stopped_seeing: str = ""
    works_well: str = ""
    invited: list[str] = field(default_factory=list)
    finish: str | None = None

    def rated(self) -> bool:
        return any(v is not None for pair in self.scores.values() for v in pair.values())

    def empty(self) -> bool:
        return not (
            self.rated() or self.written() or self.stopped_seeing or self.works_well or self.invited
        )

    def written(self) -> list[tuple[str, str, str]]:
        """(sense, space, text) of every note written, in the form's order."""
        return [(s, p, self.notes[s][p]) for s in SENSES for p in SPACES if self.notes[s][p]]

    def draft(self) -> dict[str, Any]:
        """The form as kept between two openings (Walk.draft)."""
        return {
            "scores": self.scores,
            "notes": self.notes,
            "stopped_seeing": self.stopped_seeing,
            "works_well": self.works_well,
            "invited": self.invited,
        }

    @classmethod
    def of_draft(cls, kept: object) -> Form:
        """The form a kept draft fills in; whatever it holds that the form cannot show (an
        older shape, a value out of range) is left out."""
        form = cls()
        if not isinstance(kept, dict):
            return form
        scores, notes = kept.get("scores") or {}, kept.get("notes") or {}
        for sense in SENSES:
            for space in SPACES:
                rating = (scores.get(sense) or {}).get(space) if isinstance(scores, dict) else None
                form.scores[sense][space] = (
                    rating if type(rating) is int and rating in RATINGS else None
                )
                text = (notes.get(sense) or {}).get(space) if isinstance(notes, dict) else None
                form.notes[sense][space] = text[:MAX_NOTE] if isinstance(text, str) else ""
        for name, limit in (("stopped_seeing", MAX_ANSWER), ("works_well", MAX_ANSWER)):
            value = kept.get(name)
            setattr(form, name, value[:limit] if isinstance(value, str) else "")
        invited = kept.get("invited")
        if isinstance(invited, list):
            form.invited = [u for u in invited if isinstance(u, str) and USER_ID.match(u)]
        return form


@dataclass
class Outcome:
    """What to answer a submission with: field errors, or the view that replaces the form."""

    errors: dict[str, str] = field(default_factory=dict)
    view: dict[str, Any] | None = None


def _state(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    found = values.get(block_id)
    state = found.get("value") if isinstance(found, dict) else None
    return state if isinstance(state, dict) else {}


def _text(values: dict[str, Any], block_id: str) -> str:
    value = _state(values, block_id).get("value")
    return value.strip() if isinstance(value, str) else ""


def _choice(values: dict[str, Any], block_id: str) -> str | None:
    option = _state(values, block_id).get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


def choice(view: dict[str, Any], block_id: str) -> str | None:
    """The value of the option picked in a view's select or radio buttons, or None."""
    return _choice(submitted(view), block_id)


def parse_notes(view: dict[str, Any], form: Form, errors: dict[str, str]) -> None:
    """Read the notes of `view` into `form`; {block ID: error code} into `errors`."""
    values = submitted(view)
    for sense in SENSES:
        for space in SPACES:
            block = f"note-{sense}-{space}"
            text = _text(values, block)
            if len(text) > MAX_NOTE:
                errors[block] = "note_too_long"
            form.notes[sense][space] = text


def parse(view: dict[str, Any]) -> tuple[Form, dict[str, str]]:
    """The manager's form as submitted (or closed), and {block ID: error code}."""
    values = submitted(view)
    form, errors = Form(), {}
    parse_notes(view, form, errors)
    for sense in SENSES:
        for space in SPACES:
            block = f"rate-{sense}-{space}"
            picked = _choice(values, block)
            rating = number(picked)
            if picked is not None and rating not in RATINGS:
                errors[block] = "rating"  # "7", "²", "": forged, not a missing rating
            form.scores[sense][space] = rating if rating in RATINGS else None
    for name in ("stopped_seeing", "works_well"):
        text = _text(values, name)
        if len(text) > MAX_ANSWER:
            errors[name] = "answer_too_long"
        setattr(form, name, text)
    users = _state(values, "invite").get("selected_users")
    users = [u for u in users if isinstance(u, str)] if isinstance(users, list) else []
    if len(users) > MAX_INVITES:
        errors["invite"] = "invites"
    form.invited = [u for u in dict.fromkeys(users) if USER_ID.match(u)][:MAX_INVITES]
    finish = _choice(values, "finish")
    form.finish = finish if finish in FINISH else None
    return form, errors


def error_texts(locale: str, codes: dict[str, str]) -> dict[str, str]:
    return {block: translate(locale, ERRORS[code]) for block, code in codes.items()}


def senses_of(form: Form) -> list[dict[str, Any]]:
    """Per sense, what the templates show: its name, its prompt, and per space the rating
    and the note already there."""
    return [
        {
            "key": sense,
            "label": label,
            "prompt": PROMPTS[sense],
            "spaces": [
                {"space": p, "rating": form.scores[sense][p], "text": form.notes[sense][p]}
                for p in SPACES
            ],
        }
        for sense, label in SENSES.items()
    ]


def manager_modal(walk: Walk, form: Form, *, locale: str, invited: list[str]) -> dict[str, Any]:
    """The manager's walk modal, filled with `form` (a draft being resumed)."""
    quarter = Quarter.parse(walk.quarter)
    return render(
        "walk_modal",
        locale,
        team=walk.team,
        quarter=quarter,
        senses=senses_of(form),
        ratings=RATINGS,
        stopped_seeing=form.stopped_seeing,
        works_well=form.works_well,
        invited=list(dict.fromkeys([*invited, *form.invited]))[:MAX_INVITES],
        saved_at=walk.draft_saved_at,
        metadata=json.dumps({"walk": walk.public_id}),
    )


def teammate_modal(walk: Walk, *, locale: str, manager: str | None) -> dict[str, Any]:
    """An invited teammate's short form: a note per sense for each kind of space."""
    return render(
        "walk_teammate_modal",
        locale,
        team=walk.team,
        manager=manager,
        senses=senses_of(Form()),
        metadata=json.dumps({"walk": walk.public_id}),
    )


def notice(locale: str, message: str, *, day: datetime | None = None) -> dict[str, Any]:
    """A small modal that says one thing (a refusal, a saved draft, thanks)."""
    return render("walk_notice_modal", locale, message=message, day=day)
