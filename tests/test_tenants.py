"""One tenant cannot stop the others (issue 13, item 3): with workspaces installed over OAuth
through the simulated Slack, a workspace whose token Slack refuses is marked, reported by
`outbox status` and skipped, while the others' welcomes, pulse rounds and roundups go out in
the same tick; a new install brings it back. A team whose planning raises does not stop the
other teams of its workspace, on PostgreSQL too (a failed statement aborts a transaction)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_bolt import BoltRequest
from sqlalchemy import select, text, update

import storage.pulse
import storage.walks
from bot.runtime.clients import workspace_clients
from bot.runtime.delivery import Deliverer, Report
from bot.runtime.operations import outbox_status
from storage import outbox, queries
from storage.models import (
    Irritant,
    OutboxMessage,
    PulseRound,
    Walk,
    Workspace,
)
from tests.conftest import ADMIN, EMPLOYEE, GONE, MANAGER, SALARIEE, SECRET_KEY, SIGNING_SECRET
from tests.inprocess import PARIS, AppUnderTest, app_settings, running_app, tick
from tests.irritant_helpers import EXTRA, add_extras, anonymous_report, big_team

BROKEN = "T0BROKEN"  # the second workspace, whose token Slack refuses
BROKEN_TOKEN = "xoxb-broken-token"
FIXED_TOKEN = "xoxb-fixed-token"  # what installing it again hands out
TUESDAY_10 = datetime(2026, 2, 10, 10, 0, tzinfo=PARIS)  # survey day and time, roundup passed
LONG_AGO = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
PEOPLE = (MANAGER, EMPLOYEE, SALARIEE, ADMIN, *EXTRA)  # five besides the manager: anonymous


def clear_marks(db) -> None:
    """Workspaces outlive a test (tests/conftest.py keeps their rows): leave none marked."""
    with db.sessions.begin() as session:
        session.execute(update(Workspace).values(token_error=None, token_error_at=None))


@pytest.fixture
def multi(db, slack, tmp_path) -> Iterator[AppUnderTest]:
    """The app in multi-workspace mode (a client ID and secret, no bot token), its clock at
    TUESDAY_10, with nothing installed yet."""
    clear_marks(db)
    add_extras(slack)
    settings = app_settings(
        db.url,
        slack,
        slack_bot_token=None,
        slack_client_id="111.222",
        slack_client_secret="oauth-secret",
        slack_signing_secret=SIGNING_SECRET,
        secret_key=SECRET_KEY,
    )
    log = tmp_path / "app.log"
    try:
        with running_app(settings, db.sessions, db.engine, slack, log_path=log) as app:
            yield app
    finally:
        slack.reset_installs()
        clear_marks(db)


def install(app: AppUnderTest, slack, *, team_id: str | None = None, token: str = "") -> None:
    """Install the app over OAuth as a browser would (/slack/install, then Slack's redirect
    with the code and the state cookie), through Bolt's OAuth flow and our success path; with
    `team_id`, the install is of that workspace, with bot token `token`."""
    if team_id is not None:
        slack.grant_install(team_id=team_id, team_name=f"{team_id} Inc", bot_token=token)
    flow = app.app.oauth_flow
    assert flow is not None
    page = flow.handle_installation(BoltRequest(body="", query={}, headers={}))
    cookie = page.headers["set-cookie"][0].split(";", 1)[0]
    state = re.search(r"state=([\w-]+)", page.body)
    assert state, page.body
    redirect = BoltRequest(
        body="",
        query={"code": "sim-code", "state": state.group(1)},
        headers={"cookie": [cookie]},
    )
    done = flow.handle_callback(redirect)
    assert done.status == 200, done.body


def team(db, slack, slack_team_id: str, *, name: str = "Workshop") -> int:
    """A team of six in Paris, made long ago, surveyed on Tuesdays at 10:00, its anonymous
    reports rounded up at 09:00, with one such report waiting."""
    made = big_team(
        db,
        slack,
        name=name,
        slack_team_id=slack_team_id,
        roundup_time="09:00",
        created_at=LONG_AGO,
    )
    with db.sessions.begin() as session:
        found = queries.get_team(session, team_id=made)
        assert found is not None
        anonymous_report(session, found, day=datetime(2026, 2, 9, tzinfo=UTC))
    return made


def workspace_of(db, slack_team_id: str) -> Workspace:
    with db.sessions() as session:
        found = queries.get_workspace(session, slack_team_id=slack_team_id)
        assert found is not None
        return found


def sent_kinds(db, slack_team_id: str) -> set[str]:
    """The kinds of message delivered in a workspace."""
    with db.sessions() as session:
        return set(
            session.scalars(
                select(OutboxMessage.kind)
                .join(Workspace, OutboxMessage.workspace_id == Workspace.id)
                .where(Workspace.slack_team_id == slack_team_id, OutboxMessage.state == "sent")
            )
        )


def planned(db, team_id: int) -> tuple[bool, bool]:
    """(whether the team's pulse round is open, whether its roundup was made)."""
    with db.sessions() as session:
        opened = session.scalars(select(PulseRound).where(PulseRound.team_id == team_id)).all()
        irritant = session.scalars(select(Irritant).where(Irritant.team_id == team_id)).one()
        return bool(opened), irritant.rounded_up_at is not None


def due_message(session, workspace_id: int, user_id: str) -> None:
    """A message for `user_id`, due a minute before TUESDAY_10, whatever the hour."""
    outbox.enqueue(
        session,
        workspace_id=workspace_id,
        key=f"test:{workspace_id}:{user_id}",
        kind="test",
        recipient=user_id,
        payload={"text": "Hello"},
        timezone="Europe/Paris",
        not_before=TUESDAY_10 - timedelta(minutes=1),
        urgent=True,
    )


def calls_with(slack, token: str) -> list:
    return [c for c in slack.calls if c.token == token]


def status(app: AppUnderTest, capsys) -> str:
    capsys.readouterr()
    outbox_status(app.settings)
    return capsys.readouterr().out


class TestBrokenTenant:
    def test_the_others_go_on_and_it_waits_for_a_new_install(self, multi, slack, db, capsys):
        """Workspace B's token is refused: in the same tick A's welcomes, pulse round and
        roundup go out; B is marked, listed by `outbox status`, and the next tick makes no
        call with its token; installed again, B is planned and served."""
        install(multi, slack)
        install(multi, slack, team_id=BROKEN, token=BROKEN_TOKEN)
        slack.refuse_token(BROKEN_TOKEN)  # revoked since, say: Slack answers invalid_auth
        good, broken = team(db, slack, slack.team_id), team(db, slack, BROKEN)
        slack.clear_calls()  # the installs' own

        report = tick(multi, TUESDAY_10)

        assert planned(db, good) == (True, True)
        assert {"welcome", "pulse", "roundup"} <= sent_kinds(db, slack.team_id)
        assert planned(db, broken) == (False, False)
        refused = calls_with(slack, BROKEN_TOKEN)
        assert refused and all(c.failed for c in refused)
        marked = workspace_of(db, BROKEN)
        assert marked.token_error == "invalid_auth"
        assert marked.token_error_at is not None
        assert marked.token_error_at.replace(tzinfo=UTC) == TUESDAY_10
        assert workspace_of(db, slack.team_id).token_error is None
        assert re.search(r"welcomes: \d+ \(1 of 2 unit\(s\) failed, logged\)", report), report
        listed = status(multi, capsys)
        assert (
            "workspace T0BROKEN: Slack refuses its bot token (invalid_auth) since "
            "2026-02-10T09:00:00+00:00; 0 message(s) wait until the app is installed again"
        ) in listed

        asked = len(calls_with(slack, BROKEN_TOKEN))
        again = tick(multi, TUESDAY_10 + timedelta(minutes=1))
        assert len(calls_with(slack, BROKEN_TOKEN)) == asked, "a marked workspace is left alone"
        assert "failed" not in again.split("; delivery:")[0]

        install(multi, slack, team_id=BROKEN, token=FIXED_TOKEN)
        assert workspace_of(db, BROKEN).token_error is None
        assert "T0BROKEN" not in status(multi, capsys)
        tick(multi, TUESDAY_10 + timedelta(minutes=2))
        assert planned(db, broken) == (True, True)
        assert {"welcome", "pulse", "roundup"} <= sent_kinds(db, BROKEN)
        assert calls_with(slack, FIXED_TOKEN)

    def test_delivery_marks_it_and_its_messages_wait(self, multi, slack, db, capsys):
        """A message refused for its token marks the workspace and goes back to the queue,
        unspent; the workspace's other messages are not tried in that run nor the next, the
        other workspace's are sent; after a new install they all go out."""
        install(multi, slack)
        install(multi, slack, team_id=BROKEN, token=BROKEN_TOKEN)
        good, broken = workspace_of(db, slack.team_id).id, workspace_of(db, BROKEN).id
        with db.sessions.begin() as session:
            for workspace_id, user_id in [(broken, u) for u in PEOPLE[:3]] + [(good, MANAGER)]:
                due_message(session, workspace_id, user_id)
        slack.refuse_token(BROKEN_TOKEN)
        slack.clear_calls()  # the installs' own
        clients = workspace_clients(multi.settings, db.sessions, db.engine, retries=False)
        deliverer = Deliverer(db.sessions, clients, now=lambda: TUESDAY_10, threads=1, seed=1)
        try:
            first = deliverer.run()
            # Those claimed with the first are put back; once the mark is committed, the
            # others are no longer claimed at all.
            assert (first.sent, first.dead) == (1, 0) and 1 <= first.token_refused <= 3
            assert f"{first.token_refused} waiting for a refused token" in str(first)
            assert len(calls_with(slack, BROKEN_TOKEN)) == 1
            assert workspace_of(db, BROKEN).token_error == "invalid_auth"
            with db.sessions() as session:
                waiting = session.scalars(
                    select(OutboxMessage).where(OutboxMessage.workspace_id == broken)
                ).all()
            assert {(m.state, m.attempts) for m in waiting} == {("queued", 0)}
            assert "3 message(s) wait until the app is installed again" in status(multi, capsys)
            assert deliverer.run().token_refused == 0
            assert len(calls_with(slack, BROKEN_TOKEN)) == 1

            clients(broken)  # cached with the refused token, as by a process that ran meanwhile
            install(multi, slack, team_id=BROKEN, token=FIXED_TOKEN)
            # The cached client fails once, and the message is tried again with the new token.
            last = deliverer.run()
            assert (last.sent, last.dead, last.token_refused) == (3, 0, 0)
            assert len(calls_with(slack, BROKEN_TOKEN)) == 2
        finally:
            deliverer.close()
        assert sent_kinds(db, BROKEN) == {"test"}


class TestBadTeam:
    def test_a_team_that_raises_does_not_stop_the_others(self, multi, slack, db, monkeypatch):
        """A team whose reads fail with a database error (a statement PostgreSQL refuses,
        which aborts the transaction it is in) is logged and counted; the workspace's other
        team still gets its round and its walk prompts in the same tick."""
        install(multi, slack)
        bad = team(db, slack, slack.team_id, name="Accounts")  # first in name order
        good = team(db, slack, slack.team_id, name="Workshop")

        def failing(real):
            def read(session, *, team_id, **given):
                if team_id == bad:
                    session.execute(text("SELECT nothing FROM no_such_table"))
                return real(session, team_id=team_id, **given)

            return read

        monkeypatch.setattr(storage.pulse, "round_for", failing(storage.pulse.round_for))
        monkeypatch.setattr(storage.walks, "of_quarter", failing(storage.walks.of_quarter))
        report = tick(multi, TUESDAY_10)

        assert planned(db, good)[0] and not planned(db, bad)[0]
        with db.sessions() as session:
            walked = set(session.scalars(select(Walk.team_id)))
        assert walked == {good}
        assert re.search(r"pulse rounds: 1 round\(s\) opened.*?\(1 of \d+ unit\(s\) failed", report)
        assert re.search(r"walks: 1 prompt\(s\).*?\(1 of \d+ unit\(s\) failed", report)
        assert "pulse rounds: team" in multi.log_path.read_text()


class TestSingleWorkspace:
    def test_a_refused_token_is_marked_until_a_process_starts_with_one_that_works(
        self, cli, slack, db, monkeypatch
    ):
        """SLACK_BOT_TOKEN refused: the tick marks the workspace and `outbox status` says so;
        the next tick asks Slack only whether the token works now; restarted with a token
        that works, the mark is cleared and the workspace planned."""
        clear_marks(db)
        add_extras(slack)
        team(db, slack, slack.team_id)
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-wrong")
        try:
            assert cli.run("tick", "--now", TUESDAY_10.isoformat()).status == 0
            assert workspace_of(db, slack.team_id).token_error == "invalid_auth"
            assert "Slack refuses its bot token (invalid_auth)" in cli.run("outbox", "status").out
            slack.clear_calls()
            assert cli.run("tick", "--now", (TUESDAY_10 + timedelta(minutes=1)).isoformat())
            assert [c.method for c in slack.calls] == ["auth.test"]

            monkeypatch.setenv("SLACK_BOT_TOKEN", slack.bot_token)
            assert cli.run("tick", "--now", (TUESDAY_10 + timedelta(minutes=2)).isoformat())
            assert workspace_of(db, slack.team_id).token_error is None
            assert {"welcome", "pulse", "roundup"} <= sent_kinds(db, slack.team_id)
        finally:
            clear_marks(db)


class TestDelivery:
    def test_a_run_ends_while_a_marked_workspace_has_due_messages(self, db, slack, workspace_id):
        """Due messages of a marked workspace, one of them left leased by a dead worker, are
        neither claimed nor waited for: the run ends at once, and they stay unsent."""
        clear_marks(db)
        with db.sessions.begin() as session:
            for user_id, state in [(EMPLOYEE, "queued"), (SALARIEE, "sending")]:
                due_message(session, workspace_id, user_id)
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.recipient == user_id)
                    .values(state=state, lease_until=TUESDAY_10 - timedelta(minutes=1))
                )
            session.execute(
                update(Workspace)
                .where(Workspace.id == workspace_id)
                .values(token_error="token_revoked", token_error_at=TUESDAY_10)
            )
        clients = workspace_clients(
            app_settings(db.url, slack), db.sessions, db.engine, retries=False
        )
        deliverer = Deliverer(db.sessions, clients, now=lambda: TUESDAY_10, seed=1)
        reports: list[Report] = []
        # A daemon thread: a run that never ended would fail the test, not hang the session.
        running = threading.Thread(
            target=lambda: reports.append(deliverer.run(wait_up_to=timedelta(seconds=30))),
            daemon=True,
        )
        try:
            running.start()
            running.join(timeout=10)
            assert not running.is_alive(), "the run waits for messages nobody may send"
        finally:
            clear_marks(db)
        deliverer.close()
        (report,) = reports
        assert (report.sent, report.token_refused) == (0, 0)
        assert slack.calls_to("chat.postMessage") == []

    def test_a_deactivated_recipient_is_not_a_refused_token(
        self, db, slack, workspace_id, deliverer
    ):
        """Slack answers account_inactive to a message for a deactivated person as to a dead
        token: `auth.test` tells them apart, so the message is dead and the workspace goes on."""
        clear_marks(db)
        with db.sessions.begin() as session:
            due_message(session, workspace_id, GONE)
            due_message(session, workspace_id, EMPLOYEE)
        report = deliverer.run()
        assert (report.sent, report.dead, report.token_refused) == (1, 1, 0)
        assert [c.failed for c in slack.calls_to("auth.test")] == [False]
        assert workspace_of(db, slack.team_id).token_error is None
