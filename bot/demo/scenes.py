"""The story `symmetry demo` tells, one scene per function.

A scene makes people act through Slack's side (signed commands, modal submissions, events),
waits for what the real app sends to Slack, and narrates both. Scenes run in order and build
on each other (the team set up in the first is joined in a later one). To show a new feature,
write a scene and append it to `SCENES`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.demo import cast, digest_scenes, irritant_scenes, pulse_scenes, text, walk_scenes
from bot.demo.context import Demo, DemoError
from bot.demo.slack import Call, form_values
from bot.runtime.config import LOCALES
from bot.shared.i18n import N_, translate
from bot.teams.welcome import KIND as WELCOME

# The instants the clock ticks at, in the team's time zone (in January: Paris is UTC+1,
# London UTC+0, New York UTC-5).
PARIS = ZoneInfo("Europe/Paris")
TUESDAY_MORNING = datetime(2026, 1, 13, 10, 0, tzinfo=PARIS)
TUESDAY_AFTERNOON = datetime(2026, 1, 13, 14, 5, tzinfo=PARIS)
SATURDAY_MORNING = datetime(2026, 1, 17, 11, 0, tzinfo=PARIS)
MONDAY_MORNING = datetime(2026, 1, 19, 8, 0, tzinfo=PARIS)


@dataclass(frozen=True)
class Scene:
    """A titled part of the story."""

    title: str  # English, marked with N_ and translated when shown
    play: Callable[[Demo], None]


def _to_user(user_id: str) -> Callable[[Call], bool]:
    """Matches a message sent to a person (by user ID or in their DM)."""
    return lambda call: call.params.get("channel") in (user_id, "D" + user_id)


def setup_team(demo: Demo) -> None:
    """An admin creates the workshop's team from its channel with the setup modal."""
    admin, locale = cast.AMELIE, demo.locale
    modal = demo.watch("views.open")
    demo.slash(admin, "team")
    view = modal().params["view"]
    demo.show_view(
        translate(
            locale, "Slack opens the modal Symmetry sent to %(name)s:", name=admin.first_name
        ),
        view,
    )
    answers = {
        "name": cast.TEAM_NAME,
        "channel": cast.TEAM_CHANNEL,
        "managers": [cast.MARC.id],
        "timezone": "Europe/Paris",
        "locale": "fr",
    }
    demo.narrator.step(
        translate(
            locale,
            "%(name)s fills it in (%(team)s, %(channel)s, manager %(manager)s, %(timezone)s, "
            "%(language)s) and presses [%(button)s]",
            name=admin.first_name,
            team=cast.TEAM_NAME,
            channel=demo.channel(cast.TEAM_CHANNEL),
            manager=cast.MARC.user.real_name,
            timezone="Europe/Paris",
            language="Français",  # as the modal shows it, in any language
            button=view.get("submit", {}).get("text", "Save"),
        )
    )
    saved = demo.watch("chat.postMessage", where=_to_user(admin.id))
    response = demo.check(demo.platform.view_submission(admin.id, view, form_values(view, answers)))
    errors = (response.json() or {}).get("errors")
    if errors:
        raise DemoError(f"the modal refused the form: {errors}")
    demo.show_message(
        translate(locale, "Symmetry → %(name)s, in a direct message:", name=admin.first_name),
        saved().params,
    )
    demo.narrator.note(
        translate(
            locale,
            "%(channel)s has %(total)s members in Slack, the Trello bot and Symmetry (which "
            "joined to follow arrivals and departures) included; the team counts the "
            "%(count)s people.",
            channel=demo.channel(cast.TEAM_CHANNEL),
            total=len(demo.sim.channels[cast.TEAM_CHANNEL].members),
            count=demo.member_count(cast.TEAM_NAME),
        )
    )
    pulse_scenes.surveys_off_for_now(demo)


def refused_setup(demo: Demo) -> None:
    """Someone who is not an admin asks for team setup and is told why not."""
    person, locale = cast.DAVID, demo.locale
    opened = len(demo.sim.calls_to("views.open"))
    refusal = demo.watch("response_url")
    demo.slash(person, "team")
    demo.show_message(
        translate(locale, "Symmetry → %(name)s:", name=person.first_name), refusal().params
    )
    if len(demo.sim.calls_to("views.open")) != opened:
        raise DemoError("a setup modal opened for someone who is not an admin")
    demo.narrator.note(translate(locale, "No modal opened and nothing changed."))


def help_in_two_languages(demo: Demo) -> None:
    """An English and a French speaker ask for help; each is answered in their language."""
    for person in (cast.SOFIA, cast.MARC):
        answer = demo.ask(person, "help")
        demo.show_message(
            translate(demo.locale, "Symmetry → %(name)s:", name=person.first_name), answer
        )


def unknown_command(demo: Demo) -> None:
    """A sub-command the bot does not know gets a polite 'I don't know' and the help."""
    person = cast.CHLOE
    answer = demo.ask(person, "météo")
    demo.show_message(
        translate(demo.locale, "Symmetry → %(name)s:", name=person.first_name), answer
    )


def welcome_messages(demo: Demo) -> None:
    """The clock welcomes each team member once, in their language and their working hours."""
    locale = demo.locale
    demo.narrator.note(
        translate(
            locale,
            "In production, symmetry clock ticks every minute: each tick queues what has become "
            "due, such as a welcome for each new team member, and delivers it within the "
            "person's working hours (%(hours)s, in their own time zone). Here the demo moves "
            "the clock itself, running symmetry tick --now at chosen instants.",
            hours=demo.working_hours(),
        )
    )
    sent = _welcomes(demo.tick(TUESDAY_MORNING))
    _show_welcomes(demo, sent, TUESDAY_MORNING)
    held = [m for m in demo.outbox() if m.kind == WELCOME and m.state == "queued"]
    for message in held:
        person = _cast_member(message.recipient)
        demo.narrator.note(
            translate(
                locale,
                "%(name)s's welcome is held: it is %(now)s in %(city)s. It will go at %(due)s "
                "%(city)s time (%(reference)s in %(reference_city)s).",
                name=person.first_name,
                now=demo.local_time(TUESDAY_MORNING, message.timezone),
                city=demo.city(message.timezone),
                due=demo.local_time(message.not_before, message.timezone),
                reference=demo.local_time(message.not_before, PARIS),
                reference_city=demo.city(PARIS),
            )
        )
    if [m.recipient for m in held] != [cast.DAVID.id]:
        raise DemoError(
            f"at 10:00 in Paris only David's welcome (04:00 in New York) should wait; "
            f"waiting: {[m.recipient for m in held]}"
        )

    again = demo.tick(TUESDAY_MORNING, again=True)
    if again:
        raise DemoError(f"the same tick again sent {len(again)} more message(s)")
    demo.narrator.note(
        translate(
            locale,
            "Nothing was sent again: a welcome is queued once per person, under a key of its "
            "own, and marked sent as soon as Slack has it. A restart, a missed minute or a "
            "second clock changes nothing.",
        )
    )

    later = _welcomes(demo.tick(TUESDAY_AFTERNOON))
    if [_recipient(call) for call in later] != [cast.DAVID.id]:
        raise DemoError(f"at 14:05 in Paris only David's welcome should go; sent {len(later)}")
    _show_welcomes(demo, later, TUESDAY_AFTERNOON)


def weekend_arrival(demo: Demo) -> None:
    """A person joins the team channel on a Saturday: their welcome waits for Monday 08:00."""
    person, locale = cast.CHLOE, demo.locale
    before = demo.member_count(cast.TEAM_NAME)
    if before is None:
        raise DemoError(f"the team {cast.TEAM_NAME!r} does not exist")
    demo.narrator.step(
        translate(
            locale,
            "On %(day)s, %(who)s joins %(channel)s; Slack tells Symmetry (event "
            "member_joined_channel)",
            day=demo.day(SATURDAY_MORNING),
            who=demo.who(person),
            channel=demo.channel(cast.TEAM_CHANNEL),
        )
    )
    demo.sim.join(cast.TEAM_CHANNEL, person.id)
    demo.event(
        {
            "type": "member_joined_channel",
            "user": person.id,
            "channel": cast.TEAM_CHANNEL,
            "channel_type": "C",
            "team": cast.WORKSPACE_ID,
        }
    )
    demo.wait_until(
        lambda: demo.member_count(cast.TEAM_NAME) == before + 1,
        f"{person.user.real_name} is a member of {cast.TEAM_NAME}",
    )
    demo.narrator.step(translate(locale, "An operator lists the teams from a terminal:"))
    output = demo.stage.cli("team", "list", "--json")
    demo.narrator.shell("symmetry team list --json", output)
    teams = {team["name"]: team for team in json.loads(output)}
    demo.narrator.note(
        translate(
            locale,
            "%(team)s now has %(count)s members, %(name)s included.",
            team=cast.TEAM_NAME,
            count=teams[cast.TEAM_NAME]["members"],
            name=person.first_name,
        )
    )

    sent = _welcomes(demo.tick(SATURDAY_MORNING))
    if sent:
        raise DemoError(f"a tick on Saturday sent {len(sent)} welcome(s)")
    waiting = [
        m
        for m in demo.outbox()
        if m.kind == WELCOME and m.recipient == person.id and m.state == "queued"
    ]
    if not waiting:
        raise DemoError(f"no welcome is waiting for {person.user.real_name}")
    demo.narrator.note(
        translate(
            locale,
            "No welcome went out: it is the weekend. The outbox holds %(name)s's until %(due)s "
            "in %(city)s, the first working hour in %(name)s's time zone (%(timezone)s).",
            name=person.first_name,
            due=demo.local_time(waiting[0].not_before, waiting[0].timezone, day=True),
            city=demo.city(waiting[0].timezone),
            timezone=waiting[0].timezone,
        )
    )

    monday = _welcomes(demo.tick(MONDAY_MORNING))
    if [_recipient(call) for call in monday] != [person.id]:
        raise DemoError(f"on Monday 08:00 only {person.first_name}'s welcome should go")
    _show_welcomes(demo, monday, MONDAY_MORNING)

    demo.narrator.step(translate(locale, "An operator checks the outbox from a terminal:"))
    demo.narrator.shell("symmetry outbox status", demo.stage.cli("outbox", "status"))
    received = Counter(_recipient(call) for call in _welcomes(demo.delivered))
    recorded = [m for m in demo.outbox() if m.kind == WELCOME]
    members = demo.member_ids(cast.TEAM_NAME) or set()
    if (
        set(received) != members
        or max(received.values()) != 1
        or sorted(m.recipient or "" for m in recorded) != sorted(members)
        or any(m.state != "sent" for m in recorded)
    ):
        raise DemoError(f"welcomes should reach each of {sorted(members)} once: {received}")
    demo.narrator.note(
        translate(
            locale,
            "Welcome messages sent: %(count)s, one to each member of the team %(team)s, none "
            "twice.",
            count=sum(received.values()),
            team=cast.TEAM_NAME,
        )
    )


def _header(call: Call) -> str | None:
    """The text of a message's first block, when it is a header."""
    blocks = call.params.get("blocks") or [{}]
    return (blocks[0].get("text") or {}).get("text") if blocks[0].get("type") == "header" else None


def _welcomes(calls: list[Call]) -> list[Call]:
    """The welcome messages among messages the bot sent (its header, in any language)."""
    headers = {translate(locale, "Welcome to Symmetry") for locale in LOCALES}
    return [call for call in calls if _header(call) in headers]


def _recipient(call: Call) -> str | None:
    """The user ID a direct message went to."""
    person = cast.person(call.params.get("channel"))
    return person.id if person else call.params.get("channel")


def _cast_member(user_id: str | None) -> cast.Member:
    person = cast.person(user_id)
    if person is None:
        raise DemoError(f"a message went to {user_id!r}, who is not in the cast")
    return person


def _show_welcomes(demo: Demo, sent: list[Call], at: datetime) -> None:
    """Each welcome the clock just sent: the first in each language in full, others in a line.

    Checks that every message is a welcome in its recipient's language.
    """
    locale = demo.locale
    order = {person.id: index for index, person in enumerate(cast.PEOPLE)}
    for call in sorted(sent, key=lambda call: order.get(_recipient(call) or "", len(order))):
        person = _cast_member(call.params.get("channel"))
        header = _header(call)
        if header != translate(person.language.lower(), "Welcome to Symmetry"):
            raise DemoError(
                f"{person.first_name} should get the welcome in {person.language}: {header!r}"
            )
        params = {
            "name": person.first_name,
            "language": demo.language(person),
            "time": demo.local_time(at, person.user.tz),
            "city": demo.city(person.user.tz),
        }
        shown = f"welcome:{person.language}"
        if shown not in demo.shown:
            demo.shown.add(shown)
            demo.show_message(
                translate(
                    locale,
                    "Symmetry → %(name)s, in a direct message, in %(language)s (%(time)s in "
                    "%(city)s):",
                    **params,
                ),
                call.params,
            )
        else:
            demo.narrator.says(
                translate(
                    locale,
                    "Symmetry → %(name)s, the same welcome in %(language)s (%(time)s in "
                    "%(city)s); its notification reads:",
                    **params,
                ),
                [text.plain(call.params.get("text", ""), demo.names)],
            )


SCENES: list[Scene] = [
    Scene(N_("Setting up a team"), setup_team),
    Scene(N_("Only admins set up teams"), refused_setup),
    Scene(N_("Help, in each person's language"), help_in_two_languages),
    Scene(N_("A command Symmetry does not know"), unknown_command),
    Scene(N_("Welcome messages"), welcome_messages),
    Scene(N_("A weekend arrival"), weekend_arrival),
    Scene(N_("Irritants: reported by name or anonymously"), irritant_scenes.report_irritants),
    Scene(N_("Irritants: what is kept, and who is told at once"), irritant_scenes.what_is_kept),
    Scene(N_("Irritants: the daily roundup"), irritant_scenes.daily_roundup),
    Scene(N_("Irritants: triage"), irritant_scenes.triage),
    Scene(N_("Irritants: every reporter hears back"), irritant_scenes.reporters_hear_back),
    Scene(N_("The Home tab"), irritant_scenes.home_tab),
    Scene(N_("Pulse surveys: switched on, planned the day before"), pulse_scenes.switch_on),
    Scene(N_("Pulse surveys: answering with a tap"), pulse_scenes.answering),
    Scene(N_("Pulse surveys: one reminder, then the close"), pulse_scenes.reminder_and_close),
    Scene(N_("Pulse surveys: results, for groups large enough"), pulse_scenes.results),
    Scene(N_("Sensory walks: a new quarter, a walk, two findings"), walk_scenes.quarter_prompt),
    Scene(N_("Sensory walks: a learning expedition, and the results"), walk_scenes.expedition),
    Scene(N_("The weekly digest: what a manager reads on Monday"), digest_scenes.weekly_digest),
]
