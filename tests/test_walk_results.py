"""Sensory walks' results and learning expeditions (issue 11, items 4 and 5): the astonishment
report's form, its post to the team's channel and its refusals; each walk's ratings, gaps and
trend; the Home tab of a manager and of an admin; `symmetry export walks`. Through the app in
this process (tests/inprocess.py), the simulated Slack, both databases and the export's own
process. Walks and their notes are stored directly where the walk modal would make them."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.demo.slack import form_values
from bot.shared.i18n import translate
from bot.walks.expeditions import ERRORS
from bot.walks.overview import status
from bot.walks.quarters import Quarter, due_at
from bot.walks.results import history, trend
from storage import walks as walk_store
from storage.models import (
    Expedition,
    Irritant,
    Membership,
    OutboxMessage,
    Team,
    TeamManager,
    Walk,
    WalkNote,
)
from tests.conftest import (
    ADMIN,
    EMPLOYEE,
    MANAGER,
    SECRET_KEY,
    SIGNING_SECRET,
    TEAM_CHANNEL,
)
from tests.inprocess import APP_START, PARIS, app_settings, running_app
from tests.inprocess import tick as tick_at
from tests.irritant_helpers import big_team

# The app's clock starts on Thursday 5 February 2026 (tests.inprocess.APP_START): 2026-Q1,
# 35 days in, so the quarter's walk is still due (overdue from 15 February).
SOON = datetime(2026, 2, 5, 11, 0, tzinfo=PARIS)


def ratings(**senses: tuple[int | None, int | None]) -> dict:
    return {s: {"customer": c, "employee": e} for s, (c, e) in senses.items()}


# Smell and touch are worse in the employee spaces; taste has no employee rating.
LAST_QUARTER = ratings(sight=(4, 3), hearing=(4, 2), smell=(5, 3), touch=(4, 3), taste=(4, 4))
THIS_QUARTER = ratings(sight=(4, 4), hearing=(4, 3), smell=(5, 2), touch=(5, 2), taste=(4, None))


def stored_walk(
    db,
    team_id: int,
    quarter: str,
    *,
    scores: dict | None = None,
    done: datetime | None = None,
    findings: tuple[tuple[str, str, str], ...] = (),
) -> str:
    """A walk of a Paris team, done by MANAGER at `done` with `scores`, whose findings
    (sense, space, text) became named irritants; its public id."""
    with db.sessions.begin() as session:
        team = session.get(Team, team_id)
        walk = Walk(
            team_id=team_id,
            quarter=quarter,
            due_at=due_at(Quarter.parse(quarter), timezone="Europe/Paris", holidays=None),
            manager_id=MANAGER if done else None,
            done_at=done,
            scores=scores,
        )
        session.add(walk)
        session.flush()
        for sense, space, text in findings:
            irritant = Irritant(
                workspace_id=team.workspace_id,
                team_id=team_id,
                category="cleanliness",
                space=space,
                location="",
                severity="annoying",
                description=text,
                anonymous=False,
                reporter_id=MANAGER,
                status="new",
                created_at=done,
                updated_at=done,
                source="walk",
                walk_id=walk.id,
            )
            session.add(irritant)
            session.flush()
            session.add(
                WalkNote(
                    walk_id=walk.id,
                    author_id=MANAGER,
                    sense=sense,
                    space=space,
                    text=text,
                    finding=True,
                    category="cleanliness",
                    irritant_id=irritant.id,
                    created_at=done,
                )
            )
        return walk.public_id


def expeditions(db) -> list[Expedition]:
    with db.sessions() as session:
        return list(session.scalars(select(Expedition).order_by(Expedition.id)))


def home(platform, slack, user: str, *, count: int = 1) -> dict:
    """Open `user`'s Home tab and return the view published (the `count`-th so far)."""
    platform.event({"type": "app_home_opened", "user": user, "tab": "home"})
    calls = slack.wait_for(
        "views.publish", count=count, where=lambda c: c.params["user_id"] == user
    )
    return calls[count - 1].params["view"]


def buttons(view: dict, action_id: str) -> list[dict]:
    return [
        element
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    ]


def open_form(platform, slack, user: str, value: str) -> dict:
    """Click "Record a learning expedition" on the manager's Home; the view Slack opened,
    with its ID (which every submission of it carries, a replayed one too)."""
    slack.clear_calls()
    platform.block_action(user, "expedition_open", value, view=slack.home(MANAGER))
    return {**slack.wait_for("views.open")[0].params["view"], "id": f"V{uuid.uuid4().hex[:10]}"}


REPORT = {
    "place": "Hôtel de la Gare <!channel>",
    "date": "2026-02-03",
    "surprised": "The night porter knew every guest's name, and the staff room had a window.",
    "borrow": "A board at the entrance with the day's news, for the staff too.",
    "post": ["post"],
}


def submit(platform, user: str, form: dict, **answers):
    return platform.view_submission(user, form, form_values(form, {**REPORT, **answers}))


@pytest.fixture
def walk_id(app, platform, slack, db) -> str:
    """The Workshop team (managed by MANAGER); the public id its Home tab's walk buttons
    carry, the walk of the quarter, made by the Home tab."""
    big_team(db, slack)
    view = home(platform, slack, MANAGER)
    (button,) = buttons(view, "expedition_open")
    return button["value"]


class TestExpedition:
    def test_a_manager_records_it_and_posts_it_to_the_channel(
        self, app, platform, slack, db, walk_id
    ):
        """From the Home tab: the form, the report kept with the quarter's walk, its post to
        the team's channel (user text escaped), the Home tab updated; replayed, kept once."""
        form = open_form(platform, slack, MANAGER, walk_id)
        assert form["callback_id"] == "expedition_submit"
        response = submit(platform, MANAGER, form)
        assert response.json()["response_action"] == "update"
        assert "Hôtel de la Gare" in json.dumps(response.json()["view"], ensure_ascii=False)
        again = submit(platform, MANAGER, form)  # Slack delivers the same submission again
        assert again.json()["response_action"] == "update"
        (kept,) = expeditions(db)
        assert (kept.place, kept.visited_on, kept.author_id) == (
            "Hôtel de la Gare <!channel>",
            date(2026, 2, 3),
            MANAGER,
        )
        assert kept.posted_at is not None
        with db.sessions() as session:
            walk = walk_store.get(session, public_id=walk_id)
            assert (kept.walk_id, walk.quarter) == (walk.id, "2026-Q1")
            # The Home tab made it, due on the quarter's first working day, 09:30 in Paris.
            assert walk.due_at == datetime(2026, 1, 1, 8, 30, tzinfo=UTC)
            posts = select(OutboxMessage).where(OutboxMessage.kind == "expedition_post")
            assert [m.recipient for m in session.scalars(posts)] == [TEAM_CHANNEL]
        published = slack.wait_for("views.publish", count=1)[-1].params["view"]
        assert "1 expédition apprenante ce trimestre" in json.dumps(published, ensure_ascii=False)

        tick_at(app, SOON)
        (post,) = slack.messages_to(TEAM_CHANNEL)
        text = json.dumps(post.params, ensure_ascii=False)
        assert "&lt;!channel&gt;" in text and "<!channel>" not in text
        assert "night porter" in text and f"<@{MANAGER}>" in text

    def test_a_visit_of_last_quarter_goes_with_that_quarters_walk_unposted(
        self, platform, slack, db, walk_id
    ):
        """A visit of December is kept with the walk of 2025-Q4, made for it (due on its
        first working day at 09:30 team time); not posted unless asked."""
        form = open_form(platform, slack, MANAGER, walk_id)
        submit(platform, MANAGER, form, date="2025-12-20", post=[])
        (kept,) = expeditions(db)
        assert kept.posted_at is None
        with db.sessions() as session:
            walk = session.get(Walk, kept.walk_id)
            assert walk.quarter == "2025-Q4"
            assert walk.due_at == datetime(2025, 10, 1, 7, 30, tzinfo=UTC)  # 09:30 in Paris
            posts = select(OutboxMessage).where(OutboxMessage.kind == "expedition_post")
            assert session.scalars(posts).all() == []

    @pytest.mark.parametrize("user", [EMPLOYEE, ADMIN])
    def test_only_the_teams_managers_may_add_one(self, platform, slack, db, walk_id, user):
        """Anyone else (an admin included) is told why the form does not open, and their
        forged or replayed submission of the manager's form is refused: nothing is kept."""
        refused = open_form(platform, slack, user, walk_id)
        assert "callback_id" not in refused or refused["callback_id"] != "expedition_submit"
        assert "managers" in json.dumps(refused)
        form = open_form(platform, slack, MANAGER, walk_id)
        forged = submit(platform, user, form).json()
        assert forged["response_action"] == "errors"
        assert forged["errors"] == {"place": translate("en", ERRORS["not_allowed"])}
        assert expeditions(db) == []
        submit(platform, MANAGER, form)
        replayed = submit(platform, user, form).json()
        assert replayed["response_action"] == "errors"
        assert len(expeditions(db)) == 1

    @pytest.mark.parametrize("value", ["aaaaaaaaaa", "not an id", ""])
    def test_a_forged_walk_id_opens_nothing(self, platform, slack, db, walk_id, value):
        """A button value that names no walk gets the refusal, not a form."""
        refused = open_form(platform, slack, MANAGER, value)
        assert refused.get("callback_id") != "expedition_submit"

    @pytest.mark.parametrize(
        ("answers", "errors"),
        [
            ({"place": "   "}, {"place": "place_missing"}),
            ({"place": "p" * 201}, {"place": "place_too_long"}),
            ({"date": "2026-02-06"}, {"date": "date_future"}),
            ({"date": "2025-11-06"}, {"date": "date_too_old"}),
            (
                {"surprised": "", "borrow": "b" * 2001},
                {"surprised": "surprised_missing", "borrow": "text_too_long"},
            ),
            ({"surprised": "s" * 2001}, {"surprised": "text_too_long"}),
        ],
    )
    def test_bad_input_gets_field_errors(self, platform, slack, db, walk_id, answers, errors):
        """Each bad field is named, in the manager's language (French), and nothing is
        kept; the same form, corrected, is then kept."""
        form = open_form(platform, slack, MANAGER, walk_id)
        answer = submit(platform, MANAGER, form, **answers).json()
        assert answer["response_action"] == "errors"
        assert answer["errors"] == {f: translate("fr", ERRORS[c]) for f, c in errors.items()}
        assert expeditions(db) == []
        assert submit(platform, MANAGER, form).json()["response_action"] == "update"
        assert len(expeditions(db)) == 1

    def test_the_oldest_visit_allowed_is_90_days_back(self, platform, slack, db, walk_id):
        """90 days before the manager's today is accepted (the day after the refused one)."""
        form = open_form(platform, slack, MANAGER, walk_id)
        oldest = (APP_START.date() - timedelta(days=90)).isoformat()
        assert submit(platform, MANAGER, form, date=oldest).json()["response_action"] == "update"


class TestResults:
    def test_scores_gaps_and_trend_over_two_walks(self, db, slack):
        """Per walk, each sense's ratings and gap (None when a rating is missing); per sense
        the change since the previous walk; the mean gap per walk; the largest gap."""
        team_id = big_team(db, slack)
        stored_walk(db, team_id, "2025-Q4", scores=LAST_QUARTER, done=APP_START - timedelta(90))
        stored_walk(db, team_id, "2026-Q1", scores=THIS_QUARTER, done=APP_START)
        stored_walk(db, team_id, "2025-Q3", done=APP_START - timedelta(180))  # declared only
        with db.sessions() as session:
            results = history(walk_store.of_team(session, team_id=team_id))
        assert [r.walk.quarter for r in results] == ["2025-Q4", "2026-Q1"]
        before, latest = results
        assert before.gaps == {"sight": 1, "hearing": 2, "smell": 2, "touch": 1, "taste": 0}
        assert latest.gaps == {"sight": 0, "hearing": 1, "smell": 3, "touch": 3, "taste": None}
        assert {s.sense: s.change for s in latest.senses} == {
            "sight": -1, "hearing": -1, "smell": 1, "touch": 2, "taste": None,
        }  # fmt: skip
        assert [s.change for s in before.senses] == [None] * 5
        assert (before.mean_gap, latest.mean_gap) == (1.2, 1.8)
        assert trend(results) == [("2025-Q4", 1.2), ("2026-Q1", 1.8)]
        assert (latest.largest.sense, latest.largest.gap, latest.since) == ("smell", 3, "2025-Q4")

    @pytest.mark.parametrize(
        ("local_day", "state", "days_left"),
        [
            (datetime(2026, 2, 14, 23, 59, tzinfo=PARIS), "due", 46),
            (datetime(2026, 2, 15, 0, 0, tzinfo=PARIS), "overdue", 45),
            (datetime(2026, 3, 31, 23, 0, tzinfo=PARIS), "overdue", 1),
            (datetime(2026, 4, 1, 0, 0, tzinfo=PARIS), "due", 91),  # a new quarter
        ],
    )
    def test_a_walk_is_overdue_45_days_into_the_quarter(
        self, db, slack, local_day, state, days_left
    ):
        """Overdue from the 45th day after the quarter's start, in the team's time zone."""
        team_id = big_team(db, slack)
        with db.sessions() as session:
            team = session.get(Team, team_id)
            found = status(team, None, now=local_day.astimezone(UTC))
        assert (found.state, found.days_left) == (state, days_left)


class TestHome:
    def test_a_manager_sees_the_quarters_walk_and_the_last_ones(self, app, platform, slack, db):
        """Before the walk: due, with "Start my walk" and the expedition's buttons on the
        quarter's walk; once done: its ratings and gaps, the trend, its largest gap."""
        team_id = big_team(db, slack)
        stored_walk(db, team_id, "2025-Q4", scores=LAST_QUARTER, done=APP_START - timedelta(90))
        before = home(platform, slack, MANAGER)
        assert len(before["blocks"]) <= 100
        (start,) = buttons(before, "walk_start")
        (expedition,) = buttons(before, "expedition_open")
        with db.sessions() as session:
            walk = walk_store.of_quarter(session, team_id=team_id, quarter="2026-Q1")
            assert start["value"] == expedition["value"] == walk.public_id
        text = json.dumps(before, ensure_ascii=False)  # MANAGER reads French
        assert "2026-Q1\u00a0: à faire · 55 jours restants" in text
        assert "Le parcours 2025-Q4" in text  # the latest figures

        with db.sessions.begin() as session:
            walk = walk_store.of_quarter(session, team_id=team_id, quarter="2026-Q1")
            walk.done_at, walk.manager_id, walk.scores = APP_START, MANAGER, THIS_QUARTER
        after = home(platform, slack, MANAGER, count=2)
        assert len(after["blocks"]) <= 100
        assert buttons(after, "walk_start") == []
        assert buttons(after, "expedition_open")
        text = json.dumps(after, ensure_ascii=False)
        assert "2026-Q1\u00a0: fait le 5 févr. 2026 · plus grand écart\u00a0: odorat +3" in text
        assert "2025-Q4 +1.2 → 2026-Q1 +1.8" in text
        assert "*Odorat* · écart +3 (+1 depuis 2025-Q4)" in text
        assert "*Goût* · pas d’écart mesuré" in text

    def test_an_employee_sees_no_walk(self, app, platform, slack, db):
        """Walks are the managers' (and admins'): an employee's Home has none."""
        big_team(db, slack)
        view = home(platform, slack, EMPLOYEE)
        assert buttons(view, "walk_start") == buttons(view, "expedition_open") == []
        with db.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Walk)) == 0


@pytest.fixture
def late_app(db, slack, tmp_path) -> Iterator:
    """The app with its clock on Friday 20 February 2026: 50 days into 2026-Q1."""
    settings = app_settings(
        db.url, slack, slack_signing_secret=SIGNING_SECRET, secret_key=SECRET_KEY
    )
    start = datetime(2026, 2, 20, 10, 0, tzinfo=PARIS)
    with running_app(
        settings, db.sessions, db.engine, slack, log_path=tmp_path / "app.log", start=start
    ) as under_test:
        yield under_test
    raised = [line for line in under_test.log_path.read_text().splitlines() if "failed" in line]
    assert not raised, raised


class TestAdminHome:
    def test_an_admin_sees_every_teams_walk_of_the_quarter(self, late_app, slack, db):
        """Overdue teams first, then the done ones with their largest gap; within 100
        blocks, a Home tab that is the admin's, not a manager's (no walk buttons)."""
        team_id = big_team(db, slack)
        stored_walk(db, team_id, "2026-Q1", scores=THIS_QUARTER, done=APP_START)
        with db.sessions.begin() as session:
            other = Team(
                workspace_id=session.get(Team, team_id).workspace_id,
                name="Night desk",
                channel_id="CNIGHT001",
                timezone="America/New_York",
                locale="en",
            )
            other.memberships = [Membership(user_id=EMPLOYEE)]
            other.managers = [TeamManager(user_id=EMPLOYEE)]
            session.add(other)
        view = home(late_app.platform, slack, ADMIN)
        assert len(view["blocks"]) <= 100
        assert buttons(view, "walk_start") == []
        text = json.dumps(view, ensure_ascii=False)
        assert "*Sensory walks this quarter* · 1 done, 0 to do, 1 overdue" in text
        overdue = text.index("*Night desk* · 2026-Q1: overdue: not done 45 days into the quarter")
        done = text.index("*Workshop* · 2026-Q1: done on Feb 5, 2026 · largest gap: smell +3")
        assert overdue < done


def export(cli, *args: str) -> str:
    """What `symmetry export walks ARGS` printed (in this process)."""
    done = cli.run("export", "walks", *args)
    assert done.status == 0, done.err
    return done.out


class TestExport:
    def test_the_contracts_shape_in_json_and_csv(self, db, slack, cli):
        """One object per walk, exactly the contract's keys: ratings and gaps for every
        sense (null when missing), the public ids of the irritants its findings became,
        its expeditions; times ISO-8601 in UTC; CSV with nested values as JSON."""
        team_id = big_team(db, slack)
        done = datetime(2026, 2, 5, 14, 0, tzinfo=PARIS)
        stored_walk(db, team_id, "2025-Q4", done=done - timedelta(days=90))  # "done already"
        public_id = stored_walk(
            db,
            team_id,
            "2026-Q1",
            scores=THIS_QUARTER,
            done=done,
            findings=(("smell", "employee", "Stale air"), ("touch", "employee", "Cold seats")),
        )
        with db.sessions.begin() as session:
            walk = walk_store.get(session, public_id=public_id)
            session.add(
                Expedition(
                    walk_id=walk.id,
                    author_id=MANAGER,
                    place="Hôtel de la Gare",
                    visited_on=date(2026, 1, 20),
                    surprised="Names",
                    borrow="",
                    created_at=done,
                )
            )
            findings = [
                i.public_id for i in session.scalars(select(Irritant).order_by(Irritant.id))
            ]
        rows = json.loads(export(cli, "--format", "json"))
        assert [r["quarter"] for r in rows] == ["2025-Q4", "2026-Q1"]
        declared, latest = rows
        assert latest == {
            "team": "Workshop",
            "quarter": "2026-Q1",
            "manager": MANAGER,
            "due_at": "2026-01-01T08:30:00+00:00",
            "done_at": "2026-02-05T13:00:00+00:00",
            "scores": THIS_QUARTER,
            "gap": {"sight": 0, "hearing": 1, "smell": 3, "touch": 3, "taste": None},
            "findings": findings,
            "expeditions": [{"place": "Hôtel de la Gare", "date": "2026-01-20", "author": MANAGER}],
        }
        none = {"customer": None, "employee": None}
        assert declared["scores"] == {s: none for s in THIS_QUARTER}
        assert declared["gap"] == dict.fromkeys(THIS_QUARTER)
        assert (declared["findings"], declared["expeditions"]) == ([], [])

        as_csv = export(cli, "--format", "csv", "--team", "workshop")
        csv_rows = list(csv.DictReader(io.StringIO(as_csv)))
        assert list(csv_rows[0]) == list(latest)
        parsed = {
            k: json.loads(v) if k in ("scores", "gap", "findings", "expeditions") else v
            for k, v in csv_rows[1].items()
        }
        assert parsed == latest
        assert csv_rows[0]["manager"] == MANAGER and csv_rows[0]["done_at"]

    def test_an_unknown_team_is_an_error(self, cli):
        """`--team` naming no team exits 1 and says so, as the other exports do."""
        done = cli.run("export", "walks", "--team", "Nowhere")
        assert done.status == 1 and "--team" in done.err
