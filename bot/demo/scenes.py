"""The story `symmetry demo` tells, one scene per function.

A scene makes people act through Slack's side (signed commands, modal submissions, events),
waits for what the real app sends to Slack, and narrates both. Scenes run in order and build
on each other (the team set up in the first is joined in a later one). To show a new feature,
write a scene and append it to `SCENES`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from bot.demo import cast
from bot.demo.context import Demo, DemoError
from bot.i18n import N_, translate
from bot.slacksim import Call, form_values


@dataclass(frozen=True)
class Scene:
    """A titled part of the story."""

    title: str  # English, marked with N_ and translated when shown
    play: Callable[[Demo], None]


def _to_user(user_id: str) -> Callable[[Call], bool]:
    """Matches a message sent to a person (by user ID or in their DM)."""
    return lambda call: call.params.get("channel") in (user_id, "D" + user_id)


def _home_of(user_id: str) -> Callable[[Call], bool]:
    """Matches the publication of a person's Home tab."""
    return lambda call: call.params.get("user_id") == user_id


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


def someone_joins(demo: Demo) -> None:
    """A person joins the team channel and becomes a team member, seen from the CLI."""
    person, locale = cast.CHLOE, demo.locale
    before = demo.member_count(cast.TEAM_NAME)
    if before is None:
        raise DemoError(f"the team {cast.TEAM_NAME!r} does not exist")
    demo.narrator.step(
        translate(
            locale,
            "%(who)s joins %(channel)s; Slack tells Symmetry (event member_joined_channel)",
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


def home_tab(demo: Demo) -> None:
    """The manager and an employee open the bot's Home tab; each sees their own."""
    for person in (cast.MARC, cast.SOFIA):
        demo.narrator.step(
            translate(demo.locale, "%(who)s opens Symmetry's Home tab", who=demo.who(person))
        )
        published = demo.watch("views.publish", where=_home_of(person.id))
        demo.event(
            {
                "type": "app_home_opened",
                "user": person.id,
                "channel": "D" + person.id,
                "tab": "home",
            }
        )
        demo.show_view(
            translate(demo.locale, "%(name)s's Home tab:", name=person.first_name),
            published().params["view"],
        )


SCENES: list[Scene] = [
    Scene(N_("Setting up a team"), setup_team),
    Scene(N_("Only admins set up teams"), refused_setup),
    Scene(N_("Help, in each person's language"), help_in_two_languages),
    Scene(N_("A command Symmetry does not know"), unknown_command),
    Scene(N_("Someone joins the channel"), someone_joins),
    Scene(N_("The Home tab"), home_tab),
]
