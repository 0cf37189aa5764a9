"""The admins' notice: 45 days into a quarter, each admin (SYMMETRY_ADMINS and the workspace's
owners and admins) gets one message listing the teams with no walk done yet for the quarter;
nothing when every team is done.

A workspace's quarter is counted in UTC. The teams listed are those whose walk was due by
the 45th day (they were prompted; a team made later, or prompted later, is not blamed yet).
That list only shrinks afterwards (a walk done stays done): a workspace whose teams were all
done then never gets a notice for that quarter, and one that got it never gets it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.irritants.notify import admins
from bot.shared.blocks import render
from bot.shared.policy import Policy
from bot.shared.sending import Recipient, queue
from bot.shared.worktime import zone
from bot.teams.directory import Directory, is_human, locale_for
from bot.walks.quarters import Quarter
from storage import outbox
from storage import walks as store
from storage.db import session_scope
from storage.models import Team

NOTICE_AFTER = timedelta(days=45)
SHOWN = 160  # teams listed in one message, four to a section (Slack: 50 blocks a message)
KIND = "walk_notice"


def midnight(day: date, timezone: str | None) -> datetime:
    """The instant `day` begins in `timezone`."""
    return datetime.combine(day, time(0), tzinfo=zone(timezone))


def notice_at(quarter: Quarter) -> datetime:
    return midnight(quarter.start + NOTICE_AFTER, "UTC")


def key_prefix(workspace_id: int, quarter: Quarter) -> str:
    return f"walk-notice:{workspace_id}:{quarter.label}:"


def overdue(session: Session, *, workspace_id: int, quarter: Quarter) -> list[Team]:
    """The workspace's teams whose walk was due by the notice's day and is not done."""
    due_before = notice_at(quarter)
    return [
        walk.team
        for walk in store.overdue(
            session, workspace_id=workspace_id, quarter=quarter.label, due_before=due_before
        )
    ]


def due(session: Session, teams: Sequence[Team], *, now: datetime) -> list[tuple[int, Quarter]]:
    """(workspace ID, quarter) of the notices to send at `now`, among `teams`' workspaces."""
    quarter = Quarter.of(now.astimezone(UTC).date())
    if not notice_at(quarter) <= now < midnight(quarter.end, "UTC"):
        return []
    found = []
    for workspace_id in sorted({team.workspace_id for team in teams}):
        if outbox.any_with_prefix(session, prefix=key_prefix(workspace_id, quarter)):
            continue  # given already
        if overdue(session, workspace_id=workspace_id, quarter=quarter):
            found.append((workspace_id, quarter))
    return found


def notify(
    sessions: sessionmaker[Session],
    policy: Policy,
    directory: Directory,
    workspace_id: int,
    *,
    quarter: Quarter,
    now: datetime,
) -> int:
    """Queue the notice for each admin of the workspace; how many were queued.

    Slack is asked first, with no transaction open, who the owners and admins are today.
    """
    if directory.client_for(workspace_id) is None:
        return 0
    directory.refresh_all(workspace_id=workspace_id, now=now)
    with session_scope(sessions) as session:
        recipients = admins(session, policy, workspace_id=workspace_id)
    # SYMMETRY_ADMINS not refreshed with the workspace (from another one, say).
    profiles = directory.profiles(workspace_id=workspace_id, user_ids=recipients, now=now)
    queued = 0
    with session_scope(sessions) as session:
        if outbox.any_with_prefix(session, prefix=key_prefix(workspace_id, quarter)):
            return 0  # a second clock gave it a moment ago
        teams = overdue(session, workspace_id=workspace_id, quarter=quarter)
        if not teams:
            return 0
        for admin in recipients:
            profile = profiles.get(admin)
            if profile is not None and not is_human(profile):
                continue
            locale = locale_for(session, policy, workspace_id=workspace_id, user_id=admin)
            message = render(
                "walk_overdue",
                locale,
                quarter=quarter,
                teams=teams[:SHOWN],
                more=max(0, len(teams) - SHOWN),
                total=len(teams),
            )
            queued += queue(
                session,
                to=Recipient(workspace_id, admin, profile.timezone if profile else None),
                key=f"{key_prefix(workspace_id, quarter)}{admin}",
                kind=KIND,
                payload=message,
                earliest=now,
                default_timezone=policy.default_timezone,
                latest=midnight(quarter.end, "UTC"),
            )
    return queued
