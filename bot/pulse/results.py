"""Results of pulse rounds, shown only for groups large enough to stay anonymous.

A round's figures exist only when at least SYMMETRY_ANONYMITY_THRESHOLD people other than
their readers answered it (`suppressed` otherwise), and a question's only when that many
answered the question. The readers are the team's managers: answers are anonymous, so each
manager asked in the round is assumed to have answered, and counts for nothing (`others`).
When several teams are shown beside a total, hiding one team alone would let its figures be
recovered by subtraction: the next-smallest teams are hidden too, until what is hidden is a
group of at least the threshold.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import fmean

from sqlalchemy.orm import Session

from bot.pulse import bank
from storage import pulse as store
from storage.models import PulseRound, Team

ENPS_WINDOW = timedelta(days=90)


def others(count: int, readers: int) -> int:
    """How many of `count` answers (or people answering) count toward the threshold: those
    that may come from someone other than the results' readers, when `readers` of them were
    asked (each assumed to have answered, since nobody can tell)."""
    return max(0, count - readers)


def enps(values: Iterable[int]) -> int | None:
    """% of promoters (9–10) minus % of detractors (0–6), rounded; None without answers."""
    scores = list(values)
    if not scores:
        return None
    promoters = sum(1 for v in scores if v >= 9)
    detractors = sum(1 for v in scores if v <= 6)
    return round(100 * (promoters - detractors) / len(scores))


@dataclass
class QuestionResult:
    key: str
    text: str
    responses: int
    mean: float | None
    distribution: dict[int, int] | None
    enps: int | None = None
    change: float | None = None  # mean (or eNPS) minus the previous round's, when both shown


@dataclass
class RoundResult:
    round: PulseRound
    team: Team
    sent: int
    responded: int
    suppressed: bool
    questions: list[QuestionResult] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    readers: int = 0  # the team's managers who were asked in the round

    @property
    def counted(self) -> int:
        """Respondents who count toward the threshold (see `others`)."""
        return others(self.responded, self.readers)

    @property
    def participation(self) -> float:
        return round(self.responded / self.sent, 3) if self.sent else 0.0

    @property
    def enps(self) -> int | None:
        return next((q.enps for q in self.questions if q.key == bank.ENPS), None)


def shown(session: Session, threshold: int, *, round_id: int) -> bool:
    """Whether a round's results can be shown at all (what `round_result` calls not
    `suppressed`), read with two small queries."""
    responded = len(store.respondents(session, round_id=round_id))
    readers = store.readers_asked(session, round_ids=[round_id]).get(round_id, 0)
    return others(responded, readers) >= threshold


def round_result(
    session: Session,
    threshold: int,
    round_: PulseRound,
    *,
    locale: str,
    answers: Sequence[tuple[int, str, str, int]] | None = None,
    readers: dict[int, int] | None = None,
    previous: RoundResult | None = None,
    sent: int | None = None,
) -> RoundResult:
    """One round's figures, with the anonymity rules applied (`threshold`: the smallest
    group shown, besides its readers). `answers` and `readers` (readers asked, by round), and
    `sent`, may be read beforehand for several rounds."""
    rows = answers if answers is not None else store.all_answers(session, round_ids=[round_.id])
    if readers is None:
        readers = store.readers_asked(session, round_ids=[round_.id])
    by_question: dict[str, list[int]] = defaultdict(list)
    people: set[str] = set()
    for round_id, question, who, value in rows:
        if round_id == round_.id:
            by_question[question].append(value)
            people.add(who)
    responded = len(people)
    asked_readers = readers.get(round_.id, 0)
    suppressed = others(responded, asked_readers) < threshold
    texts = bank.by_key(session, workspace_id=round_.team.workspace_id)
    result = RoundResult(
        round=round_,
        team=round_.team,
        sent=store.delivered(session, round_id=round_.id) if sent is None else sent,
        responded=responded,
        suppressed=suppressed,
        readers=asked_readers,
    )
    earlier = {q.key: q for q in previous.questions} if previous else {}
    for key in round_.questions:
        values = by_question.get(key, [])
        shown = not suppressed and others(len(values), asked_readers) >= threshold
        question = texts.get(key)
        item = QuestionResult(
            key=key,
            text=question.text(locale) if question else key,
            responses=len(values),
            mean=round(fmean(values), 2) if shown else None,
            distribution=dict(sorted(Counter(values).items())) if shown else None,
            enps=enps(values) if shown and key == bank.ENPS else None,
        )
        before = earlier.get(key)
        if before is not None and item.mean is not None and before.mean is not None:
            item.change = (
                item.enps - before.enps
                if key == bank.ENPS and item.enps is not None and before.enps is not None
                else round(item.mean - before.mean, 2)
            )
        result.questions.append(item)
    if not suppressed:
        result.comments = store.comments(session, round_id=round_.id)
    return result


def team_history(
    session: Session, threshold: int, team: Team, *, locale: str, limit: int = 6
) -> list[RoundResult]:
    """A team's latest closed rounds, oldest first, each compared with the one before."""
    rounds = [r for r in store.rounds_of(session, team_id=team.id) if r.state == "closed"]
    rounds = rounds[-(limit + 1) :]
    round_ids = [r.id for r in rounds]
    answers = store.all_answers(session, round_ids=round_ids)
    readers = store.readers_asked(session, round_ids=round_ids)
    results: list[RoundResult] = []
    previous = None
    for round_ in rounds:
        previous = round_result(
            session,
            threshold,
            round_,
            locale=locale,
            answers=answers,
            readers=readers,
            previous=previous,
        )
        results.append(previous)
    return results[-limit:]


def shown_enps_values(
    session: Session,
    threshold: int,
    rounds: Sequence[PulseRound],
    *,
    answers: Sequence[tuple[int, str, str, int]] | None = None,
    readers: dict[int, int] | None = None,
) -> list[int]:
    """eNPS answers of the rounds whose eNPS question could be shown on its own: a round
    under the threshold never enters a wider figure, or it could be subtracted out.
    `answers` (the eNPS ones at least) and `readers` may be read beforehand, for more
    rounds than these."""
    round_ids = [r.id for r in rounds]
    if readers is None:
        readers = store.readers_asked(session, round_ids=round_ids)
    if answers is None:
        answers = store.all_answers(session, round_ids=round_ids)
    wanted = set(round_ids)
    by_round: dict[int, list[int]] = defaultdict(list)
    people: dict[int, set[str]] = defaultdict(set)
    for round_id, question, who, value in answers:
        if round_id not in wanted:
            continue
        people[round_id].add(who)
        if question == bank.ENPS:
            by_round[round_id].append(value)
    values: list[int] = []
    for round_id, scores in by_round.items():
        asked_readers = readers.get(round_id, 0)
        counted = min(len(people[round_id]), len(scores))
        if others(counted, asked_readers) >= threshold:
            values.extend(scores)
    return values


def enps_90_days(session: Session, threshold: int, team: Team, *, now: datetime) -> int | None:
    """eNPS over the team's closed rounds of the last 90 days, from shown rounds only."""
    rounds = [
        r
        for r in store.rounds_of(session, team_id=team.id, since=(now - ENPS_WINDOW).date())
        if r.state == "closed" and bank.ENPS in r.questions
    ]
    values = shown_enps_values(session, threshold, rounds)
    return enps(values) if values else None


def hidden_groups(sizes: dict[str, int], threshold: int) -> set[str]:
    """Which groups to hide when they are shown beside their total (the subtraction rule)."""
    hidden = {name for name, size in sizes.items() if size < threshold}
    shown = sorted((size, name) for name, size in sizes.items() if name not in hidden)
    while hidden and sum(sizes[n] for n in hidden) < threshold and shown:
        hidden.add(shown.pop(0)[1])
    return hidden
