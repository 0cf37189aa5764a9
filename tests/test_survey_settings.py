"""`/symmetry survey`: a team's survey settings, for admins and its managers only."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.demo.slack import form_values
from storage.models import PulseQuestion, Team
from tests.conftest import ADMIN, EMPLOYEE, MANAGER, answer_of
from tests.irritant_helpers import big_team


def open_settings(platform, slack, user: str) -> dict:
    slack.clear_calls()
    platform.command(user, "/symmetry", "survey")
    return slack.wait_for("views.open")[0].params["view"]


def team(db) -> Team:
    with db.sessions() as session:
        return session.scalars(select(Team)).one()


class TestSurveySettings:
    def test_new_team_has_the_defaults(self, db, slack):
        """A new team's survey is on: weekly, Tuesday 10:00, 3 questions, 5 days."""
        big_team(db, slack)
        saved = team(db)
        assert (saved.survey_enabled, saved.survey_cadence, saved.survey_weekday) == (
            True,
            "weekly",
            1,
        )
        assert (saved.survey_time, saved.survey_questions, saved.survey_days) == ("10:00", 3, 5)

    def test_manager_changes_their_team(self, platform, slack, db):
        """The team's manager sets every two weeks, Thursday 14:30, 5 questions, 4 days."""
        big_team(db, slack)
        view = open_settings(platform, slack, MANAGER)
        assert view["callback_id"] == "pulse_settings"
        assert "question_en" not in json.dumps(view)  # adding questions is for admins
        answers = {"cadence": "biweekly", "weekday": "3", "time": "14:30", "questions": "5",
                   "days": "4", "enabled": ["on"]}  # fmt: skip
        response = platform.view_submission(MANAGER, view, form_values(view, answers))
        assert response.status == 200 and "errors" not in response.body
        saved = team(db)
        assert (saved.survey_cadence, saved.survey_weekday, saved.survey_time) == (
            "biweekly",
            3,
            "14:30",
        )
        assert (saved.survey_questions, saved.survey_days) == (5, 4)
        confirmation = slack.wait_for("chat.postMessage")[-1].params
        assert confirmation["channel"] == MANAGER

    def test_round_longer_than_the_cadence_is_refused(self, platform, slack, db):
        """A weekly round open 7 days or more is refused inside the modal."""
        big_team(db, slack)
        view = open_settings(platform, slack, MANAGER)
        body = platform.view_submission(
            MANAGER, view, form_values(view, {"days": "7", "cadence": "weekly"})
        ).json()
        assert body["response_action"] == "errors"
        assert team(db).survey_days == 5

    def test_turning_surveys_off(self, platform, slack, db):
        """Unticking "On" turns the team's surveys off."""
        big_team(db, slack)
        view = open_settings(platform, slack, MANAGER)
        platform.view_submission(MANAGER, view, form_values(view, {"enabled": []}))
        assert team(db).survey_enabled is False
        # The confirmation is sent after the ack: wait for it, or it reaches the next test.
        slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == MANAGER)

    def test_admin_adds_a_question(self, platform, slack, db):
        """An admin adds a question in both languages to the workspace's bank."""
        big_team(db, slack)
        view = open_settings(platform, slack, ADMIN)
        answers = {"question_en": "Is the parking safe at night?",
                   "question_fr": "Le parking est-il sûr la nuit ?", "scale": "1-5"}  # fmt: skip
        response = platform.view_submission(ADMIN, view, form_values(view, answers))
        assert "errors" not in response.body
        with db.sessions() as session:
            (question,) = session.scalars(select(PulseQuestion)).all()
        assert question.text_fr == "Le parking est-il sûr la nuit ?"
        # The confirmation is sent after the ack: wait for it, or it reaches the next test.
        slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == ADMIN)

    def test_employee_is_refused_and_forged_submission_changes_nothing(self, platform, slack, db):
        """Someone neither admin nor manager is told why; a forged submission is refused."""
        big_team(db, slack)
        refusal = answer_of(platform.command(EMPLOYEE, "/symmetry", "survey"), slack)
        assert "Nothing was changed" in json.dumps(refusal)
        view = open_settings(platform, slack, MANAGER)
        forged = platform.view_submission(EMPLOYEE, view, form_values(view, {"questions": "1"}))
        assert forged.json()["response_action"] == "errors"
        assert team(db).survey_questions == 3


class TestBadTimes:
    def test_an_impossible_time_is_refused(self, platform, slack, db):
        """A forged time such as 24:61 is refused inside the modal; nothing is saved."""
        big_team(db, slack)
        view = open_settings(platform, slack, MANAGER)
        body = platform.view_submission(MANAGER, view, form_values(view, {"time": "24:61"})).json()
        assert body["response_action"] == "errors"
        assert team(db).survey_time == "10:00"
