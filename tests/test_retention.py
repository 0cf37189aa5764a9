"""Retention (`SYMMETRY_RETENTION_DAYS`, delivered messages' content, uninstalled workspaces)
applied by the clock's tick, and `symmetry workspace purge`: through `symmetry tick --now` and
the command run in this process (tests/cli_inprocess.py), on both backends, with data made by
the app's own flows where a Slack conversation makes it, and a whole second workspace stored
row by row where the simulated Slack (one workspace) cannot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import inspect, select, text

from bot.demo.slack import form_values
from bot.runtime import workspaces
from bot.runtime.config import Settings
from bot.runtime.services import Services
from bot.teams.directory import Directory
from storage.models import (
    CustomerNps,
    DigestPreference,
    DigestRecord,
    Expedition,
    Irritant,
    IrritantEvent,
    IrritantVote,
    Membership,
    OutboxMessage,
    PulseAnswer,
    PulseComment,
    PulseParticipant,
    PulsePause,
    PulseQuestion,
    PulseRound,
    SlackUser,
    Team,
    TeamManager,
    TeamSize,
    Walk,
    WalkInvite,
    WalkNote,
    WalkPrompt,
    Workspace,
)
from storage.retention import purge_workspace
from tests.conftest import MANAGER, POLICY, SALARIEE, Database
from tests.inprocess import tick as app_tick
from tests.irritant_helpers import big_team, irritants, report
from tests.test_pulse import PERIOD, at, opened, tap
from tests.test_triage import button, dms, tick, triage_form

DAY = timedelta(days=1)
RETENTION = timedelta(days=730)  # the default
PURGED, KEPT = "TPURGE001", "TKEEP0001"  # workspaces the simulated Slack does not know
UNINSTALLED = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
MADE = datetime.fromisoformat("2026-02-02T09:00:00+00:00")  # when fill_workspace's rows are


def retention_of(result) -> str:
    """The retention part of a tick's report."""
    assert result.status == 0, result.err
    (part,) = [p for p in result.out.split("; ") if p.startswith("retention: ")]
    return part.removeprefix("retention: ")


def run_tick(cli, when: datetime) -> str:
    return retention_of(cli.run("tick", "--now", when.isoformat()))


class TestFreeTexts:
    def test_closed_irritant_texts_go_at_the_boundary(self, app, platform, slack, db, cli):
        """What was written about a resolved irritant stays a day before the retention and
        goes at it (description, resolution note, its history's notes); its figures and
        status stay, and a second tick erases nothing more."""
        big_team(db, slack)
        report(platform, slack, SALARIEE, description="The fan rattles like a train")
        tick(app)
        (message,) = dms(slack, MANAGER)
        resolve = button(message, "irritant_resolve")
        platform.block_action(MANAGER, "irritant_resolve", resolve["value"], message=message)
        form = triage_form(slack)
        platform.view_submission(MANAGER, form, form_values(form, {"note": "New fan fitted"}))
        (before,) = irritants(db)
        assert before.status == "resolved" and before.resolution_note == "New fan fitted"

        assert run_tick(cli, before.resolved_at + RETENTION - DAY).startswith(
            "0 comments, 0 irritant texts"
        )
        assert irritants(db)[0].description == "The fan rattles like a train"
        assert "1 irritant text," in run_tick(cli, before.resolved_at + RETENTION)
        (after,) = irritants(db)
        assert (after.description, after.resolution_note) == ("", None)
        assert (after.status, after.category, after.severity, after.resolved_at) == (
            before.status,
            before.category,
            before.severity,
            before.resolved_at,
        )
        with db.sessions() as session:
            notes = session.scalars(select(IrritantEvent.note)).all()
            assert notes and set(notes) == {None}
        assert "0 irritant texts" in run_tick(cli, before.resolved_at + RETENTION + DAY)

    def test_pulse_comments_go_at_the_boundary(self, app, platform, slack, db, cli):
        """A closed round's comments stay a day before the retention and are deleted at it;
        its answers (figures) stay."""
        message = opened(app, slack, db)[SALARIEE][0]
        tap(platform, SALARIEE, message, message_question(message), 4)
        tap(platform, SALARIEE, message, "more", "comment")
        form = slack.wait_for("views.open")[-1].params["view"]
        platform.view_submission(SALARIEE, form, form_values(form, {"comment": "Too noisy"}))
        app_tick(app, at(PERIOD + timedelta(days=5), 10, 1))
        with db.sessions() as session:
            closes_at = session.scalars(select(PulseRound.closes_at)).one()
            answered = session.scalars(select(PulseAnswer.value)).all()
            assert session.scalars(select(PulseComment.text)).all() == ["Too noisy"]

        assert run_tick(cli, closes_at + RETENTION - DAY).startswith("0 comments,")
        assert run_tick(cli, closes_at + RETENTION).startswith("1 comment,")
        with db.sessions() as session:
            assert session.scalars(select(PulseComment.text)).all() == []
            assert session.scalars(select(PulseAnswer.value)).all() == answered

    def test_walk_texts_go_with_the_retention_setting(
        self, db, slack, cli, monkeypatch, other_workspaces
    ):
        """`SYMMETRY_RETENTION_DAYS` sets the boundary: a walk done 10 days ago keeps its
        notes with 11 days, and loses them (and its expeditions' reports) with 10; its
        scores stay."""
        done_at = UNINSTALLED
        fill_workspace(db, KEPT, now=done_at, uninstalled_at=done_at + 30 * DAY)
        monkeypatch.setenv("SYMMETRY_RETENTION_DAYS", "11")
        assert "0 walk texts" in run_tick(cli, done_at + 10 * DAY)
        monkeypatch.setenv("SYMMETRY_RETENTION_DAYS", "10")
        assert "1 walk text," in run_tick(cli, done_at + 10 * DAY)
        with db.sessions() as session:
            walk = session.scalars(select(Walk)).one()
            assert (walk.stopped_seeing, walk.works_well, walk.scores) == (None, None, SCORES)
            assert session.scalars(select(WalkNote.text)).all() == [""]
            assert session.execute(select(Expedition.surprised, Expedition.borrow)).all() == [
                ("", "")
            ]

    @pytest.mark.parametrize("value", ["0", "two years", "-5"])
    def test_a_bad_setting_is_one_line(self, cli, monkeypatch, value):
        """A bad SYMMETRY_RETENTION_DAYS stops the tick with one line naming it, status 2."""
        monkeypatch.setenv("SYMMETRY_RETENTION_DAYS", value)
        result = cli.run("tick", "--now", "2026-03-02T09:00:00+00:00")
        assert result.status == 2
        assert result.err.startswith("symmetry: SYMMETRY_RETENTION_DAYS: ")
        assert len(result.err.strip().splitlines()) == 1


def message_question(message: dict) -> str:
    """The first question a survey DM asks."""
    for block in message["blocks"]:
        if block["type"] == "actions" and block["block_id"].startswith("a-"):
            return block["block_id"].removeprefix("a-")
    raise AssertionError("no question")


class TestDeliveredMessages:
    def test_content_goes_30_days_after_delivery(self, app, platform, slack, db, cli):
        """Messages delivered keep their content 29 days and lose it at 30 (that they were
        sent, when and to whom stays); those sent later keep theirs."""
        big_team(db, slack)
        report(platform, slack, SALARIEE)
        tick(app)
        with db.sessions() as session:
            sent = {
                m.id: (m.sent_at, m.recipient, m.payload)
                for m in session.scalars(select(OutboxMessage).where(OutboxMessage.state == "sent"))
            }
        told = [i for i, (_, _, payload) in sent.items() if payload != SCRUBBED]
        assert told
        first = min(at for at, _, _ in sent.values())
        last = max(at for at, _, _ in sent.values())
        assert "0 outbox contents" in run_tick(cli, first + 30 * DAY - DAY)
        assert f"{len(told)} outbox contents" in run_tick(cli, last + 30 * DAY)
        with db.sessions() as session:
            rows = {m.id: m for m in session.scalars(select(OutboxMessage))}
        for message_id, (sent_at, recipient, _) in sent.items():
            message = rows[message_id]
            assert (message.state, message.sent_at, message.recipient) == (
                "sent",
                sent_at,
                recipient,
            )
            assert message.payload == ({} if message_id in told else SCRUBBED)
        assert all(m.payload for i, m in rows.items() if i not in sent)
        assert "0 outbox contents" in run_tick(cli, last + 31 * DAY)


SCRUBBED = {"scrub_recipient": True}  # an anonymous reporter's message, emptied when sent


class TestUninstalledWorkspaces:
    def test_purged_30_days_after_uninstall_not_29(
        self, db, slack, cli, workspace_id, other_workspaces
    ):
        """An uninstalled workspace keeps its data 29 days, and the tick at 30 deletes all of
        it (installations included), leaving another workspace's alone."""
        # Removed a day later: neither planned for nor purged by these ticks.
        fill_workspace(db, KEPT, now=UNINSTALLED + 29 * DAY, uninstalled_at=UNINSTALLED + DAY)
        kept = snapshot(db)
        purged = fill_workspace(db, PURGED, uninstalled_at=UNINSTALLED)
        assert "0 workspaces purged" in run_tick(cli, UNINSTALLED + 29 * DAY)
        assert_holds(db, PURGED)
        assert run_tick(cli, UNINSTALLED + 30 * DAY).endswith("1 workspace purged")
        assert_gone(db, PURGED, purged, by="clock")
        assert _kept(db) == {k: v for k, v in kept.items() if k != "audit_records"}


class TestPurgeCommand:
    def test_refused_while_installed_then_forced(self, db, slack, cli, other_workspaces):
        """A workspace still installed is refused (one line, status 2, nothing changed);
        with --force it goes, every row of it in every table, another's untouched."""
        fill_workspace(db, KEPT)
        before = snapshot(db)
        purged = fill_workspace(db, PURGED)
        full = snapshot(db)
        refused = cli.run("workspace", "purge", PURGED)
        assert refused.status == 2 and refused.out == ""
        assert refused.err.count("\n") == 1 and "still installed" in refused.err
        assert "--force" in refused.err
        assert snapshot(db) == full

        forced = cli.run("workspace", "purge", PURGED, "--force")
        assert forced.status == 0, forced.err
        assert forced.out == (
            f"symmetry: workspace {PURGED} purged: 1 team, 1 irritant, 1 pulse round, "
            "1 walk, 1 outbox message, 3 people, 1 installation\n"
        )
        assert _kept(db) == {k: v for k, v in before.items() if k != "audit_records"}
        assert_gone(db, PURGED, purged)

    def test_uninstalled_needs_no_force(self, db, slack, cli, other_workspaces):
        """An uninstalled workspace is purged at once, and a second purge finds nothing."""
        purged = fill_workspace(db, PURGED, uninstalled_at=UNINSTALLED)
        assert cli.run("workspace", "purge", PURGED).status == 0
        assert_gone(db, PURGED, purged)
        again = cli.run("workspace", "purge", PURGED)
        assert (again.status, again.err) == (
            2,
            f"symmetry: workspace purge: no data for {PURGED}\n",
        )

    def test_unknown_workspace(self, db, slack, cli):
        """A workspace never seen is one line and status 2."""
        result = cli.run("workspace", "purge", "TNOBODY01", "--force")
        assert (result.status, result.out) == (2, "")
        assert result.err == "symmetry: workspace purge: no data for TNOBODY01\n"


class TestServerAfterPurge:
    def test_a_purged_workspace_back_gets_its_new_row(self, db, other_workspaces):
        """A server that knew a workspace before it was uninstalled and purged finds its new
        row when it comes back: not the purged ID, which no row has any more, or which
        another workspace's row has taken."""
        services = Services(
            settings=Settings(),
            policy=POLICY,
            sessions=db.sessions,
            directory=Directory(db.sessions, lambda _id: None),  # type: ignore[arg-type,return-value]
        )
        old = services.workspace_id(PURGED)
        services.mark_uninstalled(old)
        with db.sessions.begin() as session:
            workspace = session.get(Workspace, old)
            purge_workspace(session, workspace=workspace)
        with db.sessions.begin() as session:  # another installs (SQLite may reuse the ID)
            other = workspaces.installed(
                session, slack_team_id=KEPT, team_name=None, enterprise_id=None,
                is_enterprise_install=False,
            )  # fmt: skip
        with db.sessions.begin() as session:  # and it is installed again (OAuth): a new row
            new = workspaces.installed(
                session, slack_team_id=PURGED, team_name=None, enterprise_id=None,
                is_enterprise_install=False,
            )  # fmt: skip
        assert new not in (old, other)
        assert services.back_from_uninstall(old)
        assert services.workspace_id(PURGED) == new


# ----- a whole workspace, row by row


SCORES = {"sight": {"customer": 4, "employee": 2}}


@pytest.fixture
def other_workspaces(db: Database) -> Iterator[None]:
    """Made-up workspaces' rows go at the end (the tests' reset keeps workspaces)."""
    yield
    with db.engine.begin() as connection:
        connection.execute(
            text("DELETE FROM workspaces WHERE slack_team_id IN (:a, :b)"), {"a": PURGED, "b": KEPT}
        )


def fill_workspace(
    db: Database,
    slack_team_id: str,
    *,
    uninstalled_at: datetime | None = None,
    now: datetime = MADE,
) -> int:
    """A workspace with a row in every table that can hold one, each naming it (its Slack
    team ID in every user ID and text), and its installation; returns its database ID."""
    mark = slack_team_id[1:6]
    manager, member, voter = (f"U{mark}{n}" for n in ("MGR", "EMP", "VOT"))
    with db.sessions.begin() as session:
        workspace = Workspace(
            slack_team_id=slack_team_id, name=f"{mark} Ltd", uninstalled_at=uninstalled_at
        )
        session.add(workspace)
        session.flush()
        wid = workspace.id
        team = Team(
            workspace_id=wid, name=f"{mark} team", channel_id=f"C{mark}01",
            timezone="Europe/Paris", locale="en", survey_enabled=False,
        )  # fmt: skip
        team.memberships = [Membership(user_id=u) for u in (manager, member)]
        team.managers = [TeamManager(user_id=manager)]
        session.add(team)
        session.flush()
        session.add_all(
            SlackUser(workspace_id=wid, user_id=u, real_name=f"{mark} {u}", fetched_at=now)
            for u in (manager, member, voter)
        )
        irritant = Irritant(
            workspace_id=wid, team_id=team.id, category="noise", space="employee",
            location=f"{mark} floor", severity="low", description=f"{mark} hums",
            anonymous=False, reporter_id=member, status="resolved", resolution_note=f"{mark} ok",
            created_at=now, updated_at=now, resolved_at=now,
        )  # fmt: skip
        irritant.events = [
            IrritantEvent(
                action="resolve", actor_role="manager", actor_id=manager, status="resolved",
                note=f"{mark} fixed", created_at=now,
            )
        ]  # fmt: skip
        irritant.votes = [IrritantVote(voter_hash=f"{mark}-vote")]
        session.add(irritant)
        pulse = PulseRound(
            team_id=team.id, period=date(2026, 2, 3), questions=["enps"], state="closed",
            opens_at=now, closes_at=now,
        )  # fmt: skip
        session.add(pulse)
        session.flush()
        session.add_all(
            [
                PulseParticipant(round_id=pulse.id, user_id=member, week="2026-W06"),
                PulseAnswer(round_id=pulse.id, question="enps", respondent=f"{mark}-r", value=9),
                PulseComment(round_id=pulse.id, respondent=f"{mark}-r", text=f"{mark} says hi"),
                PulsePause(workspace_id=wid, user_id=member, until=date(2026, 3, 1)),
                PulseQuestion(workspace_id=wid, scale="1-5", text_en=mark, text_fr=mark),
                TeamSize(team_id=team.id, size=1, recorded_at=now),
                DigestPreference(workspace_id=wid, user_id=manager, updated_at=now),
                DigestRecord(
                    workspace_id=wid, team_id=team.id, kind="manager", recipient=manager,
                    week="2026-W06", covers_until=now,
                ),
                CustomerNps(team_id=team.id, month="2026-01", nps=30, responses=10,
                            recorded_by=manager, recorded_at=now),
                OutboxMessage(
                    workspace_id=wid, key=f"welcome:{slack_team_id}:{member}", kind="welcome",
                    recipient=member, timezone="UTC", payload={"text": f"{mark} hello"},
                    state="sent", not_before=now, sent_at=now,
                ),
            ]
        )  # fmt: skip
        walk = Walk(
            team_id=team.id, quarter="2026-Q1", due_at=now, manager_id=manager, done_at=now,
            scores=SCORES, stopped_seeing=f"{mark} dust", works_well=f"{mark} light",
        )  # fmt: skip
        walk.prompts = [WalkPrompt(manager_id=manager, prompted_at=now)]
        walk.notes = [
            WalkNote(author_id=manager, sense="sight", space="employee",
                     text=f"{mark} cracked tiles", created_at=now)
        ]  # fmt: skip
        walk.invites = [WalkInvite(user_id=member, invited_by=manager, invited_at=now)]
        walk.expeditions = [
            Expedition(author_id=manager, place=f"{mark} hotel", visited_on=date(2026, 1, 20),
                       surprised=f"{mark} smiles", borrow=f"{mark} welcome desk", created_at=now)
        ]  # fmt: skip
        session.add(walk)
    store = SQLAlchemyInstallationStore(client_id="111.222", engine=db.engine)
    store.save(
        Installation(
            app_id="A0SYM", team_id=slack_team_id, team_name=f"{mark} Ltd", user_id=manager,
            bot_token=f"xoxb-{mark}", bot_id=f"B{mark}", bot_user_id=f"U{mark}BOT",
            installed_at=now.timestamp(),
        )
    )  # fmt: skip
    return wid


def _tables(db: Database) -> list[str]:
    return sorted(set(inspect(db.engine).get_table_names()) - {"alembic_version"})


def _kept(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table but the audit trail (a purge adds its own record)."""
    rows = snapshot(db)
    rows.pop("audit_records", None)
    return rows


def snapshot(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table, as text, sorted."""
    rows = {}
    with db.engine.connect() as connection:
        for table in _tables(db):
            found = connection.execute(text(f"SELECT * FROM {table}")).all()
            rows[table] = sorted(tuple(str(v) for v in row) for row in found)
    return rows


def _rows_naming(db: Database, slack_team_id: str, wid: int) -> dict[str, int]:
    """Rows, table by table, that name the workspace: its Slack team ID or its mark in any
    column, or its database ID `wid` in a `workspace_id` column."""
    mark = slack_team_id[1:6]
    with db.engine.connect() as connection:
        found = {}
        for table in _tables(db):
            columns = {c["name"] for c in inspect(db.engine).get_columns(table)}
            count = 0
            for row in connection.execute(text(f"SELECT * FROM {table}")).mappings():
                named = any(mark in str(v) or slack_team_id in str(v) for v in row.values())
                owned = "workspace_id" in columns and row["workspace_id"] == wid
                count += named or owned
            if count:
                found[table] = count
    return found


def assert_gone(db: Database, slack_team_id: str, wid: int, *, by: str = "cli") -> None:
    """Nothing of the workspace is left but the audit record of its purge (the team ID,
    who purged it, and counts)."""
    assert _rows_naming(db, slack_team_id, wid) == {"audit_records": 1}
    with db.engine.connect() as connection:
        (record,) = connection.execute(
            text("SELECT actor, action FROM audit_records WHERE workspace = :t"),
            {"t": slack_team_id},
        ).all()
    assert tuple(record) == (by, "workspace.purged")


def assert_holds(db: Database, slack_team_id: str) -> None:
    """Every kind of row made by fill_workspace is still there."""
    with db.engine.connect() as connection:
        wid = connection.scalar(
            text("SELECT id FROM workspaces WHERE slack_team_id = :t"), {"t": slack_team_id}
        )
    assert set(_rows_naming(db, slack_team_id, wid)) >= {
        "workspaces", "teams", "memberships", "team_managers", "slack_users", "irritants",
        "irritant_events", "irritant_votes", "pulse_participants", "pulse_comments",
        "pulse_pauses", "pulse_questions", "digest_preferences", "digests", "customer_nps",
        "outbox", "walks", "walk_prompts", "walk_notes", "walk_invites", "expeditions",
        "slack_installations", "slack_bots",
    }  # fmt: skip
