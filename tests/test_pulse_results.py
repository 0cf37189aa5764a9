"""Pulse results: eNPS, thresholds per round and per question, and the subtraction rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.pulse import results
from bot.pulse.overview import home_results
from storage import queries
from storage.models import (
    Membership,
    PulseAnswer,
    PulseParticipant,
    PulseRound,
    Team,
    TeamManager,
)
from tests.conftest import POLICY

NOW = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)


class TestEnps:
    @pytest.mark.parametrize(
        ("values", "expected"),
        [
            ([10, 9, 8, 7, 6], 20),  # 2 promoters, 1 detractor of 5
            ([0, 1, 2, 3], -100),
            ([9, 9, 9, 9, 9], 100),
            ([7, 8], 0),
            ([], None),
        ],
    )
    def test_promoters_minus_detractors(self, values, expected):
        """eNPS is % of 9–10 minus % of 0–6."""
        assert results.enps(values) == expected


class TestSubtractionRule:
    def test_nothing_hidden_when_all_are_large(self):
        """Groups at or over the threshold are all shown."""
        assert results.hidden_groups({"a": 5, "b": 9}, 5) == set()

    def test_a_small_group_takes_the_next_smallest_with_it(self):
        """Hiding one group beside a total hides the next-smallest too."""
        assert results.hidden_groups({"a": 3, "b": 6, "c": 12}, 5) == {"a", "b"}

    def test_small_groups_together_large_enough(self):
        """Two small groups hidden together already make a group of the threshold."""
        assert results.hidden_groups({"a": 3, "b": 2, "c": 12}, 5) == {"a", "b"}

    def test_single_group(self):
        """A lone small group is hidden; there is nothing else to hide."""
        assert results.hidden_groups({"a": 2}, 5) == {"a"}


def team_with_round(
    db, *, name: str, respondents: int, manager: str = "UMGR", manager_asked: bool = False
) -> Team:
    """A team of ten whose one closed round `respondents` answered; its manager among the
    people asked when `manager_asked`."""
    with db.sessions.begin() as session:
        workspace = queries.get_or_create_workspace(session, slack_team_id="T0RESULTS")
        team = Team(
            workspace_id=workspace.id, name=name, channel_id=f"C{name}", timezone="UTC",
            locale="en",
        )  # fmt: skip
        team.memberships = [Membership(user_id=f"U{name}{i}") for i in range(10)]
        team.managers = [TeamManager(user_id=manager)]
        session.add(team)
        session.flush()
        round_ = PulseRound(
            team_id=team.id,
            period=date(2026, 12, 1),
            questions=["enps", "noise"],
            state="closed",
            opens_at=NOW - timedelta(days=19),
            closes_at=NOW - timedelta(days=14),
        )
        session.add(round_)
        session.flush()
        if manager_asked:
            session.add(PulseParticipant(round_id=round_.id, user_id=manager, week="2026-W49"))
        for person in range(respondents):
            who = f"hash-{name}-{person}"
            session.add(PulseAnswer(round_id=round_.id, question="enps", respondent=who, value=9))
            session.add(PulseAnswer(round_id=round_.id, question="noise", respondent=who, value=4))
        return team


class TestRoundResult:
    @pytest.mark.parametrize(("respondents", "suppressed"), [(4, True), (5, False)])
    def test_threshold(self, db, respondents, suppressed):
        """A round with fewer respondents than the threshold shows no figure."""
        team_with_round(db, name="A", respondents=respondents)
        with db.sessions() as session:
            round_ = session.query(PulseRound).one()
            result = results.round_result(session, POLICY.anonymity_threshold, round_, locale="en")
        assert result.responded == respondents and result.suppressed is suppressed
        means = [q.mean for q in result.questions]
        assert means == ([None, None] if suppressed else [9, 4])
        assert result.enps == (None if suppressed else 100)

    @pytest.mark.parametrize(("respondents", "suppressed"), [(5, True), (6, False)])
    def test_a_manager_asked_counts_as_an_answer_of_theirs(self, db, respondents, suppressed):
        """The manager was asked: one of the answers may be theirs, so the threshold counts
        the others only, for the round and for each question."""
        team_with_round(db, name="A", respondents=respondents, manager_asked=True)
        with db.sessions() as session:
            round_ = session.query(PulseRound).one()
            result = results.round_result(session, POLICY.anonymity_threshold, round_, locale="en")
        assert result.suppressed is suppressed and result.counted == respondents - 1
        assert [q.mean is None for q in result.questions] == [suppressed, suppressed]


class TestHomeOverview:
    def test_small_team_hides_the_next_smallest_beside_the_total(self, db):
        """A manager of three teams: the 3-answer team is hidden and so is the 6-answer one,
        while the 12-answer team and the total are shown."""
        for name, count in (("Small", 3), ("Mid", 6), ("Big", 12)):
            team_with_round(db, name=name, respondents=count)
        with db.sessions() as session:
            teams = list(queries.list_teams(session))
            lines, total = home_results(session, POLICY, teams=teams, locale="en", now=NOW)
            shown = {line.team.name: line.hidden for line in lines}
        assert shown == {"Big": False, "Mid": True, "Small": True}
        assert total is not None and total.responded == 21 and total.enps == 100

    def test_a_manager_asked_counts_beside_the_total_too(self, db):
        """Five answers in a team whose manager was asked are four besides the reader: beside
        the total that team is hidden, and takes the next-smallest with it."""
        team_with_round(db, name="Mid", respondents=5, manager_asked=True)
        team_with_round(db, name="Big", respondents=12)
        with db.sessions() as session:
            teams = list(queries.list_teams(session))
            lines, _total = home_results(session, POLICY, teams=teams, locale="en", now=NOW)
            shown = {line.team.name: line.hidden for line in lines}
        assert shown == {"Big": True, "Mid": True}


class TestNoSubtractionThroughWiderFigures:
    def test_90_day_enps_ignores_hidden_rounds(self, db):
        """A shown round and a hidden one: the 90-day eNPS is the shown round's alone."""
        team = team_with_round(db, name="A", respondents=5)
        with db.sessions.begin() as session:
            hidden = PulseRound(
                team_id=team.id,
                period=date(2026, 12, 8),
                questions=["enps"],
                state="closed",
                opens_at=NOW - timedelta(days=12),
                closes_at=NOW - timedelta(days=7),
            )
            session.add(hidden)
            session.flush()
            session.add(PulseAnswer(round_id=hidden.id, question="enps", respondent="x", value=0))
        with db.sessions() as session:
            team = session.get(Team, team.id)
            assert results.enps_90_days(session, POLICY.anonymity_threshold, team, now=NOW) == 100

    def test_90_day_enps_counts_the_manager_as_an_answer(self, db):
        """Five answers, the manager among those asked: no 90-day eNPS either."""
        team = team_with_round(db, name="A", respondents=5, manager_asked=True)
        with db.sessions() as session:
            team = session.get(Team, team.id)
            assert results.enps_90_days(session, POLICY.anonymity_threshold, team, now=NOW) is None

    def test_total_enps_leaves_out_a_hidden_team(self, db):
        """Beside a total, a 3-answer team's eNPS is not part of the total's eNPS."""
        for name, count in (("Small", 3), ("Big", 12)):
            team_with_round(db, name=name, respondents=count)
        with db.sessions.begin() as session:
            small = session.scalars(select(PulseRound).order_by(PulseRound.id)).first()
            for answer in session.scalars(
                select(PulseAnswer).where(PulseAnswer.round_id == small.id)
            ):
                answer.value = 0 if answer.question == "enps" else answer.value
        with db.sessions() as session:
            teams = list(queries.list_teams(session))
            _lines, total = home_results(session, POLICY, teams=teams, locale="en", now=NOW)
        assert total.enps == 100 and total.responded == 15
