"""The one next step a digest suggests, and the button that does it.

The rules, in order (the first that applies wins): fundamentals and long waits come first,
then the overdue walk, then what the team asks for most, then the rest.

1. a fundamental report unanswered for 14 days or more (the oldest);
2. any report unanswered for 14 days or more (the oldest);
3. the quarter's sensory walk, overdue;
4. a fundamental report unanswered (the oldest);
5. the open report with the most "me too", not planned yet;
6. any report unanswered (the oldest);
7. the quarter's sensory walk, still to do.

The button reuses the action of an existing message, so that the listener that handles it
(and checks who clicks) handles the digest's too: "Plan a fix…" (`irritant_plan`, the
triage form) for a report, "Start my walk" (`walk_start`) for the walk.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.digests.irritant_figures import LONG_WAIT, IrritantFigures, IrritantLine
from bot.walks.overview import QuarterStatus

PLAN = "irritant_plan"  # handlers/irritant_triage.py: opens the triage form
START_WALK = "walk_start"  # handlers/walk_form.py: opens the walk's form
RULES = (
    "fundamental_long_wait",
    "long_wait",
    "walk_overdue",
    "fundamental_waiting",
    "most_voted",
    "waiting",
    "walk_due",
)


@dataclass(frozen=True)
class NextStep:
    """Why (`rule`, one of RULES), and what the button sends: `action_id` and `value` (the
    public id of the report or of the walk)."""

    rule: str
    action_id: str
    value: str
    irritant: IrritantLine | None = None
    walk: QuarterStatus | None = None


def choose(irritants: IrritantFigures | None, walk: QuarterStatus | None) -> NextStep | None:
    """The first rule that applies, or None when nothing calls for a step."""
    figures = irritants or IrritantFigures()
    oldest = figures.waiting[0] if figures.waiting else None
    fundamental = figures.oldest_fundamental
    long_wait = LONG_WAIT.days
    voted = next((i for i in figures.most_voted if i.status != "planned"), None)
    walk_to_do = walk if walk is not None and walk.state != "done" and walk.walk else None
    candidates = {
        "fundamental_long_wait": fundamental
        if fundamental and fundamental.days >= long_wait
        else None,
        "long_wait": oldest if oldest and oldest.days >= long_wait else None,
        "walk_overdue": walk_to_do if walk_to_do and walk_to_do.state == "overdue" else None,
        "fundamental_waiting": fundamental,
        "most_voted": voted,
        "waiting": oldest,
        "walk_due": walk_to_do,
    }
    for rule in RULES:
        found = candidates[rule]
        if isinstance(found, IrritantLine):
            return NextStep(rule, PLAN, found.public_id, irritant=found)
        if isinstance(found, QuarterStatus) and found.walk is not None:
            return NextStep(rule, START_WALK, found.walk.public_id, walk=found)
    return None
