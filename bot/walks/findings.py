"""After the walk: the manager ticks which notes are findings, and each becomes a named
irritant of the team (source "walk"), made by the same path as a report (`reporting.create`)
so that it is routed, triaged, followed up and digested like any other; then the summary:
ratings and gap per sense, and what the walk created."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.irritants import catalog, reporting
from bot.shared.blocks import MAX_BLOCKS, render
from bot.shared.i18n import N_, translate
from bot.shared.inputs import metadata, number, public_id, submitted
from bot.shared.policy import Policy
from bot.teams.actors import Actor
from bot.walks import access
from bot.walks.form import Outcome, choice, notice
from bot.walks.quarters import Quarter
from bot.walks.senses import SENSES, gap, proposed_category
from storage.models import Walk, WalkNote

SEVERITY = "annoying"  # a finding's severity; the manager may change it in triage
FIXED_BLOCKS = 2  # the findings modal's opening section, and the "more notes" line
ERRORS = {"category": N_("Choose one of the categories.")}


def undecided(walk: Walk) -> list[WalkNote]:
    """The walk's notes the manager has not decided on yet (a decided note has a category,
    a finding an irritant too): the manager's first, then each teammate's."""
    waiting = [n for n in walk.notes if n.irritant_id is None and n.category is None]
    return sorted(waiting, key=lambda n: (n.author_id != walk.manager_id, n.id))


def fit_notes(notes: list[WalkNote]) -> tuple[list[dict[str, Any]], int]:
    """The notes grouped by author (a context line each, two inputs per note), as many as
    fit in one modal; and how many are left for a later opening."""
    groups: list[dict[str, Any]] = []
    used = FIXED_BLOCKS
    for shown, note in enumerate(notes):
        new_group = not groups or groups[-1]["author"] != note.author_id
        cost = 2 + new_group
        if used + cost > MAX_BLOCKS["modal"]:
            return groups, len(notes) - shown
        used += cost
        if new_group:
            groups.append({"author": note.author_id, "notes": []})
        groups[-1]["notes"].append(
            {
                "id": note.id,
                "sense": note.sense,
                "space": note.space,
                "text": note.text,
                "proposed": proposed_category(note.sense, note.text),
            }
        )
    return groups, 0


def next_view(walk: Walk, *, locale: str) -> dict[str, Any]:
    """What a recorded walk shows its manager: the notes still to decide on, else the
    summary."""
    notes = undecided(walk)
    if not notes:
        return summary(walk, locale=locale)
    groups, more = fit_notes(notes)
    return render(
        "walk_findings_modal",
        locale,
        team=walk.team,
        quarter=Quarter.parse(walk.quarter),
        reporter=walk.manager_id,
        groups=groups,
        more=more,
        senses=SENSES,
        categories=catalog.CATEGORIES,
        metadata=json.dumps({"walk": walk.public_id}),
    )


def summary(walk: Walk, *, locale: str) -> dict[str, Any]:
    """The recorded walk: ratings and gap per sense, the irritants made, the two answers."""
    scores = walk.scores or {}
    rows = [
        {
            "label": label,
            "customer": (scores.get(sense) or {}).get("customer"),
            "employee": (scores.get(sense) or {}).get("employee"),
            "gap": gap(scores, sense),
        }
        for sense, label in SENSES.items()
    ]
    made = [
        {"category": n.category, "space": n.space, "text": n.text}
        for n in walk.notes
        if n.irritant_id is not None and n.category in catalog.CATEGORIES
    ]
    return render(
        "walk_summary_modal",
        locale,
        team=walk.team,
        quarter=Quarter.parse(walk.quarter),
        rows=rows,
        findings=made,
        categories=catalog.CATEGORIES,
        stopped_seeing=walk.stopped_seeing or "",
        works_well=walk.works_well or "",
        walk_id=walk.public_id,
    )


def _decisions(view: dict[str, Any]) -> dict[int, tuple[bool, str | None]]:
    """{note ID: (ticked as a finding, category chosen)} for every note the view showed."""
    values = submitted(view)
    decided: dict[int, tuple[bool, str | None]] = {}
    for block_id, actions in values.items():
        kind, _, raw = str(block_id).partition("-")
        note_id = number(raw)
        state = actions.get("value") if isinstance(actions, dict) else None
        if kind != "finding" or note_id is None or not isinstance(state, dict):
            continue
        options = state.get("selected_options")
        ticked = isinstance(options, list) and any(
            isinstance(o, dict) and o.get("value") == "finding" for o in options
        )
        decided[note_id] = (ticked, choice(view, f"category-{raw}"))
    return decided


def submit(
    session: Session, policy: Policy, *, who: Actor, view: dict[str, Any], now: datetime
) -> Outcome:
    """The manager's choice of findings: each ticked note of the walk becomes an irritant,
    once (a note already made one is left as it is, so a replayed submission counts once)."""
    walk = access.find(session, who=who, public_id=public_id(metadata(view).get("walk")), lock=True)
    code = access.manager_refusal(walk, who=who, now=now)
    if code is None and (walk is None or walk.done_at is None or walk.declared):
        code = "unknown"  # only a recorded walk has findings: this form was not ours
    if code is not None:
        return Outcome(view=notice(who.locale, access.REFUSALS[code]))
    assert walk is not None
    decided = _decisions(view)
    notes = [n for n in walk.notes if n.id in decided]  # another walk's notes: ignored
    errors = {
        f"category-{note.id}": translate(who.locale, ERRORS["category"])
        for note in notes
        if decided[note.id][0] and decided[note.id][1] not in catalog.CATEGORIES
    }
    if errors:
        return Outcome(errors=errors)
    findings = [n for n in notes if decided[n.id][0]]
    chosen = {
        n.id: c
        if (c := decided[n.id][1]) in catalog.CATEGORIES
        else proposed_category(n.sense, n.text)
        for n in notes
    }
    make_irritants(session, policy, walk=walk, who=who, notes=findings, chosen=chosen, now=now)
    for note in notes:  # the others are decided on too: not findings
        if note.category is None:
            note.category = chosen[note.id]
    return Outcome(view=next_view(walk, locale=who.locale))


def make_irritants(
    session: Session,
    policy: Policy,
    *,
    walk: Walk,
    who: Actor,
    notes: Iterable[WalkNote],
    chosen: dict[int, str],
    now: datetime,
) -> None:
    """Each note not made an irritant yet becomes one, in its `chosen` category: named, the
    walk's manager as its reporter, in the note's space."""
    reporter = dataclasses.replace(who, user_id=walk.manager_id or who.user_id)
    for note in sorted(notes, key=lambda n: n.id):
        if note.irritant_id is not None:
            continue
        category = chosen[note.id]
        fields = {
            "team_id": walk.team_id,
            "category": category,
            "space": note.space,
            "location": "",
            "severity": SEVERITY,
            "description": note.text,
            "share_name": True,
        }
        irritant = reporting.create(
            session,
            policy,
            who=reporter,
            fields=fields,
            key=None,
            now=now,
            source="walk",
            walk_id=walk.id,
        )
        note.finding, note.category, note.irritant_id = True, category, irritant.id
