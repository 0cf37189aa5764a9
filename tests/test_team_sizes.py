"""The size that decides where a team's anonymous reports go (bot/teams/sizes.py): members
besides its managers, deactivated accounts left out, the smallest over the last 30 days —
through the app in this process (tests/inprocess.py), the clock's tick, the simulated Slack
and a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta

from alembic import command
from sqlalchemy import text

from bot.demo.slack import form_values
from bot.teams.directory import store_profile
from storage import queries
from storage.db import alembic_config
from tests.conftest import ADMIN, EMPLOYEE, MANAGER, SALARIEE, TEAM_CHANNEL, scratch_engine
from tests.inprocess import APP_START, PARIS, AppUnderTest, running_app, tick
from tests.irritant_helpers import EXTRA, SPARE, add_extras, big_team, irritants, open_modal
from tests.irritant_helpers import report as report_in
from tests.test_teams import members, open_setup, team_answers, wait_until


def roundup_at(day_offset: int) -> datetime:
    """16:05 in Paris, `day_offset` days after the in-process app's day (a working day)."""
    day = APP_START.date() + timedelta(days=day_offset)
    assert day.weekday() < 5
    return datetime.combine(day, time(16, 5), tzinfo=PARIS)


def received(slack, user: str, words: str) -> bool:
    """Whether a message the bot sent `user` shows `words` (a report's description)."""
    return any(
        c.params["channel"] == user and words in json.dumps(c.params)
        for c in slack.calls_to("chat.postMessage")
        if not c.failed
    )


def report(platform, slack, user: str, description: str, category: str) -> bool:
    """An anonymous report of `user`'s; True when the modal said it goes to the admins."""
    warned = "Symmetry admins" in json.dumps(open_modal(platform, slack, user))
    response = report_in(platform, slack, user, description=description, category=category)
    assert response.json()["response_action"] == "update", response.body
    return warned


@contextmanager
def app_on(app: AppUnderTest, slack, tmp_path, day_offset: int) -> Iterator[AppUnderTest]:
    """The same app, started `day_offset` days after the first one."""
    with running_app(
        app.settings,
        app.sessions,
        app.engine,
        slack,
        log_path=tmp_path / f"day{day_offset}.log",
        start=APP_START + timedelta(days=day_offset),
    ) as later:
        yield later


class TestReadersDoNotCount:
    def test_a_team_of_five_with_its_manager_goes_to_the_admins(self, app, platform, slack, db):
        """Five members, the manager among them, are four people besides the one who reads the
        roundup: the modal warns, and the report reaches the admin, never the manager."""
        big_team(db, slack, members=[MANAGER, EMPLOYEE, SALARIEE, ADMIN, EXTRA[0]])
        assert report(platform, slack, EMPLOYEE, "The staff room is freezing", "temperature")
        (irritant,) = irritants(db)
        assert irritant.for_admins is True
        tick(app, roundup_at(1), admins=frozenset({ADMIN}))
        assert received(slack, ADMIN, "staff room is freezing")
        assert not received(slack, MANAGER, "staff room is freezing")

    def test_deactivated_members_do_not_count(self, app, platform, slack, db):
        """Six people besides the manager, two of whose accounts the directory has seen
        deactivated, count as four: the report goes to the admins."""
        people = [MANAGER, EMPLOYEE, SALARIEE, ADMIN, *EXTRA, SPARE[0]]
        team_id = big_team(db, slack, members=people)
        with db.sessions.begin() as session:
            team = queries.get_team(session, team_id=team_id)
            for user_id in (EXTRA[1], SPARE[0]):  # what users.info says once they have left
                user = {"id": user_id, "deleted": True, "tz": "Europe/Paris"}
                store_profile(session, workspace_id=team.workspace_id, user=user, now=APP_START)
        assert report(platform, slack, EMPLOYEE, "The staff room is freezing", "temperature")
        (irritant,) = irritants(db)
        assert irritant.for_admins is True


class TestMembershipChangesTakeThirtyDays:
    def test_people_brought_in_count_after_thirty_days(self, app, platform, slack, db, tmp_path):
        """A team set up with its manager and two people: three more join its channel. For 30
        days its anonymous reports still go to the admins (the manager cannot tell reports
        made after the join from those before); after that, to the manager."""
        add_extras(slack)
        view = open_setup(platform, slack)
        platform.view_submission(ADMIN, view, form_values(view, team_answers()))
        wait_until(lambda: members(db, "Workshop") == {MANAGER, EMPLOYEE, SALARIEE})
        for user_id in (*EXTRA, SPARE[0]):
            slack.join(TEAM_CHANNEL, user_id)
            event = {"type": "member_joined_channel", "user": user_id, "channel": TEAM_CHANNEL}
            assert platform.event(event).status == 200
        wait_until(lambda: len(members(db, "Workshop")) == 6)

        assert report(platform, slack, EMPLOYEE, "The staff room is freezing", "temperature")
        assert irritants(db)[-1].for_admins is True
        tick(app, roundup_at(1), admins=frozenset({ADMIN}))
        assert received(slack, ADMIN, "staff room is freezing")
        assert not received(slack, MANAGER, "staff room is freezing")

        with app_on(app, slack, tmp_path, 29) as later:  # a Friday: still within 30 days
            assert report(later.platform, slack, EMPLOYEE, "The lights flicker", "lighting")
        assert irritants(db)[-1].for_admins is True

        with app_on(app, slack, tmp_path, 32) as later:  # the Monday after: past 30 days
            assert not report(later.platform, slack, EMPLOYEE, "The printer jams", "tools")
            assert irritants(db)[-1].for_admins is False
            tick(later, roundup_at(32), admins=frozenset({ADMIN}))
        assert received(slack, MANAGER, "printer jams")
        assert not received(slack, ADMIN, "printer jams")


class TestMigration:
    def test_existing_teams_start_with_their_size_now(self, db, tmp_path):
        """Migration 0008 starts each existing team's history with its size then: members
        besides its managers, deactivated accounts left out (on a database of its own)."""
        with scratch_engine(db, tmp_path, "sizes_test") as engine:
            command.upgrade(alembic_config(engine), "0007")
            with engine.begin() as connection:
                for statement in (
                    "INSERT INTO workspaces (id, slack_team_id) VALUES (1, 'T1')",
                    "INSERT INTO teams (id, workspace_id, name, channel_id, timezone, locale)"
                    " VALUES (1, 1, 'Six', 'C1', 'UTC', 'en'), (2, 1, 'Empty', 'C2', 'UTC', 'en')",
                    "INSERT INTO memberships (team_id, user_id)"
                    " VALUES (1, 'U1'), (1, 'U2'), (1, 'U3'), (1, 'U4'), (1, 'U5'), (1, 'U6')",
                    "INSERT INTO team_managers (team_id, user_id) VALUES (1, 'U1'), (2, 'U1')",
                    "INSERT INTO slack_users"
                    " (workspace_id, user_id, is_admin, is_bot, deleted, fetched_at)"
                    " VALUES (1, 'U5', false, false, false, '2026-01-01'),"
                    " (1, 'U6', false, false, true, '2026-01-01')",
                ):
                    connection.execute(text(statement))
            command.upgrade(alembic_config(engine), "0008")
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT team_id, size FROM team_sizes")).all()
            assert sorted(rows) == [(1, 4), (2, 0)]
