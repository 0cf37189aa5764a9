"""What every scene works with: the workspace, Slack's side, the stage and the narrator, plus
the few moves scenes are made of (type a command, send an event, wait for the bot, show it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.demo import cast, text
from bot.demo.narrator import Narrator
from bot.demo.stage import Stage
from bot.i18n import translate
from bot.slacksim import Call, Response, SlackClientSim, SlackSim
from storage import queries
from storage.db import session_scope

WAIT = 10.0  # seconds a scene waits for the bot before giving up


class DemoError(Exception):
    """A step of the story did not happen as it should; the message says which."""


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

    def who(self, person: cast.Person) -> str:
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

    def slash(self, person: cast.Person, text: str, *, channel: str = cast.GENERAL) -> Response:
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

    def ask(self, person: cast.Person, text: str) -> dict[str, Any]:
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

    # ----- the database, read the way an operator would

    def member_count(self, team_name: str) -> int | None:
        """How many members the team has in the demo's database (None: no such team)."""
        assert self.stage.sessions is not None
        with session_scope(self.stage.sessions) as session:
            for team in queries.list_teams(session, workspace_id=None):
                if team.name == team_name:
                    return len(team.memberships)
        return None
