"""Issue 10, findings 2 and 7: what a report's ids and "me too" counts tell, outside the
database and inside a dump. Through the app in this process, its clock and the simulated
Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, time

from sqlalchemy import select, text

from bot.demo.slack import form_values
from bot.runtime.exports import irritant_row
from storage import irritants as store
from storage.models import PUBLIC_ID_LENGTH, Irritant, IrritantEvent, OutboxMessage
from tests.conftest import EMPLOYEE, MANAGER, SALARIEE
from tests.inprocess import PARIS, TODAY, tick
from tests.irritant_helpers import big_team, irritants, report
from tests.test_pulse_close import dump
from tests.test_triage import LATER, dms, next_working_day_at

PUBLIC_ID = re.compile(rf"^[a-z0-9]{{{PUBLIC_ID_LENGTH}}}$")


def by_description(db) -> dict[str, Irritant]:
    return {i.description: i for i in irritants(db)}


def physical_order(db) -> list[str]:
    """Descriptions in the table's physical order: SQLite's rowid, PostgreSQL's heap."""
    where = "rowid" if db.engine.dialect.name == "sqlite" else "ctid"
    with db.engine.connect() as connection:
        return list(connection.scalars(text(f"SELECT description FROM irritants ORDER BY {where}")))


class TestPublicIds:
    def test_slack_and_the_outbox_see_only_random_public_ids(self, app, platform, slack, db):
        """Block ids, button values and outbox keys carry the report's random public id,
        never its row id (which counts insertions)."""
        big_team(db, slack)
        report(platform, slack, EMPLOYEE, share=True, description="Named one")
        report(platform, slack, SALARIEE, description="Anonymous one")
        tick(app, LATER)
        stored = irritants(db)
        assert all(PUBLIC_ID.match(i.public_id) for i in stored)
        public = {i.public_id for i in stored}
        row_ids = {str(i.id) for i in stored}
        values, block_ids = [], []
        for call in slack.calls:
            for message in (call.params, call.params.get("view") or {}):
                for block in message.get("blocks") or []:
                    block_ids.append(block.get("block_id", ""))
                    values += [e.get("value", "") for e in block.get("elements", [])]
        irritant_values = {v for v in values if v and not v.startswith(("pulse", "home"))}
        assert irritant_values and irritant_values <= public, irritant_values
        tagged = [b.split("-", 1)[1] for b in block_ids if b.startswith(("irritant-", "triage-"))]
        assert tagged and set(tagged) <= public
        with db.sessions() as session:
            keys = session.scalars(
                select(OutboxMessage.key).where(OutboxMessage.key.like("irritant:%"))
            ).all()
        assert keys and all(key.split(":")[1] in public for key in keys)
        assert all(irritant_row(i)["id"] in public for i in store_all(db))
        assert not row_ids & {k.split(":")[1] for k in keys}

    def test_an_anonymous_report_enters_the_table_at_its_roundup(self, app, platform, slack, db):
        """Named, anonymous, named, the same day: after the roundup, the anonymous report's
        row id and physical place are after both named ones, so nothing brackets it."""
        big_team(db, slack)
        report(platform, slack, EMPLOYEE, share=True, description="Named before")
        report(platform, slack, SALARIEE, description="Anonymous between")
        report(platform, slack, EMPLOYEE, share=True, description="Named after", category="noise")
        tick(app, LATER)
        assert dms(slack, MANAGER)
        rows = by_description(db)
        assert rows["Anonymous between"].id > rows["Named after"].id > rows["Named before"].id
        assert physical_order(db)[-1] == "Anonymous between"
        assert rows["Anonymous between"].rounded_up_at is not None
        with db.sessions() as session:
            moved = store.get(session, public_id=rows["Anonymous between"].public_id)
            assert [e.action for e in moved.events] == ["reported"]

    def test_a_roundup_writes_its_reports_in_random_order(
        self, app, platform, slack, db, monkeypatch
    ):
        """The reports a roundup shows are written again in the order a system-random
        shuffle gives (here forced to reverse it), with their history and public ids."""
        monkeypatch.setattr(random.SystemRandom, "shuffle", lambda self, items: items.reverse())
        big_team(db, slack)
        made = [f"Anonymous number {n}" for n in range(4)]
        for n, description in enumerate(made):
            report(platform, slack, SALARIEE, description=description, category=CATEGORIES[n])
        before = {d: i.public_id for d, i in by_description(db).items()}
        tick(app, LATER)
        after = sorted(irritants(db), key=lambda i: i.id)
        assert [i.description for i in after] == made[::-1]
        assert physical_order(db) == made[::-1]
        assert {i.description: i.public_id for i in after} == before


CATEGORIES = ("temperature", "noise", "tools", "cleanliness")


def store_all(db) -> list[Irritant]:
    with db.sessions() as session:
        found = store.all_of(session)
        for irritant in found:
            _ = irritant.team.name
        return list(found)


class TestVotesShown:
    def test_me_too_counts_change_for_managers_only_at_the_roundup(self, app, platform, slack, db):
        """A "me too" on a named report shows on the manager's Home only once the team's
        roundup has passed: refreshing the Home cannot date a vote."""
        big_team(db, slack)
        report(platform, slack, EMPLOYEE, share=True, description="Broken chair", category="tools")
        response = report(platform, slack, SALARIEE, description="broken chair", category="tools")
        similar = response.json()["view"]
        vote = next(
            e
            for b in similar["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == "irritant_similar_vote"
        )
        platform.block_action(SALARIEE, "irritant_similar_vote", vote["value"], view=similar)
        slack.wait_for("views.update")

        def board() -> str:
            slack.clear_calls()
            platform.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
            view = slack.wait_for("views.publish")[0].params["view"]
            return json.dumps(view, ensure_ascii=False).replace("\u00a0", " ")

        assert "Broken chair" in board()
        assert "moi aussi" not in board()  # the manager reads French
        tick(app, LATER)
        assert "1 « moi aussi »" in board()
        (named,) = irritants(db)
        assert named.votes_shown == 1
        # Another vote waits for the next working day's roundup.
        with db.sessions.begin() as session:
            store.add_vote(session, irritant_id=named.id, voter_hash="x" * 64)
        assert "1 « moi aussi »" in board()
        tick(app, next_working_day_at(16, 5, after=LATER.date()))
        assert "2 « moi aussi »" in board()


class TestReporterDetails:
    def test_an_anonymous_detail_is_written_again_at_the_next_roundup(
        self, app, platform, slack, db
    ):
        """A detail an anonymous reporter adds, then a manager's action on another report:
        after the next roundup the detail's row id is after the manager's, so the history
        does not date it between the day's actions."""
        big_team(db, slack)
        report(platform, slack, SALARIEE, description="Anonymous one")
        tick(app, datetime.combine(TODAY, time(16, 5), tzinfo=PARIS))  # today's roundup
        report(platform, slack, EMPLOYEE, share=True, description="Named one", category="noise")
        anonymous, named = (by_description(db)[d] for d in ("Anonymous one", "Named one"))
        slack.clear_calls()
        platform.block_action(SALARIEE, "irritant_details", anonymous.public_id, message={})
        form = slack.wait_for("views.open")[0].params["view"]
        added = platform.view_submission(
            SALARIEE, form, form_values(form, {"details": "Since Monday"})
        )
        assert added.status == 200
        platform.block_action(MANAGER, "irritant_acknowledge", named.public_id, message={})
        slack.wait_for("response_url")

        def ids() -> tuple[int, int]:
            with db.sessions() as session:
                detail = session.scalar(
                    select(IrritantEvent.id).where(IrritantEvent.action == "detail")
                )
                acted = session.scalar(
                    select(IrritantEvent.id).where(IrritantEvent.action == "acknowledge")
                )
            return detail, acted

        detail, acted = ids()
        assert detail < acted  # as written, before the roundup
        tick(app, LATER)
        detail, acted = ids()
        assert detail > acted


class TestRoundupDump:
    def test_a_dump_after_the_roundup_places_anonymous_reports_only_by_their_day(
        self, app, platform, slack, db
    ):
        """Named, anonymous, named, anonymous, named on one day; the roundup; then every
        table read back in id and physical order: each anonymous report and its history
        come after every named one, their times are the day (and the roundup's instant,
        shared by all), and no row about a report holds its anonymous reporter's ID."""
        big_team(db, slack)
        made = [
            (EMPLOYEE, True, "Named first", "noise"),
            (SALARIEE, False, "Anonymous second", "temperature"),
            (EMPLOYEE, True, "Named third", "tools"),
            (SALARIEE, False, "Anonymous fourth", "cleanliness"),
            (EMPLOYEE, True, "Named fifth", "lighting"),
        ]
        for user, named, description, category in made:
            report(platform, slack, user, share=named, description=description, category=category)
        tick(app, LATER)
        assert dms(slack, MANAGER)
        tables = dump(db)
        anonymous_ids = {r["id"] for r in tables["irritants"]["by_id"] if r["anonymous"]}
        assert len(anonymous_ids) == 2
        # SQLite's physical order is the rowid's. PostgreSQL puts a row wherever its pages
        # have room, which depends on earlier updates: after the rewrite, where the roundup
        # found room, not when the report was made; so the order checked there is the ids'.
        orders = ("by_id", "physical") if db.backend == "sqlite" else ("by_id",)
        for name, owner in (("irritants", "id"), ("irritant_events", "irritant_id")):
            for order in orders:
                flags = [row[owner] in anonymous_ids for row in tables[name][order]]
                assert flags == sorted(flags), (name, order)  # named rows first, then the rest
        for row in tables["irritants"]["by_id"]:
            if row["anonymous"]:
                for column in ("created_at", "updated_at"):
                    assert str(row[column]).split(" ")[-1].startswith("00:00:00"), row
        for row in tables["irritant_events"]["by_id"]:
            if row["irritant_id"] in anonymous_ids:
                assert str(row["created_at"]).split(" ")[-1].startswith("00:00:00"), row
        about_reports = [
            *(tables[t]["by_id"] for t in ("irritants", "irritant_events", "irritant_votes")),
            tables["irritant_drafts"]["physical"],
            [r for r in tables["outbox"]["by_id"] if r["kind"].startswith(("irritant", "roundup"))],
        ]
        assert SALARIEE not in json.dumps(about_reports, default=str)
