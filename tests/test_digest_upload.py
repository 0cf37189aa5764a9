"""The digest's chart goes with its message: the deliverer uploads a queued message's file into
the DM chat.postMessage answered, through Slack's external upload flow run by slack_sdk against
the simulated Slack over HTTP; a failed upload never holds the message back or sends it twice."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import pytest

from bot.shared.sending import with_file
from storage import outbox
from tests.conftest import EMPLOYEE, MANAGER
from tests.inprocess import PARIS, tick
from tests.test_delivery import queue, rows

CHART = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # every byte value: no text encoding
FILE_CALLS = ("files.getUploadURLExternal", "upload_url", "files.completeUploadExternal")


def digest(title: str = "Week 50") -> dict:
    """A digest-like payload with its chart attached."""
    payload = {"text": "Weekly digest — week 50", "blocks": [{"type": "divider"}]}
    return with_file(payload, filename="digest-2026-W50.png", title=title, content=CHART)


def file_calls(slack) -> list:
    return [c for c in slack.calls if c.method in FILE_CALLS]


class TestChartUpload:
    def test_the_chart_follows_the_message_into_the_dm(self, db, slack, workspace_id, deliverer):
        """The message is posted to the manager, then its file is completed in the D… channel
        chat.postMessage answered (never the user id), with its bytes and title."""
        queue(db, workspace_id, MANAGER, payload=digest())
        report = deliverer.run()
        assert (report.sent, report.uploaded, report.upload_failed) == (1, 1, 0)
        (row,) = rows(db)
        assert (row.state, row.message_channel) == (outbox.SENT, "D" + MANAGER)
        (post,) = slack.calls_to("chat.postMessage")
        assert post.params["channel"] == MANAGER and "upload" not in post.params
        (completion,) = slack.calls_to("files.completeUploadExternal")
        assert completion.params["channel_id"] == "D" + MANAGER
        assert completion.at >= post.at
        (shared,) = slack.files_in(MANAGER)
        assert shared.channel == row.message_channel
        assert (shared.filename, shared.title, shared.content) == (
            "digest-2026-W50.png",
            "Week 50",
            CHART,
        )
        assert "1 file(s) uploaded, 0 upload(s) failed" in str(report)

    def test_a_message_without_a_file_makes_no_files_call(self, db, slack, workspace_id, deliverer):
        """A plain message is only posted: no upload URL asked for, nothing shared."""
        queue(db, workspace_id, EMPLOYEE, payload={"text": "hello"})
        report = deliverer.run()
        assert (report.sent, report.uploaded, report.upload_failed) == (1, 0, 0)
        assert file_calls(slack) == [] and slack.files == []

    def test_an_anonymous_persons_message_uploads_nothing(self, db, slack, workspace_id, deliverer):
        """A message to an anonymous person never carries a file into their DM: one put there
        by mistake is left out, and the message goes, scrubbed as always."""
        queue(db, workspace_id, EMPLOYEE, payload={**digest(), "scrub_recipient": True})
        report = deliverer.run()
        assert (report.sent, report.uploaded, report.upload_failed) == (1, 0, 0)
        assert file_calls(slack) == [] and slack.files == []
        assert rows(db)[0].payload == {"scrub_recipient": True}


FAILURES = {
    "upload URL refused (500)": ("files.getUploadURLExternal", {"status": 500}),
    "upload URL rate-limited (429)": (
        "files.getUploadURLExternal",
        {"status": 429, "retry_after": 30},
    ),
    "bytes refused by the upload URL (500)": ("upload_url", {"status": 500}),
    "completion refused": ("files.completeUploadExternal", {"error": "not_in_channel"}),
    "completion rate-limited (429)": (
        "files.completeUploadExternal",
        {"status": 429, "retry_after": 30},
    ),
}


class TestFailedUpload:
    @pytest.mark.parametrize("step", FAILURES.values(), ids=FAILURES.keys())
    def test_the_message_stays_sent_once(self, db, slack, workspace_id, deliverer, caplog, step):
        """Whichever step fails, the message was sent exactly once and stays sent, the failure
        is counted and logged (with the message's id; no token, upload URL or recipient), and
        neither the message nor the upload is tried again, even after a 429's Retry-After."""
        method, failure = step
        queue(db, workspace_id, MANAGER, payload=digest())
        slack.fail_next(method, **failure)
        started = time.monotonic()
        with caplog.at_level(logging.INFO):
            report = deliverer.run(wait_up_to=timedelta(seconds=1))
        assert time.monotonic() - started < 10  # a 429 is not waited out
        assert (report.sent, report.uploaded, report.upload_failed) == (1, 0, 1)
        assert (report.retried, report.failed, report.dead) == (0, 0, 0)
        (row,) = rows(db)
        assert (row.state, row.attempts, row.last_error) == (outbox.SENT, 0, None)
        assert len(slack.messages_to(MANAGER)) == 1 and slack.files == []
        assert "0 file(s) uploaded, 1 upload(s) failed" in str(report)
        warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert any("digest-2026-W50.png" in line and "failed" in line for line in warned)
        assert f"message {row.id}: sent without its file" in caplog.text
        said = caplog.text
        assert slack.bot_token not in said and "/upload/v1/" not in said and MANAGER not in said
        calls = len(slack.calls)
        assert deliverer.run(wait_up_to=timedelta(seconds=1)).sent == 0
        assert len(slack.calls) == calls


class TestThroughTheTick:
    def test_tick_posts_the_digest_and_uploads_its_chart(self, app, db, slack, workspace_id):
        """`symmetry tick` (in this process, its real delivery and workspace clients) sends a
        queued digest on Monday morning and says it uploaded its chart."""
        monday_nine = datetime(2026, 2, 9, 9, 0, tzinfo=PARIS)
        queue(
            db,
            workspace_id,
            MANAGER,
            payload=digest("Semaine 7"),
            not_before=monday_nine,
            urgent=False,
        )
        said = tick(app, monday_nine + timedelta(seconds=30))
        assert "1 file(s) uploaded, 0 upload(s) failed" in said
        assert len(slack.messages_to(MANAGER)) == 1
        (shared,) = slack.files_in(MANAGER)
        assert (shared.channel, shared.title, shared.content) == ("D" + MANAGER, "Semaine 7", CHART)
