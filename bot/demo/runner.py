"""`symmetry demo` itself: set the stage, play every scene, say how it went."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from types import FrameType

from babel.numbers import format_decimal

from bot.demo import cast
from bot.demo.context import CountingPlatform, Demo, DemoError
from bot.demo.narrator import Narrator
from bot.demo.scenes import SCENES
from bot.demo.stage import Stage, StageError
from bot.shared.i18n import translate

__all__ = ["detect_locale", "run_demo"]


def detect_locale(environ: Mapping[str, str]) -> str:
    """The narration language from LC_ALL, LC_MESSAGES or LANG: `fr` for fr*, else `en`."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable)
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


def run_demo(locale: str | None = None) -> int:
    """Play every scene against the real server; 0 on success, 1 when a step fails."""
    locale = locale or detect_locale(os.environ)
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="replace")  # type: ignore[union-attr]
    narrator = Narrator()
    try:
        with _sigterm_as_interrupt():
            return _run(locale, narrator)
    except KeyboardInterrupt:
        narrator.error(translate(locale, "symmetry demo: interrupted; everything was cleaned up."))
        return 130


def _run(locale: str, narrator: Narrator) -> int:
    started = time.monotonic()
    narrator.banner(
        translate(locale, "Symmetry: a guided demo"),
        translate(
            locale,
            "The real app, its real database and its real HTTP server, in front of a "
            "simulated Slack workspace. Nothing leaves this computer.",
        ),
    )
    with cast.workspace() as sim, Stage() as stage:
        try:
            stage.prepare_database()
            stage.build_env(sim)
            pid = stage.start_server()
        except StageError as exc:
            narrator.error(translate(locale, "symmetry demo: %(error)s", error=exc))
            narrator.error(stage.log_tail() or translate(locale, "(the server log is empty)"))
            return 1
        _introduce(narrator, locale, stage, pid)
        platform = CountingPlatform(stage.app_url, stage.signing_secret, sim, timeout=10)
        demo = Demo(locale=locale, sim=sim, platform=platform, stage=stage, narrator=narrator)
        for number, scene in enumerate(SCENES, start=1):
            title = translate(locale, scene.title)
            narrator.scene(number, title)
            try:
                scene.play(demo)
            except (DemoError, StageError, TimeoutError, OSError) as exc:
                narrator.error(
                    translate(
                        locale,
                        "symmetry demo: scene “%(scene)s” failed: %(error)s",
                        scene=title,
                        error=exc,
                    )
                )
                tail = stage.log_tail()
                if tail:
                    narrator.error(translate(locale, "Last lines of the server log:"))
                    narrator.error(tail)
                return 1
        api_calls = sum(1 for call in sim.calls if call.method != "response_url")
    narrator.done(
        translate(
            locale,
            "Done in %(seconds)s s: %(requests)s signed requests to the app, %(commands)s "
            "symmetry commands, %(calls)s Slack Web API calls. Everything above went through "
            "the real app (its HTTP server and its command line) and a real database.",
            seconds=format_decimal(time.monotonic() - started, format="0.0", locale=locale),
            requests=platform.sent,
            commands=stage.commands_run,
            calls=api_calls,
        )
    )
    return 0


def _introduce(narrator: Narrator, locale: str, stage: Stage, pid: int) -> None:
    """Say what is running and who is in the workspace."""
    narrator.note(
        translate(
            locale,
            "The real server (symmetry serve, pid %(pid)s, port %(port)s) is running on a fresh "
            "SQLite database in %(dir)s, removed at the end.",
            pid=pid,
            port=stage.port,
            dir=stage.dir,
        )
    )
    narrator.note(
        translate(locale, "The simulated workspace “%(name)s”:", name=cast.WORKSPACE_NAME)
    )
    for person in cast.PEOPLE:
        user = person.user
        narrator.note(
            f"  {user.real_name} — {translate(locale, person.role)} · {user.locale} · {user.tz}"
        )
    narrator.note(
        "  "
        + translate(
            locale,
            "%(bot)s — another app's bot, in %(channel)s",
            bot=cast.OTHER_BOT.real_name,
            channel="#" + cast.TEAM_CHANNEL_NAME,
        )
    )


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while the demo runs, so that it still cleans up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
