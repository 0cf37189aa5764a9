"""`symmetry export person`, `symmetry forget` (privacy requests, bot/runtime/privacy.py) and
`symmetry audit` (the audit trail, storage/audit.py). None asks Slack anything.

An unknown person or workspace is one line on stderr and exit status 2, with nothing read
or changed.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from datetime import UTC, date, datetime

from bot.runtime import privacy
from bot.runtime.config import Settings, policy_of
from bot.runtime.console import print_json
from bot.runtime.operations import migrated_engine
from bot.runtime.services import utcnow
from storage import audit
from storage.db import make_session_factory, session_scope

AUDIT_FIELDS = ("at", "workspace", "actor", "action", "detail")


def _refuse(message: str) -> int:
    print(f"symmetry: {message}", file=sys.stderr)
    return 2


def export_person(args: argparse.Namespace, settings: Settings) -> int:
    if not args.user:
        return _refuse("export person: --user USER_ID is required")
    policy = policy_of(settings)
    engine = migrated_engine(settings)
    with session_scope(make_session_factory(engine)) as session:
        try:
            person = privacy.subject(
                session, policy, user_id=args.user, slack_team_id=args.workspace
            )
        except privacy.UnknownInput as exc:
            return _refuse(str(exc))
        print_json(privacy.export(session, policy, person, now=utcnow()))
    return 0


def forget(args: argparse.Namespace, settings: Settings) -> int:
    policy = policy_of(settings)
    engine = migrated_engine(settings)
    sessions = make_session_factory(engine)
    # A dry run counts in a transaction that is rolled back: it changes nothing.
    with sessions() as session:
        try:
            person = privacy.subject(
                session, policy, user_id=args.user, slack_team_id=args.workspace
            )
        except privacy.UnknownInput as exc:
            return _refuse(str(exc))
        counts = privacy.forget(session, policy, person, now=utcnow(), dry_run=args.dry_run)
        if args.dry_run:
            session.rollback()
        else:
            session.commit()
    verb = "would remove or unname" if args.dry_run else "removed or unnamed"
    for kind, count in counts.items():
        print(f"{kind}: {count}")
    total = sum(counts.values())
    print(f"symmetry: {verb} {total} record{'s' if total != 1 else ''} about {person.user_id}")
    return 0


def show_audit(args: argparse.Namespace, settings: Settings) -> int:
    start = None
    if args.since:
        try:
            start = _day_or_instant(args.since)
        except ValueError:
            return _refuse(f"--since: not a date (YYYY-MM-DD) or ISO-8601 instant: {args.since!r}")
    engine = migrated_engine(settings)
    with make_session_factory(engine)() as session:
        rows = [
            {
                "at": r.at.isoformat(),
                "workspace": r.workspace,
                "actor": r.actor,
                "action": r.action,
                "detail": r.detail,
            }
            for r in audit.since(session, start=start)
        ]
    if args.format == "json":
        print_json(rows)
        return 0
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=AUDIT_FIELDS, lineterminator="\n")
    writer.writeheader()
    from bot.runtime.exports import _cell

    for row in rows:
        writer.writerow({field: _cell(value) for field, value in row.items()})
    sys.stdout.write(out.getvalue())
    return 0


def _day_or_instant(value: str) -> datetime:
    """A date (its midnight UTC) or an ISO-8601 instant (UTC when it has no offset)."""
    if len(value) == 10:
        day = date.fromisoformat(value)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    instant = datetime.fromisoformat(value)
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
