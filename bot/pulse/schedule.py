"""When rounds happen and who gets them: computed by the clock from the database and `now`.

A team's round belongs to a period (its survey day, in the team's time zone). It is planned
the day before, so that each member's DM can wait in the outbox for the survey time in their
own zone; it reminds once, halfway, those who have not answered; it closes `survey_days`
calendar days after it opened. Paused people, people already asked that ISO week (by another
team) and weekends are skipped. A survey day that is one of the team's public holidays moves
the round to the next working day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.pulse import bank, closing
from bot.pulse.answers import respondent, survey_context
from bot.shared.blocks import render
from bot.shared.i18n import pick_locale
from bot.shared.policy import Policy
from bot.shared.sending import Recipient, queue, timezone_for
from bot.shared.tenants import Units, reachable
from bot.shared.worktime import first_workday, is_holiday, zone
from bot.teams.directory import Directory, Profile, is_human
from storage import pulse as store
from storage import queries
from storage.db import session_scope
from storage.models import PulseParticipant, PulseRound, Team

PLAN_AHEAD = timedelta(hours=24)
# How far a round may move past its survey day over public holidays (and the weekend they
# touch): the periods the clock still looks back to.
HOLIDAY_SHIFT = 14
CADENCES = ("weekly", "biweekly", "monthly")


@dataclass
class Report:
    rounds: int = 0
    surveys: int = 0
    reminders: int = 0
    closed: int = 0
    updates: int = 0  # closed rounds' surveys queued to say they closed

    def __str__(self) -> str:
        return (
            f"{self.rounds} round(s) opened, {self.surveys} survey(s) and "
            f"{self.reminders} reminder(s) queued, {self.closed} round(s) closed, "
            f"{self.updates} closed survey(s) to update"
        )


def period_of(team: Team, today: date) -> date | None:
    """The survey day of the period containing `today`, or None (an off week)."""
    if team.survey_cadence == "monthly":
        first = today.replace(day=1)
        return first + timedelta(days=(team.survey_weekday - first.weekday()) % 7)
    day = today - timedelta(days=today.weekday()) + timedelta(days=team.survey_weekday)
    # Every other week counted from a fixed Monday, so that a 53-week year keeps the rhythm.
    if team.survey_cadence == "biweekly" and ((day.toordinal() - 1) // 7) % 2:
        return None
    return day


def opening(team: Team, period: date) -> datetime:
    """When a round opens: its survey day at the survey time, in the team's time zone; the
    next working day when the survey day is one of the team's public holidays."""
    hour, minute = (int(part) for part in team.survey_time.split(":"))
    day = first_workday(period, team.holidays) if is_holiday(period, team.holidays) else period
    return datetime.combine(day, time(hour, minute), tzinfo=zone(team.timezone))


def due_period(team: Team, now: datetime) -> date | None:
    """The period whose round should exist at `now` and does not yet need to have closed."""
    tz = zone(team.timezone)
    today = now.astimezone(tz).date()
    candidates = [period_of(team, today + timedelta(days=1)), period_of(team, today)]
    if team.holidays:
        # A round moved past a holiday opens after its survey day, maybe in a later period.
        earlier = (period_of(team, today - timedelta(days=d)) for d in range(1, HOLIDAY_SHIFT))
        candidates += [p for p in earlier if p is not None and opening(team, p).date() != p]
    for candidate in dict.fromkeys(candidates):
        if candidate is None:
            continue
        opens = opening(team, candidate)
        # Planned a day ahead; a late clock still opens it while half of it remains.
        if opens - PLAN_AHEAD <= now < opens + timedelta(days=team.survey_days / 2):
            return candidate
    return None


def choose_questions(session: Session, team: Team, period: date) -> list[str]:
    """The round's questions: eNPS once per calendar quarter, then the least recently asked."""
    pool = bank.all_questions(session, workspace_id=team.workspace_id)
    last_asked: dict[str, date] = {}
    for past in store.rounds_of(session, team_id=team.id):
        for key in past.questions:
            last_asked[key] = past.period
    quarter_start = date(period.year, 3 * ((period.month - 1) // 3) + 1, 1)
    chosen: list[str] = []
    if last_asked.get(bank.ENPS, date.min) < quarter_start:
        chosen.append(bank.ENPS)
    order = {q.key: index for index, q in enumerate(pool)}
    others = sorted(
        (q.key for q in pool if q.key != bank.ENPS),
        key=lambda key: (last_asked.get(key, date.min), order[key]),
    )
    chosen.extend(others[: max(0, team.survey_questions - len(chosen))])
    return chosen[: team.survey_questions]


def plan_rounds(
    sessions: sessionmaker[Session],
    policy: Policy,
    directory: Directory,
    *,
    now: datetime,
    units: Units | None = None,
) -> Report:
    """Open every due round and queue its DMs, each for the survey time in the person's zone.

    The teams due are read first; then each team is a unit of its own (`units`): its
    members' profiles are asked of Slack with no transaction open, and its round written
    last, in its own transaction.
    """
    units = units or Units(sessions, directory.client_for, now, stage="pulse rounds")
    report = Report()
    with session_scope(sessions) as session:
        due = []
        # Members are read for the teams due only (a thousand-person team's rows, every tick).
        for team in queries.list_teams(session, members=False):
            if not team.survey_enabled or not reachable(team.workspace):
                continue
            work = partial(_due, session, team, now)
            found = units.alone(
                f"team {team.id}", work, workspace_id=team.workspace_id, reading=session
            )
            if found is not None:
                due.append((team.id, team.workspace_id, *found))
    for team_id, workspace_id, period, members in due:
        work = partial(
            _open_round, sessions, policy, directory, team_id, workspace_id, period, members, now
        )
        surveys = units.alone(f"team {team_id}", work, workspace_id=workspace_id)
        if surveys is not None:
            report.rounds += 1
            report.surveys += surveys
    return report


def _due(session: Session, team: Team, now: datetime) -> tuple[date, list[str]] | None:
    """The period whose round the team should open now and its members, or None. The
    members are read here, in the team's own unit, and only for a team that is due."""
    period = due_period(team, now)
    if period is None or store.round_for(session, team_id=team.id, period=period):
        return None
    return period, [m.user_id for m in team.memberships]


def _open_round(
    sessions: sessionmaker[Session],
    policy: Policy,
    directory: Directory,
    team_id: int,
    workspace_id: int,
    period: date,
    members: list[str],
    now: datetime,
) -> int | None:
    """Open the team's round of `period` and queue its surveys; None when there is nothing to
    open (no client, turned off meanwhile, or opened by a second clock)."""
    if directory.client_for(workspace_id) is None:
        return None
    profiles = directory.profiles(workspace_id=workspace_id, user_ids=members, now=now)
    # A savepoint: a second clock that planned the same round a moment earlier makes this one
    # a no-op, not an error.
    with session_scope(sessions) as session:
        team = queries.get_team(session, team_id=team_id)
        if (
            team is None
            or not team.survey_enabled  # turned off while Slack was asked
            or not reachable(team.workspace)
            or store.round_for(session, team_id=team_id, period=period)
        ):
            return None
        opens = opening(team, period)
        try:
            with session.begin_nested():
                round_ = PulseRound(
                    team_id=team.id,
                    period=period,
                    questions=choose_questions(session, team, period),
                    state="open",
                    opens_at=opens,
                    closes_at=opens + timedelta(days=team.survey_days),
                )
                session.add(round_)
                session.flush()
                return _invite(
                    session, policy, team=team, round_=round_, profiles=profiles, now=now
                )
        except IntegrityError:
            return None


def _invite(
    session: Session,
    policy: Policy,
    *,
    team: Team,
    round_: PulseRound,
    profiles: dict[str, Profile],
    now: datetime,
) -> int:
    members = sorted(m.user_id for m in team.memberships)
    opens = opening(team, round_.period)
    day = opens.date()  # the survey day, or the working day after a holiday
    week = "{}-W{:02d}".format(*day.isocalendar()[:2])
    skip = store.paused(session, workspace_id=team.workspace_id, on=day)
    skip |= store.asked_in_week(
        session, user_ids=members, week=week, workspace_id=team.workspace_id
    )
    invited = [m for m in members if m not in skip]
    questions = bank.by_key(session, workspace_id=team.workspace_id)
    queued = 0
    for user_id in invited:
        # Someone who joined while Slack was asked: the profile their join cached.
        profile = profiles.get(user_id) or _cached(session, team.workspace_id, user_id)
        if not is_human(profile):
            continue
        session.add(PulseParticipant(round_id=round_.id, user_id=user_id, week=week))
        locale = pick_locale(profile.locale, team.locale, default=policy.default_locale)
        to = Recipient(team.workspace_id, user_id, profile.timezone, team.timezone, team.holidays)
        tz = timezone_for(to.timezone, to.team_timezone, policy.default_timezone)
        local_time = opens.timetz().replace(tzinfo=None)
        due = max(datetime.combine(day, local_time, tzinfo=tz), now)
        message = render(
            "pulse_survey",
            locale,
            **survey_context(
                policy,
                round_=round_,
                team=team,
                user_id=user_id,
                questions=questions,
                answers={},
                locale=locale,
                skipped=False,
            ),
        )
        queued += queue(
            session,
            to=to,
            key=f"pulse:{round_.id}:{user_id}",
            kind="pulse",
            payload=message,
            earliest=due,
            default_timezone=policy.default_timezone,
            # Never a survey of a closed round (one that waited for its workspace's token).
            latest=round_.closes_at,
        )
    return queued


def _cached(session: Session, workspace_id: int, user_id: str) -> Profile | None:
    row = queries.get_slack_user(session, workspace_id=workspace_id, user_id=user_id)
    return Profile.of(row) if row else None


def remind_and_close(
    session: Session, policy: Policy, *, now: datetime, units: Units | None = None
) -> Report:
    """Remind once, halfway, those who have not answered; close rounds whose time is up. Each
    round is a unit of its own (`units`, a savepoint each) when given."""
    report = Report()
    for round_ in store.open_rounds(session):
        if not _follow_up_due(round_, now):
            continue  # most ticks, most rounds: no unit, no savepoint
        work = partial(_follow_up, session, policy, round_, now)
        if units is None:
            done: tuple[int, int, int] | None = work()
        else:
            done = units.alone(f"round {round_.id}", work, session=session)
        if done:
            report.closed += done[0]
            report.reminders += done[1]
            report.updates += done[2]
    return report


def _follow_up_due(round_: PulseRound, now: datetime) -> bool:
    """True when the round closes now, or its halfway reminder is due."""
    halfway = round_.opens_at + (round_.closes_at - round_.opens_at) / 2
    return now >= round_.closes_at or (not round_.reminded and now >= halfway)


def _follow_up(
    session: Session, policy: Policy, round_: PulseRound, now: datetime
) -> tuple[int, int, int]:
    """(rounds closed, reminders queued, closed surveys to update) for one open round whose
    follow-up is due."""
    reminders = 0
    team = round_.team
    if now >= round_.closes_at:
        return 1, 0, closing.close(session, policy, round_, now=now)
    if not reachable(team.workspace):
        return 0, 0, 0  # a workspace whose token was refused is reminded once it is back
    round_.reminded = True
    answered = store.respondents(session, round_id=round_.id)
    paused = store.paused(session, workspace_id=team.workspace_id, on=now.date())
    questions = bank.by_key(session, workspace_id=team.workspace_id)
    for participant in store.participants(session, round_id=round_.id):
        if participant.skipped or participant.user_id in paused:
            continue
        if respondent(policy, round_.id, participant.user_id) in answered:
            continue
        profile = queries.get_slack_user(
            session, workspace_id=team.workspace_id, user_id=participant.user_id
        )
        locale = pick_locale(
            profile.locale if profile else None, team.locale, default=policy.default_locale
        )
        message = render(
            "pulse_reminder",
            locale,
            **survey_context(
                policy,
                round_=round_,
                team=team,
                user_id=participant.user_id,
                questions=questions,
                answers={},
                locale=locale,
                skipped=False,
            ),
        )
        # No reminder for a round that will be closed by the time it may be sent.
        reminders += queue(
            session,
            to=Recipient(
                team.workspace_id,
                participant.user_id,
                profile.timezone if profile else None,
                team.timezone,
                team.holidays,
            ),
            key=f"pulse-reminder:{round_.id}:{participant.user_id}",
            kind="pulse_reminder",
            payload=message,
            earliest=now,
            default_timezone=policy.default_timezone,
            latest=round_.closes_at,
        )
    return 0, reminders, 0
