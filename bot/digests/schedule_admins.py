"""When the admins' weekly digest is queued: each admin of a workspace (SYMMETRY_ADMINS and its
admins) gets one line per team, at 09:00 in their own zone (else the default) on their
weekday, Monday unless they chose another; the same catch-up and the same "off" as a
manager's digest (bot.digests.timing). Admins belong to no team: only weekends move it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.digests import compose
from bot.digests.planning import not_recorded, queue_due, windows
from bot.digests.timing import MONDAY, Window, maybe_due
from bot.digests.weeks import Week
from bot.irritants.notify import admins
from bot.shared.policy import Policy
from bot.shared.sending import Recipient
from bot.teams.directory import Directory, is_human, locale_for
from storage import digest_records as records
from storage import queries
from storage.db import session_scope


def key(workspace_id: int, admin: str, week: str) -> str:
    return f"digest-admins:{workspace_id}:{admin}:{week}"


def candidates(
    session: Session, policy: Policy, workspaces: dict[int, datetime], *, now: datetime
) -> list[tuple[int, list[str] | None]]:
    """(workspace ID, the admins whose digest may be due), read from the cache, for the
    `workspaces` (ID: when their first team was made); None in place of the admins when none
    is known yet and a digest may be due (Slack is then asked)."""
    found: list[tuple[int, list[str] | None]] = []
    for workspace_id, first_team in sorted(workspaces.items()):
        people = admins(session, policy, workspace_id=workspace_id)
        if not people:
            if maybe_due(now, weekday=MONDAY, holidays=None):
                found.append((workspace_id, None))
            continue
        cached = queries.get_slack_users(session, workspace_id=workspace_id, user_ids=people)
        chosen = records.preferences(session, workspace_id=workspace_id, user_ids=people)
        waiting = {
            admin: windows(
                now,
                policy,
                preference=chosen.get(admin),
                profile=cached.get(admin),
                team_zone=None,
                holidays=None,
                existing_since=first_team,
                cached=True,
            )
            for admin in people
        }
        left = not_recorded(
            session,
            workspace_id=workspace_id,
            team_id=None,
            kind=records.ADMINS,
            waiting={a: weeks for a, weeks in waiting.items() if weeks},
        )
        if left:
            found.append((workspace_id, sorted(left)))
    return found


def plan(
    sessions: sessionmaker[Session],
    policy: Policy,
    directory: Directory,
    workspace_id: int,
    people: list[str] | None,
    first_team: datetime,
    *,
    now: datetime,
) -> int:
    """Queue the admins' digests of the workspace due at `now` (none due before its first
    team was made, `first_team`); how many were queued. Who the admins are (when none was
    known) and their profiles are asked of Slack first, with no transaction open."""
    if directory.client_for(workspace_id) is None:
        return 0
    if people is None:
        directory.refresh_all(workspace_id=workspace_id, now=now)
        with session_scope(sessions) as session:
            people = admins(session, policy, workspace_id=workspace_id)
    profiles = directory.profiles(workspace_id=workspace_id, user_ids=people, now=now)
    queued = 0
    with session_scope(sessions) as session:
        chosen = records.preferences(session, workspace_id=workspace_id, user_ids=people)
        messages: dict[tuple[str, Week], dict[str, Any] | None] = {}

        def content(locale: str, planned: Window) -> dict[str, Any] | None:
            """The same for every admin reading this language (computed once)."""
            if (locale, planned.week) not in messages:
                messages[locale, planned.week] = compose.admins_message(
                    session,
                    policy,
                    workspace_id=workspace_id,
                    week=planned.week,
                    locale=locale,
                    now=now,
                )
            return messages[locale, planned.week]

        for admin in people:
            profile = profiles.get(admin)
            if profile is not None and not is_human(profile):
                continue
            locale = locale_for(session, policy, workspace_id=workspace_id, user_id=admin)
            queued += queue_due(
                session,
                policy,
                to=Recipient(workspace_id, admin, profile.timezone if profile else None),
                team_id=None,
                kind=records.ADMINS,
                found=windows(
                    now,
                    policy,
                    preference=chosen.get(admin),
                    profile=profile,
                    team_zone=None,
                    holidays=None,
                    existing_since=first_team,
                ),
                key=lambda planned, admin=admin: key(workspace_id, admin, planned.week.label),
                content=lambda planned, _since, locale=locale: content(locale, planned),
                now=now,
            )
    return queued
