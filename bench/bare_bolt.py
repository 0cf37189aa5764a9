"""The reference for `bench/ack.py` and `bench/pulse.py`: a bare Bolt app, tuned as a careful
engineer would.

A minimal `slack_bolt.App` with three listeners, each doing the least the product's does:

* `/symmetry` acknowledges with a static help message (same text and blocks as Symmetry's
  English `/symmetry help`, so both send the same bytes);
* `/irritant` acks, then opens a fixed modal of the size of Symmetry's report modal
  (`views.open`, one Web API call after the ack, like the product);
* a survey button (`pulse_answer:<v>`) acks, then replaces the message with a small one
  through the `response_url` (one HTTP call after the ack, like the product).

It is served exactly like the product: the same gunicorn configuration object as
`symmetry serve` (`bot.runtime.server.GunicornServer`: gthread, 1 worker, 64 threads,
keep-alive 5 s), the same logging set-up, and a listener pool of the product's size
(`bot.runtime.app.LISTENER_THREADS`, 256).

    python bench/bare_bolt.py --port 3100            # tuned: the product's listener pool
    python bench/bare_bolt.py --port 3101 --untuned  # Bolt's defaults: 5 listener threads

Environment: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN and SLACK_API_URL (the fake Slack), like
the product. `--after-ack-calls N` makes the listener call `users.info` N times after its ack,
the way real listeners keep working once Slack has its answer (this is what occupies the
listener pool: `bench/ack.py --untuned` uses it to show Bolt's default pool of 5 threads).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/bare_bolt.py`: make `bot` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.runtime.app import LISTENER_THREADS
from bot.runtime.server import GunicornServer

# The same payload as Symmetry's English help (bot/templates/help.json.j2), kept static.
HELP_TEXT = "Symmetry: how it works"
HELP_BLOCKS: list[dict[str, Any]] = [
    {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "Symmetry: the attention customers get, for employees too",
        },
    },
    {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "Report the small irritants of everyday work, answer short anonymous "
            "pulse surveys, and see what gets fixed.",
        },
    },
    {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*Everyone*\n`/irritant` — report an irritant (too hot, noisy, a broken "
            "tool, dirty staff spaces…). `/irritant the printer jams again` fills in the "
            "description for you.\n`/irritant list` — your reports and what became of them."
            "\n`/symmetry help` — this message.",
        },
    },
    {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*Admins*\n`/symmetry team` — create or edit a team from a channel: its "
            "managers, time zone and language.\n`/symmetry survey` — admins and team managers: "
            "how often a team's pulse surveys come, and admins' own questions.\n`/symmetry nps` "
            "— admins and team managers: record a team's customer NPS for a month, shown in its "
            "weekly digest beside the team's eNPS.",
        },
    },
    {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*Managers*\n`/symmetry walk` — your team's sensory walk this quarter: go "
            "through the customer spaces, then the employee spaces, with your five senses, and "
            "turn what you find into irritants.\n`/symmetry digest` — managers and admins: your "
            "weekly digest (Monday 09:00 unless you choose another day, or turn it off), and "
            "this week's now, privately.",
        },
    },
    {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": "Anonymous reports and answers never carry your name, and a group's "
                "results are shown only when enough people answered.",
            }
        ],
    },
]


def _text(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _options(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"text": _text(label), "value": value} for value, label in pairs]


def _input(block_id: str, label: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "label": _text(label), **extra,
            "element": {"action_id": "value", **element}}  # fmt: skip


# A fixed report modal: the blocks, options and texts of Symmetry's English `/irritant` modal
# for a member of one team (bot/templates/irritant_modal.json.j2), about 3.3 kB of JSON.
IRRITANT_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "irritant_report",
    "title": _text("Report an irritant"),
    "submit": _text("Send"),
    "close": _text("Cancel"),
    "blocks": [
        _input("description", "What bothers you?", {
            "type": "plain_text_input", "multiline": True, "max_length": 3000,
            "placeholder": _text("e.g. The staff room is freezing every morning"),
        }),
        _input("category", "Category", {"type": "static_select", "options": _options(
            ("temperature", "Temperature"), ("lighting", "Lighting"), ("noise", "Noise"),
            ("tools", "Tools and equipment"), ("cleanliness", "Cleanliness and hygiene"),
            ("break_spaces", "Break spaces and amenities"), ("safety", "Safety"),
            ("organisation", "Organisation and process"), ("other", "Other"),
        )}),
        _input("space", "Where does it happen?", {"type": "radio_buttons", "options": _options(
            ("employee", "Employee space"), ("customer", "Customer space"),
        )}),
        _input("location", "Place", {
            "type": "plain_text_input", "max_length": 200,
            "placeholder": _text("e.g. 2nd floor kitchen, workshop B, reception"),
        }, optional=True),
        _input("severity", "How much does it bother you?", {
            "type": "radio_buttons",
            "options": _options(
                ("minor", "Minor"), ("annoying", "Annoying"), ("blocking", "Blocking")
            ),
        }),
        _input("team", "Team", {
            "type": "static_select",
            "initial_option": {"text": _text("Bench team"), "value": "1"},
            "options": _options(("1", "Bench team")),
        }),
        _input("share", "Your name", {
            "type": "checkboxes",
            "options": _options(("share", "Share my name with my manager")),
        }, optional=True),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            "Unless you tick the box, your report is anonymous: it carries no user ID, and "
            "managers see it in a daily roundup, so its timing gives nothing away. You will "
            "still hear back at every step.")}]},
    ],
}  # fmt: skip

# What a survey button's message becomes: small, replacing the original (Symmetry's is the
# whole survey again, with the answer shown).
ANSWERED_TEXT = "Thank you: your answer is recorded."
ANSWERED_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": ANSWERED_TEXT}}
]


def create_app(*, tuned: bool = True, after_ack_calls: int = 0) -> App:
    """The bare Bolt app: `/symmetry` (help in the ack), `/irritant` (ack, then `views.open`)
    and survey buttons (ack, then `respond`)."""
    client = WebClient(
        token=os.environ["SLACK_BOT_TOKEN"],
        base_url=os.environ.get("SLACK_API_URL", "https://slack.com/api/"),
        timeout=15,
    )
    options: dict[str, Any] = {}
    if tuned:
        options["listener_executor"] = ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="listener"
        )
    app = App(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        token=client.token,
        client=client,
        token_verification_enabled=False,
        **options,
    )

    @app.command("/symmetry")
    def symmetry(ack: Ack, body: dict, client: WebClient) -> None:
        ack(response_type="ephemeral", text=HELP_TEXT, blocks=HELP_BLOCKS)
        for _ in range(after_ack_calls):
            client.users_info(user=body["user_id"])

    @app.command("/irritant")
    def irritant(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=IRRITANT_MODAL)

    @app.action(re.compile(r"^pulse_answer:"))
    def answer(ack: Ack, respond: Respond) -> None:
        ack()
        respond(replace_original=True, text=ANSWERED_TEXT, blocks=ANSWERED_BLOCKS)

    return app


def build_wsgi(*, tuned: bool = True, after_ack_calls: int = 0):  # type: ignore[no-untyped-def]
    """The WSGI application gunicorn serves (built in the worker, after the fork)."""
    return SlackRequestHandler(
        create_app(tuned=tuned, after_ack_calls=after_ack_calls), path="/slack/events"
    )


def configure_logging() -> None:
    """The product's logging set-up (bot.runtime.logs): JSON lines off a terminal, gunicorn's
    access line for each request included (GunicornServer), as the product writes them."""
    from bot.runtime import logs

    logs.configure()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument(
        "--untuned", action="store_true", help="Bolt's default listener pool (5 threads)"
    )
    parser.add_argument(
        "--after-ack-calls", type=int, default=0, help="users.info calls after each ack"
    )
    args = parser.parse_args(argv)
    configure_logging()
    tuned, calls = not args.untuned, args.after_ack_calls
    GunicornServer(lambda: build_wsgi(tuned=tuned, after_ack_calls=calls), port=args.port).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
