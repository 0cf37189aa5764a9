"""The weekly digest scene of `symmetry demo`: after the simulated weeks, the Monday tick sends
each manager the week's digest of their team, with its chart uploaded into the same direct
message, and the admins theirs. The demo shows Marc's as he reads it, and writes its Block Kit
JSON and its chart into a folder it names, to open in Slack's Block Kit Builder and an image
viewer.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.demo import cast, text
from bot.demo.context import Demo, DemoError
from bot.demo.slack import Call
from bot.demo.walk_scenes import PARIS, _prompt_time, _quarter
from bot.digests.weeks import Week
from bot.shared.i18n import translate

DIGEST_TIME = time(9, 5)  # the clock's tick just after 09:00, the digest's hour


def _monday(demo: Demo) -> datetime:
    """The Monday after the week of the walk scenes, at 09:05 in Paris."""
    walked = _prompt_time(_quarter(demo)).date()
    monday = walked + timedelta(days=7 - walked.weekday())
    return datetime.combine(monday, DIGEST_TIME, tzinfo=PARIS)


def _to(person: cast.Member, calls: list[Call]) -> list[dict[str, Any]]:
    return [
        dict(c.params) for c in calls if c.params.get("channel") in (person.id, "D" + person.id)
    ]


def weekly_digest(demo: Demo) -> None:
    """The Monday tick: Marc's digest of his team, its chart, and where both were written."""
    locale, instant = demo.locale, _monday(demo)
    week = Week.of(instant.date())
    demo.narrator.note(
        translate(
            locale,
            "Weeks have passed. Every Monday at 09:00 in each manager's own time zone, the "
            "clock sends them the week's digest of their team: what was reported, what waits, "
            "what got fixed, how the team feels, the walk, and one next step. Admins get one "
            "line per team.",
        )
    )
    sent = demo.tick(instant, digests=True)
    marc = _to(cast.MARC, sent)
    if len(marc) != 1:
        raise DemoError(f"Marc should get one digest this Monday, not {len(marc)}")
    digest = marc[0]
    header = digest["blocks"][0]
    if header.get("type") != "header" or str(week.number) not in header["text"]["text"]:
        raise DemoError(f"the digest should open with a header naming week {week.number}")
    demo.show_message(
        translate(locale, "Symmetry → %(name)s, in a direct message:", name=cast.MARC.first_name),
        digest,
    )
    for call in sent:
        if call.params.get("channel") not in (cast.MARC.id, "D" + cast.MARC.id):
            demo.narrator.says(
                translate(
                    locale,
                    "Symmetry → %(name)s; its notification reads:",
                    name=demo.recipient_name(call),
                ),
                [text.plain(call.params.get("text", ""), demo.names)],
            )
    charts = demo.sim.files_in(cast.MARC.id)
    if not charts:
        raise DemoError("the digest's chart should be uploaded into Marc's direct message")
    chart = charts[-1]
    folder = Path(tempfile.mkdtemp(prefix="symmetry-digest-"))
    blocks = folder / f"digest-{week.label}.json"
    image = folder / f"digest-{week.label}.png"
    content = {"blocks": digest["blocks"], "text": digest.get("text", "")}
    blocks.write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")
    image.write_bytes(chart.content)
    demo.narrator.note(
        translate(
            locale,
            "Its chart, the last 12 weeks of the team, went into the same conversation "
            "(%(channel)s) through Slack's file upload: %(title)s, %(size)s bytes.",
            channel=chart.channel,
            title=chart.title,
            size=len(chart.content),
        )
    )
    demo.narrator.says(
        translate(locale, "Written beside this demo, to open and look at:"),
        [
            translate(
                locale, "Block Kit JSON (paste it into Block Kit Builder): %(path)s", path=blocks
            ),
            translate(locale, "The chart: %(path)s", path=image),
        ],
    )
