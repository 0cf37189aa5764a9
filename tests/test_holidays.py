"""Public holidays (issue 11, item 7): a team names a calendar ("FR", "US-NY") in team setup or
`symmetry team add --holidays`, and every message the bot sends on its own treats those days
like a weekend — pulse rounds and reminders, welcomes, roundups, the outbox's working hours.
Through the app in this process (tests/inprocess.py) with signed requests and the clock's
tick, the simulated Slack, a real database; the command line through its process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.demo.slack import form_values
from bot.runtime.delivery import Deliverer
from bot.shared.i18n import translate
from bot.shared.worktime import is_working_time, next_opening, zone
from bot.teams.roster import ERROR_TEXT
from storage import outbox, queries
from storage.models import OutboxMessage, PulseRound, Team
from tests.conftest import (
    ADMIN,
    EMPLOYEE,
    MANAGER,
    SALARIEE,
    SECRET_KEY,
    SIGNING_SECRET,
    TEAM_CHANNEL,
)
from tests.inprocess import PARIS, AppUnderTest, app_settings, running_app, tick
from tests.irritant_helpers import big_team, report
from tests.test_pulse import reminders, surveys
from tests.test_teams import open_setup, team_answers, team_count
from tests.test_triage import dms

# French public holidays of 2026 that fall on working days.
MAY_DAY = date(2026, 5, 1)  # Friday
VICTORY_DAY = date(2026, 5, 8)  # Friday
ASCENSION = date(2026, 5, 14)  # Thursday


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


@contextmanager
def app_at(db, slack, tmp_path, start: datetime, **values: object) -> Iterator[AppUnderTest]:
    """The in-process app (as the `app` fixture builds it) with its clock starting at `start`,
    and settings changed by `values`."""
    settings = app_settings(
        db.url, slack, slack_signing_secret=SIGNING_SECRET, secret_key=SECRET_KEY, **values
    )
    log_path = tmp_path / f"app-{start:%Y%m%d%H%M}.log"
    with running_app(
        settings, db.sessions, db.engine, slack, log_path=log_path, start=start
    ) as under_test:
        yield under_test
    assert "listener failed" not in log_path.read_text()


def team_with(db, slack, **fields: object) -> int:
    """big_team (six people, managed by MANAGER, Paris), then `fields` set on it."""
    team_id = big_team(db, slack)
    with db.sessions.begin() as session:
        team = queries.get_team(session, team_id=team_id)
        for name, value in fields.items():
            setattr(team, name, value)
    return team_id


def stored_team(db) -> Team:
    with db.sessions() as session:
        return session.scalars(select(Team)).one()


def welcomes(slack, user_id: str) -> int:
    return sum(
        1
        for c in slack.calls_to("chat.postMessage")
        if not c.failed
        and c.params["channel"] == user_id
        and c.params["text"].startswith(("Welcome to Symmetry", "Bienvenue"))
    )


class TestTeamSetup:
    def test_lower_case_code_is_stored_upper_case_and_shown(self, platform, slack, db):
        """`fr` typed in the modal is stored as FR and shown in the admin's confirmation;
        editing the team shows it again."""
        view = open_setup(platform, slack)
        holidays = next(b for b in view["blocks"] if b["block_id"].startswith("holidays-"))
        assert holidays["optional"] is True
        response = platform.view_submission(
            ADMIN, view, form_values(view, team_answers(holidays=" fr "))
        )
        assert response.status == 200 and "errors" not in (response.body or "")
        (saved,) = slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == ADMIN)
        fields = [f["text"] for b in saved.params["blocks"] for f in b.get("fields", [])]
        assert "*Public holidays*\nFR" in fields
        assert stored_team(db).holidays == "FR"
        slack.clear_calls()
        view = open_setup(platform, slack)
        option = {
            "text": {"type": "plain_text", "text": "Workshop"},
            "value": str(stored_team(db).id),
        }
        platform.block_action(
            ADMIN, "team_pick", view=view, block_id="pick", selected_option=option
        )
        updated = slack.wait_for("views.update")[0].params["view"]
        (field,) = [b for b in updated["blocks"] if b["block_id"].startswith("holidays-")]
        assert field["element"]["initial_value"] == "FR"

    def test_empty_means_weekends_only(self, platform, slack, db):
        """Left empty, the team has no calendar and the confirmation says weekends only."""
        view = open_setup(platform, slack)
        platform.view_submission(ADMIN, view, form_values(view, team_answers()))
        (saved,) = slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == ADMIN)
        assert "None: weekends only" in json.dumps(saved.params)
        assert stored_team(db).holidays is None

    @pytest.mark.parametrize("code", ["XX", "FR-", "US-ZZ"])
    def test_unknown_code_is_a_field_error(self, platform, slack, db, code):
        """A calendar the `holidays` package does not know is refused on its field, in
        English; nothing is stored."""
        view = open_setup(platform, slack)
        response = platform.view_submission(
            ADMIN, view, form_values(view, team_answers(holidays=code))
        )
        errors = response.json()["errors"]
        assert errors == {"holidays-new": ERROR_TEXT["holidays_unknown"]}
        assert "country code" in errors["holidays-new"]
        assert team_count(db) == 0

    def test_unknown_code_is_a_field_error_in_french(self, db, slack, tmp_path):
        """A French-speaking admin reads the same refusal in French."""
        with app_at(db, slack, tmp_path, at(MAY_DAY, 10), admins=frozenset({MANAGER})) as app:
            view = open_setup(app.platform, slack, user=MANAGER)
            answers = team_answers(holidays="zz")
            response = app.platform.view_submission(MANAGER, view, form_values(view, answers))
        errors = response.json()["errors"]
        assert errors == {"holidays-new": translate("fr", ERROR_TEXT["holidays_unknown"])}
        assert "jours fériés" in errors["holidays-new"]


def team_add(cli, holidays: str):
    """`symmetry team add Atelier … --holidays HOLIDAYS` (in this process)."""
    args = ["--channel", TEAM_CHANNEL, "--manager", MANAGER, "--holidays", holidays]
    return cli.run("team", "add", "Atelier", *args)


class TestTeamAddCommand:
    def test_holidays_are_stored_and_listed(self, db, cli):
        """`--holidays us-ny` stores US-NY; `team list` shows it."""
        result = team_add(cli, "us-ny")
        assert result.status == 0, result.err
        assert stored_team(db).holidays == "US-NY"
        listed = cli.run("team", "list").out.splitlines()
        assert listed[0].split()[-1] == "holidays" and listed[1].split()[-1] == "US-NY"

    def test_unknown_code_exits_2(self, db, cli):
        """An unknown calendar is a bad option: exit status 2, a message naming it, no team."""
        result = team_add(cli, "XX")
        assert result.status == 2
        assert "--holidays" in result.err and "'XX'" in result.err
        assert "Traceback" not in result.err
        assert team_count(db) == 0


class TestPulse:
    def test_round_due_on_may_day_opens_the_next_working_day(self, app, slack, db):
        """A Friday round, 1 May in France: not planned on Thursday, nothing on the holiday;
        a Monday tick (none ran on Sunday) opens it, and the DMs go at 10:00 that Monday."""
        team_with(db, slack, holidays="FR", survey_weekday=4)
        assert "0 round(s) opened" in tick(app, at(MAY_DAY - timedelta(days=1), 12))
        tick(app, at(MAY_DAY, 10, 5))
        assert surveys(slack, SALARIEE) == []
        monday = MAY_DAY + timedelta(days=3)
        assert "1 round(s) opened" in tick(app, at(monday, 9))
        with db.sessions() as session:
            round_ = session.scalars(select(PulseRound)).one()
            assert (round_.period, round_.opens_at) == (MAY_DAY, at(monday, 10))
            assert round_.closes_at == at(monday + timedelta(days=5), 10)
        tick(app, at(monday, 10, 5))
        assert len(surveys(slack, SALARIEE)) == 1  # Paris
        assert surveys(slack, EMPLOYEE) == []  # London: 09:05 there

    def test_without_a_calendar_may_day_is_a_day_like_any(self, app, slack, db):
        """The same team with no calendar: planned on Thursday, sent on 1 May at 10:00."""
        team_with(db, slack, survey_weekday=4)
        assert "1 round(s) opened" in tick(app, at(MAY_DAY - timedelta(days=1), 12))
        tick(app, at(MAY_DAY, 10, 5))
        assert len(surveys(slack, SALARIEE)) == 1

    def test_reminder_due_on_a_holiday_waits(self, app, slack, db):
        """A round open from Monday 4 May for eight days: its reminder, due halfway on Friday
        8 May (a holiday), goes on Monday 11 May."""
        monday = MAY_DAY + timedelta(days=3)
        team_with(
            db, slack, holidays="FR", survey_cadence="monthly", survey_weekday=0, survey_days=8
        )
        tick(app, at(monday - timedelta(days=1), 12))
        tick(app, at(monday, 10, 5))
        assert len(surveys(slack, SALARIEE)) == 1
        tick(app, at(VICTORY_DAY, 10, 5))
        assert reminders(slack, SALARIEE) == 0
        tick(app, at(VICTORY_DAY + timedelta(days=3), 8, 5))
        assert reminders(slack, SALARIEE) == 1


class TestRoundup:
    def test_none_on_a_holiday_the_next_day_takes_both(self, db, slack, tmp_path):
        """An anonymous report on Ascension Thursday gets no roundup that day; Friday's
        roundup shows it with Friday's report."""
        team_with(db, slack, holidays="FR", survey_enabled=False)
        with app_at(db, slack, tmp_path, at(ASCENSION, 10)) as app:
            report(app.platform, slack, SALARIEE)
            tick(app, at(ASCENSION, 16, 5))
        assert dms(slack, MANAGER) == []
        friday = ASCENSION + timedelta(days=1)
        with app_at(db, slack, tmp_path, at(friday, 10)) as app:
            report(
                app.platform, slack, EMPLOYEE, description="The compressor is deafening",
                category="noise", location="Workshop B",
            )  # fmt: skip
            tick(app, at(friday, 16, 5))
        (roundup,) = dms(slack, MANAGER)
        assert "staff room is freezing" in json.dumps(roundup)
        assert "compressor is deafening" in json.dumps(roundup)

    def test_without_a_calendar_ascension_has_its_roundup(self, db, slack, tmp_path):
        """With no calendar, Ascension Thursday is a working day: its roundup goes."""
        team_with(db, slack, survey_enabled=False)
        with app_at(db, slack, tmp_path, at(ASCENSION, 10)) as app:
            report(app.platform, slack, SALARIEE)
            tick(app, at(ASCENSION, 16, 5))
        (roundup,) = dms(slack, MANAGER)
        assert "staff room is freezing" in json.dumps(roundup)


class TestWelcome:
    def test_queued_on_a_holiday_eve_goes_the_next_working_day(self, app, slack, db):
        """Welcomes queued on Thursday 30 April after hours wait over 1 May and the weekend:
        Monday 08:00 in Paris."""
        team_with(db, slack, holidays="FR", survey_enabled=False)
        tick(app, at(MAY_DAY - timedelta(days=1), 19, 30))
        with db.sessions() as session:
            row = session.scalars(
                select(OutboxMessage).where(OutboxMessage.recipient == SALARIEE)
            ).one()
            assert (row.holidays, row.not_before) == ("FR", at(MAY_DAY + timedelta(days=3), 8))
        tick(app, at(MAY_DAY, 8, 5))
        assert welcomes(slack, SALARIEE) == 0
        tick(app, at(MAY_DAY + timedelta(days=3), 8, 5))
        assert welcomes(slack, SALARIEE) == 1

    def test_without_a_calendar_it_goes_on_may_day(self, app, slack, db):
        """With no calendar the same welcome goes on 1 May at 08:00."""
        team_with(db, slack, survey_enabled=False)
        tick(app, at(MAY_DAY - timedelta(days=1), 19, 30))
        tick(app, at(MAY_DAY, 8, 5))
        assert welcomes(slack, SALARIEE) == 1


class TestDelivery:
    def test_overdue_message_found_on_a_holiday_is_held(self, db, slack):
        """A message of a French team that fell due on Thursday and is found on 1 May is held
        until Monday 08:00 Paris, not sent; the deliverer reads the calendar from its row."""
        found = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)  # 11:00 in Paris
        with db.sessions.begin() as session:
            workspace_id = queries.get_or_create_workspace(session, slack_team_id=slack.team_id).id
            outbox.enqueue(
                session, workspace_id=workspace_id, key="test:holiday", kind="test",
                recipient=EMPLOYEE, payload={"text": "hello"}, timezone="Europe/Paris",
                holidays="FR", not_before=datetime(2026, 4, 30, 13, 0, tzinfo=UTC),
            )  # fmt: skip
        client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
        deliverer = Deliverer(db.sessions, lambda _id: client, now=lambda: found, seed=1)
        try:
            report_ = deliverer.run()
        finally:
            deliverer.close()
        assert (report_.sent, report_.held) == (0, 1)
        with db.sessions() as session:
            row = session.scalars(select(OutboxMessage)).one()
            assert row.state == outbox.QUEUED
            assert row.not_before == datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


class TestWorkingHours:
    @pytest.mark.parametrize(
        ("instant", "holidays", "expected"),
        [
            # Thursday 30 April 20:00 Paris: Friday 1 May is a French holiday, then a weekend.
            (
                datetime(2026, 4, 30, 18, 0, tzinfo=UTC),
                "FR",
                datetime(2026, 5, 4, 6, 0, tzinfo=UTC),
            ),
            (
                datetime(2026, 4, 30, 18, 0, tzinfo=UTC),
                None,
                datetime(2026, 5, 1, 6, 0, tzinfo=UTC),
            ),
            # 1 May is no holiday in New York: 08:00 there.
            (
                datetime(2026, 5, 1, 3, 0, tzinfo=UTC),
                "US-NY",
                datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
            ),
        ],
    )
    def test_next_opening_skips_the_calendars_holidays(self, instant, holidays, expected):
        """A message held outside working hours waits past the public holidays of its calendar,
        and only those."""
        tz = zone("America/New_York" if holidays == "US-NY" else "Europe/Paris")
        assert next_opening(instant, tz, holidays) == expected
        assert not is_working_time(
            datetime(2026, 5, 1, 9, 0, tzinfo=UTC), zone("Europe/Paris"), "FR"
        )
