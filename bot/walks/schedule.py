"""When the bot speaks about a team's quarterly sensory walk: computed by the clock from the
database and `now`.

- **The prompt**, to each manager, on the quarter's first working day (the team's public
  holidays count like weekends) at 09:30 in the manager's own time zone. It is planned a
  little ahead, so that each DM waits in the outbox for that instant. A team created after
  that day (or a walk first planned later, the clock having been down) is prompted at once,
  unless fewer than 30 days of the quarter remain: its first prompt is then the next
  quarter's. A manager added to a team whose walk is not done is prompted at once too.
- **The reminder**, one per manager, 14 days after their prompt (`WalkPrompt.remind_at`,
  which "Remind me in a week" moves), while the walk is not done.
- **The admins' notice** (bot.walks.overdue), 45 days into the quarter.

The quarter is the team's, in its time zone. Nothing about a quarter is sent once it has
ended: every message carries the quarter's end as its `latest`, so that one still waiting in
the outbox then expires instead. Each team is planned on its own: one that fails is logged
and left for the next tick, and the others go on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.shared.blocks import render
from bot.shared.i18n import pick_locale
from bot.shared.policy import Policy
from bot.shared.sending import Recipient, queue, timezone_for
from bot.shared.tenants import Units, reachable
from bot.shared.worktime import zone
from bot.teams.directory import Directory, Profile, is_human
from bot.walks import overdue
from bot.walks.overdue import midnight
from bot.walks.quarters import PROMPT_TIME, Quarter
from storage import queries
from storage import walks as store
from storage.db import session_scope
from storage.models import Team, Walk, WalkPrompt

# Planned this long before the first working day begins in the team's zone, so that the DM
# of a manager in a zone ahead of the team's is queued before their 09:30.
PLAN_AHEAD = timedelta(days=2)
REMIND_AFTER = timedelta(days=14)
MIN_DAYS_LEFT = 30  # a team created later in a quarter starts with the next one
PROMPT, REMINDER = "walk_prompt", "walk_reminder"


@dataclass
class Report:
    prompts: int = 0
    reminders: int = 0
    notices: int = 0

    def __str__(self) -> str:
        return (
            f"{self.prompts} prompt(s), {self.reminders} reminder(s) and {self.notices} "
            f"admins' notice(s) queued"
        )


def ends_at(quarter: Quarter, team: Team) -> datetime:
    """When the quarter ends for the team: nothing about it is sent from then on."""
    return midnight(quarter.end, team.timezone)


def closes_at(quarter: Quarter, team: Team) -> datetime:
    """When the quarter's prompt buttons stop working (14 days after its end)."""
    return midnight(quarter.closes, team.timezone)


def key_prefix(team_id: int, quarter: str) -> str:
    """What the outbox keys of a team's prompts and reminders for a quarter start with."""
    return f"walk:{team_id}:{quarter}:"


def reminder_prefix(team_id: int, quarter: str, manager_id: str) -> str:
    return f"{key_prefix(team_id, quarter)}reminder:{manager_id}:"


def to_prompt(session: Session, team: Team, now: datetime) -> list[tuple[Quarter, list[str]]]:
    """The managers to prompt at `now`, by quarter (this one, or the next when close): those
    with no prompt yet for a walk not done. A quarter whose first working day has passed
    gets its walk only while 30 days of it remain (a team created, or first planned, later
    starts with the next one); a team created after `now` has none yet."""
    if team.created_at > now:
        return []
    today = now.astimezone(zone(team.timezone)).date()
    found = []
    for quarter in (Quarter.of(today), Quarter.of(today).next):
        first = quarter.first_working_day(team.holidays)
        if not midnight(first, team.timezone) - PLAN_AHEAD <= now < ends_at(quarter, team):
            continue
        walk = store.of_quarter(session, team_id=team.id, quarter=quarter.label)
        # Nobody prompted yet (the walk may exist: the Home tab or `/symmetry walk` made it).
        late = walk is None or not walk.prompts
        if late and today > first and quarter.days_left(today) < MIN_DAYS_LEFT:
            continue
        if walk is not None and walk.done_at is not None:
            continue
        prompted = {p.manager_id for p in walk.prompts} if walk else set()
        managers = sorted(m.user_id for m in team.managers if m.user_id not in prompted)
        if managers:
            found.append((quarter, managers))
    return found


def due_reminders(
    session: Session, *, now: datetime, team_id: int | None = None
) -> list[WalkPrompt]:
    """Reminders to queue now: due, never queued, the walk not done, its quarter not over,
    and the person still a manager of the team."""
    today = Quarter.of(now.astimezone(UTC).date())
    # The teams' zones put them at most a day from UTC: their quarter is one of these.
    recent = [today.previous.label, today.label, today.next.label]
    found = []
    for prompt in store.due_reminders(session, now=now, quarters=recent, team_id=team_id):
        team, quarter = prompt.walk.team, Quarter.parse(prompt.walk.quarter)
        managers = {m.user_id for m in team.managers}
        if quarter and now < ends_at(quarter, team) and prompt.manager_id in managers:
            found.append(prompt)
    return found


def plan(
    sessions: sessionmaker[Session],
    policy: Policy,
    directory: Directory,
    *,
    now: datetime,
    units: Units | None = None,
) -> Report:
    """Queue the prompts, reminders and admins' notices due at `now`.

    Who needs what is read first; their profiles (time zone, language) are then asked of the
    directory with no transaction open; each team is planned last, in its own transaction.
    Each team, and each workspace's notice, is a unit of its own (`units`).
    """
    units = units or Units(sessions, directory.client_for, now, stage="walks")
    report = Report()
    with session_scope(sessions) as session:
        teams = [t for t in queries.list_teams(session, members=False) if reachable(t.workspace)]
        waiting: dict[int, set[str]] = {}
        for prompt in due_reminders(session, now=now):
            waiting.setdefault(prompt.walk.team_id, set()).add(prompt.manager_id)
        due = []
        for team in teams:
            needed = partial(_needed, session, team, now)
            people = units.alone(
                f"team {team.id}", needed, workspace_id=team.workspace_id, reading=session
            )
            people = (people or set()) | waiting.get(team.id, set())
            if people:
                due.append((team.id, team.workspace_id, sorted(people)))
        due_notices = partial(overdue.due, session, teams, now=now)
        notices = units.alone("admins' notices", due_notices, reading=session) or []
    for team_id, workspace_id, people in due:
        done = units.alone(
            f"team {team_id}",
            partial(_plan_team, sessions, policy, directory, team_id, workspace_id, people, now),
            workspace_id=workspace_id,
        )
        if done:
            report.prompts += done[0]
            report.reminders += done[1]
    for workspace_id, quarter in notices:
        notify = partial(
            overdue.notify, sessions, policy, directory, workspace_id, quarter=quarter, now=now
        )
        what = f"admins' notice {workspace_id}"
        report.notices += units.alone(what, notify, workspace_id=workspace_id) or 0
    return report


def _needed(session: Session, team: Team, now: datetime) -> set[str]:
    return {m for _, managers in to_prompt(session, team, now) for m in managers}


def _plan_team(
    sessions: sessionmaker[Session],
    policy: Policy,
    directory: Directory,
    team_id: int,
    workspace_id: int,
    people: Iterable[str],
    now: datetime,
) -> tuple[int, int]:
    if directory.client_for(workspace_id) is None:
        return 0, 0  # uninstalled, or no token: nobody to tell
    profiles = directory.profiles(workspace_id=workspace_id, user_ids=people, now=now)
    with session_scope(sessions) as session:
        team = queries.get_team(session, team_id=team_id)
        if team is None or not reachable(team.workspace):
            return 0, 0
        prompts = sum(
            _prompt(session, policy, team, quarter, managers, profiles=profiles, now=now)
            for quarter, managers in to_prompt(session, team, now)
        )
        reminders = 0
        for prompt in due_reminders(session, now=now, team_id=team.id):
            prompt.reminded_at = now
            assert prompt.remind_at is not None  # due_reminders keeps only those due
            quarter = Quarter.parse(prompt.walk.quarter)
            assert quarter is not None  # due_reminders keeps only walks of a known quarter
            reminders += _send(
                session,
                policy,
                team=team,
                walk=prompt.walk,
                quarter=quarter,
                manager=prompt.manager_id,
                profile=profiles.get(prompt.manager_id),
                reminder=prompt.remind_at,
                earliest=now,
            )
    return prompts, reminders


def _prompt(
    session: Session,
    policy: Policy,
    team: Team,
    quarter: Quarter,
    managers: list[str],
    *,
    profiles: dict[str, Profile],
    now: datetime,
) -> int:
    """Make the quarter's walk and a prompt for each of `managers`, and queue them."""
    # Someone Slack no longer knows is queued too: delivery marks it dead, once.
    managers = [m for m in managers if m not in profiles or is_human(profiles[m])]
    if not managers:
        return 0
    first = quarter.first_working_day(team.holidays)
    instants = {}
    for manager in managers:
        profile = profiles.get(manager)
        own = profile.timezone if profile else None
        tz = timezone_for(own, team.timezone, policy.default_timezone)
        # A late plan (a team created mid-quarter, a manager added) prompts at once.
        instants[manager] = max(now, datetime.combine(first, PROMPT_TIME, tzinfo=tz))
    walk = store.get_or_create(
        session, team_id=team.id, quarter=quarter.label, due_at=min(instants.values())
    )
    queued = 0
    for manager in managers:
        at = instants[manager]
        try:
            with session.begin_nested():
                session.add(
                    WalkPrompt(
                        walk_id=walk.id,
                        manager_id=manager,
                        prompted_at=at,
                        remind_at=at + REMIND_AFTER,
                    )
                )
        except IntegrityError:
            continue  # a second clock prompted them a moment ago
        queued += _send(
            session,
            policy,
            team=team,
            walk=walk,
            quarter=quarter,
            manager=manager,
            profile=profiles.get(manager),
            reminder=None,
            earliest=at,
        )
    return queued


def _send(
    session: Session,
    policy: Policy,
    *,
    team: Team,
    walk: Walk,
    quarter: Quarter,
    manager: str,
    profile: Profile | None,
    reminder: datetime | None,
    earliest: datetime,
) -> bool:
    """Queue a manager's prompt, or the reminder due at `reminder`, in their language, for
    their working hours, never after the quarter ends."""
    own_locale, own_zone = (profile.locale, profile.timezone) if profile else (None, None)
    locale = pick_locale(own_locale, team.locale, default=policy.default_locale)
    message = render(
        "walk_prompt",
        locale,
        team=team,
        walk=walk,
        quarter=quarter,
        last_day=quarter.end - timedelta(days=1),
        reminder=reminder is not None,
    )
    if reminder is None:
        key, kind = f"{key_prefix(team.id, quarter.label)}prompt:{manager}", PROMPT
    else:
        # A moved reminder is another one: its key holds the instant it was due.
        stamp = reminder.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        key, kind = f"{reminder_prefix(team.id, quarter.label, manager)}{stamp}", REMINDER
    return queue(
        session,
        to=Recipient(team.workspace_id, manager, own_zone, team.timezone, team.holidays),
        key=key,
        kind=kind,
        payload=message,
        earliest=earliest,
        default_timezone=policy.default_timezone,
        latest=ends_at(quarter, team),
    )
