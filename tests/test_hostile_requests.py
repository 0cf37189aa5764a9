"""Signed requests no Slack client sends but a forger (or tests/test_fuzz_listeners.py) can:
form state of the wrong shape, IDs in metadata that the database cannot hold, button values
that are not text or too long, events without their IDs. Each gets a field error beside a
field of the form, a message, or is ignored; no listener fails, nothing is changed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.demo.slack import form_values
from bot.irritants.triage import ERRORS
from bot.pulse import settings_ui
from bot.shared.i18n import translate
from storage.models import Membership, Team, Workspace
from tests.conftest import ADMIN, EMPLOYEE, MANAGER, SALARIEE, TEAM_CHANNEL
from tests.irritant_helpers import answers, big_team, irritants, open_modal, report


def input_blocks(view: dict) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b["type"] == "input"]


def finished(app) -> list[str]:
    """Wait for the work listeners do after their ack (the pool then takes no more), and
    return what the app logged of failed listeners."""
    app.app.listener_runner.listener_executor.shutdown(wait=True)
    return [line for line in app.log_path.read_text().splitlines() if "listener failed" in line]


def open_view(platform, slack, user: str, command: str, text: str) -> dict:
    slack.clear_calls()
    platform.command(user, command, text)
    return slack.wait_for("views.open")[0].params["view"]


class TestFormState:
    def test_report_fields_that_are_not_text(self, platform, slack, db):
        """A description that is an object and a team that is a list: field errors, not a
        500 (the report listener read them as text)."""
        big_team(db, slack)
        view = open_modal(platform, slack, EMPLOYEE)
        values = form_values(view, answers())
        values["description"]["value"]["value"] = {"text": "freezing"}
        values["team"] = [1]
        response = platform.view_submission(EMPLOYEE, view, values)
        assert response.status == 200
        assert set(response.json()["errors"]) == {"description", "team"}
        assert irritants(db) == []

    @pytest.mark.parametrize("values", [None, [1, 2], "state", {"description": [None]}])
    def test_report_state_of_any_shape(self, platform, slack, db, values):
        """`state.values` that is not an object of objects: the form says what is missing."""
        big_team(db, slack)
        view = open_modal(platform, slack, EMPLOYEE)
        response = platform.view_submission(EMPLOYEE, view, values)
        assert response.status == 200
        errors = response.json()["errors"]
        assert "description" in errors and set(errors) <= set(input_blocks(view))

    def test_survey_settings_state_that_is_a_list(self, platform, slack, db):
        """The survey settings form submitted with a list for its state: field errors beside
        the form's own (versioned) blocks, nothing saved."""
        big_team(db, slack)
        view = open_view(platform, slack, MANAGER, "/symmetry", "survey")
        response = platform.view_submission(MANAGER, view, [1, 2])
        assert response.status == 200
        errors = response.json()["errors"]
        assert errors and set(errors) <= set(input_blocks(view))

    def test_team_setup_state_that_is_text(self, platform, slack, db):
        """The team setup form submitted with text for its state: field errors, no team."""
        view = open_view(platform, slack, ADMIN, "/symmetry", "team")
        response = platform.view_submission(ADMIN, view, "name")
        assert response.status == 200
        errors = response.json()["errors"]
        assert errors and set(errors) <= set(input_blocks(view))
        with db.sessions() as session:
            assert session.scalars(select(Team)).all() == []


class TestErrorsBesideTheForm:
    def test_survey_settings_of_a_team_not_yours(self, platform, slack, db):
        """Settings forged for another team ("team" in the metadata): the refusal sits beside
        the form's first field, not beside "enabled-", a block it does not have (Slack then
        shows only "We had some trouble connecting")."""
        big_team(db, slack)
        view = open_view(platform, slack, MANAGER, "/symmetry", "survey")
        view = {**view, "private_metadata": json.dumps({"team": 999})}
        response = platform.view_submission(MANAGER, view, form_values(view, {}))
        errors = response.json()["errors"]
        assert errors == {input_blocks(view)[0]: translate("fr", settings_ui.ERRORS["not_allowed"])}

    def test_team_setup_without_values(self, platform, slack, db):
        """An admin's edit of a team submitted with no values: the errors sit beside the
        edited team's blocks ("name-1"), not the new team's ("name-new")."""
        team_id = big_team(db, slack)
        view = open_view(platform, slack, ADMIN, "/symmetry", "team")
        picked = {"value": str(team_id), "text": {"type": "plain_text", "text": "Workshop"}}
        platform.block_action(ADMIN, "team_pick", view=view, selected_option=picked)
        (update,) = slack.wait_for("views.update")
        edit = slack.view(update.params["view_id"])
        response = platform.view_submission(ADMIN, edit, {})
        errors = response.json()["errors"]
        assert errors and set(errors) <= set(input_blocks(edit))
        assert f"name-{team_id}" in errors

    def test_resolve_form_forged_to_plan(self, platform, slack, db):
        """A resolve form (a note, no date) whose metadata says "plan": "choose a date" sits
        beside the note, the form's one field, not beside a date field it does not have."""
        big_team(db, slack)
        report(platform, slack, EMPLOYEE, share=True)
        (irritant,) = irritants(db)
        view = triage_form(irritant.public_id, "plan", blocks=[NOTE_BLOCK])
        response = platform.view_submission(MANAGER, view, NOTE)
        assert response.json()["errors"] == {"note": translate("fr", ERRORS["eta_missing"])}
        assert [i.status for i in irritants(db)] == ["new"]


NOTE_BLOCK = {
    "type": "input",
    "block_id": "note",
    "element": {"type": "plain_text_input", "action_id": "value"},
}
NOTE = {"note": {"value": {"type": "plain_text_input", "value": "Fixed"}}}


def triage_form(irritant: object, action: str, *, blocks: list) -> dict:
    """A triage form as a forger would submit it (the app's own is in tests/test_triage.py)."""
    metadata = {"irritant": irritant, "action": action, "origin": "message"}
    return {
        "callback_id": "irritant_triage",
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


class TestIdsInMetadata:
    @pytest.mark.parametrize("forged", [True, 10**30])
    def test_triage_form_for_no_irritant(self, platform, slack, db, forged):
        """A resolve form whose metadata names irritant `true` (a Python int equal to 1) or a
        number past the database's integers: refused, irritant 1 untouched (SQLite read `true`
        as irritant 1 and resolved it; PostgreSQL failed the query, a 500)."""
        big_team(db, slack)
        report(platform, slack, EMPLOYEE, share=True)
        view = triage_form(forged, "resolve", blocks=[NOTE_BLOCK])
        response = platform.view_submission(MANAGER, view, NOTE)
        assert response.status == 200
        assert response.json()["errors"]["note"] == translate("fr", ERRORS["not_allowed"])
        assert [i.status for i in irritants(db)] == ["new"]

    def test_team_setup_for_a_team_past_the_integers(self, app, platform, slack, db):
        """A team setup form whose metadata names team 10**30 edits no team: it is the form
        for a new one, as the admin filled it (the query for team 10**30 was a 500)."""
        view = open_view(platform, slack, ADMIN, "/symmetry", "team")
        view = {**view, "private_metadata": json.dumps({"team_id": 10**30})}
        filled = {"name": "Night", "channel": TEAM_CHANNEL, "managers": [MANAGER]}
        response = platform.view_submission(ADMIN, view, form_values(view, filled))
        assert (response.status, response.body, finished(app)) == (200, "", [])
        with db.sessions() as session:
            assert session.scalars(select(Team.name)).all() == ["Night"]


class TestButtonValues:
    def test_triage_click_past_the_integers(self, app, platform, slack, db):
        """A triage button whose value is a number PostgreSQL's integers cannot hold: the one
        answer for an irritant that is not there (the query failed on PostgreSQL)."""
        big_team(db, slack)
        slack.clear_calls()
        platform.block_action(MANAGER, "irritant_acknowledge", "99999999999")
        (answer,) = slack.wait_for("response_url")
        assert answer.params["text"] == translate("fr", ERRORS["not_allowed"])
        assert finished(app) == []

    def test_menu_whose_option_is_a_list(self, app, platform, slack, db):
        """The team setup's team menu with a list for its chosen option: the form for a new
        team, as for no choice (the listener read it as an object, after its ack)."""
        view = open_view(platform, slack, ADMIN, "/symmetry", "team")
        response = platform.block_action(ADMIN, "team_pick", view=view, selected_option=[None, 1])
        assert response.status == 200
        (update,) = slack.wait_for("views.update")
        assert "name-new" in json.dumps(update.params["view"])
        assert finished(app) == []

    def test_me_too_whose_value_is_not_text(self, app, platform, slack, db):
        """ "Me too" with a list for its value: the usual "this report expired" view."""
        big_team(db, slack)
        report(platform, slack, SALARIEE)
        view = open_modal(platform, slack, EMPLOYEE)
        values = form_values(view, answers())
        similar = platform.view_submission(EMPLOYEE, view, values).json()["view"]
        platform.block_action(
            EMPLOYEE, "irritant_similar_vote", view=similar, extra_action={"value": [1]}
        )
        (update,) = slack.wait_for("views.update")
        assert "This choice was already made" in json.dumps(update.params["view"])
        assert len(irritants(db)) == 1 and finished(app) == []

    def test_survey_button_longer_than_slack_allows(self, app, platform, slack, db):
        """A comment button whose value is longer than Slack lets an app write: the comment
        form opens without it (it was put in the form's metadata, over Slack's 3000)."""
        platform.block_action(SALARIEE, "pulse_comment", "1:comment:0:" + "s" * 3000)
        (opened,) = slack.wait_for("views.open")
        assert opened.params["view"]["private_metadata"] == ""
        assert finished(app) == []


class TestEventsWithoutTheirIds:
    @pytest.mark.parametrize(
        "event",
        [
            {"type": "member_joined_channel", "channel": TEAM_CHANNEL},
            {"type": "member_joined_channel", "user": SALARIEE, "channel": {"id": TEAM_CHANNEL}},
            {"type": "member_left_channel", "user": [EMPLOYEE], "channel": TEAM_CHANNEL},
            {"type": "app_home_opened", "tab": "home"},
            {"type": "tokens_revoked", "tokens": ["UBOT"]},
            {"type": "tokens_revoked", "tokens": {"bot": "U0BOT"}},
        ],
    )
    def test_ignored(self, app, platform, slack, db, event):
        """An event missing the IDs it is about, or with IDs of the wrong type or length, is
        acknowledged and ignored: no listener fails, members and install are as they were."""
        big_team(db, slack)
        assert platform.event(event).status == 200
        assert finished(app) == []
        with db.sessions() as session:
            members = session.scalars(select(Membership.user_id)).all()
            installed = session.scalars(select(Workspace.uninstalled_at)).all()
        assert EMPLOYEE in members and installed == [None]
