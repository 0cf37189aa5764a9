"""The quarterly walk's schedule (issue 11, items 0 and 1): prompts on the quarter's first
working day at 09:30 in each manager's zone, one reminder, "Done already" and "Remind me in a
week", the admins' notice on the 45th day, and nothing about a quarter once it is over — on the
app in this process (tests/inprocess.py), started at the instant each test needs, its clock's
`tick`, the simulated Slack and a real database."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from bot.demo.slack import SimUser
from bot.runtime.operations import outbox_status
from storage import queries
from storage.models import Membership, OutboxMessage, Team, TeamManager, Walk
from tests.conftest import ADMIN, EMPLOYEE, MANAGER, SALARIEE, SECRET_KEY, SIGNING_SECRET
from tests.inprocess import PARIS, AppUnderTest, app_settings, running_app, tick

NEW_YORKER = "UMANNY01"  # a second manager of the workshop, in New York, in English
SALES_MANAGER = "USALES01"
LONG_AGO = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant of Paris time."""
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


@contextmanager
def app_at(db, slack, tmp_path, start: datetime) -> Iterator[AppUnderTest]:
    """The in-process app with its clock started at `start` (clicks are judged at that
    instant); its clock's ticks can be run at any instant."""
    settings = app_settings(
        db.url, slack, slack_signing_secret=SIGNING_SECRET, secret_key=SECRET_KEY
    )
    log = tmp_path / f"app-{start:%Y%m%dT%H%M}.log"
    with running_app(settings, db.sessions, db.engine, slack, log_path=log, start=start) as app:
        yield app
    assert "listener failed" not in log.read_text()


def team(
    db,
    slack,
    *,
    name: str = "Workshop",
    managers: tuple[str, ...] = (MANAGER,),
    holidays: str | None = None,
    created: datetime = LONG_AGO,
    members: tuple[str, ...] | None = None,
) -> int:
    """A team in Paris made at `created` (not the real date), with these managers and members
    (by default, its managers and two employees)."""
    slack.add_user(SimUser(NEW_YORKER, "nina", "Nina Park", tz="America/New_York", locale="en-US"))
    slack.add_user(SimUser(SALES_MANAGER, "sam", "Sam Roy", tz="Europe/Paris", locale="en-GB"))
    with db.sessions.begin() as session:
        workspace = queries.get_or_create_workspace(session, slack_team_id=slack.team_id)
        row = Team(
            workspace_id=workspace.id,
            name=name,
            channel_id=f"C{name.upper()[:8]}",
            timezone="Europe/Paris",
            locale="en",
            holidays=holidays,
            survey_enabled=False,  # pulse surveys aside
            created_at=created,
        )
        members = (*managers, EMPLOYEE, SALARIEE) if members is None else members
        row.memberships = [Membership(user_id=u) for u in members]
        row.managers = [TeamManager(user_id=u) for u in managers]
        session.add(row)
        session.flush()
        return row.id


def sent(slack, user: str, block_id: str) -> list[dict]:
    """The messages of one kind (`walk-prompt`, `walk-reminder`, `walk-notice`) a person got."""
    return [
        call.params
        for call in slack.calls_to("chat.postMessage")
        if not call.failed
        and call.params["channel"] == user
        and any(b.get("block_id") == block_id for b in blocks(call.params))
    ]


def blocks(message: dict) -> list[dict]:
    found = message.get("blocks") or []
    return json.loads(found) if isinstance(found, str) else found


def click(
    app: AppUnderTest, slack, user: str, action: str, message: dict, value: str | None = None
):
    """Tap one of a prompt's buttons as `user`; the text the app answers with."""
    (buttons,) = [b for b in blocks(message) if b.get("block_id") == "walk-buttons"]
    (button,) = [e for e in buttons["elements"] if e["action_id"] == action]
    before = len(slack.calls_to("response_url"))
    app.platform.block_action(
        user,
        action,
        button["value"] if value is None else value,
        block_id="walk-buttons",
        message={"text": message["text"], "blocks": blocks(message)},
    )
    return slack.wait_for("response_url", count=before + 1)[-1].params


def walks(db) -> list[Walk]:
    with db.sessions() as session:
        found = session.scalars(select(Walk).order_by(Walk.quarter)).all()
        for walk in found:
            walk.prompts  # noqa: B018 (loaded while the session is open)
        return list(found)


class TestPrompt:
    def test_each_manager_at_0930_in_their_own_zone(self, db, slack, tmp_path):
        """Planned ahead; Paris gets the prompt at 09:30 Paris, New York at 09:30 New York,
        each in their language, and the walk and one prompt per manager are recorded."""
        team(db, slack, managers=(MANAGER, NEW_YORKER))
        with app_at(db, slack, tmp_path, at(date(2026, 1, 1), 9)) as app:
            assert "2 prompt(s)" in tick(app, at(date(2025, 12, 30), 12))
            tick(app, at(date(2026, 1, 1), 9, 29))
            assert sent(slack, MANAGER, "walk-prompt") == []
            tick(app, at(date(2026, 1, 1), 9, 31))
            (paris,) = sent(slack, MANAGER, "walk-prompt")
            assert "T1 2026" in paris["text"]  # Marie reads French
            assert sent(slack, NEW_YORKER, "walk-prompt") == []  # 03:31 in New York
            tick(app, at(date(2026, 1, 1), 15, 29))
            assert sent(slack, NEW_YORKER, "walk-prompt") == []  # 09:29 in New York
            tick(app, at(date(2026, 1, 1), 15, 31))
            (new_york,) = sent(slack, NEW_YORKER, "walk-prompt")
            assert "Q1 2026" in new_york["text"]
        (walk,) = walks(db)
        assert walk.quarter == "2026-Q1" and walk.done_at is None
        assert walk.due_at == at(date(2026, 1, 1), 9, 30)
        prompts = {p.manager_id: p for p in walk.prompts}
        ny_0930 = datetime(2026, 1, 1, 9, 30, tzinfo=UTC) + timedelta(hours=5)
        assert prompts[NEW_YORKER].prompted_at == ny_0930
        assert prompts[MANAGER].remind_at == at(date(2026, 1, 15), 9, 30)
        actions = [
            e["action_id"] for b in blocks(paris) if b["type"] == "actions" for e in b["elements"]
        ]
        assert actions == ["walk_start", "walk_done_already", "walk_remind_later"]

    def test_a_public_holiday_on_the_first_day(self, db, slack, tmp_path):
        """With French holidays, 1 January is not a working day: Q1's prompt comes on the 2nd."""
        team(db, slack, holidays="FR")
        with app_at(db, slack, tmp_path, at(date(2026, 1, 2), 9)) as app:
            tick(app, at(date(2025, 12, 31), 12))
            tick(app, at(date(2026, 1, 1), 9, 31))
            assert sent(slack, MANAGER, "walk-prompt") == []
            tick(app, at(date(2026, 1, 2), 9, 29))
            assert sent(slack, MANAGER, "walk-prompt") == []
            tick(app, at(date(2026, 1, 2), 9, 31))
            assert len(sent(slack, MANAGER, "walk-prompt")) == 1
        assert walks(db)[0].due_at == at(date(2026, 1, 2), 9, 30)

    def test_quarter_boundaries(self, db, slack, tmp_path):
        """A tick on a quarter's last day sends nothing more about it, and nothing yet about the
        next; the next quarter's prompt comes on its first working day, for its own walk."""
        team(db, slack)
        with app_at(db, slack, tmp_path, at(date(2026, 1, 1), 9)) as app:
            tick(app, at(date(2026, 1, 1), 9, 31))
            tick(app, at(date(2026, 1, 15), 9, 31))
            assert len(sent(slack, MANAGER, "walk-reminder")) == 1
            slack.clear_calls()
            tick(app, at(date(2026, 3, 31), 18, 0))
            tick(app, at(date(2026, 3, 31), 18, 59))
            assert sent(slack, MANAGER, "walk-prompt") == []
            assert sent(slack, MANAGER, "walk-reminder") == []
            tick(app, at(date(2026, 4, 1), 9, 31))
            (second,) = sent(slack, MANAGER, "walk-prompt")
            assert "T2 2026" in second["text"]
        assert [w.quarter for w in walks(db)] == ["2026-Q1", "2026-Q2"]

    def test_a_failing_team_does_not_stop_the_others(self, db, slack, tmp_path):
        """When Slack fails to describe one team's manager, that team is logged and retried at
        the next tick, and the other team's prompt is planned all the same."""
        team(db, slack)
        team(db, slack, name="Sales", managers=(SALES_MANAGER,), members=(EMPLOYEE,))
        with app_at(db, slack, tmp_path, at(date(2026, 1, 1), 9)) as app:
            # Welcomes: the members' profiles cached (on a Sunday: no digest asks for Sam's).
            tick(app, at(date(2025, 12, 28), 12))
            slack.fail_next("users.info")  # Sam, manager of Sales but not a member
            report = tick(app, at(date(2025, 12, 30), 9))
            queued = "walks: 1 prompt(s), 0 reminder(s) and 0 admins' notice(s) queued"
            assert re.search(re.escape(queued) + r" \(1 of \d+ unit\(s\) failed, logged\)", report)
            assert "walks: team" in app.log_path.read_text()
            assert "1 prompt(s)" in tick(app, at(date(2025, 12, 30), 9, 1))
            tick(app, at(date(2026, 1, 1), 9, 31))
        assert len(sent(slack, MANAGER, "walk-prompt")) == 1
        assert len(sent(slack, SALES_MANAGER, "walk-prompt")) == 1

    def test_nothing_twice_across_ticks(self, db, slack, tmp_path):
        """The same tick twice, and every tick of the quarter, send one prompt, one reminder and
        one admins' notice, never more."""
        team(db, slack)
        with app_at(db, slack, tmp_path, at(date(2026, 1, 1), 9)) as app:
            for day, hour, minute in [
                (date(2026, 1, 1), 9, 31),
                (date(2026, 1, 1), 9, 31),
                (date(2026, 1, 1), 9, 32),
                (date(2026, 1, 2), 10, 0),
                (date(2026, 1, 15), 9, 31),
                (date(2026, 1, 15), 9, 31),
                (date(2026, 1, 16), 10, 0),
                (date(2026, 2, 16), 15, 1),
                (date(2026, 2, 16), 15, 1),
                (date(2026, 2, 17), 15, 1),
                (date(2026, 3, 31), 12, 0),
            ]:
                tick(app, at(day, hour, minute))
        assert len(sent(slack, MANAGER, "walk-prompt")) == 1
        assert len(sent(slack, MANAGER, "walk-reminder")) == 1
        assert len(sent(slack, ADMIN, "walk-notice")) == 1


class TestReminder:
    def test_one_reminder_14_days_after_the_prompt(self, db, slack, tmp_path):
        """The reminder comes 14 days after the prompt, with the same three buttons, once."""
        team(db, slack)
        with app_at(db, slack, tmp_path, at(date(2026, 1, 1), 9)) as app:
            tick(app, at(date(2026, 1, 1), 9, 31))
            tick(app, at(date(2026, 1, 15), 9, 29))
            assert sent(slack, MANAGER, "walk-reminder") == []
            tick(app, at(date(2026, 1, 15), 9, 31))
            (reminder,) = sent(slack, MANAGER, "walk-reminder")
            (buttons,) = [b for b in blocks(reminder) if b["type"] == "actions"]
            assert [e["action_id"] for e in buttons["elements"]] == [
                "walk_start",
                "walk_done_already",
                "walk_remind_later",
            ]
            tick(app, at(date(2026, 1, 16), 9, 31))
            tick(app, at(date(2026, 2, 2), 9, 31))
        assert len(sent(slack, MANAGER, "walk-reminder")) == 1

    def test_done_already_records_the_walk_and_drops_what_waits(self, db, slack, tmp_path):
        """A manager's "Done already" records the walk as done, declared, without scores, by
        them; the other manager's prompt still waiting for New York's morning is dropped, and
        nobody gets a reminder."""
        team(db, slack, managers=(MANAGER, NEW_YORKER))
        with app_at(db, slack, tmp_path, at(date(2026, 1, 1), 10)) as app:
            tick(app, at(date(2026, 1, 1), 9, 31))
            (prompt,) = sent(slack, MANAGER, "walk-prompt")
            reply = click(app, slack, MANAGER, "walk_done_already", prompt)
            assert reply["replace_original"] is True and "T1 2026" in reply["text"]
            tick(app, at(date(2026, 1, 1), 15, 31))
            tick(app, at(date(2026, 1, 15), 15, 31))
            again = click(app, slack, NEW_YORKER, "walk_done_already", prompt)
            assert again["response_type"] == "ephemeral" and "already" in again["text"]
        assert sent(slack, NEW_YORKER, "walk-prompt") == []
        assert (
            sent(slack, MANAGER, "walk-reminder") == sent(slack, NEW_YORKER, "walk-reminder") == []
        )
        (walk,) = walks(db)
        assert walk.done_at is not None and walk.declared is True
        assert walk.manager_id == MANAGER and walk.scores is None

    def test_remind_me_in_a_week_and_again_from_the_reminder(self, db, slack, tmp_path):
        """ "Remind me in a week" moves the reminder to a week after the click (not 14 days
        after the prompt); from that reminder it can be moved once more."""
        team(db, slack)
        with app_at(db, slack, tmp_path, at(date(2026, 1, 5), 10)) as app:
            tick(app, at(date(2026, 1, 1), 9, 31))
            (prompt,) = sent(slack, MANAGER, "walk-prompt")
            reply = click(app, slack, MANAGER, "walk_remind_later", prompt)
            assert reply["response_type"] == "ephemeral" and "12 janv. 2026" in reply["text"]
            tick(app, at(date(2026, 1, 12), 9, 59))
            assert sent(slack, MANAGER, "walk-reminder") == []
            tick(app, at(date(2026, 1, 12), 10, 1))
            (reminder,) = sent(slack, MANAGER, "walk-reminder")
            tick(app, at(date(2026, 1, 15), 9, 31))  # the prompt's own 14 days: moved
            assert len(sent(slack, MANAGER, "walk-reminder")) == 1
        with app_at(db, slack, tmp_path, at(date(2026, 1, 13), 11)) as app:
            click(app, slack, MANAGER, "walk_remind_later", reminder)
            tick(app, at(date(2026, 1, 20), 10, 59))
            assert len(sent(slack, MANAGER, "walk-reminder")) == 1
            tick(app, at(date(2026, 1, 20), 11, 1))
            tick(app, at(date(2026, 1, 21), 11, 1))
        assert len(sent(slack, MANAGER, "walk-reminder")) == 2


class TestAdminsNotice:
    def test_on_the_45th_day_each_admin_gets_the_teams_not_done(self, db, slack, tmp_path):
        """On 15 February (a Sunday, so Monday in each admin's working hours) each admin — a
        workspace admin and SYMMETRY_ADMINS — gets one notice naming the team with no walk
        done, not the one whose manager declared it done."""
        team(db, slack)
        team(db, slack, name="Sales", managers=(SALES_MANAGER,))
        admins = frozenset({EMPLOYEE})
        with app_at(db, slack, tmp_path, at(date(2026, 1, 2), 10)) as app:
            tick(app, at(date(2026, 1, 1), 9, 31), admins=admins)
            (prompt,) = sent(slack, MANAGER, "walk-prompt")
            click(app, slack, MANAGER, "walk_done_already", prompt)
            tick(app, at(date(2026, 2, 14), 12), admins=admins)
            assert sent(slack, ADMIN, "walk-notice") == sent(slack, EMPLOYEE, "walk-notice") == []
            tick(app, at(date(2026, 2, 16), 9), admins=admins)
            (london,) = sent(slack, EMPLOYEE, "walk-notice")
            assert sent(slack, ADMIN, "walk-notice") == []  # 03:00 in New York
            tick(app, at(date(2026, 2, 16), 15, 1), admins=admins)
            (new_york,) = sent(slack, ADMIN, "walk-notice")
        for notice in (london, new_york):
            text = json.dumps(blocks(notice))
            assert "*Sales*" in text and f"<@{SALES_MANAGER}>" in text and "Workshop" not in text
        assert sent(slack, MANAGER, "walk-notice") == []  # managers are not admins

    def test_no_notice_when_every_walk_is_done(self, db, slack, tmp_path):
        """When every team's walk is done by the 45th day, no admin gets anything."""
        team(db, slack)
        with app_at(db, slack, tmp_path, at(date(2026, 1, 2), 10)) as app:
            tick(app, at(date(2026, 1, 1), 9, 31))
            click(app, slack, MANAGER, "walk_done_already", sent(slack, MANAGER, "walk-prompt")[0])
            tick(app, at(date(2026, 2, 16), 15, 1))
            tick(app, at(date(2026, 3, 2), 15, 1))
        assert sent(slack, ADMIN, "walk-notice") == []


class TestTeamCreatedMidQuarter:
    def test_prompted_at_the_next_tick_in_working_hours(self, db, slack, tmp_path):
        """A team made on a Saturday with 39 days of the quarter left is prompted for this
        quarter on Monday at 08:00, the first tick in working hours."""
        saturday = at(date(2026, 2, 21), 10)
        team(db, slack, created=saturday)
        with app_at(db, slack, tmp_path, saturday) as app:
            assert "1 prompt(s)" in tick(app, saturday + timedelta(minutes=5))
            assert sent(slack, MANAGER, "walk-prompt") == []
            tick(app, at(date(2026, 2, 23), 8, 1))
            (prompt,) = sent(slack, MANAGER, "walk-prompt")
        assert "T1 2026" in prompt["text"]
        assert [w.quarter for w in walks(db)] == ["2026-Q1"]

    def test_fewer_than_30_days_left_waits_for_the_next_quarter(self, db, slack, tmp_path):
        """A team made with 22 days of the quarter left gets nothing for it: its first prompt
        is the next quarter's, on that quarter's first working day."""
        made = at(date(2026, 3, 10), 10)
        team(db, slack, created=made)
        with app_at(db, slack, tmp_path, made) as app:
            tick(app, made + timedelta(minutes=5))
            tick(app, at(date(2026, 3, 20), 10))
            assert sent(slack, MANAGER, "walk-prompt") == [] and walks(db) == []
            tick(app, at(date(2026, 4, 1), 9, 31))
            (prompt,) = sent(slack, MANAGER, "walk-prompt")
        assert "T2 2026" in prompt["text"]

    def test_a_walk_opened_from_home_late_does_not_bring_the_prompt(self, db, slack, tmp_path):
        """A team made with 22 days left whose manager opens the Home tab (which makes the
        quarter's walk to show it) still gets no prompt for this quarter."""
        made = at(date(2026, 3, 10), 10)
        team(db, slack, created=made)
        with app_at(db, slack, tmp_path, made) as app:
            app.platform.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
            slack.wait_for("views.publish")
            assert [w.quarter for w in walks(db)] == ["2026-Q1"]
            tick(app, made + timedelta(minutes=5))
            tick(app, at(date(2026, 3, 20), 10))
            assert sent(slack, MANAGER, "walk-prompt") == []

    def test_a_team_made_after_the_45th_day_is_not_in_the_notice(self, db, slack, tmp_path):
        """The admins' notice, planned late (the clock was down), names no team made after
        the 45th day, even one whose walk the Home tab made."""
        made = at(date(2026, 2, 20), 10)
        team(db, slack, created=made)
        with app_at(db, slack, tmp_path, made) as app:
            app.platform.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
            slack.wait_for("views.publish")
            tick(app, at(date(2026, 2, 23), 15, 1), admins=frozenset({EMPLOYEE}))
        assert sent(slack, EMPLOYEE, "walk-notice") == []


class TestQuarterEnd:
    def test_what_is_still_queued_when_the_quarter_ends_is_never_sent(
        self, db, slack, tmp_path, capsys
    ):
        """A reminder and the admins' notice queued on the quarter's last day, waiting for
        working hours when no tick comes before the quarter ends, are marked expired and
        never sent; `outbox status` counts them."""
        team(db, slack)
        with app_at(db, slack, tmp_path, at(date(2025, 12, 24), 7)) as app:
            tick(app, at(date(2025, 10, 1), 9, 31))
            (prompt,) = sent(slack, MANAGER, "walk-prompt")
            click(app, slack, MANAGER, "walk_remind_later", prompt)
            planned = tick(app, at(date(2025, 12, 31), 7, 1))
            assert "1 reminder(s) and 1 admins' notice(s) queued" in planned
            assert sent(slack, MANAGER, "walk-reminder") == []  # held until 08:00
            report = tick(app, at(date(2026, 1, 2), 10))
        assert "2 expired" in report
        assert sent(slack, MANAGER, "walk-reminder") == sent(slack, ADMIN, "walk-notice") == []
        (q1,) = sent(slack, MANAGER, "walk-prompt")[1:]  # the new quarter's prompt goes
        assert "T1 2026" in q1["text"]
        with db.sessions() as session:
            rows = session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.kind.in_(["walk_reminder", "walk_notice"])
                )
            ).all()
        assert sorted(r.kind for r in rows) == ["walk_notice", "walk_reminder"]
        for row in rows:
            assert row.state == "expired" and row.sent_at is None
        reminder = next(r for r in rows if r.kind == "walk_reminder")
        assert reminder.expires_at == at(date(2026, 1, 1), 0)
        outbox_status(app.settings)
        assert "expired: 2" in capsys.readouterr().out


class TestClicks:
    def test_forged_clicks_change_nothing_and_get_one_refusal(self, db, slack, tmp_path):
        """Someone who is not a manager of the walk's team (an employee, a workspace admin)
        and a walk id that does not exist get the same refusal; nothing changes."""
        team(db, slack)
        with app_at(db, slack, tmp_path, at(date(2026, 1, 5), 10)) as app:
            tick(app, at(date(2026, 1, 1), 9, 31))
            (prompt,) = sent(slack, MANAGER, "walk-prompt")
            not_manager = click(app, slack, EMPLOYEE, "walk_done_already", prompt)
            unknown = click(app, slack, EMPLOYEE, "walk_done_already", prompt, value="w2k3m4n5p6")
            garbage = click(app, slack, EMPLOYEE, "walk_remind_later", prompt, value="x")
            admin = click(app, slack, ADMIN, "walk_remind_later", prompt)
            assert not_manager["text"] == unknown["text"] == garbage["text"] == admin["text"]
            assert not_manager["response_type"] == "ephemeral"
            assert not_manager["replace_original"] is False
            tick(app, at(date(2026, 1, 15), 9, 31))  # the reminder was not moved
        (walk,) = walks(db)
        assert walk.done_at is None and walk.prompts[0].remind_at == at(date(2026, 1, 15), 9, 31)
        assert len(sent(slack, MANAGER, "walk-reminder")) == 1

    def test_buttons_work_until_14_days_after_the_quarter(self, db, slack, tmp_path):
        """Q4 2025's buttons still work on 14 January; from 15 January a click is refused,
        says so, and changes nothing."""
        team(db, slack)
        with app_at(db, slack, tmp_path, at(date(2026, 1, 15), 0, 0)) as app:
            tick(app, at(date(2025, 10, 1), 9, 31))
            (prompt,) = sent(slack, MANAGER, "walk-prompt")
            late = click(app, slack, MANAGER, "walk_done_already", prompt)
            assert late["response_type"] == "ephemeral" and "15 janv. 2026" in late["text"]
            assert walks(db)[0].done_at is None
        with app_at(db, slack, tmp_path, at(date(2026, 1, 14), 23, 59)) as app:
            in_time = click(app, slack, MANAGER, "walk_done_already", prompt)
        assert in_time["replace_original"] is True
        assert walks(db)[0].done_at is not None
