"""Roundup, triage, reporter feedback, details, Home board, export and the anonymity sweep,
through the app in this process (tests/inprocess.py), the clock's tick, `symmetry export` and
the simulated Slack."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, text

from bot.demo.slack import form_values
from bot.irritants.triage import ERRORS
from bot.shared.i18n import translate
from storage.models import Irritant, IrritantEvent, Membership, OutboxMessage, new_public_id
from tests.conftest import ADMIN, EMPLOYEE, MANAGER, SALARIEE
from tests.inprocess import PARIS, TODAY
from tests.inprocess import tick as tick_at
from tests.irritant_helpers import big_team, irritants, open_modal, report, wait_until


def next_working_day_at(hour: int, minute: int, *, after: date = TODAY) -> datetime:
    """The first working day strictly after `after` (default: the in-process app's day, not
    the real one), at a Paris time."""
    day = after + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


LATER = next_working_day_at(16, 5)


def tick(app, when: datetime = LATER, **settings: object) -> str:
    """The clock's tick at `when` (by default the first working day after the app's)."""
    return tick_at(app, when, **settings)


def dms(slack, user_id: str) -> list[dict]:
    """Messages the bot sent a person, welcome messages aside."""
    return [
        c.params for c in slack.calls_to("chat.postMessage")
        if not c.failed and c.params["channel"] == user_id
        and not c.params["text"].startswith(("Welcome to Symmetry", "Bienvenue"))
    ]  # fmt: skip


def button(message: dict, action_id: str) -> dict:
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} button in {json.dumps(message)[:500]}")


def triage_form(slack) -> dict:
    """The triage form Slack was last asked to open."""
    calls = slack.wait_for(
        "views.open", where=lambda c: c.params["view"].get("callback_id") == "irritant_triage"
    )
    return calls[-1].params["view"]


def the_irritant(db) -> Irritant:
    (irritant,) = irritants(db)
    return irritant


def roundup_for(app, slack, db, *, reporter=SALARIEE) -> dict:
    """An anonymous report, then the roundup delivered to the manager."""
    big_team(db, slack)
    report(app.platform, slack, reporter)
    tick(app)
    (message,) = dms(slack, MANAGER)
    return message


class TestRoundup:
    def test_reaches_managers_once(self, app, platform, slack, db):
        """At the team's roundup time the managers get the anonymous reports, once."""
        message = roundup_for(app, slack, db)
        assert "staff room is freezing" in json.dumps(message)
        assert the_irritant(db).rounded_up_at is not None
        tick(app)
        assert len(dms(slack, MANAGER)) == 1

    def test_small_team_goes_to_admins(self, app, platform, slack, db):
        """A team under the threshold: the roundup goes to the admins, not its manager."""
        big_team(db, slack, members=[MANAGER, EMPLOYEE, SALARIEE])
        report(platform, slack, SALARIEE)
        tick(app, admins=frozenset({ADMIN}))
        assert dms(slack, MANAGER) == []
        (message,) = dms(slack, ADMIN)
        assert "too few members" in json.dumps(message)

    def test_nothing_on_a_weekend(self, app, platform, slack, db):
        """No roundup on Saturday; it comes on Monday."""
        big_team(db, slack)
        report(platform, slack, SALARIEE)
        saturday = LATER.date() + timedelta(days=(5 - LATER.weekday()) % 7)
        tick(app, datetime.combine(saturday, time(16, 30), tzinfo=PARIS))
        assert dms(slack, MANAGER) == []
        monday = saturday + timedelta(days=2)
        tick(app, datetime.combine(monday, time(16, 30), tzinfo=PARIS))
        assert len(dms(slack, MANAGER)) == 1


class TestWhoMayActOnAnonymousReports:
    def test_manager_cannot_act_before_the_roundup(self, platform, slack, db):
        """A manager's forged clicks on an anonymous report the roundup has not shown yet are
        refused: no form shows its text, nothing changes, nobody is told."""
        big_team(db, slack)
        report(platform, slack, SALARIEE)
        irritant_id = the_irritant(db).public_id
        slack.clear_calls()
        platform.block_action(MANAGER, "irritant_plan", irritant_id, message={})
        platform.block_action(MANAGER, "irritant_acknowledge", irritant_id, message={})
        refusals = slack.wait_for("response_url", count=2)
        refused = {translate(locale, ERRORS["not_allowed"]) for locale in ("en", "fr")}
        assert all(r.params["text"] in refused for r in refusals)
        assert slack.calls_to("views.open") == []
        with db.sessions() as session:
            irritant = session.scalars(select(Irritant)).one()
            assert (irritant.status, len(irritant.events)) == ("new", 1)
        assert dms(slack, SALARIEE) == []

    def test_a_forged_click_cannot_tell_a_report_from_nothing(self, platform, slack, db):
        """An employee probing ids gets the same answer for the anonymous report just stored
        and for the id after it, which does not exist: probing cannot date a report."""
        big_team(db, slack)
        report(platform, slack, SALARIEE)
        stored = the_irritant(db).public_id
        slack.clear_calls()
        for public_id in (stored, new_public_id()):  # the report, and one that does not exist
            platform.block_action(EMPLOYEE, "irritant_acknowledge", public_id, message={})
        answers = [r.params["text"] for r in slack.wait_for("response_url", count=2)]
        assert answers[0] == answers[1] == translate("en", ERRORS["not_allowed"])
        assert the_irritant(db).status == "new"

    def test_odd_values_are_refused_not_crashed_on(self, platform, slack, db):
        """Unicode digits in a button value, and triage-form metadata that is JSON but not an
        object, get the refusal; no listener raises (the in-process app fails the test if one
        does) and nothing changes."""
        big_team(db, slack)
        report(platform, slack, SALARIEE)
        slack.clear_calls()
        platform.block_action(MANAGER, "irritant_acknowledge", "²", message={})
        (refusal,) = slack.wait_for("response_url")
        assert refusal.params["text"] == translate("fr", ERRORS["not_allowed"])  # Marie: French
        form = {
            "id": "V0FORGED1", "type": "modal", "callback_id": "irritant_triage",
            "private_metadata": "[1, 2]", "blocks": [],
        }  # fmt: skip
        answer = platform.view_submission(MANAGER, form, {})
        assert answer.status == 200 and answer.json()["response_action"] == "errors"
        assert the_irritant(db).status == "new"

    def test_small_team_reports_stay_with_the_admins_after_it_grows(self, app, platform, slack, db):
        """Reported while the team had three members: the roundup goes to the admin even though
        the team has grown since; its manager can neither see nor triage it; the admin finds it
        on their Home tab and acknowledges it from there."""
        team_id = big_team(db, slack, members=[MANAGER, EMPLOYEE, SALARIEE])
        view = open_modal(platform, slack, SALARIEE)
        assert "administrateurs" in json.dumps(view)  # what the modal promised (in French)
        report(platform, slack, SALARIEE)
        assert the_irritant(db).for_admins is True
        with db.sessions.begin() as session:
            session.add_all(Membership(team_id=team_id, user_id=u) for u in ("UX1", "UX2", "UX3"))
        tick(app)
        assert dms(slack, MANAGER) == []
        (roundup,) = dms(slack, ADMIN)
        assert "too few members" in json.dumps(roundup)
        irritant_id = the_irritant(db).public_id

        platform.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
        managers_home = slack.wait_for("views.publish")[0].params["view"]
        assert "staff room is freezing" not in json.dumps(managers_home)
        platform.block_action(MANAGER, "irritant_acknowledge", irritant_id, message={})
        slack.wait_for("response_url")
        assert the_irritant(db).status == "new"

        slack.clear_calls()
        platform.event({"type": "app_home_opened", "user": ADMIN, "tab": "home"})
        admins_home = slack.wait_for("views.publish")[0].params["view"]
        assert "Reports for the admins" in json.dumps(admins_home)
        assert "staff room is freezing" in json.dumps(admins_home)
        acknowledge = button(admins_home, "irritant_acknowledge")
        assert acknowledge["value"] == irritant_id
        platform.block_action(ADMIN, "irritant_acknowledge", irritant_id, view=slack.home(ADMIN))
        wait_until(lambda: the_irritant(db).status == "acknowledged")
        # The Home tab is published again after the change: wait for it, or it reaches the
        # next test.
        slack.wait_for("views.publish", count=2, where=lambda c: c.params["user_id"] == ADMIN)


class TestTriage:
    def test_acknowledge_and_the_anonymous_reporter_hears(self, app, platform, slack, db):
        """The manager acknowledges from the roundup; the anonymous reporter gets a DM in
        French, and once delivered nothing kept links them to the report."""
        message = roundup_for(app, slack, db)
        ack = button(message, "irritant_acknowledge")
        platform.block_action(MANAGER, "irritant_acknowledge", ack["value"], message=message)
        wait_until(lambda: the_irritant(db).status == "acknowledged")
        confirmation = slack.wait_for("response_url")[-1].params
        assert confirmation["response_type"] == "ephemeral"
        with db.sessions() as session:  # waiting in the outbox, it names nobody
            queued = session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "irritant_update")
            ).one()
            assert queued.recipient is None and SALARIEE not in json.dumps(queued.payload)
            assert queued.timezone == "Europe/Paris"  # the team's, not the reporter's
        tick(app, LATER + timedelta(minutes=1))
        (update,) = dms(slack, SALARIEE)
        status = translate("fr", "Acknowledged")
        french = translate("fr", "Your irritant is now: %(status)s", status=status)
        assert update["text"] == french != "Your irritant is now: Acknowledged"
        with db.sessions() as session:
            row = session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "irritant_update")
            ).one()
            assert row.state == "sent" and row.recipient is None
            assert SALARIEE not in json.dumps(row.payload)

    def test_a_follow_up_queued_before_public_ids_still_reaches_the_reporter(
        self, app, platform, slack, db
    ):
        """An anonymous follow-up queued by an older version names the report by its row id:
        after the upgrade it still finds its reporter."""
        message = roundup_for(app, slack, db)
        ack = button(message, "irritant_acknowledge")
        platform.block_action(MANAGER, "irritant_acknowledge", ack["value"], message=message)
        wait_until(lambda: the_irritant(db).status == "acknowledged")
        with db.sessions.begin() as session:
            queued = session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "irritant_update")
            ).one()
            queued.payload = {**queued.payload, "irritant": the_irritant(db).id}
        tick(app, LATER + timedelta(minutes=1))
        assert len(dms(slack, SALARIEE)) == 1

    def test_forged_click_changes_nothing(self, app, platform, slack, db):
        """A non-manager sending the triage action is refused; nothing changes or is sent."""
        message = roundup_for(app, slack, db)
        ack = button(message, "irritant_acknowledge")
        slack.clear_calls()
        platform.block_action(EMPLOYEE, "irritant_acknowledge", ack["value"], message=message)
        refusal = slack.wait_for("response_url")[0].params
        assert refusal["text"] == translate("en", ERRORS["not_allowed"])  # the refusal
        assert the_irritant(db).status == "new"
        with db.sessions() as session:
            assert (
                session.scalars(
                    select(OutboxMessage).where(OutboxMessage.kind == "irritant_update")
                ).all()
                == []
            )

    def test_plan_with_a_date(self, app, platform, slack, db):
        """Plan opens a form; a past date is refused; a future one is kept and told."""
        message = roundup_for(app, slack, db)
        plan = button(message, "irritant_plan")
        platform.block_action(MANAGER, "irritant_plan", plan["value"], message=message)
        form = triage_form(slack)
        assert form["callback_id"] == "irritant_triage"
        past = form_values(form, {"eta": "2020-01-01", "note": ""})
        assert "eta" in platform.view_submission(MANAGER, form, past).json()["errors"]
        eta = (LATER + timedelta(days=10)).date()
        good = form_values(form, {"eta": eta.isoformat(), "note": "New radiator ordered"})
        response = platform.view_submission(MANAGER, form, good)
        assert response.status == 200 and "errors" not in response.body
        irritant = the_irritant(db)
        assert (irritant.status, irritant.eta) == ("planned", eta)
        tick(app, LATER + timedelta(minutes=1))
        (update,) = dms(slack, SALARIEE)
        assert "New radiator ordered" in json.dumps(update, ensure_ascii=False)

    def test_decline_needs_an_explanation(self, app, platform, slack, db):
        """Declining without a note is refused inside the form; with one it is kept."""
        message = roundup_for(app, slack, db)
        decline = button(message, "irritant_decline")
        platform.block_action(MANAGER, "irritant_decline", decline["value"], message=message)
        form = triage_form(slack)
        empty = platform.view_submission(MANAGER, form, form_values(form, {"note": ""}))
        assert "note" in empty.json()["errors"]
        assert the_irritant(db).status == "new"
        why = form_values(form, {"note": "The heating is the landlord's; we asked them."})
        platform.view_submission(MANAGER, form, why)
        irritant = the_irritant(db)
        assert irritant.status == "declined"
        assert irritant.resolution_note == "The heating is the landlord's; we asked them."

    def test_forged_form_changes_nothing(self, app, platform, slack, db):
        """A triage form submitted by a non-manager gets an error and changes nothing."""
        message = roundup_for(app, slack, db)
        resolve = button(message, "irritant_resolve")
        platform.block_action(MANAGER, "irritant_resolve", resolve["value"], message=message)
        form = triage_form(slack)
        forged = platform.view_submission(EMPLOYEE, form, form_values(form, {"note": "done"}))
        assert forged.json()["response_action"] == "errors"
        assert the_irritant(db).status == "new"

    def test_resolve_then_reopen_keeps_history(self, app, platform, slack, db):
        """Resolve then reopen: every step is in the history, by whom."""
        message = roundup_for(app, slack, db)
        resolve = button(message, "irritant_resolve")
        platform.block_action(MANAGER, "irritant_resolve", resolve["value"], message=message)
        form = triage_form(slack)
        platform.view_submission(MANAGER, form, form_values(form, {"note": "Fixed"}))
        assert the_irritant(db).status == "resolved"
        platform.block_action(ADMIN, "irritant_reopen", resolve["value"], message=message)
        wait_until(lambda: the_irritant(db).status == "acknowledged")
        with db.sessions() as session:
            steps = session.execute(
                select(
                    IrritantEvent.action, IrritantEvent.actor_role, IrritantEvent.actor_id
                ).order_by(IrritantEvent.id)
            ).all()
        assert steps == [
            ("reported", "reporter", None),
            ("resolve", "manager", MANAGER),
            ("reopen", "admin", ADMIN),
        ]


class TestDetails:
    def test_reporter_adds_details_and_others_cannot(self, platform, slack, db):
        """The anonymous reporter adds details; someone else's click opens nothing and a
        forged submission is refused."""
        big_team(db, slack)
        report(platform, slack, SALARIEE)
        irritant_id = the_irritant(db).public_id
        slack.clear_calls()
        platform.block_action(EMPLOYEE, "irritant_details", irritant_id, message={})
        platform.block_action(SALARIEE, "irritant_details", irritant_id, message={})
        (opened,) = slack.wait_for("views.open")
        form = opened.params["view"]
        forged = platform.view_submission(EMPLOYEE, form, form_values(form, {"details": "x"}))
        assert forged.json()["response_action"] == "errors"
        ok = platform.view_submission(
            SALARIEE, form, form_values(form, {"details": "Since Monday"})
        )
        assert ok.status == 200
        with db.sessions() as session:
            detail = session.scalars(
                select(IrritantEvent).where(IrritantEvent.action == "detail")
            ).one()
        assert (detail.note, detail.actor_id) == ("Since Monday", None)
        # Checked last: the two clicks run concurrently after their acks, so a modal opened
        # for EMPLOYEE could arrive after SALARIEE's and be missed by the unpacking above.
        assert len(slack.calls_to("views.open")) == 1

    def test_a_replayed_submission_adds_the_detail_once(self, platform, slack, db):
        """The same details submission delivered twice (Slack's retry, or a replay) is kept
        once; the details form opened again adds a second detail."""
        big_team(db, slack)
        report(platform, slack, SALARIEE)
        irritant_id = the_irritant(db).public_id
        slack.clear_calls()
        platform.block_action(SALARIEE, "irritant_details", irritant_id, message={})
        (opened,) = slack.wait_for("views.open")
        form = opened.params["view"]
        values = form_values(form, {"details": "Since Monday"})
        for _ in range(2):
            assert platform.view_submission(SALARIEE, form, values).status == 200
        platform.block_action(SALARIEE, "irritant_details", irritant_id, message={})
        again = slack.wait_for("views.open", count=2)[-1].params["view"]
        later = form_values(again, {"details": "And on Tuesday"})
        assert platform.view_submission(SALARIEE, again, later).status == 200
        with db.sessions() as session:
            notes = session.scalars(
                select(IrritantEvent.note)
                .where(IrritantEvent.action == "detail")
                .order_by(IrritantEvent.id)
            ).all()
        assert notes == ["Since Monday", "And on Tuesday"]

    def test_the_manager_reads_the_details(self, app, platform, slack, db):
        """Details added before the roundup are in it; the board and the triage form show an
        anonymous reporter's details from the next day on (so their time gives nothing away:
        tests/test_blocks.py checks the next day)."""
        big_team(db, slack)
        report(platform, slack, SALARIEE)
        irritant_id = the_irritant(db).public_id
        platform.block_action(SALARIEE, "irritant_details", irritant_id, message={})
        form = slack.wait_for("views.open", count=2)[-1].params["view"]
        values = form_values(form, {"details": "Worse on Mondays, after the weekend"})
        assert platform.view_submission(SALARIEE, form, values).status == 200
        tick(app)
        (roundup,) = dms(slack, MANAGER)
        assert "Worse on Mondays" in json.dumps(roundup)
        platform.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
        (home,) = slack.wait_for("views.publish", where=lambda c: c.params["user_id"] == MANAGER)
        board = json.dumps(home.params["view"])
        assert "freezing" in board and "Worse on Mondays" not in board
        platform.block_action(MANAGER, "irritant_plan", irritant_id, message=roundup)
        form = json.dumps(triage_form(slack))
        assert "freezing" in form and "Worse on Mondays" not in form


class TestHome:
    def test_employee_sees_their_reports(self, platform, slack, db):
        """The reporter's Home tab lists their report with its status."""
        big_team(db, slack)
        report(platform, slack, EMPLOYEE)
        platform.event({"type": "app_home_opened", "user": EMPLOYEE, "tab": "home"})
        view = slack.wait_for("views.publish")[0].params["view"]
        assert "staff room is freezing" in json.dumps(view)

    def test_anonymous_reports_reach_the_board_with_the_roundup(self, app, platform, slack, db):
        """An anonymous report is not on the manager's board before the roundup, then is."""
        big_team(db, slack)
        report(platform, slack, SALARIEE)
        platform.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
        before = slack.wait_for("views.publish")[0].params["view"]
        assert "staff room is freezing" not in json.dumps(before)
        tick(app)
        platform.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
        after = slack.wait_for("views.publish", count=2)[-1].params["view"]
        assert "staff room is freezing" in json.dumps(after)

    def test_small_team_board_never_shows_anonymous_reports(self, app, platform, slack, db):
        """In a team under the threshold, anonymous reports stay off the manager's board."""
        big_team(db, slack, members=[MANAGER, EMPLOYEE, SALARIEE])
        report(platform, slack, SALARIEE)
        tick(app, admins=frozenset({ADMIN}))
        platform.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
        view = slack.wait_for("views.publish")[0].params["view"]
        assert "staff room is freezing" not in json.dumps(view)

    def test_manager_board_paginates_under_100_blocks(self, platform, slack, db):
        """A manager with many irritants gets pages of at most 100 blocks, with a next page."""
        big_team(db, slack)
        for index in range(30):
            report(
                platform,
                slack,
                EMPLOYEE,
                share=True,
                description=f"Issue {uuid.uuid4().hex}",
                category=["noise", "tools"][index % 2],
                location="",
            )
        platform.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
        view = slack.wait_for("views.publish")[0].params["view"]
        assert len(irritants(db)) == 30
        assert len(view["blocks"]) <= 100
        assert "home_page_next" in json.dumps(view), len(view["blocks"])
        assert "irritant_acknowledge" in json.dumps(view)
        platform.block_action(MANAGER, "home_page_next", "2", view=slack.home(MANAGER))
        second = slack.wait_for("views.publish", count=2)[-1].params["view"]
        assert len(second["blocks"]) <= 100
        assert "home_page_previous" in json.dumps(second)


class TestExportAndAnonymity:
    def test_export_and_no_trace_of_the_anonymous_reporter(self, app, platform, slack, db, cli):
        """Exports show no reporter for anonymous reports, and after the whole flow no
        irritant, history, vote, draft or delivered outbox row holds the reporter's ID."""
        message = roundup_for(app, slack, db)
        report(platform, slack, EMPLOYEE, share=True, description="Broken chair", category="tools")
        # A "me too" from the anonymous reporter on the named report.
        response = report(platform, slack, SALARIEE, description="broken chair", category="tools")
        similar = response.json()["view"]
        vote = button(similar, "irritant_similar_vote")
        platform.block_action(SALARIEE, "irritant_similar_vote", vote["value"], view=similar)
        slack.wait_for("views.update")
        ack = button(message, "irritant_acknowledge")
        platform.block_action(MANAGER, "irritant_acknowledge", ack["value"], message=message)
        wait_until(lambda: irritants(db)[0].status == "acknowledged")
        tick(app, LATER + timedelta(minutes=1))
        assert dms(slack, SALARIEE)
        tick(app, next_working_day_at(16, 5, after=LATER.date()))  # the next roundup counts

        exported = cli.run("export", "irritants", "--format", "json")
        assert exported.status == 0, exported.err
        rows = json.loads(exported.out)
        assert [(r["anonymous"], r["reporter"]) for r in rows] == [(True, None), (False, EMPLOYEE)]
        assert set(rows[0]) == {
            "id", "team", "category", "space", "location", "severity", "description",
            "anonymous", "reporter", "status", "votes", "created_at", "acknowledged_at",
            "resolved_at", "eta", "resolution_note",
        }  # fmt: skip
        assert rows[1]["votes"] == 1
        as_csv = cli.run("export", "irritants", "--format", "csv", "--team", "workshop")
        assert as_csv.status == 0, as_csv.err
        csv_rows = list(csv.DictReader(io.StringIO(as_csv.out)))
        assert [r["reporter"] for r in csv_rows] == ["", EMPLOYEE]
        assert SALARIEE not in exported.out + as_csv.out

        with db.engine.connect() as connection:
            for table in ("irritants", "irritant_events", "irritant_votes", "irritant_drafts"):
                dump = json.dumps(
                    [list(r) for r in connection.execute(text(f"SELECT * FROM {table}"))],
                    default=str,
                )
                assert SALARIEE not in dump, table
            delivered = connection.execute(
                text("SELECT * FROM outbox WHERE state = 'sent' AND kind LIKE 'irritant%'")
            ).all()
            assert SALARIEE not in json.dumps([list(r) for r in delivered], default=str)


class TestConcurrentTriage:
    def test_two_managers_at_once_change_it_once(self, db, slack):
        """Two triage decisions applied concurrently: one wins, the other is stale."""
        from concurrent.futures import ThreadPoolExecutor

        from bot.irritants import triage
        from bot.runtime.config import Settings
        from storage import irritants as store
        from storage.models import Team

        team_id = big_team(db, slack)
        with db.sessions.begin() as session:
            team = session.get(Team, team_id)
            irritant = Irritant(
                workspace_id=team.workspace_id, team_id=team_id, category="noise",
                space="employee", location="", severity="minor", description="d",
                anonymous=False, reporter_id=EMPLOYEE, status="new",
                created_at=datetime.now(PARIS), updated_at=datetime.now(PARIS),
            )  # fmt: skip
            session.add(irritant)
            session.flush()
            public_id = irritant.public_id

        def decide(action: str) -> str:
            with db.sessions() as session:
                found = store.get(session, public_id=public_id)
                try:
                    triage.apply(
                        session, Settings(SYMMETRY_SECRET_KEY="k" * 32), irritant=found,
                        change=triage.Change(action=action, note="n"), actor_id=MANAGER,
                        actor_role="manager", now=datetime.now(PARIS),
                    )  # fmt: skip
                    session.commit()
                    return "applied"
                except triage.Stale:
                    session.rollback()
                    return "stale"

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = sorted(pool.map(decide, ["resolve", "decline"]))
        assert outcomes == ["applied", "stale"]
        with db.sessions() as session:
            events = session.scalars(
                select(IrritantEvent.action).where(IrritantEvent.action != "reported")
            ).all()
        assert len(events) == 1
