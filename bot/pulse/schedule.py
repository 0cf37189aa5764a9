"""When rounds happen and who gets them: computed by the clock from the database and `now`.

A team's round belongs to a period (its survey day, in the team's time zone). It is planned
the day before, so that each member's DM can wait in the outbox for the survey time in their
own zone; it reminds once, halfway, those who have not answered; it closes `survey_days`
calendar days after it opened. Paused people, people already asked that ISO week (by another
team) and weekends are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.pulse import bank
from bot.pulse.answers import respondent, survey_context
from bot.runtime.config import Settings
from bot.shared.blocks import render
from bot.shared.i18n import pick_locale
from bot.shared.worktime import next_opening, zone
from bot.teams import directory as people
from storage import outbox, queries
from storage import pulse as store
from storage.models import PulseParticipant, PulseRound, Team

PLAN_AHEAD = timedelta(hours=24)
CADENCES = ("weekly", "biweekly", "monthly")


@dataclass
class Report:
    rounds: int = 0
    surveys: int = 0
    reminders: int = 0
    closed: int = 0

    def __str__(self) -> str:
        return (
            f"{self.rounds} round(s) opened, {self.surveys} survey(s) and "
            f"{self.reminders} reminder(s) queued, {self.closed} round(s) closed"
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
    """When a round opens: its survey day at the survey time, in the team's time zone."""
    hour, minute = (int(part) for part in team.survey_time.split(":"))
    return datetime.combine(period, time(hour, minute), tzinfo=zone(team.timezone))


def due_period(team: Team, now: datetime) -> date | None:
    """The period whose round should exist at `now` and does not yet need to have closed."""
    tz = zone(team.timezone)
    today = now.astimezone(tz).date()
    for candidate in (period_of(team, today + timedelta(days=1)), period_of(team, today)):
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
    session: Session,
    client_for,
    settings: Settings,
    *,
    now: datetime,  # type: ignore[no-untyped-def]
) -> Report:
    """Open every due round and queue its DMs, each for the survey time in the person's zone."""
    report = Report()
    for team in queries.list_teams(session):
        if not team.survey_enabled or team.workspace.uninstalled_at is not None:
            continue
        period = due_period(team, now)
        if period is None or store.round_for(session, team_id=team.id, period=period):
            continue
        client = client_for(team.workspace_id)
        if client is None:
            continue
        # Slack first (profiles are refreshed before any row is written: no write lock is
        # held while waiting on Slack), then the round, in a savepoint: a second clock that
        # planned the same round a moment earlier makes this one a no-op, not an error.
        people.profiles(
            session,
            client,
            workspace_id=team.workspace_id,
            user_ids=[m.user_id for m in team.memberships],
            now=now,
        )
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
                surveys = _invite(session, client, settings, team=team, round_=round_, now=now)
        except IntegrityError:
            continue
        report.rounds += 1
        report.surveys += surveys
    return report


def _invite(
    session: Session,
    client: WebClient,
    settings: Settings,
    *,
    team: Team,
    round_: PulseRound,
    now: datetime,
) -> int:
    members = sorted(m.user_id for m in team.memberships)
    week = "{}-W{:02d}".format(*round_.period.isocalendar()[:2])
    skip = store.paused(session, workspace_id=team.workspace_id, on=round_.period)
    skip |= store.asked_in_week(
        session, user_ids=members, week=week, workspace_id=team.workspace_id
    )
    invited = [m for m in members if m not in skip]
    profiles = people.profiles(
        session, client, workspace_id=team.workspace_id, user_ids=invited, now=now
    )
    questions = bank.by_key(session, workspace_id=team.workspace_id)
    queued = 0
    for user_id in invited:
        profile = profiles.get(user_id)
        if not people.is_human(profile):
            continue
        session.add(PulseParticipant(round_id=round_.id, user_id=user_id, week=week))
        locale = pick_locale(profile.locale, team.locale, default=settings.default_locale)
        tz = zone(profile.timezone or team.timezone, settings.default_timezone)
        local_time = opening(team, round_.period).timetz().replace(tzinfo=None)
        due = max(datetime.combine(round_.period, local_time, tzinfo=tz), now)
        message = render(
            "pulse_survey",
            locale,
            **survey_context(
                settings,
                round_=round_,
                team=team,
                user_id=user_id,
                questions=questions,
                answers={},
                locale=locale,
                skipped=False,
            ),
        )
        queued += outbox.enqueue(
            session,
            workspace_id=team.workspace_id,
            key=f"pulse:{round_.id}:{user_id}",
            kind="pulse",
            recipient=user_id,
            payload=message,
            timezone=tz.key,
            not_before=next_opening(due, tz),
        )
    return queued


def remind_and_close(session: Session, settings: Settings, *, now: datetime) -> Report:
    """Remind once, halfway, those who have not answered; close rounds whose time is up."""
    report = Report()
    for round_ in store.open_rounds(session):
        team = round_.team
        if now >= round_.closes_at:
            round_.state = "closed"
            store.cancel_queued(
                session, keys_like=f"pulse%:{round_.id}:%", reason="round_closed", now=now
            )
            report.closed += 1
            continue
        halfway = round_.opens_at + (round_.closes_at - round_.opens_at) / 2
        if round_.reminded or now < halfway:
            continue
        round_.reminded = True
        answered = store.respondents(session, round_id=round_.id)
        paused = store.paused(session, workspace_id=team.workspace_id, on=now.date())
        questions = bank.by_key(session, workspace_id=team.workspace_id)
        for participant in store.participants(session, round_id=round_.id):
            if participant.skipped or participant.user_id in paused:
                continue
            if respondent(settings, round_.id, participant.user_id) in answered:
                continue
            profile = queries.get_slack_user(
                session, workspace_id=team.workspace_id, user_id=participant.user_id
            )
            tz = zone((profile.timezone if profile else None) or team.timezone)
            at = next_opening(now, tz)
            if at >= round_.closes_at:
                continue  # no reminder for a round that will be closed by then
            locale = pick_locale(
                profile.locale if profile else None, team.locale, default=settings.default_locale
            )
            message = render(
                "pulse_reminder",
                locale,
                **survey_context(
                    settings,
                    round_=round_,
                    team=team,
                    user_id=participant.user_id,
                    questions=questions,
                    answers={},
                    locale=locale,
                    skipped=False,
                ),
            )
            report.reminders += outbox.enqueue(
                session,
                workspace_id=team.workspace_id,
                key=f"pulse-reminder:{round_.id}:{participant.user_id}",
                kind="pulse_reminder",
                recipient=participant.user_id,
                payload=message,
                timezone=tz.key,
                not_before=at,
            )
    return report
