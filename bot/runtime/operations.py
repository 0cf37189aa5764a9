"""What each CLI command does, once its settings are loaded and checked.

A command imports what it uses when it runs: `symmetry team list` need not load the clock,
and `tick` need not load Bolt, which saves a short-lived process a good part of its start.
"""

from __future__ import annotations

import argparse
import contextvars
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.runtime.config import Settings, policy_of
from bot.runtime.console import CommandError, plural, print_json
from storage import audit, outbox, queries, tokens
from storage.db import make_engine, make_session_factory, pending_migrations, session_scope, upgrade
from storage.models import Team

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger("symmetry")


def configure_logging(settings: Settings | None = None) -> None:
    """INFO logs on stderr: JSON lines off a terminal, text on one, each with its request id,
    the settings' secrets redacted (bot/runtime/logs.py); libraries quieter (Bolt logs request
    bodies at DEBUG)."""
    from bot.runtime import logs

    logs.configure(secrets_of(settings) if settings else ())


def secrets_of(settings: Settings) -> list[str | None]:
    """What no log line may show, whatever it holds."""
    from sqlalchemy import make_url

    try:
        password = make_url(settings.database_url).password
    except Exception:  # an unusual URL: its password, if any, is not told apart
        password = None
    return [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_client_secret,
        settings.secret_key,
        settings.metrics_token,
        str(password) if password else None,
    ]


def migrated_engine(settings: Settings) -> Engine:
    """The engine, refusing a database that `symmetry db upgrade` has not brought up to date."""
    engine = make_engine(settings.database_url)
    try:
        pending = pending_migrations(engine)
    except Exception as exc:  # any driver error: the database cannot be reached
        raise CommandError(
            f"cannot reach the database (DATABASE_URL): {type(exc).__name__}"
        ) from None
    if pending:
        raise CommandError("the database is not up to date: run `symmetry db upgrade` first")
    return engine


def db_upgrade(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    print("symmetry: database is up to date")
    return 0


def serve(settings: Settings) -> int:
    # Before prometheus-client is imported (by the app): several gunicorn workers share
    # their metrics through files in this directory (bot/runtime/metrics.py).
    own_dir = None
    if settings.metrics_token and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="symmetry-")
    from bot.runtime.app import create_app
    from bot.runtime.server import GunicornServer, wsgi_app
    from bot.runtime.warmup import warm_up

    migrated_engine(settings).dispose()

    def build():  # type: ignore[no-untyped-def]
        engine = make_engine(settings.database_url)
        app = create_app(settings, make_session_factory(engine), engine=engine)
        return wsgi_app(
            app, engine, warm=lambda: warm_up(app, engine), metrics_token=settings.metrics_token
        )

    log.info("serving Slack requests on port %s", settings.port)
    try:
        GunicornServer(build, port=settings.port, workers=settings.web_concurrency).run()
    finally:
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)
    return 0


def socket(settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.runtime import logs
    from bot.runtime.app import create_app

    class Handler(SocketModeHandler):  # type: ignore[misc]
        """Each request's lines under an id of their own, as over HTTP (bot/runtime/logs.py)."""

        def handle(self, client, req):  # type: ignore[no-untyped-def]
            # In a context of its own, as over HTTP: what the request sets there (its ack's
            # database gate, storage.db.GATE) does not outlive it.
            with logs.requesting():
                contextvars.copy_context().run(super().handle, client, req)

    engine = migrated_engine(settings)
    app = create_app(settings, make_session_factory(engine), engine=engine)
    handler = Handler(app, settings.slack_app_token)
    # Not `handler.start()`: it blocks on an Event nothing ever sets, so SIGTERM closed the
    # connection but the process stayed until the platform's SIGKILL.
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    log.info("connecting to Slack over Socket Mode")
    handler.connect()
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        handler.close()
        engine.dispose()
    log.info("Socket Mode connection closed")
    return 0


def clock_process(
    settings: Settings,
    *,
    now: str | None = None,
    standby_poll: float | None = None,
    tick_every: float | None = None,
) -> int:
    """`symmetry clock`: ticks while it holds the clock's lock. On PostgreSQL a clock that
    finds the lock taken stands by; on SQLite it is not needed and exits with status 1."""
    from bot.runtime import clock, leader
    from bot.runtime.clients import workspace_clients
    from bot.runtime.services import utcnow

    start = parse_instant(now) if now else None
    for flag, seconds in (("--standby-poll", standby_poll), ("--tick-every", tick_every)):
        if seconds is not None and seconds <= 0:
            raise CommandError(f"{flag}: a number of seconds above 0")
    engine = migrated_engine(settings)
    leadership = leader.leadership_for(settings.database_url)
    try:
        alone = leader.shares_clocks(settings.database_url) or leadership.acquire()
    except OSError as exc:  # SQLite: the lock file beside the database cannot be made
        raise CommandError(
            f"cannot take the clock's lock file ({exc.strerror or exc}): the folder of the "
            "SQLite database must be writable"
        ) from None
    if not alone:
        raise CommandError(
            "another clock is running on this database; on SQLite one clock only, "
            "so this one is not needed"
        )
    sessions = make_session_factory(engine)
    check_token(settings, sessions)
    client_for = workspace_clients(settings, sessions, engine, retries=False)
    clock.settle()
    clock.run_forever(
        policy_of(settings),
        sessions,
        client_for,
        leadership=leadership,
        now=clock.running_clock(start) if start else utcnow,
        standby_poll=standby_poll or clock.STANDBY_POLL,
        tick_every=tick_every,
    )
    return 0


def worker(settings: Settings, *, now: str | None = None) -> int:
    from bot.runtime import clock
    from bot.runtime.clients import workspace_clients
    from bot.runtime.services import utcnow

    start = parse_instant(now) if now else None
    engine = migrated_engine(settings)
    sessions = make_session_factory(engine)
    check_token(settings, sessions)
    client_for = workspace_clients(settings, sessions, engine, retries=False)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    clock.settle()
    log.info("worker started")
    clock.work_forever(
        policy_of(settings),
        sessions,
        client_for,
        stop=stopping.is_set,
        now=clock.running_clock(start) if start else utcnow,
    )
    return 0


def outbox_status(settings: Settings) -> int:
    engine = migrated_engine(settings)
    with session_scope(make_session_factory(engine)) as session:
        counts = outbox.counts(session)
        errors = [
            (m.last_error_at, m.id, m.kind, m.state, m.attempts, m.last_error)
            for m in outbox.last_errors(session)
        ]
        unreadable = outbox.at_least_once(session)
        refused = [
            (w.slack_team_id, w.token_error, w.token_error_at, outbox.waiting(session, w.id))
            for w in tokens.refused(session)
        ]
    print("  ".join(f"{state}: {count}" for state, count in counts.items()))
    for team_id, since in unreadable:
        print(
            f"workspace {team_id}: at-least-once since {since.isoformat(timespec='seconds')}: "
            "Slack refused to read the bot's DMs back (grant im:history and im:write, then "
            "reinstall), so a message in doubt after a crash is sent again"
        )
    for team_id, error, since, waiting in refused:
        when = since.isoformat(timespec="seconds") if since else "?"
        print(
            f"workspace {team_id}: Slack refuses its bot token ({error}) since {when}; "
            f"{waiting} message(s) wait until the app is installed again"
        )
    if errors:
        print("last errors:")
        for at, message_id, kind, state, attempts, error in errors:
            when = at.isoformat(timespec="seconds") if at else "?"
            print(f"  {when}  #{message_id} {kind} ({state}, {attempts} attempts): {error}")
    return 0


def workspace_purge(settings: Settings, slack_team_id: str, *, force: bool) -> int:
    """`symmetry workspace purge`: a refusal (unknown, or still installed without `--force`)
    is one line and exit status 2, with nothing changed."""
    from bot.runtime.services import utcnow
    from storage import retention

    engine = migrated_engine(settings)
    with session_scope(make_session_factory(engine)) as session:
        workspace = queries.get_workspace(session, slack_team_id=slack_team_id)
        if workspace is None:
            print(f"symmetry: workspace purge: no data for {slack_team_id}", file=sys.stderr)
            return 2
        if workspace.uninstalled_at is None and not force:
            print(
                f"symmetry: workspace purge: the app is still installed in {slack_team_id}; "
                "uninstall it first, or add --force",
                file=sys.stderr,
            )
            return 2
        forced = workspace.uninstalled_at is None
        counts = retention.purge_workspace(session, workspace=workspace)
        audit.record(
            session,
            actor=audit.CLI,
            action="workspace.purged",
            now=utcnow(),
            workspace=slack_team_id,
            forced=forced,
            **counts,
        )
    gone = ", ".join(plural(number, kind) for kind, number in counts.items())
    print(f"symmetry: workspace {slack_team_id} purged: {gone}")
    return 0


def tick(settings: Settings, *, now: str | None) -> int:
    from bot.runtime import clock
    from bot.runtime.clients import workspace_clients
    from bot.runtime.services import utcnow

    instant = parse_instant(now) if now else utcnow()
    engine = migrated_engine(settings)
    sessions = make_session_factory(engine)
    check_token(settings, sessions)
    client_for = workspace_clients(settings, sessions, engine, retries=False)
    clock.settle()
    report = clock.observed_tick(policy_of(settings), sessions, client_for, now=instant)
    print(f"symmetry: tick at {instant.isoformat()}: {report}")
    return 0


def check_token(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Single-workspace mode: a process that starts with a token Slack accepts clears the
    mark a refused one left (restarting with a new SLACK_BOT_TOKEN is how it is fixed)."""
    if settings.multi_workspace or not settings.slack_bot_token:
        return
    from bot.runtime import workspaces
    from bot.runtime.clients import slack_client

    workspaces.token_works_again(sessions, slack_client(settings, settings.slack_bot_token))


def parse_instant(value: str) -> datetime:
    """An ISO-8601 instant; one without an offset is taken as UTC."""
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now: not an ISO-8601 instant: {value!r}") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def team(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime.services import utcnow
    from bot.teams import roster as teams
    from bot.teams.directory import Directory

    engine = migrated_engine(settings)
    sessions = make_session_factory(engine)
    if args.team_command == "list":
        with session_scope(sessions) as session:
            workspace_id = None
            if args.workspace:
                workspace = queries.get_workspace(session, slack_team_id=args.workspace)
                workspace_id = workspace.id if workspace else -1
            rows = queries.list_teams(session, workspace_id=workspace_id)
            described = [teams.describe(row) for row in rows]
            calendars = [row.holidays or "-" for row in rows]
        if args.json:
            print_json(described)
        elif not described:
            print("No teams yet: create one with `symmetry team add` or `/symmetry team`.")
        else:
            _print_table([{**d, "holidays": c} for d, c in zip(described, calendars, strict=True)])
        return 0
    client, slack_team_id = workspace_client(settings, args.workspace)
    now = utcnow()
    directory = Directory(sessions, lambda _workspace_id: client, admins=settings.admins)
    with session_scope(sessions) as session:
        workspace_id = queries.get_or_create_workspace(session, slack_team_id=slack_team_id).id
    if args.team_command == "add":
        form = teams.TeamForm(
            name=args.name,
            channel_id=args.channel,
            manager_ids=list(dict.fromkeys(args.manager)),
            timezone=args.timezone or settings.default_timezone,
            locale=args.locale or settings.default_locale,
            holidays=args.holidays,
            said_did=args.said_did,
        )
        try:
            saved = teams.save(sessions, directory, workspace_id=workspace_id, form=form, now=now)
        except teams.TeamError as exc:
            problems = "; ".join(
                f"{field}: {teams.ERROR_TEXT[code]}" for field, code in exc.errors.items()
            )
            raise CommandError(f"team not created: {problems}") from None
        print(
            f"Team {saved['name']!r} created from {saved['channel']}: "
            f"{saved['members']} members, managers {', '.join(saved['managers'])}"
        )
        return 0
    if args.team_command == "sync":
        with session_scope(sessions) as session:
            team_ids = [t.id for t in queries.list_teams(session, workspace_id=workspace_id)]
        for team_id in team_ids:
            result = teams.sync(sessions, directory, team_id=team_id, now=now)
            if result is not None:
                print(
                    f"{result.name}: {result.members} members "
                    f"({result.added} joined, {result.removed} left)"
                )
        return 0
    raise AssertionError(args.team_command)


def export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import exports as exporting
    from bot.runtime.services import utcnow

    engine = migrated_engine(settings)
    with session_scope(make_session_factory(engine)) as session:
        workspace_id = workspace_given(session, args.workspace)
        team = team_named(session, args.team, workspace_id=workspace_id) if args.team else None
        team_id = team.id if team else None
        if args.what == "pulses":
            rows = exporting.pulses(session, settings, workspace_id=workspace_id, team_id=team_id)
            fields = exporting.PULSE_FIELDS
        elif args.what == "walks":
            rows = exporting.walks(session, workspace_id=workspace_id, team_id=team_id)
            fields = exporting.WALK_FIELDS
        else:
            rows = exporting.irritants(session, workspace_id=workspace_id, team_id=team_id)
            fields = exporting.IRRITANT_FIELDS
        audit.record(
            session,
            actor=audit.CLI,
            action="data.exported",
            now=utcnow(),
            workspace_id=workspace_id,
            what=args.what,
            format=args.format,
            team=team.name if team else None,
            rows=len(rows),
        )
        sys.stdout.write(exporting.write(rows, fields, fmt=args.format))
    return 0


def workspace_given(session: Session, slack_team_id: str | None) -> int | None:
    """The database ID of the workspace `--workspace` names (None: every workspace)."""
    if not slack_team_id:
        return None
    workspace = queries.get_workspace(session, slack_team_id=slack_team_id)
    if workspace is None:
        raise CommandError(f"--workspace: no data for {slack_team_id}")
    return workspace.id


def team_named(session: Session, name: str, *, workspace_id: int | None) -> Team:
    """The team `--team` names (any case), in one workspace or, when None, in every one."""
    matches = [
        t
        for t in queries.list_teams(session, workspace_id=workspace_id)
        if t.name.lower() == name.strip().lower()
    ]
    if not matches:
        raise CommandError(f"--team: no team called {name!r}")
    if len(matches) > 1:
        raise CommandError(f"--team: {name!r} exists in several workspaces; add --workspace")
    return matches[0]


def workspace_client(settings: Settings, slack_team_id: str | None) -> tuple[WebClient, str]:
    """A client for one workspace and its Slack team ID (from auth.test when not given)."""
    from slack_sdk.errors import SlackApiError

    from bot.runtime import workspaces
    from bot.runtime.clients import installation_store, slack_client

    token = settings.slack_bot_token
    org_wide = False
    if settings.multi_workspace and slack_team_id:
        engine = make_engine(settings.database_url)
        with session_scope(make_session_factory(engine)) as session:
            workspace = queries.get_workspace(session, slack_team_id=slack_team_id)
            enterprise_id = workspace.enterprise_id if workspace else None
            org_wide = bool(workspace and workspace.is_enterprise_install)
        bot = workspaces.find_bot(
            installation_store(settings, engine),
            slack_team_id=slack_team_id,
            enterprise_id=enterprise_id,
            is_enterprise_install=org_wide,
        )
        if bot is None:
            raise CommandError(f"--workspace: the app is not installed in {slack_team_id}")
        token, org_wide = bot.bot_token, bool(bot.is_enterprise_install)
    if not token:
        raise CommandError("--workspace: required in multi-workspace mode")
    client = slack_client(settings, token)
    try:
        identity = client.auth_test()
    except SlackApiError as exc:
        raise CommandError(f"Slack refused the bot token: {exc.response.get('error')}") from None
    if org_wide:
        return client, str(slack_team_id)  # an organisation's token: auth.test names no workspace
    if slack_team_id and identity["team_id"] != slack_team_id:
        raise CommandError(f"--workspace: the bot token belongs to {identity['team_id']}")
    return client, identity["team_id"]


def _print_table(rows: list[dict]) -> None:
    headers = ("name", "channel", "managers", "members", "timezone", "locale", "holidays")
    lines = [
        [str(", ".join(row[h]) if isinstance(row[h], list) else row[h]) for h in headers]
        for row in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    for line in [list(headers), *lines]:
        sys.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        sys.stdout.write("\n")
