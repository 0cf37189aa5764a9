"""The admins' weekly digest: one line per team of the workspace — irritants open, waiting
over 14 days for an answer, resolved in the week; the latest round's participation and the
90-day eNPS where they may be shown; the quarter's walk.

A team that counts fewer people than the anonymity threshold (bot/teams/sizes.py) shows
counts only: its irritants and its walk, never a pulse figure. No workspace-wide pulse total
is shown, so no team's figures can be recovered from one by subtraction. The admins see what
they may triage: named reports, and anonymous ones once a roundup has shown them (those that
went to the admins included). Every figure is read for all the workspace's teams at once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.digests.irritant_figures import LONG_WAIT, shown_at
from bot.irritants.catalog import OPEN_STATUSES
from bot.pulse import bank, results
from bot.pulse.results import ENPS_WINDOW
from bot.shared.policy import Policy
from bot.teams import sizes
from bot.walks.overview import every_team
from storage import digest_figures as store
from storage import pulse as pulse_store
from storage import queries
from storage.models import PulseRound

WEEK = timedelta(days=7)
PER_SECTION = 8  # team lines a section: 8 long lines stay under Slack's 3000 characters
LINES_SHOWN = 44 * PER_SECTION  # within 50 blocks; past it, the calmest teams are counted


@dataclass(frozen=True)
class TeamLine:
    """One team's line. `small`: under the anonymity threshold, so counts only (no
    `responded`, `sent` or `enps`)."""

    name: str
    open: int
    waiting: int  # unanswered for LONG_WAIT or more
    resolved: int  # in the last 7 days
    walk: str  # "done", "due" or "overdue"
    small: bool
    responded: int | None = None  # the latest round closed in the last 90 days
    sent: int | None = None
    enps: int | None = None  # over 90 days, when it may be shown

    @property
    def participation(self) -> float | None:
        return self.responded / self.sent if self.sent and self.responded is not None else None


@dataclass(frozen=True)
class Total:
    teams: int
    open: int
    waiting: int
    resolved: int

    @classmethod
    def of(cls, lines: list[TeamLine]) -> Total:
        return cls(
            len(lines),
            sum(line.open for line in lines),
            sum(line.waiting for line in lines),
            sum(line.resolved for line in lines),
        )


def team_lines(
    session: Session, policy: Policy, *, workspace_id: int, now: datetime
) -> list[TeamLine]:
    """Every team's line, those most in need first (waiting, then open, then by name)."""
    teams = list(queries.list_teams(session, workspace_id=workspace_id))
    if not teams:
        return []
    ids = [team.id for team in teams]
    threshold = policy.anonymity_threshold
    counted = sizes.counted_sizes(session, team_ids=ids, now=now)
    irritants = _irritant_counts(session, team_ids=ids, now=now)
    pulse = _pulse(session, threshold, team_ids=ids, now=now)
    walks = {s.team.id: s.state for s in every_team(session, workspace_id=workspace_id, now=now)}
    lines = []
    for team in teams:
        small = counted.get(team.id, 0) < threshold
        open_, waiting, resolved = irritants.get(team.id, (0, 0, 0))
        figures = Pulse() if small else pulse.get(team.id, Pulse())
        lines.append(
            TeamLine(
                name=team.name,
                open=open_,
                waiting=waiting,
                resolved=resolved,
                walk=walks.get(team.id, "due"),
                small=small,
                responded=figures.responded,
                sent=figures.sent,
                enps=figures.enps,
            )
        )
    lines.sort(key=lambda line: (-line.waiting, -line.open, line.name.lower()))
    return lines


def _irritant_counts(
    session: Session, *, team_ids: list[int], now: datetime
) -> dict[int, tuple[int, int, int]]:
    """(open, unanswered for LONG_WAIT or more, resolved in the last 7 days) per team."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for irritant in store.irritants_around(session, team_ids=team_ids, since=now - WEEK):
        at = shown_at(irritant)
        if at is None or at >= now:  # an anonymous report no roundup has shown yet
            continue
        figures = counts[irritant.team_id]
        if irritant.status in OPEN_STATUSES:
            figures[0] += 1
            figures[1] += irritant.status == "new" and now - at >= LONG_WAIT
        resolved = irritant.resolved_at
        figures[2] += (
            irritant.status == "resolved" and resolved is not None and resolved >= now - WEEK
        )
    return {team_id: (a, b, c) for team_id, (a, b, c) in counts.items()}


@dataclass(frozen=True)
class Pulse:
    """A team's latest round closed in the last 90 days (who answered, of how many), and its
    90-day eNPS when it may be shown."""

    responded: int | None = None
    sent: int | None = None
    enps: int | None = None


def _pulse(
    session: Session, threshold: int, *, team_ids: list[int], now: datetime
) -> dict[int, Pulse]:
    """Each team's pulse figures, read for all the teams at once."""
    rounds = store.rounds_since(session, team_ids=team_ids, since=(now - ENPS_WINDOW).date())
    by_team: dict[int, list[PulseRound]] = defaultdict(list)
    for round_ in rounds:
        if round_.state == "closed" and round_.closes_at <= now:
            by_team[round_.team_id].append(round_)
    latest = {
        team_id: max(found, key=lambda r: (r.closes_at, r.id)) for team_id, found in by_team.items()
    }
    latest_ids = [r.id for r in latest.values()]
    responded = store.respondents_per_round(session, round_ids=latest_ids)
    sent = store.delivered_counts(session, round_ids=latest_ids)
    with_enps = {
        team_id: [r for r in found if bank.ENPS in r.questions]
        for team_id, found in by_team.items()
    }
    round_ids = [r.id for found in with_enps.values() for r in found]
    team_of = {r.id: r.team_id for found in with_enps.values() for r in found}
    answers: dict[int, list[tuple[int, str, str, int]]] = defaultdict(list)
    for row in store.answers_to(session, round_ids=round_ids, question=bank.ENPS):
        answers[team_of[row[0]]].append(row)
    readers = pulse_store.readers_asked(session, round_ids=round_ids)
    figures: dict[int, Pulse] = {}
    for team_id, round_ in latest.items():
        values = results.shown_enps_values(
            session, threshold, with_enps[team_id], answers=answers[team_id], readers=readers
        )
        enps = results.enps(values) if values else None
        figures[team_id] = Pulse(responded.get(round_.id, 0), sent[round_.id], enps)
    return figures
