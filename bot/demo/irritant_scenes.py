"""The irritant scenes of `symmetry demo`: report, route, fix, and tell.

People of the workshop report what bothers them, in French and English, by name or
anonymously; the app routes each report (named ones to the manager at once, anonymous ones in
the team's daily roundup); the manager triages them; every reporter hears back in their
language. Along the way the narration reads the demo's database, to show what an anonymous
report does not keep.

The reports go through the real server, whose clock is the real one: they are dated today (an
anonymous one keeps only its day). The story's clock then ticks on the next working day — in
the morning, at the 16:05 roundup, after triage — computed from today so that it always comes
after the reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.demo import cast
from bot.demo.context import Demo, DemoError, opened_with
from bot.demo.slack import Call, form_values
from bot.irritants.catalog import STATUSES
from bot.shared.i18n import translate, translations
from bot.shared.worktime import WORKDAYS

PARIS = ZoneInfo("Europe/Paris")  # the team's time zone
MORNING, ROUNDUP, AFTER_TRIAGE = time(9, 0), time(16, 5), time(16, 30)
NAMED_DAY = "EEEE d MMMM"


@dataclass(frozen=True)
class Report:
    """What one person reports, as they fill in the modal."""

    person: cast.Member
    description: str
    category: str
    severity: str
    place: str = ""  # typed in "Place"
    known_place: str = ""  # picked among the places already named
    named: bool = False  # "share my name" ticked
    typed: str = ""  # the text after /irritant, which prefills the description
    space: str = "employee"


COLD = Report(
    cast.CHLOE,
    "Il fait un froid glacial en salle de pause le matin",
    "temperature",
    "annoying",
    place="Salle de pause",
)
SOAP = Report(
    cast.SOFIA,
    "The customer toilets are spotless but the staff ones have had no soap for a week",
    "cleanliness",
    "annoying",
    place="Staff toilets",
    named=True,
)
PRINTER_TEXT = "l'imprimante de l'atelier bourre encore"
PRINTER = Report(
    cast.JULIEN, PRINTER_TEXT, "tools", "blocking", place="Atelier", typed=PRINTER_TEXT
)
SOAP_TOO = Report(
    cast.DAVID,
    "Still no soap in the staff toilets",
    "cleanliness",
    "annoying",
    known_place="Staff toilets",
)
RADIO = Report(
    cast.DAVID,
    "The radio in the workshop plays all day: I can't concentrate",
    "noise",
    "minor",
    place="Atelier",  # Julien's place is not offered: his report has not been in a roundup yet
)
ANONYMOUS = (COLD, PRINTER, RADIO)  # in the order they are reported

# What the manager writes: each reporter reads it as it is, so Marc writes in the report's
# language.
PLAN_NOTE = "Le technicien passe mardi ; une imprimante de prêt arrive demain."
DECLINE_NOTE = (
    "The radio stays: the team voted for it last month. Noise-cancelling headphones are at "
    "reception for anyone who needs quiet."
)
RESOLVE_NOTE = (
    "Soap refilled, and the staff toilets are now on the cleaners' daily round, like the "
    "customer ones."
)


@dataclass(frozen=True)
class Story:
    """The instants of the irritant story, computed from today in the team's time zone."""

    today: date
    day: date  # the next working day, when the clock ticks

    @classmethod
    def from_today(cls, today: date) -> Story:
        day = today + timedelta(days=1)
        while day.weekday() not in WORKDAYS:
            day += timedelta(days=1)
        return cls(today, day)

    def at(self, moment: time) -> datetime:
        return datetime.combine(self.day, moment, tzinfo=PARIS)

    @property
    def eta(self) -> date:
        """The date Marc plans the printer's repair for: a week after the roundup."""
        return self.day + timedelta(days=7)


def _story(demo: Demo) -> Story:
    """The story's days, fixed by the first irritant scene for the following ones."""
    if "story" not in demo.memo:
        demo.memo["story"] = Story.from_today(datetime.now(PARIS).date())
    story: Story = demo.memo["story"]
    return story


# ----- reading modals and messages


def _block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    for block in view.get("blocks", []):
        if block.get("block_id") == block_id:
            return dict(block)
    raise DemoError(f"the view has no {block_id!r} block")


def _option_label(view: dict[str, Any], block_id: str, value: str) -> str:
    """The text of an option, as the person reads it in the modal."""
    for option in _block(view, block_id)["element"].get("options", []):
        if option.get("value") == value:
            return str(option["text"]["text"])
    raise DemoError(f"the {block_id!r} menu of the modal has no {value!r}")


def _button(payload: dict[str, Any], action_id: str, value: str | None = None) -> dict[str, Any]:
    """A button of a message or view (the one whose value is `value`, when given)."""
    for block in payload.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id and value in (None, element.get("value")):
                return dict(element)
    raise DemoError(f"no {action_id} button{f' for {value}' if value else ''}")


def _label(element: dict[str, Any]) -> str:
    return str(element.get("text", {}).get("text", ""))


def _to(person: cast.Member) -> Callable[[Call], bool]:
    return lambda call: call.params.get("channel") in (person.id, "D" + person.id)


def _sent_to(calls: list[Call], person: cast.Member) -> list[Call]:
    return [call for call in calls if _to(person)(call)]


# ----- the database, as facts


def _public_id(demo: Demo, report: Report) -> str:
    """The public id of the stored irritant with this report's description (its row id
    changes when a roundup first shows an anonymous report; its public id stays)."""
    ids: dict[str, str] = demo.memo.setdefault("irritants", {})
    if report.description not in ids:
        _, rows = demo.sql("SELECT public_id, description FROM irritants")
        ids.update({description: public_id for public_id, description in rows})
    if report.description not in ids:
        raise DemoError(f"no irritant reads {report.description!r}")
    return ids[report.description]


def _irritant(demo: Demo, report: Report) -> dict[str, Any]:
    """The stored row of a report, column by column."""
    public_id = _public_id(demo, report)
    if not public_id.isalnum():  # stored by the app, but this text goes into SQL
        raise DemoError(f"odd public id {public_id!r}")
    columns, rows = demo.sql(f"SELECT * FROM irritants WHERE public_id = '{public_id}'")
    return dict(zip(columns, rows[0], strict=True))


def _count(demo: Demo, query: str) -> int:
    return int(demo.sql(query)[1][0][0])


# ----- scenes


def report_irritants(demo: Demo) -> None:
    """Five reports: anonymous in French, named in English, prefilled from /irritant's text,
    and an English "me too" on a similar open report."""
    locale, story = demo.locale, _story(demo)
    demo.narrator.note(
        translate(
            locale,
            "Back to the present: today is %(today)s by the server's own clock, which dates "
            "every report; from here the demo's clock ticks on %(day)s, the next working day. "
            "The team has settled in, and people tell Symmetry what bothers them at work.",
            today=format_date(story.today, NAMED_DAY, locale=locale),
            day=format_date(story.day, NAMED_DAY, locale=locale),
        )
    )

    view = demo.irritant(COLD.person)
    demo.show_view(
        translate(
            locale, "Slack opens the modal Symmetry sent to %(name)s:", name=COLD.person.first_name
        ),
        view,
    )
    thanks = _send(demo, COLD, view)
    demo.show_view(translate(locale, "The modal now reads:"), thanks)

    view = demo.irritant(SOAP.person)
    thanks = _send(demo, SOAP, view)
    demo.show_view(translate(locale, "The modal now reads:"), thanks)
    demo.narrator.note(
        translate(
            locale,
            "Spotless for customers, neglected for staff: the asymmetry Symmetry is named after.",
        )
    )

    view = demo.irritant(PRINTER.person, PRINTER.typed)
    shown = {**view, "blocks": [_block(view, "description"), _block(view, "category")]}
    shown.pop("submit", None)
    shown.pop("close", None)
    demo.show_view(
        translate(
            locale,
            "The modal opens with the description already written and the category guessed "
            "from its words:",
        ),
        shown,
    )
    guessed = _block(view, "category")["element"].get("initial_option", {}).get("value")
    written = _block(view, "description")["element"].get("initial_value")
    if (written, guessed) != (PRINTER.typed, PRINTER.category):
        raise DemoError(f"/irritant TEXT should prefill and guess: {written!r}, {guessed!r}")
    _send(demo, PRINTER, view)

    view = demo.irritant(SOAP_TOO.person)
    view_id = demo.opened_view_id(view)
    similar = _send(demo, SOAP_TOO, view)
    demo.show_view(
        translate(
            locale,
            "Symmetry does not store it: an open report reads much the same. The modal now reads:",
        ),
        similar,
    )
    vote = _button(similar, "irritant_similar_vote")
    demo.narrator.step(
        translate(
            locale,
            "%(name)s presses [%(button)s]",
            name=SOAP_TOO.person.first_name,
            button=_label(vote),
        )
    )
    updated = demo.watch("views.update")
    demo.check(
        demo.platform.block_action(
            SOAP_TOO.person.id,
            "irritant_similar_vote",
            vote["value"],
            view={**similar, "id": view_id},
        )
    )
    demo.show_view(translate(locale, "The modal now reads:"), updated().params["view"])
    soap = _irritant(demo, SOAP)["id"]
    votes = _count(demo, f"SELECT count(*) FROM irritant_votes WHERE irritant_id = {soap:d}")
    if votes != 1 or _count(demo, "SELECT count(*) FROM irritants") != 3:
        raise DemoError(f"the “me too” should count once and store no report: {votes} vote(s)")
    demo.narrator.note(
        translate(
            locale,
            "No second report: %(name)s's “me too” counts on %(reporter)s's, which now has "
            "%(count)s. Managers see how many people an irritant bothers, as counted at the "
            "team's last daily roundup, so that no count dates a vote.",
            name=SOAP_TOO.person.first_name,
            reporter=SOAP.person.first_name,
            count=votes,
        )
    )

    view = demo.irritant(RADIO.person)
    _send(demo, RADIO, view)


def _send(demo: Demo, report: Report, view: dict[str, Any]) -> dict[str, Any]:
    """Fill in the report modal as `report` says, submit it; return the view that replaces it."""
    person, locale = report.person, demo.locale
    answers: dict[str, Any] = {
        "space": report.space,
        "severity": report.severity,
        "share": ["share"] if report.named else [],
    }
    picked = [_option_label(view, "space", report.space)]
    if not report.typed:
        answers.update(description=report.description, category=report.category)
        picked.insert(0, _option_label(view, "category", report.category))
    if report.place:
        answers["location"] = report.place
        picked.append(report.place)
    if report.known_place:
        answers["recent_location"] = report.known_place
        picked.append(_option_label(view, "recent_location", report.known_place))
    picked.append(_option_label(view, "severity", report.severity))
    params = {
        "name": person.first_name,
        "description": report.description,
        "choices": ", ".join(picked),
        "share": _option_label(view, "share", "share"),
        "button": view.get("submit", {}).get("text", ""),
    }
    if report.typed:
        said = translate(
            locale,
            "%(name)s picks %(choices)s, leaves “%(share)s” unticked and presses [%(button)s]",
            **params,
        )
    elif report.named:
        said = translate(
            locale,
            "%(name)s writes “%(description)s”, picks %(choices)s, ticks “%(share)s” and "
            "presses [%(button)s]",
            **params,
        )
    else:
        said = translate(
            locale,
            "%(name)s writes “%(description)s”, picks %(choices)s, leaves “%(share)s” unticked "
            "and presses [%(button)s]",
            **params,
        )
    demo.narrator.step(said)
    response = demo.check(
        demo.platform.view_submission(person.id, view, form_values(view, answers))
    )
    body = response.json() or {}
    if body.get("response_action") != "update":
        raise DemoError(f"the report modal refused {person.first_name}'s report: {body}")
    return dict(body["view"])


def what_is_kept(demo: Demo) -> None:
    """The anonymous rows hold no user ID; only the named report is sent to the manager now,
    and the next tick delivers it."""
    locale, story = demo.locale, _story(demo)
    demo.narrator.step(translate(locale, "An operator reads the irritants in the database:"))
    demo.show_sql(
        "SELECT public_id, category, anonymous, reporter_id, "
        "substr(reporter_hash, 1, 12) || '…' AS reporter_hash, created_at "
        "FROM irritants ORDER BY id"
    )
    for report in (*ANONYMOUS, SOAP):
        row = _irritant(demo, report)
        if report.named:
            ok = row["reporter_id"] == report.person.id and not row["anonymous"]
        else:
            ok = (
                row["anonymous"]
                and row["reporter_id"] is None
                and row["reporter_hash"]
                and " 00:00:00" in str(row["created_at"])  # its day only
                and not any(person.id in json.dumps(row, default=str) for person in cast.PEOPLE)
            )
        if not ok:
            raise DemoError(f"{report.person.first_name}'s report is stored wrongly: {row}")
    demo.narrator.note(
        translate(
            locale,
            "The anonymous reports (%(ids)s) hold no user ID, only a code made from the "
            "server's secret key and a random value drawn for each report: Symmetry recomputes "
            "it to find the reporter and tell them what happens; without the key, nobody can. "
            "They keep their day, not their time. %(name)s's report, sent with her name, keeps "
            "her ID.",
            ids=", ".join(_public_id(demo, report) for report in ANONYMOUS),
            name=SOAP.person.first_name,
        )
    )
    votes = demo.show_sql(
        "SELECT i.public_id AS irritant, substr(v.voter_hash, 1, 12) || '…' AS voter_hash "
        "FROM irritant_votes v JOIN irritants i ON i.id = v.irritant_id"
    )
    if [row[0] for row in votes] != [_public_id(demo, SOAP)]:
        raise DemoError(f"the one “me too” should be on Sofia's report: {votes}")
    demo.narrator.note(
        translate(
            locale,
            "%(name)s's “me too” is a keyed code too: it counts once per person and says nobody's "
            "name.",
            name=SOAP_TOO.person.first_name,
        )
    )
    rows = demo.show_sql(
        "SELECT kind, recipient, state FROM outbox WHERE kind LIKE 'irritant%' ORDER BY id"
    )
    if rows != [("irritant_new", cast.MARC.id, "queued")]:
        raise DemoError(f"only Sofia's named report should wait for Marc: {rows}")
    demo.narrator.note(
        translate(
            locale,
            "One message waits in the outbox: %(name)s's named report, for %(manager)s, to go "
            "at the next tick within their working hours. Nothing is sent about the anonymous "
            "ones: they wait for the team's daily roundup.",
            name=SOAP.person.first_name,
            manager=cast.MARC.first_name,
        )
    )

    sent = demo.tick(story.at(MORNING))
    to_marc = _sent_to(sent, cast.MARC)
    if len(sent) != 1 or len(to_marc) != 1 or SOAP.description not in json.dumps(to_marc[0].params):
        raise DemoError(f"the morning tick should send Marc Sofia's report only: {len(sent)} sent")
    demo.memo["named_dm"] = to_marc[0].params
    demo.show_message(
        translate(locale, "Symmetry → %(name)s, in a direct message:", name=cast.MARC.first_name),
        to_marc[0].params,
    )


def daily_roundup(demo: Demo) -> None:
    """At 16:05 on a working day the manager gets the anonymous reports, together."""
    locale, story = demo.locale, _story(demo)
    demo.narrator.note(
        translate(
            locale,
            "Anonymous reports reach the managers together, once a day, at the team's roundup "
            "time: %(time)s on working days, in %(city)s.",
            time=demo.local_time(datetime.combine(story.day, time(16, 0), tzinfo=PARIS), PARIS),
            city=demo.city(PARIS),
        )
    )
    sent = demo.tick(story.at(ROUNDUP))
    to_marc = _sent_to(sent, cast.MARC)
    if len(sent) != 1 or len(to_marc) != 1:
        raise DemoError(f"the roundup should go to Marc alone: {len(sent)} message(s) sent")
    roundup = to_marc[0].params
    listed = json.dumps(roundup, ensure_ascii=False)
    missing = [r.person.first_name for r in ANONYMOUS if r.description not in listed]
    if missing or SOAP.description in listed:
        raise DemoError(f"the roundup should list the 3 anonymous reports; missing {missing}")
    demo.memo["roundup"] = roundup
    demo.show_message(
        translate(locale, "Symmetry → %(name)s, in a direct message:", name=cast.MARC.first_name),
        roundup,
    )
    demo.narrator.note(
        translate(
            locale,
            "The roundup names nobody, and a report's day is all that is kept of when it was "
            "made. %(name)s's named report is not in it: %(manager)s had it this morning.",
            name=SOAP.person.first_name,
            manager=cast.MARC.first_name,
        )
    )
    demo.narrator.step(translate(locale, "An operator reads the irritants again:"))
    rows = demo.show_sql("SELECT public_id, anonymous, created_at FROM irritants ORDER BY id")
    anonymous = {_public_id(demo, report) for report in ANONYMOUS}
    if [row[0] for row in rows[:1]] != [_public_id(demo, SOAP)] or {
        row[0] for row in rows[1:]
    } != anonymous:
        raise DemoError(f"the roundup should write the anonymous reports again, last: {rows}")
    demo.narrator.note(
        translate(
            locale,
            "Shown in the roundup, the anonymous reports were written again, in random order, "
            "after the day's named ones: neither the table's order nor its row numbers tell when "
            "each was made. Their public ids, the only ones Slack and the exports ever see, are "
            "random and did not change.",
        )
    )


def triage(demo: Demo) -> None:
    """A forged click is refused; the manager acknowledges, plans, declines and resolves."""
    locale, story = demo.locale, _story(demo)
    roundup: dict[str, Any] = demo.memo["roundup"]
    manager = cast.MARC
    cold = _public_id(demo, COLD)

    intruder = cast.JULIEN
    acknowledge = _button(roundup, "irritant_acknowledge", cold)
    demo.narrator.step(
        translate(
            locale,
            "%(who)s, who is not a manager, sends a forged click on [%(button)s] for "
            "%(name)s's report",
            who=demo.who(intruder),
            button=_label(acknowledge),
            name=COLD.person.first_name,
        )
    )
    refusal = demo.watch("response_url")
    demo.check(
        demo.platform.block_action(intruder.id, "irritant_acknowledge", cold, message=roundup)
    )
    demo.show_message(
        translate(
            locale, "Symmetry → %(name)s, in a message only they can see:", name=intruder.first_name
        ),
        refusal().params,
    )
    changed = _count(demo, "SELECT count(*) FROM irritant_events WHERE action != 'reported'")
    queued = _count(demo, "SELECT count(*) FROM outbox WHERE kind = 'irritant_update'")
    if _irritant(demo, COLD)["status"] != "new" or changed or queued:
        raise DemoError("a forged click changed something")
    demo.narrator.note(translate(locale, "Nothing changed, and nobody was told anything."))

    demo.narrator.step(
        translate(
            locale,
            "In the roundup, %(manager)s presses [%(button)s] under %(name)s's report (he does "
            "not know it is hers)",
            manager=manager.first_name,
            button=_label(acknowledge),
            name=COLD.person.first_name,
        )
    )
    confirmation = demo.watch("response_url")
    demo.check(
        demo.platform.block_action(manager.id, "irritant_acknowledge", cold, message=roundup)
    )
    demo.show_message(
        translate(
            locale, "Symmetry → %(name)s, in a message only they can see:", name=manager.first_name
        ),
        confirmation().params,
    )

    form = _open_form(demo, roundup, "irritant_plan", PRINTER)
    demo.show_view(
        translate(
            locale, "Slack opens the form Symmetry sent to %(name)s:", name=manager.first_name
        ),
        form,
    )
    eta = story.eta
    demo.narrator.step(
        translate(
            locale,
            "%(name)s picks %(date)s, writes “%(note)s” and presses [%(button)s]",
            name=manager.first_name,
            date=format_date(eta, NAMED_DAY, locale=locale),
            note=PLAN_NOTE,
            button=form.get("submit", {}).get("text", ""),
        )
    )
    _submit_form(demo, form, {"eta": eta.isoformat(), "note": PLAN_NOTE})

    form = _open_form(demo, roundup, "irritant_decline", RADIO)
    _explain(demo, form, DECLINE_NOTE)

    named_dm: dict[str, Any] = demo.memo["named_dm"]
    demo.narrator.note(
        translate(
            locale,
            "%(name)s's named report has the same buttons, in the message %(manager)s got this "
            "morning.",
            name=SOAP.person.first_name,
            manager=manager.first_name,
        )
    )
    form = _open_form(demo, named_dm, "irritant_resolve", SOAP)
    _explain(demo, form, RESOLVE_NOTE)

    expected = (
        (COLD, "acknowledged", None),
        (PRINTER, "planned", eta.isoformat()),
        (RADIO, "declined", DECLINE_NOTE),
        (SOAP, "resolved", RESOLVE_NOTE),
    )
    for report, status, detail in expected:
        row = _irritant(demo, report)
        kept = row["eta"] if status == "planned" else row["resolution_note"]
        if row["status"] != status or (detail is not None and str(kept) != detail):
            raise DemoError(f"{report.person.first_name}'s report should be {status}: {row}")
    demo.narrator.note(
        translate(
            locale,
            "Each decision is kept in the report's history, and queues a message for its "
            "reporter, in their language and their working hours — anonymous reporters "
            "included.",
        )
    )


def _open_form(
    demo: Demo, message: dict[str, Any], action_id: str, report: Report
) -> dict[str, Any]:
    """The manager presses a triage button that opens a form; return the form."""
    value = _public_id(demo, report)
    button = _button(message, action_id, value)
    demo.narrator.step(
        translate(
            demo.locale,
            "%(manager)s presses [%(button)s] under %(name)s's report",
            manager=cast.MARC.first_name,
            button=_label(button),
            name=report.person.first_name,
        )
    )
    opened = demo.watch("views.open", where=opened_with("irritant_triage"))
    demo.check(demo.platform.block_action(cast.MARC.id, action_id, value, message=message))
    return dict(opened().params["view"])


def _explain(demo: Demo, form: dict[str, Any], note: str) -> None:
    """The manager writes a note in the form and saves it."""
    demo.narrator.step(
        translate(
            demo.locale,
            "%(name)s writes “%(note)s” and presses [%(button)s]",
            name=cast.MARC.first_name,
            note=note,
            button=form.get("submit", {}).get("text", ""),
        )
    )
    _submit_form(demo, form, {"note": note})


def _submit_form(demo: Demo, form: dict[str, Any], answers: dict[str, Any]) -> None:
    response = demo.check(
        demo.platform.view_submission(cast.MARC.id, form, form_values(form, answers))
    )
    errors = (response.json() or {}).get("errors")
    if errors:
        raise DemoError(f"the triage form refused: {errors}")


def reporters_hear_back(demo: Demo) -> None:
    """The next tick tells each reporter, in their language; anonymous deliveries keep no trace."""
    locale, story = demo.locale, _story(demo)
    instant = story.at(AFTER_TRIAGE)
    sent = demo.tick(instant)
    reporters = (COLD, PRINTER, RADIO, SOAP)
    if sorted(call.params.get("channel", "") for call in sent) != sorted(
        r.person.id for r in reporters
    ):
        raise DemoError(f"each of the 4 reporters should hear back once: {len(sent)} sent")
    for report in reporters:
        [call] = _sent_to(sent, report.person)
        language = report.person.language.lower()
        label = STATUSES[_irritant(demo, report)["status"]]
        status = translate(language, label)
        if status not in call.params.get("text", ""):
            raise DemoError(f"{report.person.first_name} should read “{status}” in {language}")
        demo.show_message(
            translate(
                locale,
                "Symmetry → %(name)s, in a direct message, in %(language)s (%(time)s in %(city)s):",
                name=report.person.first_name,
                language=demo.language(report.person),
                time=demo.local_time(instant, report.person.user.tz),
                city=demo.city(report.person.user.tz),
            ),
            call.params,
        )

    demo.narrator.note(
        translate(
            locale,
            "No ID was stored for the anonymous reports: Symmetry found each reporter by "
            "recomputing the report's code for the team's members.",
        )
    )
    demo.narrator.step(translate(locale, "An operator reads the outbox in the database:"))
    rows = demo.show_sql(
        "SELECT key, recipient, state, CASE WHEN length(payload) > 24 "
        "THEN substr(payload, 1, 24) || '…' ELSE payload END AS payload "
        "FROM outbox WHERE kind = 'irritant_update' ORDER BY id"
    )
    scrubbed = [row for row in rows if row[1] is None]
    if len(scrubbed) != len(ANONYMOUS) or any(
        person.id in json.dumps(row) for row in scrubbed for person in cast.PEOPLE
    ):
        raise DemoError(f"delivered anonymous updates should keep no recipient: {rows}")
    demo.narrator.note(
        translate(
            locale,
            "Until it went, the outbox had to know where to send each message. Once Slack "
            "accepted them, the anonymous reporters' rows lost their recipient and their "
            "content: nothing links %(name)s to her report any more. %(named)s's row, for a "
            "report that carries her name anyway, keeps hers.",
            name=COLD.person.first_name,
            named=SOAP.person.first_name,
        )
    )

    demo.narrator.step(translate(locale, "An operator exports the irritants:"))
    exported = json.loads(demo.stage.cli("export", "irritants", "--format", "json"))
    keep = ("id", "reporter", "status", "votes", "eta")
    trimmed = [{key: row[key] for key in keep} for row in exported]
    lines = [f"  {json.dumps(row)}," for row in trimmed]
    lines[-1] = lines[-1].removesuffix(",")
    demo.narrator.shell("symmetry export irritants --format json", "\n".join(["[", *lines, "]"]))
    demo.narrator.note(
        translate(
            locale,
            "(Trimmed to %(fields)s; the export also has the team, the category, the place, the "
            "description, the dates and the manager's note.) Anonymous reports are exported "
            "without a reporter.",
            fields=", ".join(keep),
        )
    )
    anonymous = {_public_id(demo, r) for r in ANONYMOUS}
    if any((row["id"] in anonymous) != (row["reporter"] is None) for row in exported):
        raise DemoError(f"the export should name the named reporter only: {trimmed}")


def home_tab(demo: Demo) -> None:
    """The manager's Home tab has the team's board; an employee's lists her own reports."""
    _open_home(demo, cast.MARC)
    soap = _public_id(demo, SOAP)
    counted = translations(cast.MARC.language.lower()).ngettext(
        "%(num)s “me too”", "%(num)s “me too”", 1
    ) % {"num": 1}
    morning = json.dumps(demo.memo["named_dm"], ensure_ascii=False)
    shown = _count(demo, f"SELECT votes_shown FROM irritants WHERE public_id = '{soap}'")
    if counted in morning or shown != 1:
        raise DemoError("Sofia's report should show David's “me too” from the roundup on only")
    demo.narrator.note(
        translate(
            demo.locale,
            "%(manager)s now sees %(name)s's “me too” on %(reporter)s's report: it was not in "
            "this morning's message, and showed from the roundup on.",
            manager=cast.MARC.first_name,
            name=SOAP_TOO.person.first_name,
            reporter=SOAP.person.first_name,
        )
    )
    view = _open_home(demo, cast.CHLOE)
    if COLD.description not in json.dumps(view, ensure_ascii=False):
        raise DemoError("Chloé's Home tab should list her anonymous report")
    demo.narrator.note(
        translate(
            demo.locale,
            "%(name)s's anonymous report is listed for her alone: Symmetry recognised it by "
            "recomputing its code, since the database has no ID to look up.",
            name=cast.CHLOE.first_name,
        )
    )


def _open_home(demo: Demo, person: cast.Member) -> dict[str, Any]:
    """`person` opens the Home tab; show and return what the app published."""
    demo.narrator.step(
        translate(demo.locale, "%(who)s opens Symmetry's Home tab", who=demo.who(person))
    )
    published = demo.watch(
        "views.publish", where=lambda call: call.params.get("user_id") == person.id
    )
    demo.event(
        {"type": "app_home_opened", "user": person.id, "channel": "D" + person.id, "tab": "home"}
    )
    view = dict(published().params["view"])
    demo.show_view(translate(demo.locale, "%(name)s's Home tab:", name=person.first_name), view)
    return view
