"""Closed surveys say so: when the clock's tick closes a round, every survey DM of the round
(a skipped or paused person's too) is changed through the outbox (chat.update) to say it is
closed, without buttons, with a pointer to the results when there are enough answers to show
them; once delivered, no row of the round in the outbox holds a recipient, a conversation or
a ts. On the app in this process, the simulated Slack (which keeps what a message now says)
and a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import or_, select

from bot.demo.slack import SlackSim, form_values
from storage.models import OutboxMessage
from tests.conftest import MANAGER, SALARIEE, Database, app_under_test, fresh_workspace
from tests.inprocess import AppUnderTest, tick
from tests.irritant_helpers import SPARE
from tests.test_pulse import PEOPLE, PERIOD, at, opened, tap, the_round

MEMBERS = (*PEOPLE, *SPARE)  # eight: the manager and seven others
SKIPS, PAUSES = SPARE  # neither answers: one skips the round, one pauses surveys
CLOSE = at(PERIOD + timedelta(days=5), 10, 1)  # a Sunday


@dataclass
class Round:
    """A closed round and where it lives; `dms` is each person's survey (conversation, ts)."""

    app: AppUnderTest
    db: Database
    slack: SlackSim
    round_id: int
    dms: dict[str, tuple[str, str]]
    report: str


def survey_dms(db: Database, round_id: int) -> dict[str, tuple[str, str]]:
    """Where each person's survey landed in Slack, read from the outbox before the close."""
    with db.sessions() as session:
        rows = session.execute(
            select(
                OutboxMessage.recipient, OutboxMessage.message_channel, OutboxMessage.message_ts
            ).where(OutboxMessage.key.like(f"pulse:{round_id}:%"))
        ).all()
    return {user: (channel, ts) for user, channel, ts in rows}


def run_round(app, slack, db, *, members, answering: int, before_close=None) -> Round:
    """A round of `members`, the first `answering` answering everything; closed by a tick."""
    platform = app.platform
    sent = opened(app, slack, db, members=members)
    round_ = the_round(db)
    for index, user in enumerate(members[:answering]):
        for question in round_.questions:
            tap(platform, user, sent[user][0], question, 9 if question == "enps" else 4)
        slack.wait_for("response_url", count=(index + 1) * len(round_.questions))
    if before_close:
        before_close(platform, sent)
    dms = survey_dms(db, round_.id)
    assert set(dms) == set(members) and all(ts for _, ts in dms.values())
    report = tick(app, CLOSE)
    return Round(app, db, slack, round_.id, dms, report)


def skip_and_pause(platform, sent) -> None:
    """SKIPS taps "Skip this round"; PAUSES pauses surveys from their survey."""
    tap(platform, SKIPS, sent[SKIPS][0], "more", "skip")
    tap(platform, PAUSES, sent[PAUSES][0], "more", "pause")
    form = platform.sim.wait_for("views.open")[-1].params["view"]
    until = (PERIOD + timedelta(days=20)).isoformat()
    assert platform.view_submission(PAUSES, form, form_values(form, {"until": until})).status == 200


@pytest.fixture(scope="class")
def shown(database, sim, tmp_path_factory) -> Iterator[Round]:
    """Eight asked, six answering (the manager among them: five besides the readers, the
    default threshold), one skipping, one pausing; the first chat.update answered with a 500."""
    database.reset()
    slack = fresh_workspace(sim)
    with app_under_test(database, slack, tmp_path_factory.mktemp("shown") / "app.log") as app:
        slack.fail_next("chat.update", status=500)
        yield run_round(
            app, slack, database, members=MEMBERS, answering=6, before_close=skip_and_pause
        )


def blocks_of(message: dict) -> dict[str, dict]:
    return {b.get("block_id", b["type"]): b for b in message["blocks"]}


def buttons(message: dict) -> list[str]:
    return [
        element.get("action_id")
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


class TestClosedSurveysSaySo:
    def test_every_survey_says_closed_with_a_pointer_to_the_results(self, shown):
        """All eight survey DMs (the skipped and the paused person's included) now have no
        button, say they are closed in their person's language, and point to the results."""
        assert "1 round(s) closed, 8 closed survey(s) to update" in shown.report
        for user, (channel, ts) in shown.dms.items():
            message = shown.slack.message(channel, ts)
            assert message is not None, user
            assert buttons(message) == [], user
            said = json.dumps(message, ensure_ascii=False)
            closed = "Ce sondage est clos" if user in (MANAGER, SALARIEE) else "survey is closed"
            assert closed in message["text"] and closed in said, user
            assert "pulse-results" in blocks_of(message) and "pulse-hidden" not in said, user
        french = shown.slack.message(*shown.dms[SALARIEE])
        assert "bilan de la semaine" in json.dumps(french, ensure_ascii=False)

    def test_an_update_that_failed_once_was_retried(self, shown):
        """The 500 answered to one chat.update was retried in the same tick (a Sunday: an
        edit notifies nobody, so it does not wait for working hours): nine calls, one failed,
        and every message was updated."""
        calls = shown.slack.calls_to("chat.update")
        assert len(calls) == 9 and sum(c.failed for c in calls) == 1
        assert "delivery: 8 sent, 1 to retry" in shown.report

    def test_no_row_of_the_round_keeps_whom_it_was_for(self, shown):
        """Every outbox row of the round (surveys, updates; reminders are deleted) has no
        recipient, conversation or ts, and nothing in it names anyone asked."""
        with shown.db.sessions() as session:
            rows = session.scalars(
                select(OutboxMessage).where(
                    or_(
                        OutboxMessage.key.like(f"pulse:{shown.round_id}:%"),
                        OutboxMessage.key.like(f"pulse-closed:{shown.round_id}:%"),
                        OutboxMessage.key.like(f"pulse-reminder:{shown.round_id}:%"),
                    )
                )
            ).all()
            kept = [
                (m.kind, m.state, m.key, m.recipient, m.message_channel, m.message_ts, m.payload)
                for m in rows
            ]
        assert sorted(kind for kind, *_ in kept).count("pulse_closed") == 8
        assert {(kind, state) for kind, state, *_ in kept} == {
            ("pulse", "sent"),
            ("pulse_closed", "sent"),
        }
        for _kind, _state, _key, recipient, channel, ts, payload in kept:
            assert (recipient, channel, ts, payload) == (
                None,
                None,
                None,
                {"scrub_recipient": True},
            )
        dump = json.dumps(kept)
        for user, (channel, ts) in shown.dms.items():
            assert user not in dump and channel not in dump and ts not in dump, user


class TestBelowThreshold:
    def test_closed_without_a_pointer(self, app, slack, db):
        """Four answers of six: each survey says it is closed, without buttons, and says the
        results are not shown rather than where to find them."""
        closed = run_round(app, slack, db, members=PEOPLE, answering=4)
        for user, (channel, ts) in closed.dms.items():
            message = slack.message(channel, ts)
            assert buttons(message) == [], user
            assert set(blocks_of(message)) >= {"pulse-closed", "pulse-hidden"}, user
            assert "pulse-results" not in blocks_of(message), user
