"""When the weekly digests are queued: computed by the clock from the database and `now`.

- **Each manager's digest of each team they manage**, due at 09:00 in the manager's own time
  zone (else the team's, else the default) on their weekday (Monday unless they chose another
  in `/symmetry digest`), a public holiday of the team's moving it to the next working day;
  caught up until 19:00 of the working day after, then skipped (bot.digests.timing).
- **"You said, we did"** in the team's channel, for teams that turned it on: Monday 09:00
  in the team's zone, the same catch-up, when something was resolved since the last post.
- **The admins' digest** (bot.digests.schedule_admins).

A digest is planned once due: its content is computed then, and queued for at once with the
catch-up deadline as its `latest`, so that one still unsent then expires. Its outbox key is
one per reader, team and ISO week, and a `DigestRecord` written in the same transaction says
where the period it covered ended (the next one starts there): nothing is sent twice, not
when two clocks run, nor when the weekday is changed after this week's went. Each team is
planned on its own: one that fails is logged and left for the next tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.orm import Session, sessionmaker

from bot.digests import compose
from bot.digests import schedule_admins as admins_digest
from bot.digests.drafting import manager_draft
from bot.digests.planning import Report, not_recorded, queue_due, windows
from bot.digests.timing import MONDAY, Window, due, window
from bot.shared.i18n import pick_locale
from bot.shared.policy import Policy
from bot.shared.sending import Recipient, timezone_for
from bot.shared.tenants import Units, reachable
from bot.teams.directory import Directory, Profile, is_human
from storage import digest_records as records
from storage import queries
from storage.db import session_scope
from storage.models import Team

FIRST_CHANNEL_PERIOD = timedelta(days=7)  # what the first "you said, we did" covers


def manager_key(team_id: int, manager_id: str, week: str) -> str:
    return f"digest:{team_id}:{manager_id}:{week}"


def channel_key(team_id: int, week: str) -> str:
    return f"digest:{team_id}:channel:{week}"


def plan(
    sessions: sessionmaker[Session],
    policy: Policy,
    directory: Directory,
    *,
    now: datetime,
    units: Units | None = None,
) -> Report:
    """Queue the digests due at `now`.

    Who may be due is read first, from the cached profiles; their profiles are then asked of
    the directory with no transaction open; each team (and each workspace's admins) is
    planned last, in its own transaction, with the zones those profiles give. Each is a unit
    of its own (`units`).
    """
    units = units or Units(sessions, directory.client_for, now, stage="digests")
    report = Report()
    with session_scope(sessions) as session:
        teams = [t for t in queries.list_teams(session, members=False) if reachable(t.workspace)]
        due_teams = []
        for team in teams:
            candidates = partial(_candidates, session, policy, team, now)
            found = units.alone(
                f"team {team.id}", candidates, workspace_id=team.workspace_id, reading=session
            )
            if found:
                due_teams.append((team.id, team.workspace_id, *found))
        first_teams: dict[int, datetime] = {}
        for team in teams:
            made = first_teams.get(team.workspace_id, team.created_at)
            first_teams[team.workspace_id] = min(made, team.created_at)
        admins = partial(admins_digest.candidates, session, policy, first_teams, now=now)
        due_admins = units.alone("admins' digests", admins, reading=session) or []
    for team_id, workspace_id, managers, channel in due_teams:
        work = partial(
            _plan_team, sessions, policy, directory, team_id, workspace_id, managers, channel, now
        )
        done = units.alone(f"team {team_id}", work, workspace_id=workspace_id)
        if done:
            report.managers += done[0]
            report.channels += done[1]
    for workspace_id, people in due_admins:
        since = first_teams[workspace_id]
        work = partial(admins_digest.plan, sessions, policy, directory, workspace_id, people, since)
        what = f"admins' digest {workspace_id}"
        report.admins += units.alone(what, partial(work, now=now), workspace_id=workspace_id) or 0
    return report


def _candidates(
    session: Session, policy: Policy, team: Team, now: datetime
) -> tuple[list[str], bool] | None:
    """(the managers whose digest may be due, whether the channel post is), read from the
    cache; None when nothing is."""
    managers = sorted(m.user_id for m in team.managers)
    cached = queries.get_slack_users(session, workspace_id=team.workspace_id, user_ids=managers)
    chosen = records.preferences(session, workspace_id=team.workspace_id, user_ids=managers)
    waiting = {
        manager: windows(
            now,
            policy,
            preference=chosen.get(manager),
            profile=cached.get(manager),
            team_zone=team.timezone,
            holidays=team.holidays,
            existing_since=team.created_at,
            cached=True,
        )
        for manager in managers
    }
    due_managers = not_recorded(
        session,
        workspace_id=team.workspace_id,
        team_id=team.id,
        kind=records.MANAGER,
        waiting={m: found for m, found in waiting.items() if found},
    )
    channel = team.said_did and bool(_channel_windows(session, policy, team, now))
    return (sorted(due_managers), channel) if due_managers or channel else None


def _channel_windows(session: Session, policy: Policy, team: Team, now: datetime) -> list[Window]:
    """The weeks whose "you said, we did" post is due and not done."""
    tz = timezone_for(team.timezone, None, policy.default_timezone)
    found = [
        w
        for w in due(now, weekday=MONDAY, tz=tz, holidays=team.holidays)
        if w.opens >= team.created_at
    ]
    left = not_recorded(
        session,
        workspace_id=team.workspace_id,
        team_id=team.id,
        kind=records.CHANNEL,
        waiting={team.channel_id: found} if found else {},
    )
    return left.get(team.channel_id, [])


def _plan_team(
    sessions: sessionmaker[Session],
    policy: Policy,
    directory: Directory,
    team_id: int,
    workspace_id: int,
    managers: Sequence[str],
    channel: bool,
    now: datetime,
) -> tuple[int, int]:
    if directory.client_for(workspace_id) is None:
        return 0, 0  # uninstalled, or no token: nobody to tell
    profiles = directory.profiles(workspace_id=workspace_id, user_ids=managers, now=now)
    with session_scope(sessions) as session:
        team = queries.get_team(session, team_id=team_id)
        if team is None or not reachable(team.workspace):
            return 0, 0
        still = {m.user_id for m in team.managers}
        chosen = records.preferences(session, workspace_id=workspace_id, user_ids=managers)
        queued = 0
        for manager in managers:
            profile = profiles.get(manager)
            if manager not in still or (profile is not None and not is_human(profile)):
                continue
            found = windows(
                now,
                policy,
                preference=chosen.get(manager),
                profile=profile,
                team_zone=team.timezone,
                holidays=team.holidays,
                existing_since=team.created_at,
            )
            queued += _manager(session, policy, team, manager, profile, found, now)
        posted = _said_did(session, policy, team, now) if channel and team.said_did else 0
    return queued, posted


def _manager(
    session: Session,
    policy: Policy,
    team: Team,
    manager: str,
    profile: Profile | None,
    found: list[Window],
    now: datetime,
) -> int:
    """Queue the manager's digests of `team` for the weeks `found` due, in their language."""
    own_zone, own_locale = (profile.timezone, profile.locale) if profile else (None, None)
    locale = pick_locale(own_locale, team.locale, default=policy.default_locale)

    def content(planned: Window, since: datetime | None) -> dict:
        draft = manager_draft(
            session,
            policy,
            team=team,
            manager_id=manager,
            week=planned.week,
            locale=locale,
            now=now,
            since=since,
        )
        return draft.queued()

    return queue_due(
        session,
        policy,
        to=Recipient(team.workspace_id, manager, own_zone, team.timezone, team.holidays),
        team_id=team.id,
        kind=records.MANAGER,
        found=found,
        key=lambda planned: manager_key(team.id, manager, planned.week.label),
        content=content,
        now=now,
    )


def _said_did(session: Session, policy: Policy, team: Team, now: datetime) -> int:
    """Queue the team's "you said, we did" post due now, when something was resolved since
    the last one (the 7 days before now, for the first). A post says "this week": it never
    reaches back past the previous week's Monday 09:00, even when the last one is older (the
    setting was off meanwhile); a post on time always started there or later."""
    tz = timezone_for(team.timezone, None, policy.default_timezone)

    def content(planned: Window, since: datetime | None) -> dict | None:
        before = window(planned.week.previous, weekday=MONDAY, tz=tz, holidays=team.holidays)
        return compose.said_did_message(
            session,
            policy,
            team=team,
            since=max(since or now - FIRST_CHANNEL_PERIOD, before.opens),
            until=now,
            locale=team.locale,
        )

    return queue_due(
        session,
        policy,
        to=Recipient(team.workspace_id, team.channel_id, None, team.timezone, team.holidays),
        team_id=team.id,
        kind=records.CHANNEL,
        found=_channel_windows(session, policy, team, now),
        key=lambda planned: channel_key(team.id, planned.week.label),
        content=content,
        now=now,
    )
