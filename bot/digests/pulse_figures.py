"""A digest's pulse figures for one team: the latest round closed in the period (its
participation, each question's mean and its change since the round before, its comments),
and the eNPS over 90 days with its trend.

The pulse rules of bot/pulse/results.py hold: a round's figures and comments only when
enough people other than its readers (the team's managers) answered, else a plain "hidden,
and why"; the 90-day eNPS from rounds that could be shown on their own.

The trend is the change of the same 90-day figure since a week earlier: what moved since
the last digest. Both figures count only rounds shown on their own, so the change says no
more about a round than its own results did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.pulse import bank, results
from bot.pulse.results import ENPS_WINDOW, RoundResult
from bot.shared.policy import Policy
from storage import digest_figures as store
from storage import pulse as pulse_store
from storage.models import PulseRound, Team

TREND = timedelta(days=7)  # the eNPS trend: against the 90-day figure of a week earlier


@dataclass
class PulseFigures:
    """`result`: the latest round closed in the period (None when none closed); `enps`: the
    90-day eNPS (None when no round could be shown), `enps_change` its change in a week."""

    result: RoundResult | None
    enps: int | None
    enps_change: int | None
    threshold: int

    @property
    def hidden(self) -> bool:
        return self.result is not None and self.result.suppressed


def pulse_figures(
    session: Session,
    policy: Policy,
    *,
    team: Team,
    since: datetime,
    until: datetime,
    locale: str,
) -> PulseFigures | None:
    """The period's pulse figures, or None when there is nothing to say."""
    threshold = policy.anonymity_threshold
    rounds = store.rounds_since(
        session, team_ids=[team.id], since=(until - ENPS_WINDOW - TREND).date()
    )
    closed = sorted(
        (r for r in rounds if r.state == "closed" and r.closes_at <= until),
        key=lambda r: (r.closes_at, r.id),
    )
    readers = pulse_store.readers_asked(session, round_ids=[r.id for r in closed])
    result = _latest(session, threshold, closed, readers, since=since, locale=locale)
    with_enps = [r for r in closed if bank.ENPS in r.questions]
    answers = store.answers_to(session, round_ids=[r.id for r in with_enps], question=bank.ENPS)

    def enps_at(moment: datetime) -> int | None:
        window = [
            r
            for r in with_enps
            if r.closes_at <= moment and r.period >= (moment - ENPS_WINDOW).date()
        ]
        values = results.shown_enps_values(
            session, threshold, window, answers=answers, readers=readers
        )
        return results.enps(values) if values else None

    enps, before = enps_at(until), enps_at(until - TREND)
    if result is None and enps is None:
        return None
    change = enps - before if enps is not None and before is not None else None
    return PulseFigures(result=result, enps=enps, enps_change=change, threshold=threshold)


def _latest(
    session: Session,
    threshold: int,
    closed: list[PulseRound],
    readers: dict[int, int],
    *,
    since: datetime,
    locale: str,
) -> RoundResult | None:
    """The latest round closed in the period, compared with the round closed before it."""
    if not closed or closed[-1].closes_at < since:
        return None
    latest = closed[-1]
    before = closed[-2] if len(closed) > 1 else None
    detailed = [r.id for r in (before, latest) if r is not None]
    answers = pulse_store.all_answers(session, round_ids=detailed)
    sent = store.delivered_counts(session, round_ids=detailed)
    previous = (
        results.round_result(
            session,
            threshold,
            before,
            locale=locale,
            answers=answers,
            readers=readers,
            sent=sent[before.id],
        )
        if before is not None
        else None
    )
    return results.round_result(
        session,
        threshold,
        latest,
        locale=locale,
        answers=answers,
        readers=readers,
        previous=previous,
        sent=sent[latest.id],
    )
