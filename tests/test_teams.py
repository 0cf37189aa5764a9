"""Team setup from Slack, membership events, Home tab, uninstall — through the app in this
process (tests/inprocess.py), the simulated Slack and a real database."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from bot.demo.slack import form_values
from storage.models import Membership, ProcessedEvent, Team, Workspace
from tests.conftest import (
    ADMIN,
    EMPLOYEE,
    GONE,
    MANAGER,
    OTHER_CHANNEL,
    OTHERBOT,
    PRIVATE_CHANNEL,
    SALARIEE,
    TEAM_CHANNEL,
    answer_of,
)


def open_setup(platform, slack, user=ADMIN) -> dict:
    """Run `/symmetry team` as `user` and return the modal Slack was asked to open."""
    response = platform.command(user, "/symmetry", "team")
    assert response.status == 200
    return slack.wait_for("views.open")[0].params["view"]


def team_answers(**overrides) -> dict:
    answers = {
        "name": "Workshop",
        "channel": TEAM_CHANNEL,
        "managers": [MANAGER],
        "timezone": "Europe/Paris",
        "locale": "fr",
    }
    answers.update(overrides)
    return answers


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def members(db, name: str) -> set[str]:
    with db.sessions() as session:
        team = session.scalars(select(Team).where(Team.name == name)).one_or_none()
        if team is None:
            return set()
        return {m.user_id for m in team.memberships}


def team_count(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(Team))


class TestTeamSetupFromSlack:
    def test_admin_creates_a_team(self, platform, slack, db):
        """An admin fills the modal; the team holds the channel's humans and the admin is told."""
        view = open_setup(platform, slack)
        assert view["callback_id"] == "team_setup"
        response = platform.view_submission(ADMIN, view, form_values(view, team_answers()))
        assert response.status == 200
        assert response.body in ("", "{}") or response.json().get("response_action") != "errors"
        dm = slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == ADMIN)
        assert "Workshop" in dm[0].params["text"]
        assert members(db, "Workshop") == {MANAGER, EMPLOYEE, SALARIEE}
        assert OTHERBOT not in members(db, "Workshop") and GONE not in members(db, "Workshop")
        assert slack.calls_to("conversations.join")[0].params["channel"] == TEAM_CHANNEL

    def test_non_admin_is_told_why_and_no_modal_opens(self, platform, slack, db):
        """A non-admin who types `/symmetry team` is refused and nothing opens or changes."""
        platform.command(EMPLOYEE, "/symmetry", "team")
        answer = slack.wait_for("response_url")[0].params
        assert "admin" in json.dumps(answer).lower()
        assert slack.calls_to("views.open") == []
        assert team_count(db) == 0

    def test_forged_submission_by_non_admin_changes_nothing(self, platform, slack, db):
        """A view_submission sent as a non-admin (forged) gets a field error; no team is made."""
        view = open_setup(platform, slack)
        response = platform.view_submission(EMPLOYEE, view, form_values(view, team_answers()))
        assert response.status == 200
        assert response.json()["response_action"] == "errors"
        assert team_count(db) == 0
        assert slack.calls_to("chat.postMessage") == []

    def test_invalid_fields_are_refused_inside_the_modal(self, platform, slack, db):
        """A bad time zone and a taken name are shown as field errors; nothing is stored."""
        view = open_setup(platform, slack)
        platform.view_submission(ADMIN, view, form_values(view, team_answers()))
        # Wait for the confirmation (sent after the ack), then forget the first modal: else
        # `open_setup` below returns it again instead of the new one.
        slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == ADMIN)
        assert team_count(db) == 1
        slack.clear_calls()
        view = open_setup(platform, slack)
        answers = team_answers(timezone="Mars/Olympus", channel=OTHER_CHANNEL)
        response = platform.view_submission(ADMIN, view, form_values(view, answers))
        errors = response.json()["errors"]
        assert set(errors) == {"name-new", "timezone-new"}
        assert team_count(db) == 1

    def test_private_channel_without_the_bot_is_refused(self, platform, slack, db):
        """A private channel the bot is not in is refused with a hint to invite it."""
        view = open_setup(platform, slack)
        answers = team_answers(channel=PRIVATE_CHANNEL)
        response = platform.view_submission(ADMIN, view, form_values(view, answers))
        assert "invite" in response.json()["errors"]["channel-new"].lower()
        assert team_count(db) == 0

    def test_admin_edits_an_existing_team(self, platform, slack, db):
        """Picking a team fills the modal with its values; saving changes it, not a copy."""
        view = open_setup(platform, slack)
        platform.view_submission(ADMIN, view, form_values(view, team_answers()))
        # The confirmation is sent after the ack: wait for it, or it could be taken below
        # for the confirmation of the edit.
        slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == ADMIN)
        assert team_count(db) == 1
        slack.clear_calls()
        view = open_setup(platform, slack)
        with db.sessions() as session:
            team_id = session.scalars(select(Team.id)).one()
        option = {"text": {"type": "plain_text", "text": "Workshop"}, "value": str(team_id)}
        platform.block_action(
            ADMIN, "team_pick", view=view, block_id="pick", selected_option=option
        )
        updated = slack.wait_for("views.update")[0].params["view"]
        assert "Workshop" in json.dumps(updated)
        answers = team_answers(name="Atelier", managers=[MANAGER, ADMIN], locale="en")
        response = platform.view_submission(ADMIN, updated, form_values(updated, answers))
        assert response.status == 200
        slack.wait_for(
            "chat.postMessage",
            where=lambda c: c.params["channel"] == ADMIN and "Atelier" in json.dumps(c.params),
        )
        with db.sessions() as session:
            team = session.scalars(select(Team)).one()
            assert (team.name, team.locale) == ("Atelier", "en")
            assert {m.user_id for m in team.managers} == {MANAGER, ADMIN}


class TestMembershipEvents:
    def test_join_and_leave_follow_the_channel(self, platform, slack, db):
        """A person joining the team channel joins the team; leaving it, leaves the team."""
        view = open_setup(platform, slack)
        platform.view_submission(ADMIN, view, form_values(view, team_answers()))
        wait_until(lambda: len(members(db, "Workshop")) == 3)
        slack.join(TEAM_CHANNEL, ADMIN)
        event = {"type": "member_joined_channel", "user": ADMIN, "channel": TEAM_CHANNEL}
        assert platform.event(event).status == 200
        wait_until(lambda: ADMIN in members(db, "Workshop"))
        event = {"type": "member_left_channel", "user": EMPLOYEE, "channel": TEAM_CHANNEL}
        platform.event(event)
        wait_until(lambda: EMPLOYEE not in members(db, "Workshop"))

    def test_bots_joining_are_not_members(self, platform, slack, db):
        """Another app's bot joining the channel does not become a member."""
        view = open_setup(platform, slack)
        platform.view_submission(ADMIN, view, form_values(view, team_answers()))
        wait_until(lambda: len(members(db, "Workshop")) == 3)
        event = {"type": "member_joined_channel", "user": OTHERBOT, "channel": TEAM_CHANNEL}
        platform.event(event)
        # A human joining right after is processed; by then the bot's event has been too.
        slack.join(TEAM_CHANNEL, ADMIN)
        event = {"type": "member_joined_channel", "user": ADMIN, "channel": TEAM_CHANNEL}
        platform.event(event)
        wait_until(lambda: ADMIN in members(db, "Workshop"))
        time.sleep(0.2)
        assert OTHERBOT not in members(db, "Workshop")

    def test_a_retried_event_is_processed_once(self, platform, slack, db):
        """Slack's retry of an event_id already handled changes nothing."""
        view = open_setup(platform, slack)
        platform.view_submission(ADMIN, view, form_values(view, team_answers()))
        wait_until(lambda: len(members(db, "Workshop")) == 3)
        event = {"type": "member_joined_channel", "user": ADMIN, "channel": TEAM_CHANNEL}
        platform.event(event, event_id="Ev0RETRY1")
        wait_until(lambda: ADMIN in members(db, "Workshop"))
        with db.engine.begin() as connection:
            connection.execute(Membership.__table__.delete().where(Membership.user_id == ADMIN))
        response = platform.event(event, event_id="Ev0RETRY1", retry_num=1)
        assert response.status == 200
        time.sleep(0.3)
        assert ADMIN not in members(db, "Workshop")
        with db.sessions() as session:
            claims = session.scalars(select(ProcessedEvent.event_id)).all()
        assert claims.count("Ev0RETRY1") == 1


class TestHome:
    def test_employee_home_explains_irritant(self, platform, slack):
        """Opening the Home tab publishes a welcome that explains /irritant, in English."""
        platform.event({"type": "app_home_opened", "user": EMPLOYEE, "tab": "home"})
        published = slack.wait_for("views.publish")[0].params
        assert published["user_id"] == EMPLOYEE
        text = json.dumps(published["view"])
        assert "/irritant" in text and "Welcome" in text

    def test_manager_home_lists_their_teams_in_french(self, platform, slack, db):
        """A French manager's Home tab lists their team, in French."""
        view = open_setup(platform, slack)
        platform.view_submission(ADMIN, view, form_values(view, team_answers()))
        wait_until(lambda: team_count(db) == 1)
        platform.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
        published = slack.wait_for("views.publish")[0].params["view"]
        text = json.dumps(published, ensure_ascii=False)
        assert "Workshop" in text and "Bienvenue" in text


class TestLifecycle:
    def test_uninstall_marks_the_workspace(self, platform, slack, db):
        """app_uninstalled marks the workspace as uninstalled; a later request reinstates it."""
        answer_of(platform.command(EMPLOYEE, "/symmetry", "help"), slack)
        platform.event({"type": "app_uninstalled"})

        def marked() -> bool:
            with db.sessions() as session:
                workspace = session.scalars(
                    select(Workspace).where(Workspace.slack_team_id == slack.team_id)
                ).one()
                return workspace.uninstalled_at is not None

        wait_until(marked)
        # Installed again: the workspace's next request brings it back.
        answer_of(platform.command(EMPLOYEE, "/symmetry", "help"), slack)
        wait_until(lambda: not marked())


class TestSetupLanguage:
    def test_first_contact_admin_gets_the_modal_in_their_language(self, platform, slack):
        """A French admin's very first /symmetry team opens the modal in French, with their
        time zone and language preselected."""
        slack.users[ADMIN].locale = "fr-FR"
        slack.users[ADMIN].tz = "Europe/Paris"
        view = open_setup(platform, slack)
        text = json.dumps(view, ensure_ascii=False)
        assert "Enregistrer" in text or "équipe" in text
        timezone = next(b for b in view["blocks"] if b.get("block_id", "").startswith("timezone"))
        assert timezone["element"]["initial_value"] == "Europe/Paris"
