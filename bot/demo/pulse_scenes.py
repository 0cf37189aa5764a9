"""The pulse survey scenes of `symmetry demo`: a round planned, answered, reminded, closed, and
its results shown only for a group large enough.

Surveys are on by default for a new team; the admin turns them off at setup so that the
earlier ticks (January's welcomes, the irritant story) send none. Here the manager switches
them on, an operator adds a second, smaller team (the shop), and the clock runs one round: the
day before the survey day it plans both teams' rounds, then on Tuesday each person's survey
goes at 10:00 in their time zone, the reminder halfway, the close after five days.

Answers go through the real server, whose clock is the real one: a round takes answers until
it closes, so the survey day lies ahead of today — the first Tuesday after the irritant story's
day, so that the story's clock never goes back.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from bot.demo import cast, text
from bot.demo.context import Demo, DemoError, opened_with
from bot.demo.irritant_scenes import NAMED_DAY, _story
from bot.demo.slack import Call, form_values
from bot.pulse import bank
from bot.runtime.config import Settings
from bot.shared.i18n import translate

PARIS = ZoneInfo("Europe/Paris")  # both teams' time zone
SURVEY_TIME = time(10, 0)  # the default survey time, in each person's time zone
WORKSHOP = (cast.MARC, cast.SOFIA, cast.DAVID, cast.JULIEN, cast.CHLOE, cast.EMMA, cast.HUGO)
SHOP = (cast.AMELIE, cast.INES, cast.OLIVER)
# The default SYMMETRY_ANONYMITY_THRESHOLD (the demo's server runs with default settings).
THRESHOLD = Settings.model_fields["anonymity_threshold"].default
COMMENT = "La salle de pause est glaciale le matin ; à part ça, une super équipe."


@dataclass(frozen=True)
class Answers:
    """What one person taps: a value per question, in the order the round asks them."""

    person: cast.Member
    values: dict[str, int]


# The round asks the eNPS (once a quarter) and the two questions of the bank asked least
# recently: for a first round, the bank's first two.
QUESTIONS = ("enps", "temperature", "lighting")
CHLOE_FIRST = {"enps": 9, "temperature": 3, "lighting": 4}
CHLOE_CHANGED = ("temperature", 2)  # she thinks of the break room in the morning
EMMA = Answers(cast.EMMA, {"enps": 10, "temperature": 4, "lighting": 5})
HUGO = Answers(cast.HUGO, {"enps": 9, "temperature": 2, "lighting": 4})
SOFIA = Answers(cast.SOFIA, {"enps": 7, "temperature": 4, "lighting": 4})
MARC = Answers(cast.MARC, {"enps": 8, "temperature": 3, "lighting": 4})
DAVID = Answers(cast.DAVID, {"enps": 6, "temperature": 3, "lighting": 3})
SHOP_ANSWERS = (
    Answers(cast.AMELIE, {"enps": 9, "temperature": 4, "lighting": 3}),
    Answers(cast.INES, {"enps": 8, "temperature": 5, "lighting": 4}),
    Answers(cast.OLIVER, {"enps": 10, "temperature": 4, "lighting": 4}),
)
LATE = ("enps", 7)  # what Julien, who skipped the round, taps after the close
# Not Julien; Marc, the manager, reads the results: with him, five others must answer.
RESPONDENTS = (cast.CHLOE, cast.EMMA, cast.HUGO, cast.SOFIA, cast.MARC, cast.DAVID)


@dataclass(frozen=True)
class Round:
    """The instants of the survey story, around its survey day (a Tuesday, in Paris)."""

    day: date

    @classmethod
    def after(cls, day: date) -> Round:
        """The round of the first Tuesday after `day`."""
        return cls(day + timedelta(days=(1 - day.weekday()) % 7 or 7))

    def at(self, days: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(self.day + timedelta(days=days), time(hour, minute), tzinfo=PARIS)

    @property
    def plan(self) -> datetime:
        """The day before, after the irritant story's last tick (which may be that Monday)."""
        return self.at(-1, 17)

    def survey_time(self, person: cast.Member) -> datetime:
        """When a person's survey is due: 10:00 on the survey day in their time zone."""
        return datetime.combine(self.day, SURVEY_TIME, tzinfo=ZoneInfo(person.user.tz))

    @property
    def morning(self) -> datetime:
        return self.at(0, 10, 5)

    @property
    def afternoon(self) -> datetime:
        """10:05 in New York."""
        return self.at(0, 16, 5)

    @property
    def reminder(self) -> datetime:
        """Friday afternoon: past halfway (Thursday 22:00), in working hours everywhere."""
        return self.at(3, 14, 5)

    @property
    def close(self) -> datetime:
        """Five days after it opened."""
        return self.at(5, 10, 5)

    @property
    def pause_until(self) -> date:
        """Sofia's leave: the next round (a week later) falls inside it."""
        return self.day + timedelta(days=12)


def _round(demo: Demo) -> Round:
    if "round" not in demo.memo:
        demo.memo["round"] = Round.after(_story(demo).day)
    found: Round = demo.memo["round"]
    return found


def _day(demo: Demo, day: date) -> str:
    return str(format_date(day, NAMED_DAY, locale=demo.locale))


def _names(people: Sequence[cast.Member], locale: str) -> str:
    """`Marc, Julien and Chloé`, in the narration's language."""
    names = [person.first_name for person in people]
    if len(names) < 2:
        return "".join(names)
    return translate(locale, "%(names)s and %(last)s", names=", ".join(names[:-1]), last=names[-1])


def _to(person: cast.Member) -> Callable[[Call], bool]:
    return lambda call: call.params.get("channel") in (person.id, "D" + person.id)


def _recipients(calls: list[Call]) -> list[cast.Member]:
    found = []
    for call in calls:
        person = cast.person(call.params.get("channel"))
        if person is None:
            raise DemoError(f"a message went to {call.params.get('channel')!r}, not in the cast")
        found.append(person)
    return found


def _only(calls: list[Call], person: cast.Member) -> dict[str, Any]:
    mine = [call for call in calls if _to(person)(call)]
    if len(mine) != 1:
        raise DemoError(f"{person.first_name} should get one message here, not {len(mine)}")
    return dict(mine[0].params)


def _is_survey(call: Call) -> bool:
    return "pulse_answer:" in json.dumps(call.params.get("blocks", []))


def _count(demo: Demo, query: str) -> int:
    return int(demo.sql(query)[1][0][0])


def _round_ids(demo: Demo) -> dict[str, int]:
    """The ID of each team's round, by team name."""
    _, rows = demo.sql(
        "SELECT t.name, r.id FROM pulse_rounds r JOIN teams t ON t.id = r.team_id ORDER BY r.id"
    )
    return {name: round_id for name, round_id in rows}


# ----- reading and pressing the survey message


def _element(message: dict[str, Any], action_id: str, block_id: str | None = None) -> dict:
    """A button of a survey message (in the block `block_id`, when given)."""
    for block in message.get("blocks", []):
        if block.get("type") != "actions" or block_id not in (None, block.get("block_id")):
            continue
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return {**element, "block_id": block.get("block_id")}
    raise DemoError(f"the survey has no {action_id} button{f' in {block_id}' if block_id else ''}")


def _label(element: dict[str, Any]) -> str:
    return str(element.get("text", {}).get("text", ""))


def _answer_button(message: dict[str, Any], question: str, value: int) -> dict[str, Any]:
    return _element(message, f"pulse_answer:{value}", f"a-{question}")


def _press(demo: Demo, person: cast.Member, message: dict[str, Any], element: dict) -> dict:
    """`person` presses a button of their survey; return what the app answered on the
    response_url (the updated message, or a message only they can see)."""
    answered = demo.watch("response_url")
    demo.check(
        demo.platform.block_action(
            person.id,
            element["action_id"],
            element["value"],
            block_id=element["block_id"],
            message=message,
        )
    )
    return dict(answered().params)


def _updated(message: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
    """The survey message once the app replaced it with `reply`."""
    if not reply.get("replace_original") or not reply.get("blocks"):
        raise DemoError(f"the app did not update the survey: {reply.get('text')!r}")
    return {"channel": message.get("channel"), "text": reply.get("text"), "blocks": reply["blocks"]}


def _tap(
    demo: Demo, person: cast.Member, message: dict[str, Any], question: str, value: int
) -> dict[str, Any]:
    """`person` taps an answer; return the updated message."""
    reply = _press(demo, person, message, _answer_button(message, question, value))
    return _updated(message, reply)


def _answer_all(demo: Demo, answers: Answers, message: dict[str, Any]) -> dict[str, Any]:
    """Narrate and tap a person's answers to every question; return the updated message."""
    labels = [_label(_answer_button(message, q, v)) for q, v in answers.values.items()]
    demo.narrator.step(
        translate(
            demo.locale,
            "%(name)s taps %(buttons)s",
            name=answers.person.first_name,
            buttons=", ".join(f"[{label}]" for label in labels),
        )
    )
    for question, value in answers.values.items():
        message = _tap(demo, answers.person, message, question, value)
    return message


def _parts(message: dict[str, Any], *, questions: Sequence[str] = (), footer: bool = False) -> dict:
    """Part of a survey message, for showing what changed: some questions with their answer,
    and its closing line (the buttons left out)."""
    wanted = {f"q-{q}" for q in questions}
    blocks = message.get("blocks", [])
    kept = [b for b in blocks if b.get("block_id") in wanted]
    if footer:
        after = blocks[[b.get("type") for b in blocks].index("divider") + 1 :]
        kept.extend(b for b in after if b.get("type") == "context")
    return {"blocks": kept}


def _question_block_text(message: dict[str, Any], question: str) -> str:
    """A question's text in the message, with the person's answer when given."""
    for block in message.get("blocks", []):
        if block.get("block_id") == f"q-{question}":
            return str(block.get("text", {}).get("text", ""))
    raise DemoError(f"the survey has no question {question!r}")


# ----- survey settings


def _open_settings(demo: Demo, person: cast.Member) -> dict[str, Any]:
    """`person` types `/symmetry survey` in the team's channel; return the settings modal."""
    opened = demo.watch("views.open", where=opened_with("pulse_settings"))
    demo.slash(person, "survey", channel=cast.TEAM_CHANNEL)
    return dict(opened().params["view"])


def _on_label(view: dict[str, Any]) -> str:
    for block in view.get("blocks", []):
        if str(block.get("block_id", "")).startswith("enabled"):
            return str(block["element"]["options"][0]["text"]["text"])
    raise DemoError("the survey settings have no on/off checkbox")


def _save_settings(
    demo: Demo, person: cast.Member, view: dict[str, Any], *, enabled: bool
) -> dict[str, Any]:
    """Submit the settings modal as it is, surveys on or off; return the DM that confirms."""
    saved = demo.watch("chat.postMessage", where=_to(person))
    answers = {"enabled": ["on"] if enabled else []}
    response = demo.check(
        demo.platform.view_submission(person.id, view, form_values(view, answers))
    )
    errors = (response.json() or {}).get("errors")
    if errors:
        raise DemoError(f"the survey settings were refused: {errors}")
    return dict(saved().params)


def _surveys_enabled(demo: Demo, team: str) -> bool:
    _, rows = demo.sql(f"SELECT survey_enabled FROM teams WHERE name = '{team}'")
    return bool(rows[0][0])


def surveys_off_for_now(demo: Demo) -> None:
    """At setup, the admin turns the new team's surveys off until it has settled in."""
    admin, locale = cast.AMELIE, demo.locale
    demo.narrator.note(
        translate(
            locale,
            "A new team gets pulse surveys by default, every Tuesday. %(name)s turns them off "
            "while the team settles in; %(manager)s will switch them on later.",
            name=admin.first_name,
            manager=cast.MARC.first_name,
        )
    )
    view = _open_settings(demo, admin)
    demo.narrator.step(
        translate(
            locale,
            "Slack opens the survey settings; %(name)s unticks “%(option)s” and presses "
            "[%(button)s]",
            name=admin.first_name,
            option=_on_label(view),
            button=view.get("submit", {}).get("text", ""),
        )
    )
    saved = _save_settings(demo, admin, view, enabled=False)
    demo.show_message(
        translate(locale, "Symmetry → %(name)s, in a direct message:", name=admin.first_name),
        saved,
    )
    if _surveys_enabled(demo, cast.TEAM_NAME):
        raise DemoError(f"surveys should be off for {cast.TEAM_NAME}")


# ----- scenes


def switch_on(demo: Demo) -> None:
    """The manager switches surveys on; an operator adds the shop's team; the day before the
    survey day, the clock plans both rounds and queues each survey for 10:00 local time."""
    locale, story = demo.locale, _round(demo)
    manager = cast.MARC
    demo.narrator.note(
        translate(
            locale,
            "Back to today (%(today)s): %(name)s switches pulse surveys on for his team, and the "
            "demo's clock moves on to their first round, on %(day)s. People's taps reach the "
            "server at once, by its own clock: a round takes answers until it closes.",
            today=_day(demo, _story(demo).today),
            name=manager.first_name,
            day=_day(demo, story.day),
        )
    )
    view = _open_settings(demo, manager)
    demo.show_view(
        translate(
            locale,
            "Slack opens the modal Symmetry sent to %(name)s (a manager sees his own teams):",
            name=manager.first_name,
        ),
        view,
    )
    demo.narrator.step(
        translate(
            locale,
            "%(name)s ticks “%(option)s”, keeps the rest and presses [%(button)s]",
            name=manager.first_name,
            option=_on_label(view),
            button=view.get("submit", {}).get("text", ""),
        )
    )
    saved = _save_settings(demo, manager, view, enabled=True)
    demo.show_message(
        translate(locale, "Symmetry → %(name)s, in a direct message:", name=manager.first_name),
        saved,
    )
    if not _surveys_enabled(demo, cast.TEAM_NAME):
        raise DemoError(f"surveys should be on for {cast.TEAM_NAME}")

    demo.narrator.step(
        translate(
            locale,
            "An operator adds a second, smaller team from a terminal: the shop, from "
            "%(channel)s, managed by %(name)s",
            channel=demo.channel(cast.SHOP_CHANNEL),
            name=cast.AMELIE.first_name,
        )
    )
    args = (
        "team",
        "add",
        cast.SHOP_NAME,
        "--channel",
        cast.SHOP_CHANNEL,
        "--manager",
        cast.AMELIE.id,
        "--timezone",
        "Europe/Paris",
        "--locale",
        "fr",
    )
    demo.narrator.shell(shlex.join(["symmetry", *args]), demo.stage.cli(*args))
    if demo.member_ids(cast.SHOP_NAME) != {p.id for p in SHOP}:
        raise DemoError(f"{cast.SHOP_NAME} should have {_names(SHOP, 'en')}")
    demo.narrator.note(
        translate(
            locale,
            "Its surveys are on, as for any new team: %(names)s will be asked too.",
            names=_names(SHOP, locale),
        )
    )

    sent = demo.tick(story.plan)
    welcomed = sorted(p.id for p in _recipients(sent))
    if welcomed != sorted(p.id for p in SHOP) or any(_is_survey(call) for call in sent):
        raise DemoError(f"the day before, only the shop's welcomes should go: {welcomed}")
    rounds = _round_ids(demo)
    if sorted(rounds) != sorted([cast.TEAM_NAME, cast.SHOP_NAME]):
        raise DemoError(f"the day before, both teams' rounds should be planned: {rounds}")
    demo.memo["rounds"] = rounds
    _, rows = demo.sql("SELECT questions FROM pulse_rounds ORDER BY id")
    asked = [json.loads(q) if isinstance(q, str) else q for (q,) in rows]
    if any(list(q) != list(QUESTIONS) for q in asked):
        raise DemoError(f"a first round should ask {QUESTIONS}: {asked}")
    shipped = {q.key: q for q in bank.shipped()}
    demo.narrator.note(
        translate(
            locale,
            "The tick welcomed %(names)s to their new team (the welcome seen earlier), and "
            "planned a round for each team, a day ahead: the same %(count)s questions for "
            "everyone, open until %(closes)s. First the eNPS (“%(enps)s”), asked once a "
            "quarter, then the questions of the bank asked least recently.",
            names=_names(SHOP, locale),
            count=len(QUESTIONS),
            closes=demo.local_time(story.at(5, 10), PARIS, day=True),
            enps=shipped["enps"].text(locale),
        )
    )
    queued = [m for m in demo.outbox() if m.kind == "pulse" and m.state == "queued"]
    everyone = [*WORKSHOP, *SHOP]
    if sorted(m.recipient or "" for m in queued) != sorted(p.id for p in everyone):
        raise DemoError(f"a survey should wait for each of the {len(everyone)} people")
    order = {p.id: i for i, p in enumerate(cast.PEOPLE)}
    groups: dict[tuple[str, datetime], list[cast.Member]] = {}
    for message in sorted(queued, key=lambda m: (m.not_before, order[m.recipient or ""])):
        person = cast.person(message.recipient)
        assert person is not None
        groups.setdefault((message.timezone, message.not_before), []).append(person)
    lines = []
    for (zone, due), people in groups.items():
        if due != story.survey_time(people[0]):
            raise DemoError(f"surveys should wait for 10:00 in {zone}, not {due}")
        local = demo.local_time(due, zone)
        params = {"time": local, "city": demo.city(zone), "names": _names(people, locale)}
        if zone == PARIS.key:
            lines.append(translate(locale, "%(time)s in %(city)s: %(names)s", **params))
        else:
            lines.append(
                translate(
                    locale,
                    "%(time)s in %(city)s (%(reference)s in %(reference_city)s): %(names)s",
                    reference=demo.local_time(due, PARIS),
                    reference_city=demo.city(PARIS),
                    **params,
                )
            )
    demo.narrator.note(
        translate(
            locale,
            "%(count)s surveys wait in the outbox, each for %(time)s on %(day)s in its "
            "recipient's time zone:",
            count=len(queued),
            time=demo.local_time(story.survey_time(cast.MARC), PARIS),
            day=_day(demo, story.day),
        )
    )
    for line in lines:
        demo.narrator.note("  " + line)


def _survey_heading(demo: Demo, person: cast.Member, instant: datetime) -> dict[str, str]:
    return {
        "name": person.first_name,
        "language": demo.language(person),
        "time": demo.local_time(instant, person.user.tz),
        "city": demo.city(person.user.tz),
    }


def answering(demo: Demo) -> None:
    """Tuesday: each survey goes at 10:00 in its recipient's zone; people answer with taps,
    change an answer, comment, skip, and one pauses surveys until a date."""
    locale, story = demo.locale, _round(demo)
    early = [p for p in (*WORKSHOP, *SHOP) if p.user.tz == PARIS.key]
    sent = demo.tick(story.morning)
    if sorted(p.id for p in _recipients(sent)) != sorted(p.id for p in early):
        raise DemoError(f"at 10:05 in Paris the surveys of {_names(early, 'en')} should go")
    if not all(_is_survey(call) for call in sent):
        raise DemoError("at 10:05 only surveys should go")
    surveys = {p.id: _only(sent, p) for p in early}

    chloe = cast.CHLOE
    message = surveys[chloe.id]
    demo.show_message(
        translate(
            locale,
            "Symmetry → %(name)s, in a direct message, in %(language)s (%(time)s in %(city)s):",
            **_survey_heading(demo, chloe, story.morning),
        ),
        message,
    )
    emma = cast.EMMA
    english = surveys[emma.id]
    demo.narrator.says(
        translate(
            locale,
            "Symmetry → %(name)s, the same survey in %(language)s (%(time)s in %(city)s); its "
            "notification and its questions read:",
            **_survey_heading(demo, emma, story.morning),
        ),
        [
            text.plain(english.get("text", ""), demo.names),
            *(
                "  " + line
                for q in QUESTIONS
                for line in text.plain(_question_block_text(english, q), demo.names).splitlines()
            ),
        ],
    )
    others = [p for p in early if p not in (chloe, emma)]
    demo.narrator.note(
        translate(
            locale,
            "%(names)s got theirs too, each in their language. %(sofia)s's waits for %(time)s "
            "in %(london)s (%(london_paris)s in %(paris)s), %(david)s's for %(time)s in "
            "%(new_york)s (%(new_york_paris)s in %(paris)s).",
            names=_names(others, locale),
            time=demo.local_time(story.survey_time(cast.SOFIA), cast.SOFIA.user.tz),
            sofia=cast.SOFIA.first_name,
            london=demo.city(cast.SOFIA.user.tz),
            london_paris=demo.local_time(story.survey_time(cast.SOFIA), PARIS),
            david=cast.DAVID.first_name,
            new_york=demo.city(cast.DAVID.user.tz),
            new_york_paris=demo.local_time(story.survey_time(cast.DAVID), PARIS),
            paris=demo.city(PARIS),
        )
    )

    _chloe_answers(demo, message)
    _answer_all(demo, EMMA, surveys[emma.id])
    _answer_all(demo, HUGO, surveys[cast.HUGO.id])
    demo.memo["julien_survey"] = _skip(demo, cast.JULIEN, surveys[cast.JULIEN.id])
    demo.narrator.note(
        translate(
            locale,
            "At the shop, %(names)s answer their survey too:",
            names=_names(SHOP, locale),
        )
    )
    for answers in SHOP_ANSWERS:
        _answer_all(demo, answers, surveys[answers.person.id])
    demo.memo["marc_survey"] = surveys[cast.MARC.id]
    demo.narrator.note(
        translate(locale, "%(name)s leaves his survey for later.", name=cast.MARC.first_name)
    )
    _afternoon(demo)


def _chloe_answers(demo: Demo, message: dict[str, Any]) -> None:
    """Chloé taps one answer and sees her message update, taps the other two, changes one
    and adds a comment."""
    locale, chloe = demo.locale, cast.CHLOE
    first = QUESTIONS[0]
    button = _answer_button(message, first, CHLOE_FIRST[first])
    demo.narrator.step(
        translate(
            locale,
            "%(name)s taps [%(button)s] under the first question",
            name=chloe.first_name,
            button=_label(button),
        )
    )
    message = _updated(message, _press(demo, chloe, message, button))
    demo.show_message(
        translate(locale, "The message updates in place (buttons left out here):"),
        _parts(message, questions=[first]),
    )
    rest = [(q, v) for q, v in CHLOE_FIRST.items() if q != first]
    demo.narrator.step(
        translate(
            locale,
            "%(name)s taps %(buttons)s for the other two",
            name=chloe.first_name,
            buttons=translate(
                locale,
                "%(names)s and %(last)s",
                names=f"[{_label(_answer_button(message, *rest[0]))}]",
                last=f"[{_label(_answer_button(message, *rest[1]))}]",
            ),
        )
    )
    for question, value in rest:
        message = _tap(demo, chloe, message, question, value)
    demo.show_message(
        translate(locale, "The message now reads:"),
        _parts(message, questions=QUESTIONS, footer=True),
    )
    question, value = CHLOE_CHANGED
    before = text.plain(_question_block_text(message, question), demo.names).splitlines()[-1]
    button = _answer_button(message, question, value)
    demo.narrator.step(
        translate(
            locale,
            "%(name)s thinks of the break room in the morning and taps [%(button)s] instead",
            name=chloe.first_name,
            button=_label(button),
        )
    )
    message = _updated(message, _press(demo, chloe, message, button))
    after = text.plain(_question_block_text(message, question), demo.names).splitlines()[-1]
    if after == before or _label(button) not in after:
        raise DemoError(f"Chloé's changed answer should show: {after!r}")
    demo.show_message(
        translate(locale, "The message now reads:"), _parts(message, questions=[question])
    )
    rounds: dict[str, int] = demo.memo["rounds"]
    workshop = rounds[cast.TEAM_NAME]
    stored = _count(demo, f"SELECT count(*) FROM pulse_answers WHERE round_id = {workshop:d}")
    if stored != len(QUESTIONS):
        raise DemoError(f"Chloé's changed answer should replace hers: {stored} answers stored")
    demo.narrator.note(
        translate(
            locale,
            "Her earlier answer is replaced, not added to: one answer per person and question, "
            "which can change until the round closes.",
        )
    )
    _comment(demo, chloe, message)


def _skip(demo: Demo, person: cast.Member, message: dict[str, Any]) -> dict[str, Any]:
    """`person` skips the round; return their updated survey."""
    skip = _element(message, "pulse_skip")
    demo.narrator.step(
        translate(
            demo.locale,
            "%(name)s, short of time this week, taps [%(button)s]",
            name=person.first_name,
            button=_label(skip),
        )
    )
    message = _updated(message, _press(demo, person, message, skip))
    demo.show_message(
        translate(demo.locale, "The message now reads (buttons left out here):"),
        _parts(message, footer=True),
    )
    return message


def _afternoon(demo: Demo) -> None:
    """16:05 in Paris: the surveys of London and New York go; Sofia answers, then pauses."""
    locale, story = demo.locale, _round(demo)
    sent = demo.tick(story.afternoon)
    late = (cast.SOFIA, cast.DAVID)
    if sorted(p.id for p in _recipients(sent)) != sorted(p.id for p in late):
        raise DemoError(f"at 16:05 in Paris only {_names(late, 'en')}'s surveys should go")
    for person in late:
        demo.narrator.says(
            translate(
                locale,
                "Symmetry → %(name)s, the same survey in %(language)s (%(time)s in %(city)s); "
                "its notification reads:",
                **_survey_heading(demo, person, story.afternoon),
            ),
            [text.plain(_only(sent, person).get("text", ""), demo.names)],
        )
    demo.narrator.note(
        translate(
            locale,
            "The demo's clock jumped from %(morning)s to %(afternoon)s: ticking every minute, "
            "it would have sent %(name)s's at %(due)s in %(city)s.",
            morning=demo.local_time(story.morning, PARIS),
            afternoon=demo.local_time(story.afternoon, PARIS),
            name=cast.SOFIA.first_name,
            due=demo.local_time(story.survey_time(cast.SOFIA), cast.SOFIA.user.tz),
            city=demo.city(cast.SOFIA.user.tz),
        )
    )
    demo.memo["david_survey"] = _only(sent, cast.DAVID)
    message = _answer_all(demo, SOFIA, _only(sent, cast.SOFIA))
    _pause(demo, cast.SOFIA, message)


def _comment(demo: Demo, person: cast.Member, message: dict[str, Any]) -> None:
    """`person` adds a comment to the round through its modal."""
    locale = demo.locale
    button = _element(message, "pulse_comment")
    demo.narrator.step(
        translate(
            locale, "%(name)s taps [%(button)s]", name=person.first_name, button=_label(button)
        )
    )
    opened = demo.watch("views.open", where=opened_with("pulse_comment"))
    _press_for_modal(demo, person, message, button)
    form = dict(opened().params["view"])
    demo.show_view(
        translate(
            locale, "Slack opens the modal Symmetry sent to %(name)s:", name=person.first_name
        ),
        form,
    )
    demo.narrator.step(
        translate(
            locale,
            "%(name)s writes “%(note)s” and presses [%(button)s]",
            name=person.first_name,
            note=COMMENT,
            button=form.get("submit", {}).get("text", ""),
        )
    )
    response = demo.check(
        demo.platform.view_submission(person.id, form, form_values(form, {"comment": COMMENT}))
    )
    errors = (response.json() or {}).get("errors")
    if errors or _count(demo, "SELECT count(*) FROM pulse_comments") != 1:
        raise DemoError(f"the comment should be kept: {errors}")


def _press_for_modal(
    demo: Demo, person: cast.Member, message: dict[str, Any], element: dict
) -> None:
    """Press a survey button that opens a modal (no response_url answer)."""
    demo.check(
        demo.platform.block_action(
            person.id,
            element["action_id"],
            element["value"],
            block_id=element["block_id"],
            message=message,
        )
    )


def _pause(demo: Demo, person: cast.Member, message: dict[str, Any]) -> None:
    """`person` pauses surveys until a date: the next round will not reach them."""
    locale, story = demo.locale, _round(demo)
    button = _element(message, "pulse_pause")
    demo.narrator.step(
        translate(
            locale,
            "%(name)s, on leave for the next two weeks, taps [%(button)s]",
            name=person.first_name,
            button=_label(button),
        )
    )
    opened = demo.watch("views.open", where=opened_with("pulse_pause"))
    _press_for_modal(demo, person, message, button)
    form = dict(opened().params["view"])
    demo.show_view(
        translate(
            locale, "Slack opens the modal Symmetry sent to %(name)s:", name=person.first_name
        ),
        form,
    )
    until = story.pause_until
    demo.narrator.step(
        translate(
            locale,
            "%(name)s picks %(date)s and presses [%(button)s]",
            name=person.first_name,
            date=_day(demo, until),
            button=form.get("submit", {}).get("text", ""),
        )
    )
    response = demo.check(
        demo.platform.view_submission(
            person.id, form, form_values(form, {"until": until.isoformat()})
        )
    )
    errors = (response.json() or {}).get("errors")
    if errors:
        raise DemoError(f"the pause was refused: {errors}")
    rows = demo.show_sql("SELECT user_id, until FROM pulse_pauses")
    if [(row[0], str(row[1])) for row in rows] != [(person.id, until.isoformat())]:
        raise DemoError(f"{person.first_name}'s pause should run until {until}: {rows}")
    demo.narrator.note(
        translate(
            locale,
            "The pause is kept with %(name)s's ID: it says nothing of her answers, which still "
            "count. No survey reaches her until %(until)s included: next week's round, on "
            "%(next)s, will be sent to the others only.",
            name=person.first_name,
            until=_day(demo, until),
            next=_day(demo, story.day + timedelta(days=7)),
        )
    )


def reminder_and_close(demo: Demo) -> None:
    """Halfway, one reminder to those who have not answered; after five days the round closes
    and a late tap is refused."""
    locale, story = demo.locale, _round(demo)
    rounds: dict[str, int] = demo.memo["rounds"]
    demo.narrator.note(
        translate(
            locale,
            "Halfway through the round (%(halfway)s), the clock reminds once those who have "
            "not answered, in their working hours.",
            halfway=demo.local_time(story.at(2, 22), PARIS, day=True),
        )
    )
    sent = demo.tick(story.reminder)
    silent = (cast.MARC, cast.DAVID)
    if sorted(p.id for p in _recipients(sent)) != sorted(p.id for p in silent):
        raise DemoError(f"the reminder should reach {_names(silent, 'en')} only")
    if any(_is_survey(call) for call in sent):
        raise DemoError("a reminder should not be a second survey")
    marc, david = silent
    demo.show_message(
        translate(
            locale,
            "Symmetry → %(name)s, in a direct message, in %(language)s (%(time)s in %(city)s):",
            **_survey_heading(demo, marc, story.reminder),
        ),
        _only(sent, marc),
    )
    demo.narrator.says(
        translate(
            locale,
            "Symmetry → %(name)s, the same reminder in %(language)s (%(time)s in %(city)s); "
            "its notification reads:",
            **_survey_heading(demo, david, story.reminder),
        ),
        [text.plain(_only(sent, david).get("text", ""), demo.names)],
    )
    reminded = _count(demo, "SELECT count(*) FROM pulse_rounds WHERE reminded")
    demo.narrator.note(
        translate(
            locale,
            "Nothing for %(answered)s, who answered, nor for %(skipped)s, who skipped this "
            "round; at the shop everyone answered. Both rounds are now marked as reminded: no "
            "later tick sends a second reminder.",
            answered=_names((cast.CHLOE, cast.EMMA, cast.HUGO, cast.SOFIA), locale),
            skipped=cast.JULIEN.first_name,
        )
    )
    if reminded != len(rounds):
        raise DemoError(f"both rounds should be marked as reminded, not {reminded}")
    _answer_all(demo, MARC, demo.memo["marc_survey"])
    _answer_all(demo, DAVID, demo.memo["david_survey"])
    workshop = rounds[cast.TEAM_NAME]
    answered = _count(
        demo,
        f"SELECT count(DISTINCT respondent) FROM pulse_answers WHERE round_id = {workshop:d}",
    )
    if answered != len(RESPONDENTS):
        raise DemoError(f"{len(RESPONDENTS)} people should have answered, not {answered}")

    sent = demo.tick(story.close)
    states = _count(demo, "SELECT count(*) FROM pulse_rounds WHERE state = 'closed'")
    if sent or states != len(rounds):
        raise DemoError(f"the close should send nothing and close both rounds ({states} closed)")
    demo.narrator.note(
        translate(
            locale,
            "Five days after they opened, both rounds are closed, on a Sunday like any day. "
            "Nothing new is sent: each survey is changed in place to say it is closed, "
            "without its buttons.",
        )
    )
    julien = cast.JULIEN
    edits = [
        call
        for call in demo.sim.calls_to("chat.update")
        if not call.failed and call.params.get("channel") == "D" + julien.id
    ]
    if len(edits) != 1 or "pulse_answer:" in json.dumps(edits[0].params.get("blocks", [])):
        raise DemoError(f"{julien.first_name}'s survey should be changed once, without buttons")
    demo.show_message(
        translate(
            locale, "Symmetry → %(name)s, the survey changed in place:", name=julien.first_name
        ),
        dict(edits[0].params),
    )
    message: dict[str, Any] = demo.memo["julien_survey"]
    question, value = LATE
    button = _answer_button(message, question, value)
    demo.narrator.step(
        translate(
            locale,
            "%(name)s, who skipped the round, finds time at last and taps [%(button)s] on "
            "his phone, offline since before the close, which still shows the survey as it was",
            name=julien.first_name,
            button=_label(button),
        )
    )
    before = _count(demo, "SELECT count(*) FROM pulse_answers")
    reply = _press(demo, julien, message, button)
    if reply.get("response_type") != "ephemeral" or reply.get("replace_original"):
        raise DemoError(f"a tap after the close should be refused: {reply}")
    if _count(demo, "SELECT count(*) FROM pulse_answers") != before:
        raise DemoError("a tap after the close recorded an answer")
    demo.show_message(
        translate(
            locale, "Symmetry → %(name)s, in a message only they can see:", name=julien.first_name
        ),
        reply,
    )


def results(demo: Demo) -> None:
    """The export gives each round's figures, hidden for a group under the threshold; the
    database keeps answers without a user ID or a time."""
    locale = demo.locale
    demo.narrator.step(translate(locale, "An operator exports the survey results:"))
    exported = json.loads(demo.stage.cli("export", "pulses", "--format", "json"))
    lines = ["["]
    for index, row in enumerate(exported):
        counts = json.dumps({key: row[key] for key in ("team", "sent", "responded")})
        lines.append(f'  {counts[:-1]}, "participation": {json.dumps(row["participation"])},')
        lines.append(f'   "suppressed": {json.dumps(row["suppressed"])}, "questions": [')
        for number, question in enumerate(row["questions"]):
            item = {k: question[k] for k in ("key", "responses", "mean", "enps") if k in question}
            end = "," if number < len(row["questions"]) - 1 else "]}"
            lines.append(f"     {json.dumps(item)}{end}")
        if index < len(exported) - 1:
            lines[-1] += ","
    lines.append("]")
    demo.narrator.shell("symmetry export pulses --format json", "\n".join(lines))
    demo.narrator.note(
        translate(
            locale,
            "(Trimmed: the export also has each round's dates and each question's text.)",
        )
    )
    by_team = {row["team"]: row for row in exported}
    shown, hidden = by_team.get(cast.TEAM_NAME), by_team.get(cast.SHOP_NAME)
    if (
        len(exported) != 2
        or shown is None
        or hidden is None
        or shown["suppressed"]
        or (shown["sent"], shown["responded"]) != (len(WORKSHOP), len(RESPONDENTS))
        or not hidden["suppressed"]
        or (hidden["sent"], hidden["responded"]) != (len(SHOP), len(SHOP))
        or any(q["mean"] is not None for q in hidden["questions"])
    ):
        raise DemoError(f"the export should show the workshop and hide the shop: {exported}")
    means = {q["key"]: q for q in shown["questions"]}
    enps = means["enps"]["enps"]
    demo.narrator.note(
        translate(
            locale,
            "%(team)s: %(responded)s of %(sent)s people answered (%(participation)s). eNPS "
            "%(enps)s: promoters (9–10) minus detractors (0–6), in points. Temperature "
            "%(temperature)s and light %(light)s out of 5.",
            team=cast.TEAM_NAME,
            responded=shown["responded"],
            sent=shown["sent"],
            participation=format_percent(shown["participation"], locale=locale),
            enps=f"{enps:+d}",
            temperature=format_decimal(means["temperature"]["mean"], "0.0", locale=locale),
            light=format_decimal(means["lighting"]["mean"], "0.0", locale=locale),
        )
    )
    demo.narrator.note(
        translate(
            locale,
            "%(team)s: %(responded)s people answered, fewer than %(threshold)s: its figures are "
            "hidden wherever results are shown, so that nobody's answers can be guessed. Only "
            "the counts are given.",
            team=cast.SHOP_NAME,
            responded=hidden["responded"],
            threshold=THRESHOLD,
        )
    )

    demo.narrator.step(translate(locale, "An operator reads the answers in the database:"))
    rounds: dict[str, int] = demo.memo["rounds"]
    workshop = rounds[cast.TEAM_NAME]
    columns, _ = demo.sql("SELECT * FROM pulse_answers LIMIT 0")
    if set(columns) != {"id", "round_id", "question", "respondent", "value"}:
        raise DemoError(f"the answers table should hold no user ID and no time: {columns}")
    demo.show_sql(
        "SELECT id, round_id, question, substr(respondent, 1, 12) || '…' AS respondent, value "
        f"FROM pulse_answers WHERE round_id = {workshop:d} ORDER BY respondent, question LIMIT 6"
    )
    dump = json.dumps(demo.sql("SELECT * FROM pulse_answers")[1], default=str)
    dump += json.dumps(demo.sql("SELECT * FROM pulse_comments")[1], default=str)
    if any(person.id in dump for person in cast.PEOPLE):
        raise DemoError("a user ID is stored with the answers")
    demo.narrator.note(
        translate(
            locale,
            "These are all the table's columns: no user ID, no time. While a round is open, "
            "each person's answers share a code made from the server's secret key, the round "
            "and the person, so that a changed answer replaces the earlier one. When it closes, "
            "its answers are written again in random order under random codes: nothing, not "
            "even the key, leads from them back to anyone, and the codes of two rounds cannot "
            "be linked.",
        )
    )
    demo.show_sql(
        "SELECT round_id, substr(respondent, 1, 12) || '…' AS respondent, text FROM pulse_comments"
    )
    demo.narrator.note(
        translate(
            locale,
            "%(name)s's comment is kept the same way, and shown only with results that are shown.",
            name=cast.CHLOE.first_name,
        )
    )
