"""The digest's one button, clicked through the app in this process (tests/inprocess.py, signed
requests, the simulated Slack): it reuses an existing action, so the listener that handles it
checks who clicks. The manager gets the form; anyone else gets a refusal and changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from bot.digests import compose
from bot.digests.weeks import Week
from storage.models import Irritant, IrritantEvent, Team, Walk
from tests.conftest import EMPLOYEE, MANAGER, POLICY
from tests.digest_content_factories import days_ago, irritant
from tests.inprocess import APP_START
from tests.irritant_helpers import big_team
from tests.test_triage import button, triage_form

WEEK = Week.of(APP_START.date())


def digest_payload(db, team_id: int) -> dict:
    """MANAGER's digest of the team, as of the app's clock."""
    with db.sessions.begin() as session:
        team = session.get(Team, team_id)
        digest = compose.manager_digest(
            session, POLICY, team=team, manager_id=MANAGER, week=WEEK, locale="fr", now=APP_START
        )
        return compose.message(digest)


def opened(slack) -> list[dict]:
    return [call.params["view"] for call in slack.calls_to("views.open")]


def click(platform, slack, db, *, team_id: int, user: str, action_id: str) -> str:
    """`user` clicks the button of MANAGER's digest; the value it carried."""
    message = digest_payload(db, team_id)
    value = button(message, action_id)["value"]
    slack.clear_calls()
    platform.block_action(user, action_id, value, message=message)
    return value


class TestPlanAFix:
    def setup_report(self, db, slack) -> tuple[int, str]:
        team_id = big_team(db, slack)
        with db.sessions.begin() as session:
            team = session.get(Team, team_id)
            found = irritant(
                session, team, reported=days_ago(20, at=APP_START), category="temperature",
                description="The staff room is freezing",
            )  # fmt: skip
            return team_id, found.public_id

    def test_the_manager_gets_the_triage_form(self, app, platform, slack, db):
        """ "Plan a fix…" in the digest opens the triage form of the report it names."""
        team_id, public_id = self.setup_report(db, slack)
        value = click(platform, slack, db, team_id=team_id, user=MANAGER, action_id="irritant_plan")
        assert value == public_id
        form = triage_form(slack)
        assert (
            public_id in form["private_metadata"] and '"action": "plan"' in form["private_metadata"]
        )

    def test_anyone_else_is_refused_and_nothing_changes(self, app, platform, slack, db):
        """The same click by a member of the team opens no form and changes nothing."""
        team_id, public_id = self.setup_report(db, slack)
        click(platform, slack, db, team_id=team_id, user=EMPLOYEE, action_id="irritant_plan")
        slack.wait_for("response_url")  # the refusal
        assert opened(slack) == []
        with db.sessions() as session:
            found = session.scalars(select(Irritant).where(Irritant.public_id == public_id)).one()
            assert (found.status, found.acknowledged_at) == ("new", None)
            assert session.scalars(select(IrritantEvent)).all() == []


class TestStartTheWalk:
    def setup_walk(self, db, slack) -> tuple[int, str]:
        """A team with nothing waiting and its quarter's walk still to do."""
        team_id = big_team(db, slack)
        with db.sessions.begin() as session:
            walk = Walk(team_id=team_id, quarter="2026-Q1", due_at=days_ago(30, at=APP_START))
            session.add(walk)
            session.flush()
            return team_id, walk.public_id

    def test_the_manager_gets_the_walk_form(self, app, platform, slack, db):
        """ "Start my walk" in the digest opens the walk's form for the team's manager."""
        team_id, public_id = self.setup_walk(db, slack)
        value = click(platform, slack, db, team_id=team_id, user=MANAGER, action_id="walk_start")
        assert value == public_id
        slack.wait_for("views.open")
        (form,) = opened(slack)
        assert form["callback_id"] == "walk_submit"

    def test_anyone_else_gets_a_notice_and_nothing_changes(self, app, platform, slack, db):
        """The same click by a member opens only a notice; the walk is untouched."""
        team_id, public_id = self.setup_walk(db, slack)
        click(platform, slack, db, team_id=team_id, user=EMPLOYEE, action_id="walk_start")
        slack.wait_for("views.open")
        (view,) = opened(slack)
        assert view.get("callback_id") != "walk_submit"
        with db.sessions() as session:
            walk = session.scalars(select(Walk).where(Walk.public_id == public_id)).one()
            assert (walk.done_at, walk.draft, walk.manager_id) == (None, None, None)
