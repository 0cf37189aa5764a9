"""What a database dump holds of a pulse round once it has closed: a round run end to end on
the app in this process (members in several time zones, early answers, a reminder halfway,
late answers, comments), closed by the clock's tick, then every table read back in id order
and in physical order (SQLite's rowid, PostgreSQL's ctid)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from bot.demo.slack import SimUser, SlackSim, form_values
from bot.pulse.answers import respondent
from bot.runtime import exports, operations
from storage import outbox
from storage.models import Base, OutboxMessage
from tests.conftest import (
    ADMIN,
    EMPLOYEE,
    MANAGER,
    POLICY,
    SALARIEE,
    Database,
    app_under_test,
    fresh_workspace,
)
from tests.inprocess import AppUnderTest, tick
from tests.irritant_helpers import big_team
from tests.test_pulse import PERIOD, at, reminders, surveys, tap, the_round

ZONES = {
    "UZBERLIN1": "Europe/Berlin",
    "UZLISBON1": "Europe/Lisbon",
    "UZCHICAG1": "America/Chicago",
    "UZMADRID1": "Europe/Madrid",
    "UZNEWYRK1": "America/New_York",
    "UZPARIS01": "Europe/Paris",
}
EARLY = (SALARIEE, MANAGER, "UZBERLIN1", EMPLOYEE, "UZLISBON1", ADMIN)
LATE = ("UZCHICAG1", "UZNEWYRK1", "UZPARIS01")  # reminded halfway, then answer
LEFT = "UZMADRID1"  # reminded too, but their account is deactivated: the reminder dies
REMINDED = (*LATE, LEFT)
MEMBERS = (*EARLY, *REMINDED)
# Tables that list the people asked, reminded or not (who belongs, who was asked).
ROSTERS = {"memberships", "pulse_participants", "slack_users", "team_managers"}
# What describes a person in those tables, rather than what happened to them.
PERSONAL = {"id", "user_id", "real_name", "timezone", "locale", "is_admin", "deleted"}


def values_of(index: int, question: str) -> int:
    """What the `index`-th respondent answers: a distinct eNPS each, so that a test can
    tell whose answers a pseudonym holds."""
    return index if question == "enps" else index % 5 + 1


def dump(db) -> dict[str, dict[str, list[dict]]]:
    """Every table's rows, {table: {"physical": rows, "by_id": rows}}."""
    physical = "rowid" if db.backend == "sqlite" else "ctid"
    tables: dict[str, dict[str, list[dict]]] = {}
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            read = f"SELECT * FROM {table.name} ORDER BY "
            tables[table.name] = {
                "physical": [dict(r) for r in connection.execute(text(read + physical)).mappings()]
            }
            if "id" in table.c:
                rows = connection.execute(text(read + "id")).mappings()
                tables[table.name]["by_id"] = [dict(r) for r in rows]
    return tables


def ask_everyone(app, slack, db) -> dict[str, list[dict]]:
    """A team of ten in six zones, its round planned, every survey delivered."""
    for user_id, tz in ZONES.items():
        slack.add_user(SimUser(user_id, user_id.lower(), f"Person {user_id}", tz=tz))
    big_team(db, slack, members=list(MEMBERS))
    assert "1 round(s) opened" in tick(app, at(PERIOD - timedelta(days=1), 12))
    tick(app, at(PERIOD, 16, 5))  # 10:05 in New York
    tick(app, at(PERIOD, 17, 5))  # 10:05 in Chicago
    sent = {user: surveys(slack, user) for user in MEMBERS}
    assert all(len(messages) == 1 for messages in sent.values()), sent
    return sent


@dataclass
class Closed:
    """The closed round and where it lives: the app that ran it, its database and Slack."""

    app: AppUnderTest
    db: Database
    slack: SlackSim
    round_id: int
    questions: list[str]
    taps: list[tuple[str, int]]


@pytest.fixture(scope="class")
def closed(database, sim, tmp_path_factory) -> Iterator[Closed]:
    """The round of `close_a_round`, run once for the class: its tests read what the round
    left behind (the last one also opens the manager's Home, after the others)."""
    database.reset()
    slack = fresh_workspace(sim)
    with app_under_test(database, slack, tmp_path_factory.mktemp("closed") / "app.log") as app:
        yield Closed(app, database, slack, **close_a_round(app, app.platform, slack, database))


def close_a_round(app, platform, slack, db) -> dict:
    """A round of ten, answered early by six, late (after the reminder) by three; closed."""
    sent = ask_everyone(app, slack, db)
    round_ = the_round(db)
    taps: list[tuple[str, int]] = []

    def answer_all(user: str, index: int) -> None:
        for question in round_.questions:
            tap(platform, user, sent[user][0], question, values_of(index, question))
            taps.append((question, values_of(index, question)))
            slack.wait_for("response_url", count=len(taps))

    def comment(user: str, words: str) -> None:
        before = len(slack.calls_to("views.open"))
        tap(platform, user, sent[user][0], "more", "comment")
        form = slack.wait_for("views.open", count=before + 1)[-1].params["view"]
        platform.view_submission(user, form, form_values(form, {"comment": words}))

    for index, user in enumerate(EARLY):
        answer_all(user, index)
    comment(SALARIEE, "Early: the workshop is cold")
    slack.users[LEFT].deleted = True
    tick(app, at(PERIOD + timedelta(days=3), 10))
    tick(app, at(PERIOD + timedelta(days=3), 18))  # 11:00 in Chicago
    assert all(reminders(slack, user) == 1 for user in LATE)
    for index, user in enumerate(LATE, start=len(EARLY)):
        answer_all(user, index)
    comment("UZNEWYRK1", "Late: the new tool is slow")
    assert "1 round(s) closed" in tick(app, at(PERIOD + timedelta(days=5), 10, 1))
    return {"round_id": round_.id, "questions": list(round_.questions), "taps": taps}


class TestClosedRoundDump:
    def test_answers_keep_no_order_of_answering(self, closed):
        """Neither ids nor physical order follow the order of answering: the answers given
        after the reminder are not the last rows, and the sequence of values differs."""
        tables = dump(closed.db)
        late = {len(EARLY) + i for i in range(len(LATE))}
        for order in ("by_id", "physical"):
            rows = tables["pulse_answers"][order]
            assert [(r["question"], r["value"]) for r in rows] != closed.taps, order
            enps = {r["respondent"]: r["value"] for r in rows if r["question"] == "enps"}
            last = {enps[r["respondent"]] for r in rows[-len(LATE) * len(closed.questions) :]}
            assert last != late, order

    def test_pseudonyms_are_random_and_per_person(self, closed):
        """No respondent is the keyed hash of anyone asked, anywhere in the dump; each
        pseudonym still holds one person's answers, and comments have pseudonyms of their own."""
        tables = dump(closed.db)
        everything = json.dumps(tables, default=str)
        for user in MEMBERS:
            assert respondent(POLICY, closed.round_id, user) not in everything, user
        by_person: dict[str, list[tuple[str, int]]] = {}
        for row in tables["pulse_answers"]["by_id"]:
            by_person.setdefault(row["respondent"], []).append((row["question"], row["value"]))
        expected = [
            sorted((q, values_of(i, q)) for q in closed.questions)
            for i in range(len(EARLY) + len(LATE))
        ]
        assert sorted(sorted(answers) for answers in by_person.values()) == sorted(expected)
        comments = tables["pulse_comments"]["by_id"]
        assert sorted(c["text"] for c in comments) == [
            "Early: the workshop is cold",
            "Late: the new tool is slow",
        ]
        assert not {c["respondent"] for c in comments} & set(by_person)

    def test_no_row_tells_who_was_reminded(self, closed, capsys):
        """Outside the rosters of who belongs, was welcomed and was asked, no row holds the
        user ID of anyone asked (the round's surveys and reminders included); in the rosters, a
        reminded person's rows look like the others'; the log and `outbox status` name nobody."""
        tables = dump(closed.db)
        for name, rows in tables.items():
            if name in ROSTERS:
                continue
            # Welcomes went to everyone who joined, reminded or not: a roster too.
            kept = [r for r in rows["physical"] if r.get("kind") != "welcome"]
            content = json.dumps(kept, default=str)
            for user in MEMBERS:
                assert user not in content, (name, user)
        assert not [r for r in tables["outbox"]["physical"] if r["kind"] == "pulse_reminder"], (
            "a reminder's zone and times would tell whom it was for"
        )

        def traces(user: str) -> list[tuple]:
            return sorted(
                (name, *sorted((k, str(v)) for k, v in row.items() if k not in PERSONAL))
                for name in ROSTERS
                for row in tables[name]["physical"]
                if row.get("user_id") == user
            )

        everyone_else = {trace for user in EARLY for trace in traces(user)}
        for user in REMINDED:
            assert traces(user) and set(traces(user)) <= everyone_else, user
        asked = [r["user_id"] for r in tables["pulse_participants"]["by_id"]]
        assert asked == sorted(MEMBERS)  # the order fixed when the round was planned

        operations.outbox_status(closed.app.settings)
        status = capsys.readouterr().out
        assert "pulse_reminder" not in status
        log = closed.app.log_path.read_text()
        for user in MEMBERS:
            assert user not in status and user not in log

    def test_an_update_that_died_keeps_nothing(self, closed):
        """The deactivated member's survey could not be changed to say the round closed
        (account_inactive): that update is dead and, like the nine delivered, keeps no
        recipient, conversation, ts, content or Slack error."""
        failed = [c for c in closed.slack.calls_to("chat.update") if c.failed]
        assert [c.params["channel"] for c in failed] == ["D" + LEFT]
        with closed.db.sessions() as session:
            updates = session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "pulse_closed")
            ).all()
            kept = [
                (m.recipient, m.message_channel, m.message_ts, m.payload, m.last_error)
                for m in updates
            ]
            states = sorted(m.state for m in updates)
        assert states == ["dead"] + ["sent"] * 9
        scrubbed = (None, None, None, {"scrub_recipient": True})
        assert sorted(kept, key=str) == sorted(
            [(*scrubbed, None)] * 9 + [(*scrubbed, "undelivered")], key=str
        )

    def test_results_and_home_still_work(self, closed):
        """After the rewrite, the export counts nine respondents of ten surveys sent, with
        their eNPS and means, and the manager's Home shows the round and its comments."""
        app, slack = closed.app, closed.slack
        with closed.db.sessions() as session:
            (row,) = exports.pulses(session, app.settings, workspace_id=None, team_id=None)
        assert (row["sent"], row["responded"], row["suppressed"]) == (10, 9, False)
        given = range(len(EARLY) + len(LATE))
        for question in row["questions"]:
            values = [values_of(i, question["key"]) for i in given]
            assert question["responses"] == 9
            assert question["mean"] == pytest.approx(sum(values) / 9, abs=0.01)
        enps = next(q for q in row["questions"] if q["key"] == "enps")
        assert enps["enps"] == round(100 * -7 / 9)  # 0–6: seven detractors of nine
        app.platform.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
        home = json.dumps(slack.wait_for("views.publish")[-1].params["view"], ensure_ascii=False)
        assert "Early: the workshop is cold" in home and "Late: the new tool is slow" in home


class TestRemindersAtClose:
    def test_no_reminder_goes_out_after_the_close(self, app, slack, db):
        """A reminder still queued at the close (Chicago's) and one claimed by a worker that
        died before sending it (New York's: its lease runs out) are never sent afterwards,
        and leave no row."""
        ask_everyone(app, slack, db)
        tick(app, at(PERIOD + timedelta(days=3), 10))  # halfway: all ten reminded
        with db.sessions.begin() as session:
            claimed = outbox.claim(
                session,
                worker="a worker that dies",
                now=at(PERIOD + timedelta(days=3), 14, 30),  # due in New York, not Chicago
                limit=10,
                lease=timedelta(minutes=5),
            )
            assert {m.recipient for m in claimed} == {ADMIN, "UZNEWYRK1"}
        tick(app, at(PERIOD + timedelta(days=5), 10, 1))
        tick(app, at(PERIOD + timedelta(days=6), 16))
        for user in (ADMIN, "UZNEWYRK1", "UZCHICAG1"):
            assert reminders(slack, user) == 0, user
        with db.sessions() as session:
            kinds = session.scalars(select(OutboxMessage.kind)).all()
        assert "pulse_reminder" not in kinds
