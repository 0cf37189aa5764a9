"""The digest's commands: `symmetry digest preview` (a team's digest rendered, sent to nobody)
and `symmetry nps import FILE.csv` (customer NPS per team and month). Neither asks Slack
anything: they read and write the database only."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.digests import nps_import, preview
from bot.digests.compose import as_text
from bot.runtime.config import Settings, policy_of
from bot.runtime.console import CommandError, print_json
from bot.runtime.operations import migrated_engine, parse_instant, team_named, workspace_given
from bot.runtime.services import utcnow
from storage.db import make_session_factory, session_scope


def digest_preview(args: argparse.Namespace, settings: Settings) -> int:
    policy = policy_of(settings)
    now = parse_instant(args.now) if args.now else utcnow()
    engine = migrated_engine(settings)
    try:
        # Read only: the session is closed without a commit, so nothing is queued or kept.
        with make_session_factory(engine)() as session:
            team = team_named(
                session, args.team, workspace_id=workspace_given(session, args.workspace)
            )
            try:
                week, instant = preview.when(team, args.week, now=now)
                found = preview.digest(session, policy, team=team, week=week, now=instant)
            except preview.PreviewError as exc:
                raise CommandError(str(exc)) from None
            if args.format == "json":
                print_json(preview.payload(found))
            else:
                sys.stdout.write(as_text(found).rstrip("\n") + "\n")
            if args.png:
                drawn = preview.chart_png(session, policy, team=team, week=week, now=instant)
                _write_chart(Path(args.png), drawn)
    finally:
        engine.dispose()
    return 0


def _write_chart(path: Path, drawn: bytes | None) -> None:
    if drawn is None:
        print("no chart: nothing to draw yet", file=sys.stderr)
        return
    try:
        path.write_bytes(drawn)
    except OSError as exc:
        raise CommandError(f"--png: cannot write {path}: {exc.strerror}") from None
    print(f"chart written to {path}", file=sys.stderr)


def nps_import_file(args: argparse.Namespace, settings: Settings) -> int:
    now = parse_instant(args.now) if args.now else utcnow()
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    engine = migrated_engine(settings)
    try:
        with session_scope(make_session_factory(engine)) as session:
            workspace_id = workspace_given(session, args.workspace)
            try:
                recorded = nps_import.import_csv(
                    session, data=data, workspace_id=workspace_id, now=now
                )
            except nps_import.BadFile as exc:
                for error in exc.errors:
                    print(error, file=sys.stderr)
                rows = f"{exc.bad_rows} bad row{'s' if exc.bad_rows != 1 else ''} in "
                raise CommandError(
                    f"nothing recorded: {rows if exc.bad_rows else ''}{path.name}"
                ) from None
    finally:
        engine.dispose()
    for row in recorded:
        figures, replaced = row.figures, row.replaced
        line = f"{row.team} {figures.month}: NPS {figures.nps} ({figures.responses} responses)"
        if replaced is not None:
            line += f", replaces NPS {replaced.nps} ({replaced.responses} responses)"
        print(line)
    print(f"symmetry: {len(recorded)} month{'s' if len(recorded) != 1 else ''} recorded")
    return 0
