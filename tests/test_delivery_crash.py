"""Exactly once across a crash: a message in doubt is looked up in its DM, not sent twice.

A `symmetry tick` process killed with SIGKILL mid-fan-out, then another tick: nobody is
missed and nobody gets a welcome twice, the messages Slack had accepted being found by their
metadata (`conversations.history`). Without `im:history` the workspace falls back to
at-least-once, and `outbox status` says so. The smaller cases run in this process, a dead
worker being played by its rows.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.runtime import lookup, workspaces
from bot.runtime.delivery import LEASE, UNANSWERED_WAIT, Deliverer
from storage import outbox
from storage.models import OutboxMessage, Workspace
from tests.conftest import (
    EMPLOYEE,
    MANAGER,
    SALARIEE,
    TEAM_CHANNEL,
    crowd,
    free_port,
    server_env,
)
from tests.test_delivery import queue, rows

SATURDAY_11_PARIS = "2026-01-17T11:00:00+01:00"  # welcomes queued, held for Monday
MONDAY_10_PARIS = "2026-01-19T10:00:00+01:00"
MONDAY_10_10_PARIS = "2026-01-19T10:10:00+01:00"  # every lease of the 10:00 tick has run out
EVERY_SCOPE_BUT_HISTORY = {"chat:write", "users:read", "channels:read", "groups:read", "im:write"}


def posts(slack) -> Counter:
    """Messages Slack accepted, by recipient."""
    return Counter(c.params["channel"] for c in slack.calls_to("chat.postMessage") if not c.failed)


def states(db) -> Counter:
    with db.sessions() as session:
        return Counter(session.scalars(select(OutboxMessage.state)))


def kill_mid_fan_out(cli, db, slack, tmp_path) -> set[str]:
    """Queue 40 welcomes, start a tick process with Slack answering slowly, SIGKILL it as
    soon as Slack has accepted one message, and let Slack finish the calls it had begun.
    Returns the people Slack had a welcome for whose `sent` state was never recorded."""
    people = crowd(slack, db, 40)
    queued = cli.run("tick", "--now", SATURDAY_11_PARIS)
    assert queued.status == 0, queued.err
    assert states(db) == {outbox.QUEUED: 40}
    slack.delay = 0.5  # every call takes half a second: 32 are in flight at once
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "tick", "--now", MONDAY_10_PARIS],
        env=server_env(db.url, slack, free_port()),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        slack.wait_for("chat.postMessage", count=1, timeout=30)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    # The calls under way at the kill still reach Slack (its side of the socket goes on).
    time.sleep(slack.delay + 0.3)
    slack.delay = 0.0
    accepted = set(posts(slack))
    with db.sessions() as session:
        recorded = set(
            session.scalars(
                select(OutboxMessage.recipient).where(OutboxMessage.state == outbox.SENT)
            )
        )
    assert accepted <= people and recorded <= accepted
    assert len(accepted) < 40, "the kill came after the whole fan-out"
    in_doubt = accepted - recorded
    assert in_doubt, "the kill left no message accepted by Slack but unrecorded"
    return in_doubt


class TestKillNine:
    def test_no_duplicate_and_none_lost_after_kill_9(self, cli, db, slack, tmp_path):
        """kill -9 mid-fan-out, then a tick once the leases ran out: each of the 40 people has
        exactly one welcome, those Slack already had being found in their DM, not re-sent."""
        in_doubt = kill_mid_fan_out(cli, db, slack, tmp_path)
        result = cli.run("tick", "--now", MONDAY_10_10_PARIS)
        assert result.status == 0, result.err
        counts = posts(slack)
        assert len(counts) == 40 and set(counts.values()) == {1}  # 0 lost, 0 duplicated
        assert states(db) == {outbox.SENT: 40}
        assert slack.calls_to("conversations.history")
        assert f"{len(in_doubt)} found already sent" in result.out
        with db.sessions() as session:
            rows = session.scalars(
                select(OutboxMessage).where(OutboxMessage.recipient.in_(in_doubt))
            ).all()
        for row in rows:
            (message,) = slack.history("D" + row.recipient)
            assert (row.message_ts, row.message_channel) == (message["ts"], "D" + row.recipient)
            assert message["metadata"] == {
                "event_type": lookup.EVENT_TYPE,
                "event_payload": {"key": row.key},
            }

    def test_without_im_history_in_doubt_is_sent_again_and_said(self, cli, db, slack, tmp_path):
        """Without `im:history` the look-up is refused: the messages in doubt are sent again
        (at-least-once, nobody missed) and `outbox status` names the workspace and why."""
        slack.scopes = EVERY_SCOPE_BUT_HISTORY
        in_doubt = kill_mid_fan_out(cli, db, slack, tmp_path)
        result = cli.run("tick", "--now", MONDAY_10_10_PARIS)
        assert result.status == 0, result.err
        counts = posts(slack)
        assert len(counts) == 40
        assert {p for p, n in counts.items() if n == 2} == in_doubt
        assert states(db) == {outbox.SENT: 40}
        status = cli.run("outbox", "status")
        assert status.status == 0, status.err
        (line,) = [line for line in status.out.splitlines() if slack.team_id in line]
        assert "at-least-once" in line and "im:history" in line


# --------------------------------------------------------------------------- in this process


def died_attempting(db, slack, *, posted: bool) -> OutboxMessage:
    """Play a worker that claimed the queued message, committed `attempting`, made its call
    (Slack accepted it when `posted`), and died before recording the outcome."""
    now = datetime.now(UTC)
    with db.sessions.begin() as session:
        (message,) = outbox.claim(session, worker="dead", now=now, limit=10, lease=LEASE)
    payload = lookup.with_reference(message)
    with db.sessions.begin() as session:
        assert outbox.mark_attempting(
            session,
            message_id=message.id,
            worker="dead",
            attempted_at=lookup.slack_time(),
            lease_until=now + LEASE,
            payload=payload,
        )
    with db.sessions() as session:
        message = session.get(OutboxMessage, message.id)
    if posted:
        client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
        client.chat_postMessage(
            channel=message.recipient,
            text=message.payload["text"],
            metadata=lookup.marker(message),
        )
    return message


@pytest.fixture
def later(db, slack):
    """A deliverer whose clock is past the dead worker's lease."""
    client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
    made = Deliverer(
        db.sessions,
        lambda _id: client,
        now=lambda: datetime.now(UTC) + LEASE + timedelta(minutes=1),
        seed=1,
    )
    yield made
    made.close()


def row(db, message_id: int) -> OutboxMessage:
    with db.sessions() as session:
        return session.get(OutboxMessage, message_id)


def unreadable_since(db, workspace_id: int) -> datetime | None:
    with db.sessions() as session:
        return session.get(Workspace, workspace_id).history_unreadable_at


class TestInDoubt:
    def test_found_in_the_dm_is_recorded_not_sent(self, db, slack, workspace_id, later):
        """A message Slack accepted before its worker died is found by its metadata and
        recorded as sent, with Slack's ts and the DM's id, and not posted again."""
        queue(db, workspace_id, EMPLOYEE, key="k:found")
        message = died_attempting(db, slack, posted=True)
        report = later.run()
        assert (report.found, report.sent) == (1, 0)
        assert posts(slack) == {EMPLOYEE: 1}
        (kept,) = slack.history("D" + EMPLOYEE)
        settled = row(db, message.id)
        assert settled.state == outbox.SENT and settled.attempted_at is None
        assert (settled.message_ts, settled.message_channel) == (kept["ts"], "D" + EMPLOYEE)
        assert len(slack.calls_to("conversations.open")) == 1

    def test_not_found_is_sent(self, db, slack, workspace_id, later):
        """A message whose call never reached Slack is looked up, not found, and sent."""
        queue(db, workspace_id, EMPLOYEE, key="k:lost")
        died_attempting(db, slack, posted=False)
        report = later.run()
        assert (report.found, report.sent) == (0, 1)
        assert posts(slack) == {EMPLOYEE: 1}
        assert slack.calls_to("conversations.history")

    def test_an_earlier_message_gives_the_dm(self, db, slack, workspace_id, later):
        """The DM's id comes from an earlier message to the same person: no conversations.open."""
        queue(db, workspace_id, MANAGER, key="k:before")
        later.run()
        queue(db, workspace_id, MANAGER, key="k:after")
        died_attempting(db, slack, posted=True)
        assert later.run().found == 1
        assert posts(slack) == {MANAGER: 2}
        assert slack.calls_to("conversations.open") == []

    def test_claimed_but_never_attempted_is_sent_without_a_look_up(
        self, db, slack, workspace_id, later
    ):
        """A message its dead worker had only claimed (`sending`) is not in doubt: sent."""
        queue(db, workspace_id, EMPLOYEE, key="k:claimed")
        with db.sessions.begin() as session:
            outbox.claim(session, worker="dead", now=datetime.now(UTC), limit=10, lease=LEASE)
        assert later.run().sent == 1
        assert posts(slack) == {EMPLOYEE: 1}
        assert slack.calls_to("conversations.history") == []

    def test_an_anonymous_message_carries_a_random_reference(self, db, slack, workspace_id, later):
        """A message to an anonymous person carries a random reference, not its key; it is
        found by it, and once settled the row keeps neither the reference nor the recipient."""
        key = "irritant:41:event:7"
        queue(db, workspace_id, SALARIEE, key=key,
              payload={"text": "update on your report", "scrub_recipient": True})  # fmt: skip
        message = died_attempting(db, slack, posted=True)
        (kept,) = slack.history("D" + SALARIEE)
        reference = kept["metadata"]["event_payload"]["ref"]
        assert kept["metadata"]["event_payload"] == {"ref": reference} and len(reference) == 32
        assert key not in str(kept)
        assert later.run().found == 1
        assert posts(slack) == {SALARIEE: 1}
        settled = row(db, message.id)
        assert settled.payload == {"scrub_recipient": True} and settled.recipient is None

    def test_a_channel_post_in_doubt_is_sent_again_unread(self, db, slack, workspace_id, later):
        """A channel post in doubt is sent again without reading the channel (at-least-once:
        reading it would take channels:history)."""
        slack.join(TEAM_CHANNEL, slack.bot_user_id)
        queue(db, workspace_id, TEAM_CHANNEL, key="k:channel")
        died_attempting(db, slack, posted=True)
        assert later.run().sent == 1
        assert posts(slack) == {TEAM_CHANNEL: 2}
        assert slack.calls_to("conversations.history") == []

    def test_refused_look_up_marks_at_least_once_and_a_later_one_clears_it(
        self, db, slack, workspace_id, later
    ):
        """Without im:write the DM cannot be found: the message is sent again and the
        workspace marked at-least-once; once a look-up passes again, the mark goes."""
        slack.scopes = {"chat:write", "im:history"}
        queue(db, workspace_id, EMPLOYEE, key="k:refused")
        died_attempting(db, slack, posted=True)
        assert later.run().sent == 1
        assert posts(slack) == {EMPLOYEE: 2}
        assert unreadable_since(db, workspace_id) is not None
        slack.scopes = None
        queue(db, workspace_id, MANAGER, key="k:granted")
        died_attempting(db, slack, posted=True)
        assert later.run().found == 1
        assert unreadable_since(db, workspace_id) is None

    def test_a_look_up_slack_does_not_answer_is_tried_later(self, db, slack, workspace_id, later):
        """A 500 to the look-up leaves the message queued and still in doubt, not sent."""
        queue(db, workspace_id, EMPLOYEE, key="k:later")
        message = died_attempting(db, slack, posted=True)
        slack.fail_next("conversations.history", status=500)
        report = later.run()
        assert (report.retried, report.sent, report.found) == (1, 0, 0)
        waiting = row(db, message.id)
        assert waiting.state == outbox.QUEUED and outbox.in_doubt(waiting)
        assert posts(slack) == {EMPLOYEE: 1}

    def test_a_call_without_an_answer_leaves_the_message_in_doubt(self, db, workspace_id):
        """A dropped connection (here: refused) may hide a posted message: it is retried in
        doubt, not before UNANSWERED_WAIT, so that Slack has finished with it."""
        unreachable = WebClient(
            token="xoxb-x", base_url="http://127.0.0.1:1/api/", retry_handlers=[]
        )
        now = datetime.now(UTC)
        deliverer = Deliverer(db.sessions, lambda _id: unreachable, now=lambda: now, seed=1)
        try:
            queue(db, workspace_id, EMPLOYEE, key="k:dropped")
            assert deliverer.run().retried == 1
        finally:
            deliverer.close()
        (waiting,) = rows(db)
        assert waiting.state == outbox.QUEUED and outbox.in_doubt(waiting)
        assert waiting.not_before >= now + timedelta(seconds=UNANSWERED_WAIT)


class TestLease:
    def test_an_attempt_renews_the_lease(self, db, workspace_id):
        """A message that waited (429 pauses) and begins its call late gets a whole lease from
        the attempt: another worker does not take it as in doubt meanwhile."""
        queue(db, workspace_id, EMPLOYEE, key="k:slow")
        start = datetime.now(UTC)
        with db.sessions.begin() as session:
            (message,) = outbox.claim(session, worker="w1", now=start, limit=10, lease=LEASE)
        attempt = start + LEASE - timedelta(seconds=30)
        with db.sessions.begin() as session:
            assert outbox.mark_attempting(
                session, message_id=message.id, worker="w1", attempted_at=attempt,
                lease_until=attempt + LEASE,
            )  # fmt: skip
        with db.sessions.begin() as session:
            taken = outbox.claim(
                session, worker="w2", now=start + LEASE + timedelta(minutes=1), limit=10,
                lease=LEASE,
            )  # fmt: skip
        assert taken == []

    def test_a_worker_whose_lease_was_taken_does_not_call(self, db, workspace_id):
        """A worker whose lease ran out before its attempt, the message claimed by another
        since, may not record an attempt (so it does not call Slack)."""
        queue(db, workspace_id, EMPLOYEE, key="k:taken")
        start = datetime.now(UTC)
        with db.sessions.begin() as session:
            (message,) = outbox.claim(session, worker="w1", now=start, limit=10, lease=LEASE)
        later = start + LEASE + timedelta(minutes=1)
        with db.sessions.begin() as session:
            assert outbox.claim(session, worker="w2", now=later, limit=10, lease=LEASE)
        with db.sessions.begin() as session:
            assert not outbox.mark_attempting(
                session, message_id=message.id, worker="w1", attempted_at=later,
                lease_until=later + LEASE,
            )  # fmt: skip

    def test_attempts_written_together_answer_each_message(self, db, workspace_id):
        """A batch of attempts is one statement; each message gets its own answer: one whose
        lease another worker took since may not be called, the others may, and only theirs
        are recorded, with the batch's earliest `attempted_at` (a lower bound for the look-up)."""
        for key in ("k:a", "k:b", "k:c"):
            queue(db, workspace_id, EMPLOYEE, key=key)
        start = datetime.now(UTC)
        with db.sessions.begin() as session:
            first, second, third = outbox.claim(
                session, worker="w1", now=start, limit=10, lease=LEASE
            )
        later = start + timedelta(seconds=1)
        with db.sessions.begin() as session:  # only the second's lease has run out
            session.get(OutboxMessage, second.id).lease_until = start
        with db.sessions.begin() as session:
            (taken,) = outbox.claim(session, worker="w2", now=later, limit=10, lease=LEASE)
        assert taken.id == second.id
        attempts = [
            outbox.Attempt(message.id, "w1", later + timedelta(milliseconds=ms), later + LEASE)
            for message, ms in ((third, 5), (second, 0), (first, 9))
        ]
        with db.sessions.begin() as session:
            answers = outbox.mark_attempting_many(session, attempts)
        assert answers == [True, False, True]
        stored = {message.id: message for message in rows(db)}
        assert stored[first.id].state == stored[third.id].state == outbox.ATTEMPTING
        assert stored[first.id].attempted_at == stored[third.id].attempted_at == later
        assert stored[second.id].state == outbox.SENDING
        assert stored[second.id].claimed_by == "w2" and stored[second.id].attempted_at is None

    def test_an_unanswered_call_stays_in_doubt_an_answered_one_does_not(self, db, workspace_id):
        """A retry after a dropped connection keeps `attempted_at` (Slack may have the
        message); one after Slack's answer (a 500, a 429) clears it."""
        now = datetime.now(UTC)
        for unanswered in (True, False):
            queue(db, workspace_id, EMPLOYEE, key=f"k:{unanswered}")
            with db.sessions.begin() as session:
                (message,) = outbox.claim(session, worker="w", now=now, limit=1, lease=LEASE)
                outbox.mark_attempting(
                    session, message_id=message.id, worker="w", attempted_at=now,
                    lease_until=now + LEASE,
                )  # fmt: skip
                outbox.mark_retry(
                    session, message_id=message.id, worker="w", error="x", at=now + LEASE,
                    count=True, unanswered=unanswered,
                )  # fmt: skip
            assert outbox.in_doubt(row(db, message.id)) is unanswered


class TestReinstall:
    def test_a_reinstall_clears_at_least_once(self, db, workspace_id, slack):
        """The app installed again (with the manifest's scopes) takes the DMs as readable."""
        with db.sessions.begin() as session:
            outbox.set_history_unreadable(session, workspace_id=workspace_id, at=datetime.now(UTC))
        with db.sessions.begin() as session:
            assert [team for team, _ in outbox.at_least_once(session)] == [slack.team_id]
            workspaces.reinstalled(session, slack_team_id=slack.team_id)
        assert unreadable_since(db, workspace_id) is None
