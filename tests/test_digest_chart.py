"""The digest's chart: the 12 weeks' series read from a real database (anonymity rules
included) and the PNG drawn from it, in English and French."""

from __future__ import annotations

import io
import struct
from datetime import UTC, date, datetime, timedelta

import pytest
from matplotlib.image import imread
from matplotlib.text import Text
from sqlalchemy import event, insert

from bot.digests import chart, plot
from bot.digests.chart import Series, weekly_series
from bot.digests.weeks import Week
from storage import queries
from storage.models import (
    Irritant,
    Membership,
    PulseAnswer,
    PulseParticipant,
    PulseRound,
    Team,
    TeamManager,
)
from tests.conftest import POLICY

WEEK = Week(2026, 50)  # the digest's week: the chart shows 2026-W38 .. 2026-W49
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Monday of week 50, 09:00 in Paris
MANAGER = "UCHARTM1"


def at(week: Week, weekday: int = 2, hour: int = 10) -> datetime:
    """An instant of `week` (UTC)."""
    return datetime.combine(week.day(weekday), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=hour
    )


W45, W46, W47 = Week(2026, 45), Week(2026, 46), Week(2026, 47)


def make_team(db, *, people: int = 8, name: str = "Chart team") -> int:
    """A team in Paris of `people` members besides its manager (who is a member too)."""
    with db.sessions.begin() as session:
        workspace = queries.get_or_create_workspace(session, slack_team_id="TCHART")
        team = Team(
            workspace_id=workspace.id, name=name, channel_id=f"C{name[:6].upper()}",
            timezone="Europe/Paris", locale="en",
        )  # fmt: skip
        members = [MANAGER, *(f"U{name[:4].upper()}{i:03d}" for i in range(people))]
        team.memberships = [Membership(user_id=u) for u in members]
        team.managers = [TeamManager(user_id=MANAGER)]
        session.add(team)
        session.flush()
        return team.id


def add_report(db, team_id: int, *, created: datetime, anonymous: bool = False, **fields) -> None:
    with db.sessions.begin() as session:
        team = session.get(Team, team_id)
        session.add(
            Irritant(
                workspace_id=team.workspace_id, team_id=team_id, category="noise",
                space="employee", location="", severity="minor", description="Humming",
                anonymous=anonymous, reporter_id=None if anonymous else "UREPORT1",
                status=fields.pop("status", "new"), created_at=created, updated_at=created,
                **fields,
            )
        )  # fmt: skip


def add_round(
    db,
    team_id: int,
    *,
    period: date,
    answers: dict[str, list[int]],
    managers_asked: bool = False,
    state: str = "closed",
) -> None:
    """A round whose question `key` was answered with `answers[key]` (respondent i gave the
    i-th value of each list)."""
    with db.sessions.begin() as session:
        round_ = PulseRound(
            team_id=team_id, period=period, questions=list(answers), state=state,
            opens_at=datetime.combine(period, datetime.min.time(), tzinfo=UTC),
            closes_at=datetime.combine(period, datetime.min.time(), tzinfo=UTC)
            + timedelta(days=5),
        )  # fmt: skip
        session.add(round_)
        session.flush()
        if managers_asked:
            week = Week.of(period).label
            session.add(PulseParticipant(round_id=round_.id, user_id=MANAGER, week=week))
        for key, values in answers.items():
            session.add_all(
                PulseAnswer(round_id=round_.id, question=key, respondent=f"r{i}", value=v)
                for i, v in enumerate(values)
            )


def series_of(db, team_id: int, *, week: Week = WEEK, now: datetime = NOW) -> Series:
    with db.sessions() as session:
        team = session.get(Team, team_id)
        return weekly_series(session, POLICY, team=team, week=week, now=now)


def by_week(series: Series, values: list) -> dict[str, object]:
    return {w.label: v for w, v in zip(series.weeks, values, strict=True) if v}


class TestWindow:
    def test_twelve_weeks_before_the_digests_week(self, db):
        """The series covers exactly the 12 complete weeks before the digest's week."""
        series = series_of(db, make_team(db))
        assert [w.label for w in series.weeks] == [f"2026-W{n}" for n in range(38, 50)]
        for values in (series.opened, series.resolved, series.pulse_mean, series.enps):
            assert len(values) == 12

    def test_across_the_new_year(self):
        """Early in a year the window reaches back into the previous one (2026 has 53
        weeks)."""
        weeks = chart.window(Week(2027, 2))
        assert len(weeks) == 12
        assert weeks[0] == Week(2026, 43) and weeks[-2:] == [Week(2026, 53), Week(2027, 1)]

    def test_edges_of_the_window(self, db):
        """A report made before the first week, or in the digest's own week, is left out;
        a report on the first week's Monday morning in Paris is in it."""
        team_id = make_team(db)
        paris_monday = datetime(2026, 9, 13, 22, 30, tzinfo=UTC)  # Mon 14 Sep 00:30 in Paris
        add_report(db, team_id, created=paris_monday)
        add_report(db, team_id, created=paris_monday - timedelta(hours=1))  # Sunday in Paris
        add_report(db, team_id, created=NOW - timedelta(hours=2))  # Monday of week 50
        series = series_of(db, team_id)
        assert by_week(series, series.opened) == {"2026-W38": 1}


class TestIrritants:
    def test_named_reports_by_the_day_they_were_made(self, db):
        """Named reports count in the week they were made."""
        team_id = make_team(db)
        add_report(db, team_id, created=at(W45))
        add_report(db, team_id, created=at(W45, 4))
        add_report(db, team_id, created=at(W47))
        series = series_of(db, team_id)
        assert by_week(series, series.opened) == {"2026-W45": 2, "2026-W47": 1}

    def test_anonymous_reports_in_their_roundups_week_only(self, db):
        """An anonymous report not yet shown by a roundup is absent; one shown counts in the
        roundup's week, never in the week it was made."""
        team_id = make_team(db)
        add_report(db, team_id, created=at(W45, 4), anonymous=True)  # never rounded up
        add_report(db, team_id, created=at(W45, 4), anonymous=True, rounded_up_at=at(W46, 0, 15))
        series = series_of(db, team_id)
        assert by_week(series, series.opened) == {"2026-W46": 1}

    def test_a_roundup_after_now_is_not_seen_yet(self, db):
        """A roundup that, as of `now`, has not happened shows nothing."""
        team_id = make_team(db)
        add_report(db, team_id, created=at(W45), anonymous=True, rounded_up_at=at(W47))
        assert not any(series_of(db, team_id, now=at(W46)).opened)

    def test_reports_for_the_admins_never_count(self, db):
        """An anonymous report made while the team was too small went to the admins: the
        managers' chart never counts it, opened or resolved."""
        team_id = make_team(db)
        add_report(
            db, team_id, created=at(W45), anonymous=True, rounded_up_at=at(W45, 3),
            for_admins=True, status="resolved", resolved_at=at(W46),
        )  # fmt: skip
        series = series_of(db, team_id)
        assert not any(series.opened) and not any(series.resolved)

    @pytest.mark.parametrize(("people", "counted"), [(4, 0), (5, 1)])
    def test_older_anonymous_reports_follow_the_teams_size(self, db, people, counted):
        """An anonymous report older than the admins' flag counts when the team is large
        enough for anonymity now (besides its manager)."""
        team_id = make_team(db, people=people)
        add_report(db, team_id, created=at(W45), anonymous=True, rounded_up_at=at(W45, 3))
        assert sum(series_of(db, team_id).opened) == counted

    def test_resolved_by_the_day_they_were_resolved(self, db):
        """Resolved reports count in the week they were resolved; declined ones and
        anonymous ones no roundup has shown do not."""
        team_id = make_team(db)
        add_report(db, team_id, created=at(W45), status="resolved", resolved_at=at(W47))
        add_report(db, team_id, created=at(W45), status="declined", resolved_at=at(W47))
        add_report(
            db, team_id, created=at(W46), anonymous=True, rounded_up_at=at(W46, 3),
            status="resolved", resolved_at=at(W47, 4),
        )  # fmt: skip
        add_report(
            db, team_id, created=at(W46), anonymous=True, status="resolved", resolved_at=at(W47)
        )
        series = series_of(db, team_id)
        assert by_week(series, series.resolved) == {"2026-W47": 2}
        assert by_week(series, series.opened) == {"2026-W45": 2, "2026-W46": 1}


class TestPulse:
    @pytest.mark.parametrize(("respondents", "shown"), [(4, False), (5, True)])
    def test_threshold(self, db, respondents, shown):
        """A round under the threshold gives no figure (a gap, not a zero)."""
        team_id = make_team(db)
        add_round(
            db, team_id, period=W46.day(1),
            answers={"enps": [10] * respondents, "noise": [4] * respondents},
        )  # fmt: skip
        series = series_of(db, team_id)
        assert by_week(series, series.pulse_mean) == ({"2026-W46": 4.0} if shown else {})
        assert series.enps[series.weeks.index(W46)] == (100 if shown else None)

    @pytest.mark.parametrize(("respondents", "shown"), [(5, False), (6, True)])
    def test_the_managers_answers_do_not_count(self, db, respondents, shown):
        """When the manager was asked, one answer may be theirs: the threshold counts the
        others only."""
        team_id = make_team(db)
        add_round(
            db, team_id, period=W46.day(1), managers_asked=True,
            answers={"noise": [3] * respondents},
        )  # fmt: skip
        series = series_of(db, team_id)
        assert (series.pulse_mean[series.weeks.index(W46)] is not None) is shown

    def test_means_of_shown_questions_and_enps(self, db):
        """The pulse mean is the mean of the shown 1–5 questions' means (eNPS apart, a
        question too few answered left out); eNPS is promoters minus detractors."""
        team_id = make_team(db)
        add_round(
            db, team_id, period=W45.day(1),
            answers={
                "enps": [10, 9, 8, 6, 3, 10],  # 3 promoters, 2 detractors of 6: 17
                "noise": [4, 4, 4, 4, 4, 4],
                "lighting": [2, 3, 2, 3, 2],  # 2.4
                "tools": [5, 5, 5, 5],  # 4 answers: hidden
            },
        )  # fmt: skip
        add_round(db, team_id, period=W47.day(1), answers={"noise": [1] * 9}, state="open")
        series = series_of(db, team_id)
        assert by_week(series, series.pulse_mean) == {"2026-W45": 3.2}
        assert by_week(series, series.enps) == {"2026-W45": 17}

    def test_bounded_queries(self, db):
        """The series takes the same few queries whatever the history's length."""
        team_id = make_team(db)
        statements: list[str] = []

        def count(_conn, _cursor, statement, *_args):
            statements.append(statement)

        for weeks_back in range(1, 30):
            period = (WEEK.monday - timedelta(weeks=weeks_back)) + timedelta(days=1)
            add_round(db, team_id, period=period, answers={"noise": [4] * 6, "enps": [9] * 6})
            add_report(db, team_id, created=at(Week.of(period)), anonymous=True,
                       rounded_up_at=at(Week.of(period), 3))  # fmt: skip
        with db.sessions() as session:
            team = session.get(Team, team_id)
            event.listen(db.engine, "before_cursor_execute", count)
            try:
                series = weekly_series(session, POLICY, team=team, week=WEEK, now=NOW)
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
        assert series.opened == [1] * 12 and series.enps == [100] * 12
        # irritants, the team's size (for the older anonymous reports), rounds, readers,
        # answers
        assert len(statements) == 5


def long_history(db, team_id: int, *, years: int = 4) -> None:
    """A report a day for `years`, half of them anonymous and rounded up the next day, most
    resolved a week later; then the planner's statistics."""
    with db.sessions.begin() as session:
        workspace_id = session.get(Team, team_id).workspace_id
        rows = []
        for day in range(365 * years):
            made = NOW - timedelta(days=day + 1)
            anonymous = day % 2 == 0
            rows.append(
                {
                    "public_id": f"hist{day:06d}", "workspace_id": workspace_id,
                    "team_id": team_id, "category": "noise", "space": "employee",
                    "location": "", "severity": "minor", "description": "Humming",
                    "anonymous": anonymous, "reporter_id": None if anonymous else "UREPORT1",
                    "status": "resolved" if day % 5 else "new", "created_at": made,
                    "updated_at": made,
                    "rounded_up_at": made + timedelta(days=1) if anonymous else None,
                    "resolved_at": made + timedelta(days=7) if day % 5 else None,
                    "for_admins": False if anonymous else None, "votes_shown": 0,
                    "source": "report",
                }
            )  # fmt: skip
        session.execute(insert(Irritant), rows)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


@pytest.mark.parametrize("index", ["created", "rounded_up", "resolved"])
def test_irritants_read_through_the_window_indexes(db, index):
    """With years of history, the plan of the irritants' query searches each window index,
    never the whole table."""
    team_id = make_team(db)
    long_history(db, team_id)
    captured: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, *_args):
        if "irritants" in statement and "UNION ALL" in statement:
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        series = series_of(db, team_id)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert sum(series.opened) == 12 * 7
    ((statement, parameters),) = captured
    explain = "EXPLAIN" if db.backend == "postgres" else "EXPLAIN QUERY PLAN"
    with db.engine.connect() as connection:
        plan = connection.exec_driver_sql(f"{explain} {statement}", parameters).all()
    details = " ".join(str(row[-1]) for row in plan)
    assert f"ix_irritants_team_{index}" in details
    assert "SCAN irritants" not in details and "Seq Scan" not in details


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR, after checking its signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def sample(**changes) -> Series:
    weeks = chart.window(WEEK)
    values = {
        "weeks": weeks,
        "opened": [3, 0, 5, 2, 0, 1, 4, 2, 0, 0, 6, 1],
        "resolved": [1, 2, 0, 0, 3, 1, 2, 2, 1, 0, 2, 4],
        "pulse_mean": [3.4, 3.1, None, None, 3.8, 4.0, 3.9, None, 3.2, 3.5, 3.6, 3.7],
        "enps": [20, None, None, 5, 10, 30, None, None, -10, 0, 15, 25],
    }
    values.update(changes)
    return Series(**values)


def texts(locale: str) -> set[str]:
    fig = plot.figure(sample(pulse_mean=[None] * 12, enps=[None] * 12), locale)
    return {t.get_text() for t in fig.findobj(Text) if t.get_text()}


class TestPng:
    @pytest.mark.parametrize("locale", ["en", "fr"])
    def test_a_png_from_the_database(self, db, locale):
        """A team's series gives a PNG of 640 x 420 pixels, in either language."""
        team_id = make_team(db)
        add_report(db, team_id, created=at(W45))
        add_round(db, team_id, period=W46.day(1), answers={"noise": [4] * 5})
        data = chart.png(series_of(db, team_id), locale)
        assert data is not None and png_size(data) == (640, 420)
        assert imread(io.BytesIO(data)).shape == (420, 640, 4)

    def test_english_words(self):
        """Title, legends, axes and week labels are in English."""
        found = texts("en")
        assert {"The last 12 weeks", "Irritants reported", "Irritants resolved"} <= found
        assert {"Pulse mean (1–5)", "eNPS (−100 to 100)", "W38", "W49"} <= found
        assert "No pulse figure may be shown for these weeks" in found

    def test_french_words(self):
        """The same in French, weeks as "S49"."""
        found = texts("fr")
        assert {"Les 12 dernières semaines", "Irritants signalés", "Irritants résolus"} <= found
        assert {"Moyenne des sondages (1–5)", "eNPS (−100 à 100)", "S38", "S49"} <= found
        assert not {"W49", "The last 12 weeks"} & found

    def test_hidden_weeks_are_gaps(self):
        """A hidden figure is no point at all, not a zero."""
        fig = plot.figure(sample(), "en")
        lines = [line for axes in fig.axes for line in axes.get_lines()]
        ydata = [list(line.get_ydata()) for line in lines]
        mean, score = ydata
        assert [v != v for v in mean] == [v is None for v in sample().pulse_mean]  # NaN
        assert [v != v for v in score] == [v is None for v in sample().enps]

    def test_the_kept_frame_draws_what_a_full_draw_does(self):
        """Charts drawn one after the other over the kept frame are, pixel for pixel, the
        figure drawn in full."""
        for series in (sample(), sample(opened=[9] * 12, enps=[None] * 12), sample()):
            fast = imread(io.BytesIO(plot.png(series, "fr")))
            full = imread(io.BytesIO(plot.Chart("fr", series.weeks).png(series)))
            assert (fast == full).all()

    def test_nothing_to_draw(self):
        """No report and no figure shown: no chart."""
        empty = sample(opened=[0] * 12, resolved=[0] * 12, pulse_mean=[None] * 12,
                       enps=[None] * 12)  # fmt: skip
        assert chart.png(empty, "en") is None
        assert chart.png(Series(), "en") is None
        one_report = sample(opened=[0] * 11 + [1], resolved=[0] * 12, pulse_mean=[None] * 12,
                            enps=[None] * 12)  # fmt: skip
        assert chart.png(one_report, "en") is not None
