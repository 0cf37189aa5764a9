"""The outbox and its delivery against the simulated Slack: retries, limits, never twice."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import delete, select

from bot.demo.slack import SimUser
from bot.runtime.clock import _delivering
from bot.runtime.delivery import MAX_ATTEMPTS, Deliverer, GroupCommit, Queued, Report
from storage import outbox, queries
from storage.models import OutboxMessage
from tests.conftest import EMPLOYEE, GONE, MANAGER, SALARIEE

TUESDAY_NOON = datetime(2026, 1, 13, 12, 0, tzinfo=UTC)


def queue(
    db, workspace_id: int, recipient: str, *, key: str | None = None, payload=None, **extra
) -> bool:
    with db.sessions.begin() as session:
        return outbox.enqueue(
            session,
            workspace_id=workspace_id,
            key=key or f"test:{recipient}",
            kind="test",
            recipient=recipient,
            payload=payload or {"text": f"hello {recipient}"},
            timezone="Europe/Paris",
            not_before=extra.pop("not_before", datetime.now(UTC) - timedelta(seconds=1)),
            urgent=extra.pop("urgent", True),
        )


def queue_anonymous(db, workspace_id: int, recipient: str, *, key: str) -> None:
    """A message to an anonymous person: its recipient and content go once it is settled."""
    with db.sessions.begin() as session:
        outbox.enqueue(
            session,
            workspace_id=workspace_id,
            key=key,
            kind="irritant_update",
            recipient=recipient,
            payload={"text": "update on your report", "scrub_recipient": True},
            timezone="UTC",
            not_before=datetime.now(UTC) - timedelta(seconds=1),
            urgent=True,
        )


def rows(db) -> list[OutboxMessage]:
    with db.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def posts_to(slack, user_id: str) -> int:
    return len(
        [
            c
            for c in slack.calls_to("chat.postMessage")
            if not c.failed and c.params["channel"] == user_id
        ]
    )


class TestQueue:
    def test_same_key_is_queued_once(self, db, workspace_id):
        """A second message with the same idempotency key is not queued."""
        assert queue(db, workspace_id, EMPLOYEE, key="k1")
        assert not queue(db, workspace_id, EMPLOYEE, key="k1")
        assert len(rows(db)) == 1


class TestDelivery:
    def test_sent_and_ts_stored(self, db, slack, workspace_id, deliverer):
        """A due message is posted once and Slack's ts and channel are stored."""
        queue(db, workspace_id, EMPLOYEE)
        report = deliverer.run()
        assert report.sent == 1
        (row,) = rows(db)
        assert row.state == outbox.SENT
        assert row.message_ts and row.message_channel
        assert posts_to(slack, EMPLOYEE) == 1

    def test_not_due_yet_is_left(self, db, slack, workspace_id, deliverer):
        """A message due later is not sent now."""
        queue(db, workspace_id, EMPLOYEE, not_before=datetime.now(UTC) + timedelta(hours=1))
        assert deliverer.run().sent == 0
        assert rows(db)[0].state == outbox.QUEUED

    def test_429_waits_retry_after(self, db, slack, workspace_id, deliverer):
        """HTTP 429 with Retry-After: 1 waits a second, then the message goes, counted once."""
        queue(db, workspace_id, EMPLOYEE)
        slack.fail_next("chat.postMessage", status=429, retry_after=1)
        started = time.monotonic()
        report = deliverer.run()
        assert report.sent == 1 and report.rate_limited == 1
        assert time.monotonic() - started >= 1.0
        assert rows(db)[0].attempts == 0
        assert posts_to(slack, EMPLOYEE) == 1

    def test_5xx_then_success(self, db, slack, workspace_id, deliverer):
        """A 500 is retried after a short backoff and the message is then sent."""
        queue(db, workspace_id, EMPLOYEE)
        slack.fail_next("chat.postMessage", status=500)
        report = deliverer.run(wait_up_to=timedelta(seconds=5))
        assert (report.retried, report.sent) == (1, 1)
        (row,) = rows(db)
        assert (row.state, row.attempts) == (outbox.SENT, 1)

    def test_permanent_error_is_dead_at_once(self, db, slack, workspace_id, deliverer):
        """account_inactive marks the message dead without a retry."""
        queue(db, workspace_id, GONE)
        report = deliverer.run(wait_up_to=timedelta(seconds=2))
        assert report.dead == 1 and report.retried == 0
        (row,) = rows(db)
        assert (row.state, row.last_error) == (outbox.DEAD, "account_inactive")

    def test_retries_run_out_as_failed(self, db, slack, workspace_id, deliverer):
        """After the last allowed attempt a 5xx leaves the message failed."""
        queue(db, workspace_id, EMPLOYEE)
        with db.sessions.begin() as session:
            session.scalars(select(OutboxMessage)).one().attempts = MAX_ATTEMPTS - 1
        slack.fail_next("chat.postMessage", status=503)
        report = deliverer.run(wait_up_to=timedelta(seconds=2))
        assert report.failed == 1
        assert rows(db)[0].state == outbox.FAILED

    def test_retry_outside_working_hours_waits_for_the_opening(self, db, slack, workspace_id):
        """A non-urgent message failing on Friday evening is retried on Monday 08:00."""
        # 18:59:59.99 Paris: the first backoff (at least BACKOFF_BASE / 2) ends after 19:00.
        friday_evening = datetime(2026, 1, 16, 17, 59, 59, 990000, tzinfo=UTC)
        client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
        deliverer = Deliverer(db.sessions, lambda _id: client, now=lambda: friday_evening, seed=1)
        try:
            queue(db, workspace_id, EMPLOYEE, urgent=False, not_before=friday_evening)
            slack.fail_next("chat.postMessage", status=500)
            deliverer.run()
        finally:
            deliverer.close()
        (row,) = rows(db)
        assert row.state == outbox.QUEUED
        assert row.not_before == datetime(2026, 1, 19, 7, 0, tzinfo=UTC)

    def test_429_pauses_only_that_workspace(self, db, slack, workspace_id):
        """A rate-limited workspace does not hold up another one."""
        with db.sessions.begin() as session:
            other = queries.get_or_create_workspace(session, slack_team_id="T0OTHER").id
        slow = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
        deliverer = Deliverer(
            db.sessions, lambda _id: slow, now=lambda: datetime.now(UTC), seed=1, threads=4
        )
        try:
            queue(db, workspace_id, EMPLOYEE)
            queue(db, other, MANAGER)
            slack.fail_next("chat.postMessage", status=429, retry_after=2)
            deliverer.run()
        finally:
            deliverer.close()
        calls = [c for c in slack.calls_to("chat.postMessage") if not c.failed]
        first_ok = {c.params["channel"]: c.at for c in calls}
        # The other workspace's message went without waiting for the 2 s pause.
        assert min(first_ok.values()) - slack.calls_to("chat.postMessage")[0].at < 1.5

    def test_429_slows_the_rate_instead_of_bursting_again(self, db, slack, workspace_id):
        """Against a sliding window of 10 calls a second, the first 429s teach the rate: the
        sends that follow are paced under it (almost no 429 after the first second), and all
        30 messages go once."""
        client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
        deliverer = Deliverer(
            db.sessions, lambda _id: client, now=lambda: datetime.now(UTC), seed=1, threads=8
        )
        members = [f"UPACE{i:03d}" for i in range(30)]
        for user_id in members:
            slack.add_user(SimUser(user_id, user_id.lower(), user_id))
            queue(db, workspace_id, user_id)
        slack.rate_limit("chat.postMessage", 10, shape="window")
        try:
            report = deliverer.run()
        finally:
            slack.rate_limit("chat.postMessage", None)
            deliverer.close()
        assert report.sent == 30 and all(posts_to(slack, m) == 1 for m in members)
        calls = slack.calls_to("chat.postMessage")
        first_429 = next(c.at for c in calls if c.failed)
        late_429s = [c for c in calls if c.failed and c.at > first_429 + 1.0]
        assert len(late_429s) <= 1, " ".join(
            f"{c.at - first_429:.2f}{'x' if c.failed else ''}" for c in calls
        )
        assert deliverer.gate.rate((workspace_id, "chat.postMessage")) <= 10

    def test_delivery_while_planning_sends_what_was_queued_meanwhile(
        self, db, slack, workspace_id, deliverer
    ):
        """The tick's delivery during planning (`clock._delivering`) sends a message queued
        while the block runs, before the block ends, and counts it in the tick's report."""
        report = Report()
        with _delivering(deliverer, report):
            queue(db, workspace_id, EMPLOYEE)  # an early stage queues it
            deadline = time.monotonic() + 5
            while report.sent == 0 and time.monotonic() < deadline:
                time.sleep(0.05)  # the later stages still plan
            sent_during = report.sent
        assert sent_during == 1 and posts_to(slack, EMPLOYEE) == 1

    def test_uninstalled_workspace_is_dead(self, db, slack, workspace_id):
        """With no client (the app was uninstalled) messages are marked dead, not retried."""
        deliverer = Deliverer(db.sessions, lambda _id: None, now=lambda: datetime.now(UTC))
        try:
            queue(db, workspace_id, SALARIEE)
            assert deliverer.run().dead == 1
        finally:
            deliverer.close()
        assert rows(db)[0].last_error == "workspace_uninstalled"

    def test_anonymous_recipient_is_scrubbed_after_delivery(
        self, db, slack, workspace_id, deliverer
    ):
        """A message marked scrub_recipient keeps no recipient or content once delivered."""
        queue_anonymous(db, workspace_id, SALARIEE, key="anon:1")
        assert deliverer.run().sent == 1
        (row,) = rows(db)
        assert row.recipient is None and row.message_channel is None
        assert SALARIEE not in str(row.payload)
        assert posts_to(slack, SALARIEE) == 1


class TestClaims:
    def test_expired_lease_is_claimed_again(self, db, workspace_id):
        """A message claimed by a worker that died is claimable once its lease ran out."""
        queue(db, workspace_id, EMPLOYEE)
        now = datetime.now(UTC)
        with db.sessions.begin() as session:
            first = outbox.claim(
                session, worker="w1", now=now, limit=10, lease=timedelta(minutes=5)
            )
        with db.sessions.begin() as session:
            assert (
                outbox.claim(session, worker="w2", now=now, limit=10, lease=timedelta(minutes=5))
                == []
            )
        later = now + timedelta(minutes=6)
        with db.sessions.begin() as session:
            again = outbox.claim(
                session, worker="w2", now=later, limit=10, lease=timedelta(minutes=5)
            )
        assert [m.id for m in first] == [m.id for m in again]
        assert again[0].claimed_by == "w2"


class TestScrubOnGivingUp:
    def test_dead_anonymous_message_keeps_no_recipient(self, db, slack, workspace_id, deliverer):
        """A message to an anonymous person that can never be sent keeps no trace of them."""
        queue_anonymous(db, workspace_id, GONE, key="anon:dead")
        assert deliverer.run().dead == 1
        (row,) = rows(db)
        assert row.state == outbox.DEAD and row.recipient is None
        assert GONE not in str(row.payload)

    def test_an_anonymous_message_keeps_no_slack_error(self, db, slack, workspace_id, deliverer):
        """Slack's answer (here account_inactive: the reporter left) is not kept next to an
        anonymous follow-up's key, neither in the row nor in what `outbox status` reads."""
        queue_anonymous(db, workspace_id, GONE, key="irritant:41:event:7")
        queue(db, workspace_id, GONE)  # a named message keeps Slack's error, for operators
        assert deliverer.run().dead == 2
        with db.sessions() as session:
            errors = {m.key: m.last_error for m in outbox.last_errors(session)}
        assert errors == {"irritant:41:event:7": "undelivered", f"test:{GONE}": "account_inactive"}


class TestWorkingHoursAtDelivery:
    def test_overdue_message_found_on_saturday_waits_for_monday(self, db, slack, workspace_id):
        """A non-urgent message that fell due on Friday but is found on Saturday is held,
        not sent, until Monday 08:00 in its recipient's zone."""
        saturday = datetime(2026, 1, 17, 10, 0, tzinfo=UTC)  # 11:00 in Paris
        client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
        deliverer = Deliverer(db.sessions, lambda _id: client, now=lambda: saturday, seed=1)
        try:
            queue(db, workspace_id, EMPLOYEE, urgent=False,
                  not_before=datetime(2026, 1, 16, 15, 0, tzinfo=UTC))  # fmt: skip
            report = deliverer.run()
        finally:
            deliverer.close()
        assert (report.sent, report.held) == (0, 1)
        (row,) = rows(db)
        assert row.state == outbox.QUEUED and row.attempts == 0
        assert row.not_before == datetime(2026, 1, 19, 7, 0, tzinfo=UTC)
        assert posts_to(slack, EMPLOYEE) == 0


def test_group_commit_fails_a_bad_write_alone(db, workspace_id):
    """Writes committed together: one that raises is run again alone and fails alone; the
    others of its batch are committed all the same."""
    queue(db, workspace_id, EMPLOYEE)
    (row,) = rows(db)
    group = GroupCommit(db.sessions)

    def good(session):
        session.get(OutboxMessage, row.id).last_error = "kept"
        return "ok"

    def bad(session):
        raise RuntimeError("bad write")

    done_good, done_bad = Future(), Future()
    group._commit([Queued(good, done_good), Queued(bad, done_bad)])
    assert done_good.result() == "ok"
    with pytest.raises(RuntimeError):
        done_bad.result()
    assert rows(db)[0].last_error == "kept"
    assert group(lambda session: 42) == 42  # through the committing thread


def test_group_commit_writes_a_batch_of_items_in_one_call(db, workspace_id):
    """Items queued for the same `fn` are written by one `fn(session, items)` call, each
    thread getting its own answer; writes that take the session only go beside them. When
    the batch fails, each item is written again alone and only the bad one fails."""
    calls: list[list[int]] = []

    def double(session, items):
        calls.append(list(items))
        if 13 in items:
            raise ValueError("unlucky")
        return [item * 2 for item in items]

    group = GroupCommit(db.sessions)
    queued = [Queued(double, Future(), item) for item in (1, 2, 3)]
    alone = Queued(lambda session: "alone", Future())
    group._commit([queued[0], alone, queued[1], queued[2]])
    assert calls == [[1, 2, 3]]
    assert [q.done.result() for q in queued] == [2, 4, 6] and alone.done.result() == "alone"

    calls.clear()
    good, bad = Queued(double, Future(), 5), Queued(double, Future(), 13)
    group._commit([good, bad])
    assert calls == [[5, 13], [5], [13]]
    assert good.done.result() == 10
    with pytest.raises(ValueError):
        bad.done.result()

    # From threads: each caller waits for its own answer.
    calls.clear()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda item: group.many(double, item), range(20, 60)))
    assert answers == [item * 2 for item in range(20, 60)]
    assert sorted(item for call in calls for item in call) == list(range(20, 60))


@pytest.mark.parametrize("outcome", ["expired", "final", "sent"])
def test_an_outcome_for_a_message_deleted_meanwhile_is_no_error(db, workspace_id, outcome):
    """A closed round deletes its reminders whatever their state, one a worker is delivering
    included: the worker's write of its outcome then changes nothing, and does not fail
    (a StaleDataError at the flush ended the whole delivery run)."""
    queue_anonymous(db, workspace_id, EMPLOYEE, key="pulse-reminder:1:x")
    now = datetime.now(UTC)
    with db.sessions.begin() as session:
        (message,) = outbox.claim(session, worker="w", now=now, limit=1, lease=timedelta(minutes=5))
    with db.sessions() as session:
        known = session.get(OutboxMessage, message.id)  # the worker's session has read it
        with db.sessions.begin() as closing:
            closing.execute(delete(OutboxMessage).where(OutboxMessage.id == message.id))
        if outcome == "expired":
            outbox.mark_expired(session, message_id=message.id, worker="w")
        elif outcome == "final":
            outbox.mark_final(session, message_id=message.id, worker="w", state="dead", error="x")
        else:
            outbox.mark_sent(
                session, message_id=message.id, worker="w", ts="1.2", channel="D1", now=now
            )
        session.commit()
        assert known.id == message.id
    assert rows(db) == []
