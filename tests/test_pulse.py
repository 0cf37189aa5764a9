"""Pulse surveys: rounds planned by the clock's tick, DMs through the outbox, taps signed like
Slack's, anonymity and thresholds — on the app in this process (tests/inprocess.py), the
simulated Slack and a real database; results read through `symmetry export`."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import inspect, select, text

from bot.demo.slack import form_values
from bot.pulse import answers as pulse_answers
from bot.pulse import bank
from bot.runtime.config import policy_of
from storage.models import PulseAnswer, PulseComment, PulseParticipant, PulsePause, PulseRound
from tests.conftest import ADMIN, EMPLOYEE, MANAGER, SALARIEE
from tests.inprocess import PARIS, TODAY, tick
from tests.irritant_helpers import EXTRA, SPARE, big_team


def next_tuesday() -> date:
    """The first Tuesday after the in-process app's day (not the real one)."""
    return TODAY + timedelta(days=(1 - TODAY.weekday()) % 7 or 7)


PERIOD = next_tuesday()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def surveys(slack, user_id: str) -> list[dict]:
    """Survey DMs a person received (welcome messages and others aside)."""
    sent = [c.params for c in slack.calls_to("chat.postMessage") if not c.failed]
    return [p for p in sent if p["channel"] == user_id and "pulse_answer" in json.dumps(p)]


def reminders(slack, user_id: str) -> int:
    """Survey reminders a person received."""
    sent = [c.params for c in slack.calls_to("chat.postMessage") if not c.failed]
    return sum(
        1
        for p in sent
        if p["channel"] == user_id
        and "pulse_answer" not in json.dumps(p)
        and ("reminder" in p["text"] or "rappel" in p["text"])
    )


def button(message: dict, question: str, value: int | str) -> tuple[str, str, str]:
    """(action_id, value, block_id) of an answer button, or of comment/skip/pause."""
    wanted = f"pulse_answer:{value}" if question != "more" else f"pulse_{value}"
    for block in message["blocks"]:
        if block["type"] != "actions":
            continue
        for element in block["elements"]:
            if element["action_id"] == wanted and (
                question == "more" or block["block_id"] == f"a-{question}"
            ):
                return element["action_id"], element["value"], block["block_id"]
    raise AssertionError(f"no {wanted} for {question}")


def tap(platform, user: str, message: dict, question: str, value: int | str):
    action_id, payload, block_id = button(message, question, value)
    return platform.block_action(user, action_id, payload, block_id=block_id, message=message)


def the_round(db) -> PulseRound:
    with db.sessions() as session:
        return session.scalars(select(PulseRound)).one()


def answers(db) -> list[tuple[str, int]]:
    with db.sessions() as session:
        rows = session.execute(select(PulseAnswer.question, PulseAnswer.value)).all()
        return sorted((question, value) for question, value in rows)


PEOPLE = (MANAGER, EMPLOYEE, SALARIEE, ADMIN, *EXTRA)  # big_team's members, manager first


def opened(app, slack, db, members=PEOPLE, **team) -> dict:
    """A team (of six by default), its round planned on Monday and delivered on Tuesday 16:05
    Paris."""
    big_team(db, slack, members=list(members), **team)
    assert "1 round(s) opened" in tick(app, at(PERIOD - timedelta(days=1), 12))
    tick(app, at(PERIOD, 16, 5))
    return {user: surveys(slack, user) for user in members}


class TestSending:
    def test_each_member_gets_it_at_their_local_time(self, app, slack, db):
        """Planned the day before; sent at 10:00 in each person's zone (New York last), once."""
        big_team(db, slack)
        tick(app, at(PERIOD - timedelta(days=1), 12))
        assert surveys(slack, SALARIEE) == []
        tick(app, at(PERIOD, 10, 5))
        assert len(surveys(slack, SALARIEE)) == 1  # Paris, 10:05
        assert surveys(slack, EMPLOYEE) == []  # London: 09:05 there
        tick(app, at(PERIOD, 11, 5))
        assert len(surveys(slack, EMPLOYEE)) == 1
        assert surveys(slack, ADMIN) == []  # New York: 05:05 there
        tick(app, at(PERIOD, 16, 5))
        tick(app, at(PERIOD, 16, 6))
        for user in (MANAGER, EMPLOYEE, SALARIEE, ADMIN, *EXTRA):
            assert len(surveys(slack, user)) == 1, user

    def test_questions_rotate_and_enps_once_a_quarter(self, app, slack, db):
        """The first round of a quarter asks eNPS; the next week's asks other questions."""
        big_team(db, slack)
        tick(app, at(PERIOD - timedelta(days=1), 12))
        tick(app, at(PERIOD + timedelta(days=6), 12))
        with db.sessions() as session:
            first, second = session.scalars(select(PulseRound).order_by(PulseRound.period)).all()
        assert len(first.questions) == 3 and len(second.questions) == 3
        same_quarter = (PERIOD.month - 1) // 3 == ((PERIOD + timedelta(days=7)).month - 1) // 3
        assert "enps" in first.questions
        if same_quarter:
            assert "enps" not in second.questions
        assert set(first.questions).isdisjoint(set(second.questions) - {"enps"})

    def test_buttons_ascend_with_labels(self, app, slack, db):
        """Answer buttons go from the lowest value to the highest, 0–10 for eNPS, labelled."""
        sent = opened(app, slack, db)
        message = sent[EMPLOYEE][0]
        rows = {b["block_id"]: b for b in message["blocks"] if b["type"] == "actions"}
        enps = [e["action_id"] for e in rows["a-enps"]["elements"]]
        assert enps == [f"pulse_answer:{v}" for v in range(11)]
        other = next(k for k in rows if k.startswith("a-") and k != "a-enps")
        labels = [e["text"]["text"] for e in rows[other]["elements"]]
        assert [label.split(" · ")[0] for label in labels] == ["1", "2", "3", "4", "5"]
        assert all(" · " in label for label in labels)

    def test_one_round_a_week_across_teams(self, app, slack, db):
        """Someone in two teams surveyed the same week gets only one survey."""
        big_team(db, slack)
        big_team(db, slack, name="Office", members=[EMPLOYEE, MANAGER, *EXTRA, ADMIN])
        tick(app, at(PERIOD - timedelta(days=1), 12))
        tick(app, at(PERIOD, 16, 5))
        assert len(surveys(slack, EMPLOYEE)) == 1
        with db.sessions() as session:
            rounds = session.scalars(select(PulseRound)).all()
            assert len(rounds) == 2
            asked = session.scalars(select(PulseParticipant.user_id)).all()
        assert asked.count(EMPLOYEE) == 1


class TestAnswering:
    def test_answer_change_and_the_message_updates(self, app, platform, slack, db):
        """A tap is recorded and shown; a second tap on the same question replaces it."""
        message = opened(app, slack, db)[SALARIEE][0]
        question = the_round(db).questions[1]
        tap(platform, SALARIEE, message, question, 2)
        updated = slack.wait_for("response_url")[-1].params
        assert updated["replace_original"] is True
        (row,) = [b for b in updated["blocks"] if b.get("block_id") == f"a-{question}"]
        chosen = [e["action_id"] for e in row["elements"] if e.get("style") == "primary"]
        assert chosen == ["pulse_answer:2"]

        # Marked in the message as sent, it reads as the survey rendered with that answer;
        # changed on the message as it now stands (the tap's `message`), the same again.
        def rendered() -> dict:
            with db.sessions() as session:
                return pulse_answers.message_for(
                    session, policy_of(app.settings), user_id=SALARIEE, locale="fr",
                    round_=session.scalars(select(PulseRound)).one(),
                )  # fmt: skip

        assert (updated["text"], updated["blocks"]) == (rendered()["text"], rendered()["blocks"])
        now_shown = {**message, "text": updated["text"], "blocks": updated["blocks"]}
        tap(platform, SALARIEE, now_shown, question, 4)
        changed = slack.wait_for("response_url", count=2)[-1].params
        assert (changed["text"], changed["blocks"]) == (rendered()["text"], rendered()["blocks"])
        assert answers(db) == [(question, 4)]
        # The message a tap came with is left as it was (its reply shares the unchanged blocks).
        kept = json.loads(json.dumps(now_shown))
        asked = {shipped.key: shipped for shipped in bank.shipped()}[question]
        pulse_answers.marked(now_shown, question=asked, value=5, locale="fr")
        assert now_shown == kept

    def test_forged_click_on_someone_elses_survey(self, app, platform, slack, db):
        """A tap sent as another person on this survey records nothing and says so."""
        message = opened(app, slack, db)[SALARIEE][0]
        question = the_round(db).questions[1]
        tap(platform, EMPLOYEE, message, question, 5)
        reply = slack.wait_for("response_url")[-1].params
        assert reply["response_type"] == "ephemeral" and "replace_original" in reply
        assert answers(db) == []

    def test_value_outside_the_scale(self, app, platform, slack, db):
        """A forged value outside the scale records nothing and says so."""
        message = opened(app, slack, db)[SALARIEE][0]
        question = the_round(db).questions[1]
        _action, value, block = button(message, question, 5)
        forged = value.replace(f":{question}:5:", f":{question}:9:")
        platform.block_action(SALARIEE, "pulse_answer:9", forged, block_id=block, message=message)
        reply = slack.wait_for("response_url")[-1].params
        assert reply["response_type"] == "ephemeral"
        assert answers(db) == []

    def test_closed_round_refuses(self, app, platform, slack, db):
        """After the clock closes the round, a tap is refused and nothing changes."""
        message = opened(app, slack, db)[SALARIEE][0]
        tick(app, at(PERIOD + timedelta(days=5), 10, 1))
        assert the_round(db).state == "closed"
        tap(platform, SALARIEE, message, the_round(db).questions[1], 3)
        reply = slack.wait_for("response_url")[-1].params
        assert reply["response_type"] == "ephemeral"
        assert answers(db) == []

    def test_comment_and_skip(self, app, platform, slack, db):
        """A comment is kept without its author; skipping marks the person, no reminder."""
        message = opened(app, slack, db)[SALARIEE][0]
        tap(platform, SALARIEE, message, "more", "comment")
        form = slack.wait_for("views.open")[-1].params["view"]
        empty = platform.view_submission(SALARIEE, form, form_values(form, {"comment": " "}))
        assert "comment" in empty.json()["errors"]
        platform.view_submission(SALARIEE, form, form_values(form, {"comment": "Trop de bruit"}))
        tap(platform, EMPLOYEE, surveys(slack, EMPLOYEE)[0], "more", "skip")
        slack.wait_for("response_url")
        with db.sessions() as session:
            assert session.scalars(select(PulseComment.text)).all() == ["Trop de bruit"]
            skipped = session.scalars(
                select(PulseParticipant.user_id).where(PulseParticipant.skipped.is_(True))
            ).all()
        assert skipped == [EMPLOYEE]

    def test_pause(self, app, platform, slack, db):
        """Pausing past six months is refused; a valid pause keeps next week's survey away."""
        message = opened(app, slack, db)[SALARIEE][0]
        tap(platform, SALARIEE, message, "more", "pause")
        form = slack.wait_for("views.open")[-1].params["view"]
        far = (TODAY + timedelta(days=200)).isoformat()
        assert (
            "until"
            in platform.view_submission(SALARIEE, form, form_values(form, {"until": far})).json()[
                "errors"
            ]
        )
        until = (PERIOD + timedelta(days=10)).isoformat()
        assert (
            platform.view_submission(SALARIEE, form, form_values(form, {"until": until})).status
            == 200
        )
        with db.sessions() as session:
            assert session.scalars(select(PulsePause.user_id)).all() == [SALARIEE]
        tick(app, at(PERIOD + timedelta(days=6), 12))
        tick(app, at(PERIOD + timedelta(days=7), 16, 5))
        assert len(surveys(slack, SALARIEE)) == 1
        assert len(surveys(slack, EMPLOYEE)) == 2


class TestReminder:
    def test_one_reminder_to_those_who_have_not_answered(self, app, platform, slack, db):
        """Halfway through, in working hours, one reminder to the silent, none to the others."""
        sent = opened(app, slack, db)
        tap(platform, SALARIEE, sent[SALARIEE][0], the_round(db).questions[0], 10)
        slack.wait_for("response_url")
        halfway = at(PERIOD + timedelta(days=3), 10)
        tick(app, halfway)
        tick(app, halfway + timedelta(hours=5))
        assert reminders(slack, SALARIEE) == 0
        assert reminders(slack, EMPLOYEE) == 1 and reminders(slack, MANAGER) == 1


class TestResultsAndAnonymity:
    def run_round(self, app, slack, db, cli, answering: int, members=PEOPLE):
        """A round of `members`, the first `answering` of them answering (the manager first),
        closed; what `symmetry export pulses` says of it."""
        platform = app.platform
        sent = opened(app, slack, db, members=members)
        round_ = the_round(db)
        people = members[:answering]
        for index, user in enumerate(people):
            for question in round_.questions:
                value = 9 if question == "enps" else 4
                if question == "enps" and index == 0:
                    value = 3
                tap(platform, user, sent[user][0], question, value)
            slack.wait_for("response_url", count=(index + 1) * len(round_.questions))
        tick(app, at(PERIOD + timedelta(days=5), 10, 1))
        exported = cli.run("export", "pulses")
        assert exported.status == 0, exported.err
        return json.loads(exported.out)

    def test_four_answers_are_hidden(self, app, slack, db, cli):
        """With the default threshold of 5, a round with 4 respondents is suppressed."""
        (row,) = self.run_round(app, slack, db, cli, answering=4)
        assert row["suppressed"] is True and row["responded"] == 4 and row["sent"] == 6
        assert all(q["mean"] is None for q in row["questions"])
        assert next(q for q in row["questions"] if q["key"] == "enps")["enps"] is None

    def test_five_answers_besides_the_managers_are_shown(self, app, slack, db, cli):
        """With 5 respondents besides the manager (who was asked, so is taken to have
        answered) the figures appear: means, eNPS, participation."""
        members = (*PEOPLE, SPARE[0])
        (row,) = self.run_round(app, slack, db, cli, answering=6, members=members)
        assert row["suppressed"] is False and row["responded"] == 6
        assert row["participation"] == pytest.approx(6 / 7, abs=0.001)
        enps = next(q for q in row["questions"] if q["key"] == "enps")
        assert enps["enps"] == 67  # 5 promoters, 1 detractor out of 6
        other = next(q for q in row["questions"] if q["key"] != "enps")
        assert other["mean"] == 4 and other["responses"] == 6
        assert set(row) == {
            "team", "opened_at", "closes_at", "sent", "responded", "participation",
            "suppressed", "questions",
        }  # fmt: skip

    def test_the_managers_answer_does_not_count(self, app, slack, db, cli):
        """Five answered, but one of the people asked is the manager, who reads the results:
        only four answers may be someone else's, so the round is hidden, in the export and on
        the manager's Home tab."""
        (row,) = self.run_round(app, slack, db, cli, answering=5)
        assert row["suppressed"] is True and row["responded"] == 5
        assert all(q["mean"] is None for q in row["questions"])
        app.platform.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
        (published,) = slack.wait_for(
            "views.publish", where=lambda c: c.params["user_id"] == MANAGER
        )
        home = json.dumps(published.params["view"], ensure_ascii=False)
        assert "masqués pour protéger l’anonymat" in home  # the manager reads French

    def test_nothing_links_an_answer_to_a_person(self, app, slack, db, cli):
        """Answer and comment rows hold no user ID and no time; the app's log names nobody."""
        self.run_round(app, slack, db, cli, answering=5)
        columns = {c["name"] for c in inspect(db.engine).get_columns("pulse_answers")}
        assert columns == {"id", "round_id", "question", "respondent", "value"}
        columns = {c["name"] for c in inspect(db.engine).get_columns("pulse_comments")}
        assert columns == {"id", "round_id", "respondent", "text"}
        with db.engine.connect() as connection:
            dump = json.dumps(
                [list(r) for t in ("pulse_answers", "pulse_comments")
                 for r in connection.execute(text(f"SELECT * FROM {t}"))], default=str,
            )  # fmt: skip
        for user in (MANAGER, EMPLOYEE, SALARIEE, ADMIN, *EXTRA):
            assert user not in dump
        log = app.log_path.read_text()
        for user in (MANAGER, EMPLOYEE, SALARIEE, ADMIN, *EXTRA):
            assert user not in log
