"""What the digest's chart shows: the last 12 weeks of a team (irritants opened and
resolved, the pulse mean, eNPS), read from the database.

The 12 weeks are the complete ISO weeks before the digest's week (a Monday digest for week 50
shows weeks 38 to 49: week 50 has only begun), counted in the team's time zone, and nothing
after `now`. The figures obey the rules of the views that managers read:

- opened: named reports by the day they were made; anonymous ones only once a roundup has
  shown them, in the week of that roundup (their own day would point at their author), and
  never those that went to the admins (bot.irritants.ownership.goes_to_admins);
- resolved: reports resolved (not declined) in the week, under the same rule;
- pulse mean: the mean of the shown means of the 1–5 questions of the week's closed rounds;
- eNPS: the week's eNPS where it may be shown (bot.pulse.results: the threshold counts only
  people other than the readers, the team's managers asked in the round).

Each figure is read for the team and the window only, through the indexes on
(team_id, created_at | rounded_up_at | resolved_at) and (team_id, period): four or five
queries a team, whatever the length of its history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from statistics import fmean

from sqlalchemy import and_, literal, or_, select, union_all
from sqlalchemy.orm import Session

from bot.digests.weeks import Week
from bot.pulse import bank
from bot.pulse.results import enps, others
from bot.shared.policy import Policy
from bot.shared.worktime import zone
from bot.teams.sizes import counted_size
from storage import pulse as pulse_store
from storage.models import Irritant, PulseRound, Team

WEEKS = 12


@dataclass(frozen=True)
class Series:
    """One value per week, oldest first; None where nothing may be shown."""

    weeks: list[Week] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    pulse_mean: list[float | None] = field(default_factory=list)
    enps: list[int | None] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to draw: no report opened or resolved, no figure shown."""
        return (
            not any(self.opened)
            and not any(self.resolved)
            and all(value is None for value in (*self.pulse_mean, *self.enps))
        )


def window(week: Week) -> list[Week]:
    """The 12 weeks before `week`, oldest first."""
    weeks = [week.previous]
    while len(weeks) < WEEKS:
        weeks.append(weeks[-1].previous)
    return weeks[::-1]


def weekly_series(
    session: Session, policy: Policy, *, team: Team, week: Week, now: datetime
) -> Series:
    """The 12 weeks up to (not including) `week`, with the anonymity rules applied."""
    weeks = window(week)
    tz = zone(team.timezone)
    start = datetime.combine(weeks[0].monday, time(0), tzinfo=tz).astimezone(UTC)
    end = min(datetime.combine(week.monday, time(0), tzinfo=tz).astimezone(UTC), now)
    opened: dict[Week, int] = defaultdict(int)
    resolved: dict[Week, int] = defaultdict(int)
    for kind, at in _irritant_times(session, policy, team=team, start=start, end=end, now=now):
        counts = opened if kind == "opened" else resolved
        counts[Week.of(at.astimezone(tz).date())] += 1
    means, scores = _pulse_figures(
        session, policy, team=team, first=weeks[0].monday, until=min(week.monday, end.date())
    )
    return Series(
        weeks=weeks,
        opened=[opened[w] for w in weeks],
        resolved=[resolved[w] for w in weeks],
        pulse_mean=[means.get(w) for w in weeks],
        enps=[scores.get(w) for w in weeks],
    )


def _irritant_times(
    session: Session, policy: Policy, *, team: Team, start: datetime, end: datetime, now: datetime
) -> list[tuple[str, datetime]]:
    """("opened" | "resolved", when) of the team's reports a manager may count in
    [start, end), in one round trip of three index range scans."""
    i = Irritant
    shown_anonymous = and_(
        i.anonymous.is_(True),
        i.rounded_up_at.is_not(None),
        i.rounded_up_at < end,
        or_(i.for_admins.is_(None), i.for_admins.is_(False)),
    )
    undecided = and_(i.anonymous.is_(True), i.for_admins.is_(None)).label("undecided")
    named = select(literal("opened").label("kind"), i.created_at.label("at"), undecided).where(
        i.team_id == team.id, i.created_at >= start, i.created_at < end, i.anonymous.is_(False)
    )
    shown = select(literal("opened"), i.rounded_up_at, undecided).where(
        i.team_id == team.id, i.rounded_up_at >= start, shown_anonymous
    )
    fixed = select(literal("resolved"), i.resolved_at, undecided).where(
        i.team_id == team.id,
        i.resolved_at >= start,
        i.resolved_at < end,
        i.status == "resolved",
        or_(i.anonymous.is_(False), shown_anonymous),
    )
    rows = session.execute(union_all(named, shown, fixed)).all()
    # An anonymous report older than `for_admins` went to the managers when the team is large
    # enough for anonymity, as its size decides now (ownership.goes_to_admins).
    small = any(undecided for *_row, undecided in rows) and (
        counted_size(session, team, now=now) < policy.anonymity_threshold
    )
    return [(kind, at) for kind, at, undecided in rows if not (small and undecided)]


def _pulse_figures(
    session: Session, policy: Policy, *, team: Team, first: date, until: date
) -> tuple[dict[Week, float], dict[Week, int]]:
    """The pulse mean and eNPS of each week whose closed rounds (survey days in
    [first, until)) may show them, read in three queries for the whole window."""
    rounds = session.execute(
        select(PulseRound.id, PulseRound.period).where(
            PulseRound.team_id == team.id,
            PulseRound.period >= first,
            PulseRound.period < until,
            PulseRound.state == "closed",
        )
    ).all()
    if not rounds:
        return {}, {}
    round_ids = [round_id for round_id, _period in rounds]
    readers = pulse_store.readers_asked(session, round_ids=round_ids)
    values: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    people: dict[int, set[str]] = defaultdict(set)
    for round_id, question, who, value in pulse_store.all_answers(session, round_ids=round_ids):
        values[round_id][question].append(value)
        people[round_id].add(who)
    scales = {question.key: question.scale for question in bank.shipped()}
    if any(key not in scales for by_key in values.values() for key in by_key):
        custom = bank.cached_by_key(session, workspace_id=team.workspace_id)
        scales.update((key, question.scale) for key, question in custom.items())
    threshold = policy.anonymity_threshold
    means: dict[Week, list[float]] = defaultdict(list)
    scores: dict[Week, list[int]] = defaultdict(list)
    for round_id, period in rounds:
        asked_readers = readers.get(round_id, 0)
        if others(len(people[round_id]), asked_readers) < threshold:
            continue  # the round is suppressed: none of its figures
        week = Week.of(period)
        for key, answers in values[round_id].items():
            if others(len(answers), asked_readers) < threshold:
                continue
            if key == bank.ENPS:
                scores[week].extend(answers)
            elif scales.get(key) == "1-5":
                means[week].append(fmean(answers))
    return (
        {week: round(fmean(found), 2) for week, found in means.items()},
        {week: score for week, found in scores.items() if (score := enps(found)) is not None},
    )
