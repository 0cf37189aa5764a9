"""The sensory walk scenes of `symmetry demo`: a quarter starts and the manager is asked for his
walk; he walks the customer spaces and then the employee spaces with his five senses, makes
two of his notes irritants, sees the gap per sense, and records a learning expedition.

The demo's clock moves on to the first working day of the quarter after the pulse story, when
the clock prompts each manager at 09:30 in their own time zone. What the manager does goes
through the real server, whose clock is the real one: the walk is recorded today, and his visit
is dated today, so that the expedition is kept with this quarter's walk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.demo import cast, text
from bot.demo.context import Demo, DemoError, opened_with
from bot.demo.irritant_scenes import NAMED_DAY
from bot.demo.pulse_scenes import _round
from bot.demo.slack import Call, form_values
from bot.irritants.catalog import CATEGORIES
from bot.shared.i18n import translate
from bot.walks.quarters import Quarter
from bot.walks.schedule import PROMPT_TIME
from bot.walks.senses import SENSES

PARIS = ZoneInfo("Europe/Paris")  # the teams' and their managers' time zone


@dataclass(frozen=True)
class Sense:
    """What Marc gives one sense: a rating of each kind of space, and his notes."""

    key: str
    customer: int
    employee: int
    customer_note: str = ""
    employee_note: str = ""


# Marc writes in French, the language of his team and his own.
ODOUR = "Dans la salle de pause, l'odeur du local poubelles voisin monte dès midi."
DRAUGHT = "Un courant d'air froid passe sous la porte du quai, juste à côté des postes d'emballage."
WAX = "Le showroom sent la cire et le café frais."
WALK = (
    Sense("sight", 4, 4),
    Sense("hearing", 3, 3),
    Sense("smell", 5, 2, customer_note=WAX, employee_note=ODOUR),
    Sense("touch", 4, 2, employee_note=DRAUGHT),
    Sense("taste", 4, 4),
)
FINDINGS = {ODOUR: "cleanliness", DRAUGHT: "temperature"}  # the notes he ticks, and their category
STOPPED_SEEING = "La porte du quai, calée avec une caisse depuis des mois."
WORKS_WELL = "Le café du showroom, que l'équipe partage avec les clients : on le garde."
PLACE = "Boulangerie Le Fournil"
SURPRISED = (
    "Les vendeuses appellent les habitués par leur prénom, et le fournil, visible derrière la "
    "vitre, est aussi net que la boutique."
)
BORROW = "Ranger l'atelier avec le même soin que le showroom, chaque soir, à tour de rôle."


def _quarter(demo: Demo) -> Quarter:
    """The quarter that starts after the pulse story's last tick."""
    return Quarter.of(_round(demo).close.date()).next


def _prompt_time(quarter: Quarter) -> datetime:
    """09:30 in Paris on the quarter's first working day (the teams name no holidays)."""
    return datetime.combine(quarter.first_working_day(None), PROMPT_TIME, tzinfo=PARIS)


def _day(demo: Demo, day: date) -> str:
    return str(format_date(day, NAMED_DAY, locale=demo.locale))


def _sense(demo: Demo, key: str) -> str:
    """A sense's name in the narration's language, in lower case: `smell`, `odorat`."""
    return translate(demo.locale, SENSES[key]).lower()


def _to(person: cast.Member, calls: list[Call]) -> list[dict[str, Any]]:
    return [
        dict(c.params) for c in calls if c.params.get("channel") in (person.id, "D" + person.id)
    ]


def _block_ids(payload: dict[str, Any]) -> set[str]:
    return {str(block.get("block_id", "")) for block in payload.get("blocks", [])}


def _button(payload: dict[str, Any], action_id: str) -> dict[str, Any]:
    """A button of a message or view, with the ID of its block."""
    for block in payload.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                return {**element, "block_id": block.get("block_id", "")}
    raise DemoError(f"no {action_id} button")


def _label(element: dict[str, Any]) -> str:
    return str(element.get("text", {}).get("text", ""))


def _submit(demo: Demo, view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Marc submits `view` filled with `answers`; return the view that replaces it."""
    response = demo.check(
        demo.platform.view_submission(cast.MARC.id, view, form_values(view, answers))
    )
    body = response.json() or {}
    if body.get("response_action") != "update" or not isinstance(body.get("view"), dict):
        raise DemoError(f"the {view.get('callback_id')} form was refused: {body}")
    return dict(body["view"])


def _shown(view: dict[str, Any], keep: set[str]) -> dict[str, Any]:
    """A view with only the blocks a scene shows: sections, and the inputs named in `keep`."""
    blocks = [
        block
        for block in view.get("blocks", [])
        if block.get("type") == "section" or block.get("block_id") in keep
    ]
    return {**view, "blocks": blocks}


# ----- scenes


def quarter_prompt(demo: Demo) -> None:
    """On the first working day of a quarter, each manager is asked for the quarter's walk;
    Marc does it through the modal, and ticks two of his notes as findings."""
    locale, quarter = demo.locale, _quarter(demo)
    instant = _prompt_time(quarter)
    demo.narrator.note(
        translate(
            locale,
            "Time passes: a new quarter starts on %(start)s. On its first working day, "
            "%(day)s, the clock asks each manager for the quarter's sensory walk, at %(time)s "
            "in their own time zone.",
            start=_day(demo, quarter.start),
            day=_day(demo, instant.date()),
            time=demo.local_time(instant, PARIS),
        )
    )
    sent = demo.tick(instant, walks=True)
    marc, amelie = _to(cast.MARC, sent), _to(cast.AMELIE, sent)
    if len(sent) != 2 or len(marc) != 1 or len(amelie) != 1:
        raise DemoError(f"the quarter's prompt should reach Marc and Amélie once: {len(sent)} sent")
    if not all("walk-prompt" in _block_ids(message) for message in (*marc, *amelie)):
        raise DemoError("the managers should get the walk's prompt")
    prompt = marc[0]
    demo.show_message(
        translate(locale, "Symmetry → %(name)s, in a direct message:", name=cast.MARC.first_name),
        prompt,
    )
    demo.narrator.says(
        translate(
            locale,
            "Symmetry → %(name)s, the same prompt for %(team)s; its notification reads:",
            name=cast.AMELIE.first_name,
            team=cast.SHOP_NAME,
        ),
        [text.plain(amelie[0].get("text", ""), demo.names)],
    )
    view = _start(demo, prompt)
    findings = _walk(demo, view)
    summary = _findings(demo, findings)
    demo.show_view(translate(locale, "The modal now reads:"), summary)
    _check_walk(demo)


def _start(demo: Demo, prompt: dict[str, Any]) -> dict[str, Any]:
    """Marc presses [Start my walk] on the prompt; return the walk's modal."""
    locale = demo.locale
    start = _button(prompt, "walk_start")
    demo.narrator.note(
        translate(
            locale,
            "As with the surveys, what %(name)s does reaches the server at once, dated by its "
            "own clock: today.",
            name=cast.MARC.first_name,
        )
    )
    demo.narrator.step(
        translate(
            locale, "%(name)s presses [%(button)s]", name=cast.MARC.first_name, button=_label(start)
        )
    )
    opened = demo.watch("views.open", where=opened_with("walk_submit"))
    demo.check(
        demo.platform.block_action(
            cast.MARC.id, "walk_start", start["value"], block_id=start["block_id"], message=prompt
        )
    )
    demo.memo["walk"] = start["value"]
    view = dict(opened().params["view"])
    smell = {
        f"{kind}-smell-{space}" for kind in ("rate", "note") for space in ("customer", "employee")
    }
    demo.show_view(
        translate(
            locale,
            "Slack opens the modal Symmetry sent to %(name)s (shown here with the %(sense)s "
            "fields only: each sense has the same four):",
            name=cast.MARC.first_name,
            sense=_sense(demo, "smell"),
        ),
        _shown(view, smell | {"stopped_seeing", "works_well", "finish"}),
    )
    return view


def _walk(demo: Demo, view: dict[str, Any]) -> dict[str, Any]:
    """Marc rates each space for each sense, writes his notes and records the walk; return
    the findings step that replaces the modal."""
    locale = demo.locale
    answers: dict[str, Any] = {"stopped_seeing": STOPPED_SEEING, "works_well": WORKS_WELL}
    for sense in WALK:
        for space, rating, note in (
            ("customer", sense.customer, sense.customer_note),
            ("employee", sense.employee, sense.employee_note),
        ):
            answers[f"rate-{sense.key}-{space}"] = str(rating)
            if note:
                answers[f"note-{sense.key}-{space}"] = note
    answers["finish"] = "done"
    ratings = ", ".join(f"{_sense(demo, s.key)} {s.customer}/{s.employee}" for s in WALK)
    demo.narrator.step(
        translate(
            locale,
            "%(name)s walks through the showroom, then the workshop and the break room. He "
            "rates each sense, customer spaces then employee spaces (%(ratings)s), writes "
            "three notes (listed in the next step), answers the two questions, picks "
            "“%(finish)s” and presses [%(button)s]",
            name=cast.MARC.first_name,
            ratings=ratings,
            finish=_option_text(view, "finish", "done"),
            button=view.get("submit", {}).get("text", ""),
        )
    )
    findings = _submit(demo, view, answers)
    if findings.get("callback_id") != "walk_findings":
        raise DemoError(f"the recorded walk should ask for its findings: {findings.get('title')}")
    demo.show_view(translate(locale, "The modal now reads:"), findings)
    return findings


def _option_text(view: dict[str, Any], block_id: str, value: str) -> str:
    for block in view.get("blocks", []):
        if block.get("block_id") == block_id:
            for option in block["element"].get("options", []):
                if option.get("value") == value:
                    return str(option["text"]["text"])
    raise DemoError(f"the modal has no {value!r} in {block_id!r}")


def _findings(demo: Demo, view: dict[str, Any]) -> dict[str, Any]:
    """Marc ticks the two notes about the employee spaces; return the walk's summary."""
    locale = demo.locale
    notes = {
        str(block["label"]["text"]): str(block["block_id"]).removeprefix("finding-")
        for block in view.get("blocks", [])
        if str(block.get("block_id", "")).startswith("finding-")
    }
    if set(notes) != {WAX, ODOUR, DRAUGHT}:
        raise DemoError(f"the findings step should list Marc's three notes: {sorted(notes)}")
    answers: dict[str, Any] = {}
    for note, category in FINDINGS.items():
        answers[f"finding-{notes[note]}"] = ["finding"]
        answers[f"category-{notes[note]}"] = category
    demo.narrator.step(
        translate(
            locale,
            "%(name)s ticks his two notes about the employee spaces, keeps the categories "
            "proposed (%(categories)s), leaves the showroom's unticked and presses [%(button)s]",
            name=cast.MARC.first_name,
            categories=", ".join(translate(locale, CATEGORIES[c]) for c in FINDINGS.values()),
            button=view.get("submit", {}).get("text", ""),
        )
    )
    summary = _submit(demo, view, answers)
    blocks = summary.get("blocks", [])
    if any(b.get("type") == "input" for b in blocks) or not any(
        len(b.get("fields", [])) == len(WALK) for b in blocks
    ):
        raise DemoError(f"once its findings are chosen the walk should show its gaps: {summary}")
    return summary


def _check_walk(demo: Demo) -> None:
    """The walk is recorded with its ratings; its two findings are named irritants."""
    locale = demo.locale
    walk_id = str(demo.memo["walk"])
    if not walk_id.isalnum():  # the app's, but this text goes into SQL
        raise DemoError(f"odd walk id {walk_id!r}")
    _, rows = demo.sql(f"SELECT scores, done_at FROM walks WHERE public_id = '{walk_id}'")
    scores = json.loads(rows[0][0]) if rows and isinstance(rows[0][0], str) else None
    expected = {s.key: {"customer": s.customer, "employee": s.employee} for s in WALK}
    if not rows or rows[0][1] is None or scores != expected:
        raise DemoError(f"the walk should be recorded with Marc's ratings: {rows}")
    demo.narrator.step(translate(locale, "An operator reads the irritants the walk made:"))
    made = demo.show_sql(
        "SELECT i.public_id, i.category, i.space, i.reporter_id, i.anonymous, i.status "
        "FROM irritants i JOIN walks w ON w.id = i.walk_id "
        f"WHERE i.source = 'walk' AND w.public_id = '{walk_id}' ORDER BY i.category"
    )
    wanted = sorted(
        (category, "employee", cast.MARC.id, 0, "new") for category in FINDINGS.values()
    )
    if sorted(tuple(row[1:]) for row in made) != wanted:
        raise DemoError(f"the two findings should be named irritants of the team: {made}")
    demo.memo["findings"] = sorted(row[0] for row in made)
    demo.narrator.note(
        translate(
            locale,
            "The two findings are now irritants of %(team)s, reported in %(name)s's name in the "
            "employee spaces, and wait in triage like any report. The showroom's note stays "
            "with the walk. The gap, customer spaces minus employee spaces, is largest for "
            "%(first)s and %(second)s: the numbers to shrink by next quarter.",
            team=cast.TEAM_NAME,
            name=cast.MARC.first_name,
            first=_sense(demo, "smell"),
            second=_sense(demo, "touch"),
        )
    )


def expedition(demo: Demo) -> None:
    """From his Home tab, Marc records a learning expedition; the Home tab and the export show
    the walk's figures, its findings and the expedition."""
    locale, manager = demo.locale, cast.MARC
    demo.narrator.step(
        translate(locale, "%(who)s opens Symmetry's Home tab", who=demo.who(manager))
    )
    opened_home = {"type": "app_home_opened", "user": manager.id, "channel": "D" + manager.id}
    _, home = _with_home(demo, lambda: demo.event({**opened_home, "tab": "home"}))
    button = _button(home, "expedition_open")
    demo.narrator.step(
        translate(
            locale,
            "In its sensory walks part, %(name)s presses [%(button)s]: today he visited a "
            "bakery known for its welcome",
            name=manager.first_name,
            button=_label(button),
        )
    )
    opened = demo.watch("views.open", where=opened_with("expedition_submit"))
    demo.check(
        demo.platform.block_action(
            manager.id, "expedition_open", button["value"], block_id=button["block_id"], view=home
        )
    )
    form = dict(opened().params["view"])
    demo.show_view(
        translate(
            locale, "Slack opens the modal Symmetry sent to %(name)s:", name=manager.first_name
        ),
        form,
    )
    demo.narrator.step(
        translate(
            locale,
            "%(name)s writes “%(place)s”, keeps today's date, writes what surprised him "
            "(“%(surprised)s”) and what the team could borrow (“%(borrow)s”), and presses "
            "[%(button)s]",
            name=manager.first_name,
            place=PLACE,
            surprised=SURPRISED,
            borrow=BORROW,
            button=form.get("submit", {}).get("text", ""),
        )
    )
    answers = {"place": PLACE, "surprised": SURPRISED, "borrow": BORROW}
    saved, home = _with_home(demo, lambda: _submit(demo, form, answers))
    demo.show_view(translate(locale, "The modal now reads:"), saved)
    _, rows = demo.sql("SELECT place, author_id FROM expeditions")
    if [tuple(row) for row in rows] != [(PLACE, manager.id)]:
        raise DemoError(f"the expedition should be kept, by Marc: {rows}")
    _results(demo, _walk_part(home))


def _with_home(demo: Demo, act: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """Do `act`; return what it returned and the Home tab it made the app publish for Marc."""
    published = demo.watch(
        "views.publish", where=lambda call: call.params.get("user_id") == cast.MARC.id
    )
    done = act()
    return done, dict(published().params["view"])


def _walk_part(home: dict[str, Any]) -> dict[str, Any]:
    """The sensory walks part of a Home tab: its header, then each team's line and buttons."""
    blocks = home.get("blocks", [])
    walks = [i for i, b in enumerate(blocks) if str(b.get("block_id", "")).startswith("walk-")]
    if not walks:
        raise DemoError("Marc's Home tab should have its sensory walks part")
    return {"blocks": blocks[walks[0] - 2 : walks[-1] + 1]}


def _results(demo: Demo, walk_part: dict[str, Any]) -> None:
    """The Home tab's walk part, and `symmetry export walks`."""
    locale, quarter = demo.locale, _quarter(demo)
    demo.show_view(
        translate(
            demo.locale,
            "Symmetry updates %(name)s's Home tab; its sensory walks part:",
            name=cast.MARC.first_name,
        ),
        walk_part,
    )
    demo.narrator.note(
        translate(
            locale,
            "The Home tab follows the server's clock: it is still %(current)s there, whose walk "
            "is not done, and the expedition is kept with it, the visit being today's. The "
            "figures are those of the walk %(name)s just recorded, for %(walked)s.",
            current=Quarter.of(datetime.now(PARIS).date()).label,
            name=cast.MARC.first_name,
            walked=quarter.label,
        )
    )
    demo.narrator.step(translate(locale, "An operator exports the walks:"))
    exported = json.loads(demo.stage.cli("export", "walks", "--format", "json"))
    keep = ("team", "quarter", "gap", "findings", "expeditions")
    lines = ["["]
    for index, row in enumerate(exported):
        head = json.dumps({key: row[key] for key in keep[:2]}, ensure_ascii=False)
        lines.append(f"  {head[:-1]},")
        lines.append(f'   "gap": {json.dumps(row["gap"])},')
        lines.append(f'   "findings": {json.dumps(row["findings"])},')
        trimmed = [{"place": e["place"], "date": e["date"]} for e in row["expeditions"]]
        visits = json.dumps(trimmed, ensure_ascii=False)
        lines.append(f'   "expeditions": {visits}}}' + ("," if index < len(exported) - 1 else ""))
    lines.append("]")
    demo.narrator.shell("symmetry export walks --format json", "\n".join(lines))
    demo.narrator.note(
        translate(
            locale,
            "(Trimmed to %(fields)s; the export also has the manager, the dates, the ratings "
            "and who made each visit.) One walk per team and quarter; the findings are the "
            "public ids of the irritants the walk made.",
            fields=", ".join(keep),
        )
    )
    walked = [r for r in exported if (r["team"], r["quarter"]) == (cast.TEAM_NAME, quarter.label)]
    gaps = {s.key: s.customer - s.employee for s in WALK}
    visits = [(e["place"], e["author"]) for r in exported for e in r["expeditions"]]
    if (
        len(walked) != 1
        or walked[0]["gap"] != gaps
        or sorted(walked[0]["findings"]) != demo.memo["findings"]
        or visits != [(PLACE, cast.MARC.id)]
    ):
        raise DemoError(f"the export should hold the walk, its findings and the visit: {exported}")
