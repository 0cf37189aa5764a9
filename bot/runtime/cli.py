"""The `symmetry` command line (also `python -m bot`). See the README for the reference."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence

from bot.runtime import GC_THRESHOLDS
from bot.runtime.config import ConfigError, Settings, load_settings, require
from bot.runtime.console import CommandError

log = logging.getLogger("symmetry")


def holiday_calendar(value: str) -> str:
    """`--holidays`: a calendar the `holidays` package knows, upper-cased ("fr" → "FR")."""
    from bot.teams.roster import holiday_code, is_known_calendar

    code = holiday_code(value)
    if code is None or not is_known_calendar(code):
        raise argparse.ArgumentTypeError(
            f"no public holidays known for {value!r}: use a country code such as FR, "
            "or a country and region such as US-NY"
        )
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symmetry",
        description="Symmetry: give employees the attention you give customers.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="run the production HTTP server on $PORT")
    commands.add_parser("socket", help="run the app over Socket Mode (development)")
    clock = commands.add_parser(
        "clock", help="run the scheduler (on PostgreSQL a second one stands by to take over)"
    )
    clock.add_argument(
        "--now", help="ISO-8601 instant taken as the present at start (default: now); then runs on"
    )
    clock.add_argument(
        "--standby-poll",
        type=float,
        metavar="SECONDS",
        help="how often a standing-by clock tries the lock, and the ticking one checks it "
        "(default: 15)",
    )
    clock.add_argument(
        "--tick-every",
        type=float,
        metavar="SECONDS",
        help="tick every SECONDS instead of at the start of each minute (tests)",
    )
    tick = commands.add_parser("tick", help="run once the work due at an instant, and exit")
    tick.add_argument("--now", help="ISO-8601 instant taken as the present (default: now)")
    worker = commands.add_parser("worker", help="deliver queued messages (optional processes)")
    worker.add_argument(
        "--now", help="ISO-8601 instant taken as the present at start (default: now); then runs on"
    )
    box = commands.add_parser("outbox", help="the queue of outgoing messages")
    box_commands = box.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    box_commands.add_parser("status", help="counts by state and the last errors")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply the migrations")

    manifest = commands.add_parser("manifest", help="print the Slack app manifest (YAML)")
    manifest.add_argument("--url", help="public base URL; without it, a Socket Mode manifest")

    team = commands.add_parser("team", help="teams: add, list, sync")
    team_commands = team.add_subparsers(dest="team_command", required=True, metavar="ACTION")
    add = team_commands.add_parser("add", help="create a team from a channel's human members")
    add.add_argument("name")
    add.add_argument("--channel", required=True, help="channel ID, e.g. C0123456")
    add.add_argument("--manager", action="append", required=True, help="manager's user ID")
    add.add_argument("--timezone", help="IANA zone (default: SYMMETRY_DEFAULT_TIMEZONE)")
    add.add_argument("--locale", choices=("en", "fr"), help="default: SYMMETRY_DEFAULT_LOCALE")
    add.add_argument(
        "--holidays",
        type=holiday_calendar,
        metavar="CC[-REGION]",
        help="country (and region) whose public holidays count like weekends, e.g. FR, US-NY",
    )
    add.add_argument(
        "--said-did",
        action="store_true",
        help='post "you said, we did" (what was fixed) in the team\'s channel every Monday',
    )
    add.add_argument("--workspace", help="Slack team ID (default: the bot token's workspace)")
    listing = team_commands.add_parser("list", help="list the teams")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.add_argument("--workspace", help="only this Slack team ID")
    sync = team_commands.add_parser("sync", help="refresh every team's members from its channel")
    sync.add_argument("--workspace", help="only this Slack team ID")

    export = commands.add_parser("export", help="write data to standard output")
    export.add_argument("what", choices=("irritants", "pulses", "walks", "person"))
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--team", help="only this team (by name)")
    export.add_argument("--workspace", help="only this Slack team ID")
    export.add_argument("--user", help="`export person`: the person's Slack user ID")
    forget = commands.add_parser("forget", help="remove a person's personal data")
    forget.add_argument("--user", required=True, help="the person's Slack user ID")
    forget.add_argument("--workspace", help="only this Slack team ID (default: every one)")
    forget.add_argument(
        "--dry-run", action="store_true", help="print what would go, change nothing"
    )
    audit = commands.add_parser("audit", help="the audit trail of admin and manager actions")
    audit.add_argument("--since", metavar="DATE", help="from this date (YYYY-MM-DD) on")
    audit.add_argument("--format", choices=("json", "csv"), default="json")

    digest = commands.add_parser("digest", help="weekly manager digests")
    digest_commands = digest.add_subparsers(dest="digest_command", required=True, metavar="ACTION")
    preview = digest_commands.add_parser("preview", help="render a team's digest, sending nothing")
    preview.add_argument("--team", required=True, help="the team's name")
    preview.add_argument("--week", metavar="YYYY-Www", help="an ISO week (default: this week)")
    preview.add_argument("--format", choices=("text", "json"), default="text")
    preview.add_argument("--png", metavar="FILE", help="also write the chart to FILE")
    preview.add_argument("--workspace", help="the team's Slack team ID, when names repeat")
    preview.add_argument("--now", help="ISO-8601 instant taken as the present (default: now)")

    nps = commands.add_parser("nps", help="customer NPS per team and month")
    nps_commands = nps.add_subparsers(dest="nps_command", required=True, metavar="ACTION")
    nps_import = nps_commands.add_parser("import", help="record customer NPS from a CSV file")
    nps_import.add_argument("file", metavar="FILE.csv", help="columns team, month, nps, responses")
    nps_import.add_argument("--workspace", help="only this Slack team ID's teams")
    nps_import.add_argument("--now", help="ISO-8601 instant taken as the present (default: now)")

    space = commands.add_parser("workspace", help="a workspace's data")
    space_commands = space.add_subparsers(dest="workspace_command", required=True, metavar="ACTION")
    purge = space_commands.add_parser(
        "purge", help="delete an uninstalled workspace's data now (the clock does it 30 days on)"
    )
    purge.add_argument("team_id", metavar="TEAM_ID", help="the workspace's Slack team ID")
    purge.add_argument("--force", action="store_true", help="purge it even if still installed")

    demo = commands.add_parser("demo", help="run the product against a simulated workspace")
    demo.add_argument(
        "--locale", choices=("en", "fr"), default=None, help="language of the narration"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, load settings, run; exit 2 on a bad setting, 1 on a failed command."""
    gc.set_threshold(*GC_THRESHOLDS)
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            from bot.demo.runner import run_demo

            return run_demo(locale=args.locale)
        if args.command == "manifest":
            from bot.runtime.manifest import render_yaml

            sys.stdout.write(render_yaml(args.url))
            return 0
        settings = load_settings()
        needs = args.command
        if args.command == "team" and args.team_command == "list":
            needs = "team list"  # reads the database only
        require(settings, needs)
        return _dispatch(args, settings)
    except ConfigError as exc:
        print(f"symmetry: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"symmetry: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import operations

    if args.command == "db":
        return operations.db_upgrade(settings)
    if args.command == "team":
        return operations.team(args, settings)
    if args.command in ("forget", "audit") or getattr(args, "what", None) == "person":
        from bot.runtime import privacy_commands

        if args.command == "forget":
            return privacy_commands.forget(args, settings)
        if args.command == "audit":
            return privacy_commands.show_audit(args, settings)
        return privacy_commands.export_person(args, settings)
    if args.command == "export":
        return operations.export(args, settings)
    if args.command == "outbox":
        return operations.outbox_status(settings)
    if args.command == "workspace":
        return operations.workspace_purge(settings, args.team_id, force=args.force)
    if args.command in ("digest", "nps"):
        from bot.runtime import digest_commands

        if args.command == "digest":
            return digest_commands.digest_preview(args, settings)
        return digest_commands.nps_import_file(args, settings)
    operations.configure_logging(settings)
    if args.command == "serve":
        return operations.serve(settings)
    if args.command == "socket":
        return operations.socket(settings)
    if args.command == "clock":
        return operations.clock_process(
            settings, now=args.now, standby_poll=args.standby_poll, tick_every=args.tick_every
        )
    if args.command == "tick":
        return operations.tick(settings, now=args.now)
    if args.command == "worker":
        return operations.worker(settings, now=args.now)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
