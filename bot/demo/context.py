"""What every scene works with: the workspace, Slack's side, the stage and the narrator, plus
the few moves scenes are made of (type a command, send an event, wait for the bot, show it,
tick the clock at an instant of the story, read the outbox).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime, format_time, get_timezone_location
from sqlalchemy import select
from sqlalchemy import text as sql_text

from bot.demo import cast, text
from bot.demo.narrator import Narrator
from bot.demo.slack import Call, Response, SlackClientSim, SlackSim
from bot.demo.stage import Stage
from bot.shared.i18n import N_, translate
from bot.shared.worktime import CLOSING, OPENING
from storage import queries
from storage.db import session_scope
from storage.models import OutboxMessage

WAIT = 10.0  # seconds a scene waits for the bot before giving up
# How the narration writes a time of day: 08:00 in English, 8 h 00 in French.
TIME_PATTERNS = {"en": "HH:mm", "fr": "H\u00a0'h'\u00a0mm"}
DAY_PATTERN = "EEEE d MMMM"


class DemoError(Exception):
    """A step of the story did not happen as it should; the message says which."""


@dataclass(frozen=True)
class Outgoing:
    """A message in the outbox, as an operator reads it from the database."""

    recipient: str | None
    kind: str
    state: str
    not_before: datetime
    timezone: str


class CountingPlatform(SlackClientSim):
    """Slack's side of the conversation, counting the signed requests it sends to the app."""

    sent = 0

    def post_raw(self, body: bytes | str, headers: dict[str, str]) -> Response:
        self.sent += 1
        return super().post_raw(body, headers)


@dataclass
class Demo:
    """One demo run, handed to each scene."""

    locale: str
    sim: SlackSim
    platform: CountingPlatform
    stage: Stage
    narrator: Narrator
    delivered: list[Call] = field(default_factory=list)  # what the clock's ticks sent
    shown: set[str] = field(default_factory=set)  # what a scene showed in full, for later ones
    memo: dict[str, Any] = field(default_factory=dict)  # what a scene found, for later ones

    def t(self, message: str, **params: object) -> str:
        """Translate a message marked with N_ where it is defined into the narration's language."""
        return translate(self.locale, message, **params)

    @property
    def names(self) -> text.Names:
        """Display names of the workspace's people and channels, for rendering Block Kit."""
        return text.Names(
            users={uid: user.real_name for uid, user in self.sim.users.items()},
            channels={cid: channel.name for cid, channel in self.sim.channels.items()},
        )

    def who(self, person: cast.Member) -> str:
        """`Amélie Laurent (admin, FR)`."""
        return translate(
            self.locale,
            "%(name)s (%(role)s, %(language)s)",
            name=person.user.real_name,
            role=self.t(person.role),
            language=person.language,
        )

    def channel(self, channel_id: str) -> str:
        """`#atelier-lyon`."""
        return "#" + self.sim.channels[channel_id].name

    # ----- the bot's side: wait for what it sends to Slack

    def watch(self, method: str, where: Callable[[Call], bool] | None = None) -> Callable[[], Call]:
        """Note the calls to `method` so far; the function returned waits for the next one."""
        seen = sum(1 for c in self.sim.calls_to(method) if where is None or where(c))

        def next_call() -> Call:
            return self.sim.wait_for(method, count=seen + 1, where=where, timeout=WAIT)[seen]

        return next_call

    def wait_until(self, predicate: Callable[[], bool], what: str) -> None:
        """Poll `predicate` until it holds; DemoError naming `what` when it never does."""
        deadline = time.monotonic() + WAIT
        while not predicate():
            if time.monotonic() > deadline:
                raise DemoError(f"timed out after {WAIT:g}s waiting until {what}")
            time.sleep(0.05)

    # ----- Slack's side: what people do

    def slash(self, person: cast.Member, text: str, *, channel: str = cast.GENERAL) -> Response:
        """`person` types `/symmetry TEXT`; return the app's HTTP answer (the ack)."""
        command = f"/symmetry {text}".strip()
        self.narrator.step(
            translate(
                self.locale,
                "%(who)s types %(command)s in %(channel)s",
                who=self.who(person),
                command=command,
                channel=self.channel(channel),
            )
        )
        return self.check(self.platform.command(person.id, "/symmetry", text, channel_id=channel))

    def ask(self, person: cast.Member, text: str) -> dict[str, Any]:
        """`person` types `/symmetry TEXT`; return the answer, from the ack or the response_url.

        Someone the bot knows is answered in the ack; on first contact the bot acks at once,
        asks Slack for the person's language, then answers on the response_url.
        """
        later = self.watch("response_url")
        payload = self.slash(person, text).json()
        if isinstance(payload, dict) and payload.get("blocks"):
            return payload
        answer = later().params
        self.narrator.note(
            translate(
                self.locale,
                "First message from %(name)s: Symmetry acknowledged at once, asked Slack for "
                "their language, then answered.",
                name=person.first_name,
            )
        )
        return answer

    def irritant(self, person: cast.Member, text: str = "") -> dict[str, Any]:
        """`person` types `/irritant TEXT` in the team's channel; return the report modal the
        app asked Slack to open."""
        command = f"/irritant {text}".strip()
        self.narrator.step(
            translate(
                self.locale,
                "%(who)s types %(command)s in %(channel)s",
                who=self.who(person),
                command=command,
                channel=self.channel(cast.TEAM_CHANNEL),
            )
        )
        opened = self.watch("views.open", where=opened_with("irritant_report"))
        self.check(
            self.platform.command(person.id, "/irritant", text, channel_id=cast.TEAM_CHANNEL)
        )
        return dict(opened().params["view"])

    def opened_view_id(self, view: dict[str, Any]) -> str:
        """The ID Slack gave a modal the app opened. A submission answered with
        `response_action: update` keeps it: buttons of the new content carry it."""
        stored = self.sim._find_view(view)  # the simulator keeps every view it opened
        if stored is None:
            raise DemoError(f"Slack has no open view like {view.get('callback_id')!r}")
        return str(stored["id"])

    def event(self, event: dict[str, Any]) -> None:
        """Deliver an Events API event to the app."""
        self.check(self.platform.event(event))

    @staticmethod
    def check(response: Response) -> Response:
        """Raise DemoError unless the app answered 200 (Slack would retry or show an error)."""
        if response.status != 200:
            raise DemoError(f"the app answered HTTP {response.status}: {response.body[:200]}")
        return response

    # ----- showing what people see

    def show_message(self, heading: str, payload: dict[str, Any]) -> None:
        """A message as the person reads it in Slack."""
        self.narrator.says(heading, text.message(payload, self.names))

    def show_view(self, heading: str, view: dict[str, Any]) -> None:
        """A modal or a Home tab as the person sees it."""
        self.narrator.says(heading, text.view(view, self.names))

    # ----- the clock: ticks at instants of the story, through the real CLI

    def tick(self, instant: datetime, *, again: bool = False, walks: bool = False) -> list[Call]:
        """Run `symmetry tick --now INSTANT`, as the clock process would at that instant;
        narrate it and return the messages Slack accepted during the tick.

        The demo's teams are made on today's real date, so a quarter's sensory-walk messages
        (prompts, reminders, the admins' notice) may go at any tick after it, depending on the
        day the demo runs: they are left out of what is returned, and the narration says they
        went. With `walks`, only they are returned (a walk scene), and the others are noted.
        """
        zone = instant.tzinfo
        if zone is None:
            raise ValueError("a tick needs an aware instant")
        when = self.local_time(instant, zone, day=True)
        if again:
            said = translate(
                self.locale,
                "The clock ticks again, at the same instant: %(when)s in %(city)s",
                when=when,
                city=self.city(zone),
            )
        else:
            said = translate(
                self.locale,
                "The clock ticks: %(when)s in %(city)s",
                when=when,
                city=self.city(zone),
            )
        self.narrator.clock(said)
        before = len(self.sim.calls)
        iso = instant.isoformat()
        output = self.stage.cli("tick", "--now", iso)
        self.narrator.shell(f"symmetry tick --now {iso}", output)
        sent = [
            call
            for call in self.sim.calls[before:]
            if call.method == "chat.postMessage" and not call.failed
        ]
        self.delivered.extend(sent)
        digests = [call for call in sent if is_digest(call)]
        if digests:
            # A digest falls due at any tick from the first Monday 09:00 after the teams were
            # made (today), depending on the day the demo runs: set aside, as walks are.
            names = ", ".join(sorted({self.recipient_name(call) for call in digests}))
            said = N_(
                "This tick also sent weekly digests, not shown here: %(count)s, to %(names)s."
            )
            self.narrator.note(translate(self.locale, said, count=len(digests), names=names))
            sent = [call for call in sent if not is_digest(call)]
        shown = [call for call in sent if is_walk_message(call) == walks]
        aside = [call for call in sent if is_walk_message(call) != walks]
        if aside:
            said = (
                N_(
                    "This tick also sent other messages, not shown here (this scene is about "
                    "walks): %(count)s, to %(names)s."
                )
                if walks
                else N_(
                    "This tick also sent sensory-walk messages, not shown here (walks have the "
                    "last scenes): %(count)s, to %(names)s."
                )
            )
            names = sorted({self.recipient_name(call) for call in aside})
            self.narrator.note(
                translate(self.locale, said, count=len(aside), names=", ".join(names))
            )
        return shown

    def recipient_name(self, call: Call) -> str:
        """The first name of the person a direct message went to (else its channel)."""
        person = cast.person(call.params.get("channel"))
        return person.first_name if person else str(call.params.get("channel"))

    def local_time(self, instant: datetime, tz: tzinfo | str, *, day: bool = False) -> str:
        """`Tuesday 13 January, 10:00` (with `day`) or `10:00`, in the zone `tz`."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        clock = format_datetime(
            instant, TIME_PATTERNS.get(self.locale, "HH:mm"), tzinfo=zone, locale=self.locale
        )
        if not day:
            return clock
        date = format_datetime(instant, DAY_PATTERN, tzinfo=zone, locale=self.locale)
        return translate(self.locale, "%(day)s, %(time)s", day=date, time=clock)

    def day(self, instant: datetime) -> str:
        """`Saturday 17 January`, in the instant's own time zone."""
        return str(format_datetime(instant, DAY_PATTERN, tzinfo=instant.tzinfo, locale=self.locale))

    def working_hours(self) -> str:
        """The hours non-urgent messages keep to: `08:00–19:00, Monday to Friday`."""
        pattern = TIME_PATTERNS.get(self.locale, "HH:mm")
        opening, closing = (format_time(t, pattern, locale=self.locale) for t in (OPENING, CLOSING))
        return translate(
            self.locale,
            "%(opening)s–%(closing)s, Monday to Friday",
            opening=opening,
            closing=closing,
        )

    def city(self, tz: tzinfo | str) -> str:
        """The city that names a time zone, in the narration's language: `Londres`."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        return str(get_timezone_location(zone, locale=self.locale, return_city=True))

    def language(self, person: cast.Member) -> str:
        """The name of a person's language in the narration's language: `French`, `anglais`."""
        return str(Locale.parse(person.language.lower()).get_language_name(self.locale))

    # ----- the database, read the way an operator would

    def outbox(self) -> list[Outgoing]:
        """Every message of the outbox, oldest first."""
        assert self.stage.sessions is not None
        with session_scope(self.stage.sessions) as session:
            return [
                Outgoing(m.recipient, m.kind, m.state, m.not_before, m.timezone)
                for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            ]

    def sql(self, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a read-only SQL query on the demo's database: (column names, rows)."""
        assert self.stage.engine is not None
        with self.stage.engine.connect() as connection:
            result = connection.execute(sql_text(query))
            return list(result.keys()), [tuple(row) for row in result]

    def show_sql(self, query: str) -> list[tuple[Any, ...]]:
        """Run `query` and show it with its result, as an operator would read the database."""
        columns, rows = self.sql(query)
        self.narrator.shell(query, text.table(columns, rows), prompt="demo.db>")
        return rows

    def member_ids(self, team_name: str) -> set[str] | None:
        """The Slack user IDs of a team's members in the demo's database (None: no such team)."""
        assert self.stage.sessions is not None
        with session_scope(self.stage.sessions) as session:
            for team in queries.list_teams(session, workspace_id=None):
                if team.name == team_name:
                    return {membership.user_id for membership in team.memberships}
        return None

    def member_count(self, team_name: str) -> int | None:
        """How many members the team has in the demo's database (None: no such team)."""
        members = self.member_ids(team_name)
        return None if members is None else len(members)


WALK_ACTIONS = ("walk_start", "walk_teammate_open")


# How a manager's or the admins' digest header starts, in each language ("Weekly digest —
# week 50", "Teams digest — week 50").
DIGEST_HEADINGS = tuple(
    translate(locale, heading, number="").strip()
    for locale in ("en", "fr")
    for heading in ("Weekly digest — week %(number)s", "Teams digest — week %(number)s")
)


def is_walk_message(call: Call) -> bool:
    """Whether a message is about a sensory walk: each has a block whose ID starts with
    `walk-` (prompt, reminder, admins' notice) or a button of the walk (a teammate's invite)."""
    for block in call.params.get("blocks") or []:
        if str(block.get("block_id", "")).startswith("walk-"):
            return True
        if any(e.get("action_id") in WALK_ACTIONS for e in block.get("elements") or []):
            return True
    return False


def is_digest(call: Call) -> bool:
    """Whether a message is a weekly digest (a manager's or the admins': it opens with the
    header naming the week) or a team's "you said, we did" post."""
    blocks = call.params.get("blocks") or []
    if any(isinstance(b, dict) and b.get("block_id") == "said-did" for b in blocks):
        return True
    first = blocks[0] if blocks and isinstance(blocks[0], dict) else {}
    heading = (
        str((first.get("text") or {}).get("text", "")) if first.get("type") == "header" else ""
    )
    return heading.startswith(DIGEST_HEADINGS)


def opened_with(callback_id: str) -> Callable[[Call], bool]:
    """Matches a view opened with this callback ID."""
    return lambda call: (call.params.get("view") or {}).get("callback_id") == callback_id
