"""Planning for a crowd. Welcomes: a fixed number of SQL statements per batch of welcomes
whatever the crowd's size, the message rendered once per team and language, the rows queued
in bulk, a batch at a time, and once. Pulse rounds: a team's members read only once its round
is due."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient
from sqlalchemy import event, func, select

from bot.demo.slack import SimUser
from bot.pulse import schedule
from bot.teams import welcome
from bot.teams.directory import Directory
from storage import outbox
from storage.models import OutboxMessage, SlackUser
from tests.conftest import POLICY
from tests.digest_content_factories import make_team

TUESDAY_10_PARIS = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)


def add_team(db, slack, name: str, size: int, *, french: int = 0) -> list[str]:
    """A team of `size` new people in the simulated workspace, the first `french` of them
    with a French Slack locale."""
    with db.sessions.begin() as session:
        team = make_team(session, name, members=size, managers=(), workspace=slack.team_id)
        members = sorted(m.user_id for m in team.memberships)
    for i, user_id in enumerate(members):
        locale = "fr-FR" if i < french else "en-US"
        slack.add_user(SimUser(user_id, user_id.lower(), user_id, tz="Europe/Paris", locale=locale))
    return members


@pytest.fixture
def directory(db, slack) -> Directory:
    client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
    return Directory(db.sessions, lambda _id: client, admins=frozenset())


def statements_of_plan(db, directory) -> tuple[int, int]:
    """(welcomes planned, SQL statements run) for one `welcome.plan`."""
    count = 0

    def counted(*_args) -> None:
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        planned = welcome.plan(db.sessions, POLICY, directory, now=TUESDAY_10_PARIS)
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    return planned, count


class TestWelcomePlanning:
    def test_statements_do_not_grow_with_the_crowd(self, db, slack, directory):
        """Welcoming 90 people takes as many SQL statements as welcoming 30: no round trip
        per person. (Both crowds are large enough for the directory to read `users.list`,
        which first reads the workspace's Slack ID: one statement per workspace.)"""
        add_team(db, slack, "Small", 30)
        few = statements_of_plan(db, directory)
        add_team(db, slack, "Large", 90)
        many = statements_of_plan(db, directory)
        assert few[0] == 30 and many[0] == 90
        assert many[1] <= few[1], (few, many)

    def test_rendered_once_per_team_and_language(self, db, slack, directory, monkeypatch):
        """40 newcomers of one team, 10 of them French: two renders, each person in their
        language."""
        members = add_team(db, slack, "Atelier", 40, french=10)
        renders = []
        real = welcome.render

        def counting(name, locale, /, **context):
            renders.append(locale)
            return real(name, locale, **context)

        monkeypatch.setattr(welcome, "render", counting)
        planned = welcome.plan(db.sessions, POLICY, directory, now=TUESDAY_10_PARIS)
        assert planned == 40 and sorted(renders) == ["en", "fr"]
        with db.sessions() as session:
            texts = dict(
                session.execute(
                    select(OutboxMessage.recipient, OutboxMessage.payload["text"].as_string())
                ).all()
            )
        assert texts[members[0]].startswith("Bienvenue")
        assert texts[members[-1]].startswith("Welcome")

    def test_a_crowd_is_handed_to_delivery_a_batch_at_a_time(self, db, slack, directory):
        """250 newcomers: the first 100 welcomes are committed, and delivery woken, before
        the others are written, so that they go out meanwhile; then 100, then 50. The
        profiles Slack gave are cached after them."""
        add_team(db, slack, "Crowd", 250)
        seen = []

        def counts() -> tuple[int, int]:
            with db.sessions() as session:
                return (
                    session.scalar(select(func.count()).select_from(OutboxMessage)),
                    session.scalar(select(func.count()).select_from(SlackUser)),
                )

        def wake() -> None:  # what the tick's delivery would find at that moment
            seen.append(counts())

        planned = welcome.plan(db.sessions, POLICY, directory, now=TUESDAY_10_PARIS, wake=wake)
        assert planned == 250 and welcome.FIRST == 100
        assert seen == [(100, 0), (200, 0), (250, 0)]
        assert counts() == (250, 250)

    def test_a_second_plan_queues_nothing(self, db, slack, directory):
        """Planning again finds nobody new; the rows are there once."""
        add_team(db, slack, "Atelier", 25)
        assert welcome.plan(db.sessions, POLICY, directory, now=TUESDAY_10_PARIS) == 25
        assert welcome.plan(db.sessions, POLICY, directory, now=TUESDAY_10_PARIS) == 0
        with db.sessions() as session:
            assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 25


class TestEnqueueMany:
    def test_existing_keys_are_skipped_and_not_counted(self, db, workspace_id):
        """A key already queued is left alone; the count is of the rows queued now."""
        row = {
            "workspace_id": workspace_id,
            "kind": "test",
            "payload": {"text": "hello"},
            "timezone": "Europe/Paris",
            "not_before": TUESDAY_10_PARIS,
        }
        with db.sessions.begin() as session:
            assert outbox.enqueue_many(session, [{**row, "key": "a", "recipient": "U1"}]) == 1
        with db.sessions.begin() as session:
            rows = [{**row, "key": key, "recipient": f"U{key}"} for key in ("a", "b", "c")]
            assert outbox.enqueue_many(session, rows) == 2
            assert outbox.enqueue_many(session, []) == 0
        with db.sessions() as session:
            found = session.execute(select(OutboxMessage.key, OutboxMessage.recipient)).all()
        assert sorted(found) == [("a", "U1"), ("b", "Ub"), ("c", "Uc")]


class TestPulsePlanning:
    def test_a_tick_reads_no_member_of_a_team_not_due(self, db, slack, directory):
        """The pulse-round stage runs every tick: it reads a team's members (a thousand rows
        for a large one) only when the team's round is due, not to find out whether it is."""
        with db.sessions.begin() as session:
            team = make_team(session, "Atelier", members=60, managers=(), workspace=slack.team_id)
            team.survey_weekday = 3  # Thursday's round: not planned on a Tuesday morning
        read: list[str] = []

        def kept(_conn, _cursor, statement, *_args) -> None:
            read.append(statement)

        event.listen(db.engine, "before_cursor_execute", kept)
        try:
            report = schedule.plan_rounds(db.sessions, POLICY, directory, now=TUESDAY_10_PARIS)
        finally:
            event.remove(db.engine, "before_cursor_execute", kept)
        assert report.rounds == 0
        assert read, "the stage read its teams"
        assert not [s for s in read if "memberships" in s], read
