"""The vocabulary of a sensory walk: the five senses in their order, what each asks the walker
to notice, the irritant categories a finding of each sense is proposed in, and the 1–5
rating of a space."""

from __future__ import annotations

from bot.irritants import catalog
from bot.shared.i18n import N_

SENSES: dict[str, str] = {
    "sight": N_("Sight"),
    "hearing": N_("Hearing"),
    "smell": N_("Smell"),
    "touch": N_("Touch"),
    "taste": N_("Taste"),
}
PROMPTS: dict[str, str] = {
    "sight": N_("Signage, light, cleanliness: what does the place show?"),
    "hearing": N_("Noise where people need to focus, music, alarms, echoes."),
    "smell": N_("Stale air, odours from the toilets, the bins or the kitchen."),
    "touch": N_("Temperature, draughts, worn seats, handles and tools."),
    "taste": N_("Water, coffee, the break room: what is there to drink and eat?"),
}
SPACES = ("customer", "employee")  # the order of the form: customers first, as walked
RATINGS: dict[int, str] = {
    1: N_("1 · Poor"),
    2: N_("2 · Weak"),
    3: N_("3 · Fair"),
    4: N_("4 · Good"),
    5: N_("5 · Excellent"),
}
# A finding's category, proposed from its sense (the first, unless the note's words point
# at another of the sense's); the manager may choose any category.
PROPOSED: dict[str, tuple[str, ...]] = {
    "sight": ("lighting", "cleanliness"),
    "hearing": ("noise",),
    "smell": ("cleanliness",),
    "touch": ("temperature", "tools"),
    "taste": ("break_spaces",),
}


def proposed_category(sense: str, text: str) -> str:
    """The category proposed for a note of `sense`: the one of the sense's its words point
    at, else the sense's first."""
    choices = PROPOSED.get(sense, ("other",))
    guessed = catalog.guess_category(text)
    return guessed if guessed in choices else choices[0]


def gap(scores: dict | None, sense: str) -> int | None:
    """Customer minus employee rating of a sense, or None when one is missing."""
    pair = (scores or {}).get(sense) or {}
    customer, employee = pair.get("customer"), pair.get("employee")
    if isinstance(customer, int) and isinstance(employee, int):
        return customer - employee
    return None
