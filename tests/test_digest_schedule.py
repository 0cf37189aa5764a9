"""The weekly digests' schedule (issue 12, items 1, 9 and 10): each manager's at 09:00 in their
own zone on their weekday, caught up until 19:00 the working day after and then skipped, a
holiday moving it, never twice; "you said, we did" in the team's channel; the admins' digest;
and `/symmetry digest` (the settings modal and the private preview) — on the app in this
process (tests/inprocess.py), its clock's `tick` at chosen instants, the simulated Slack and a
real database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update

from bot.demo.slack import form_values
from bot.digests import chart, compose, schedule
from bot.digests.weeks import Week
from bot.shared.sending import file_of
from bot.teams import setup_modal
from storage import digest_records, outbox
from storage.models import DigestPreference, DigestRecord, OutboxMessage, Team
from tests.conftest import ADMIN, EMPLOYEE, MANAGER, POLICY, SALARIEE, TEAM_CHANNEL, answer_of
from tests.digest_content_factories import irritant
from tests.inprocess import tick
from tests.test_teams import open_setup, team_answers
from tests.test_walk_schedule import NEW_YORKER, SALES_MANAGER, app_at, at, blocks, team

MONDAY = date(2026, 2, 9)  # ISO week 7; no change of summer time near it
TUESDAY, WEDNESDAY, THURSDAY = (MONDAY + timedelta(days=n) for n in (1, 2, 3))
NEXT_MONDAY = MONDAY + timedelta(days=7)  # week 8
EASTER_MONDAY = date(2026, 4, 6)  # a public holiday in France; ISO week 15
HEADERS = ("Weekly digest — week", "Bilan de la semaine")
PNG = b"\x89PNG\r\n\x1a\n fake chart"


def digests(slack, target: str) -> list[dict]:
    """The weekly digests (or previews) posted to a person or a channel, oldest first."""
    found = []
    for call in slack.calls_to("chat.postMessage"):
        shown = blocks(call.params)
        first = shown[0] if shown else {}
        text = first.get("text", {}).get("text", "") if first.get("type") == "header" else ""
        if not call.failed and call.params["channel"] == target and text.startswith(HEADERS):
            found.append(call.params)
    return found


def header(message: dict) -> str:
    return blocks(message)[0]["text"]["text"]


def records(db, kind: str = "manager") -> list[DigestRecord]:
    with db.sessions() as session:
        return list(
            session.scalars(
                select(DigestRecord).where(DigestRecord.kind == kind).order_by(DigestRecord.id)
            )
        )


def rows(db, kind: str) -> list[OutboxMessage]:
    with db.sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def prefer(db, user: str, *, enabled: bool = True, weekday: int = 0) -> None:
    """`user` chose this in `/symmetry digest` (the modal itself is tested below)."""
    with db.sessions.begin() as session:
        workspace_id = session.scalars(select(Team.workspace_id)).first()
        digest_records.set_preference(
            session,
            workspace_id=workspace_id,
            user_id=user,
            enabled=enabled,
            weekday=weekday,
            now=datetime(2026, 1, 5, tzinfo=UTC),
        )


def said_did(db, team_id: int) -> None:
    """The team turned "you said, we did" on, in a channel Slack knows."""
    with db.sessions.begin() as session:
        session.execute(
            update(Team).where(Team.id == team_id).values(said_did=True, channel_id=TEAM_CHANNEL)
        )


def message(text: str) -> dict[str, Any]:
    return {
        "text": text,
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": text}}],
    }


class TestManagers:
    def test_each_manager_at_0900_in_their_own_zone(self, db, slack, tmp_path):
        """Paris gets it at 09:00 Paris, New York at 09:00 New York, each in their language,
        and a record of the week says where the period covered ended."""
        team(db, slack, managers=(MANAGER, NEW_YORKER))
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            assert "0 manager digest(s)" in tick(app, at(MONDAY, 8, 59))
            assert digests(slack, MANAGER) == []
            assert "1 manager digest(s)" in tick(app, at(MONDAY, 9, 1))
            (paris,) = digests(slack, MANAGER)
            assert header(paris) == "Bilan de la semaine 7"
            tick(app, at(MONDAY, 14, 59))  # 08:59 in New York
            assert digests(slack, NEW_YORKER) == []
            tick(app, at(MONDAY, 15, 1))
            (new_york,) = digests(slack, NEW_YORKER)
        assert header(new_york) == "Weekly digest — week 7"
        found = {r.recipient: r for r in records(db)}
        assert found[MANAGER].week == found[NEW_YORKER].week == "2026-W07"
        assert found[MANAGER].covers_until == at(MONDAY, 9, 1)
        assert found[NEW_YORKER].covers_until == at(MONDAY, 15, 1)
        keys = sorted(r.key for r in rows(db, "digest"))
        team_id = found[MANAGER].team_id
        assert keys == [
            f"digest:{team_id}:{MANAGER}:2026-W07",
            f"digest:{team_id}:{NEW_YORKER}:2026-W07",
        ]

    def test_a_missed_monday_is_caught_up_on_tuesday(self, db, slack, tmp_path):
        """Planned Monday evening (the clock was down all day), it waits for the working day
        and goes on Tuesday at 08:00, before 19:00."""
        team(db, slack)
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            assert "1 manager digest(s)" in tick(app, at(MONDAY, 19, 30))
            assert digests(slack, MANAGER) == []
            tick(app, at(TUESDAY, 8, 1))
            assert len(digests(slack, MANAGER)) == 1

    def test_skipped_after_tuesday_1900(self, db, slack, tmp_path):
        """From Tuesday 19:00 (the clock down until then) the week's digest is skipped, and
        never sent later in the week."""
        team(db, slack)
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            assert "0 manager digest(s)" in tick(app, at(TUESDAY, 19, 0))
            tick(app, at(WEDNESDAY, 9, 1))
            tick(app, at(THURSDAY, 10))
        assert digests(slack, MANAGER) == [] and records(db) == []

    def test_queued_but_unsent_by_the_deadline_expires(self, db, slack, tmp_path):
        """Queued Monday at 19:30 to wait for Tuesday's working hours, a digest no tick
        delivers before Tuesday 19:00 is marked expired, never sent."""
        team(db, slack)
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            tick(app, at(MONDAY, 19, 30))
            report = tick(app, at(TUESDAY, 19, 5))
        assert "1 expired" in report
        assert digests(slack, MANAGER) == []
        (row,) = rows(db, "digest")
        assert row.state == "expired" and row.expires_at == at(TUESDAY, 19)

    def test_never_twice(self, db, slack, tmp_path):
        """The same minute twice, every later tick of the week, and a weekday changed after
        this week's went: one digest for the week, and next week's on the new day."""
        team(db, slack)
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            tick(app, at(MONDAY, 9, 1))
            tick(app, at(MONDAY, 9, 1))
            tick(app, at(MONDAY, 9, 2))
            tick(app, at(TUESDAY, 10))
            prefer(db, MANAGER, weekday=2)  # Wednesday, from now on
            tick(app, at(WEDNESDAY, 9, 1))
            tick(app, at(THURSDAY, 9, 1))
            assert len(digests(slack, MANAGER)) == 1
            tick(app, at(NEXT_MONDAY, 9, 1))
            assert len(digests(slack, MANAGER)) == 1
            tick(app, at(NEXT_MONDAY + timedelta(days=2), 9, 1))
        assert [header(m) for m in digests(slack, MANAGER)] == [
            "Bilan de la semaine 7",
            "Bilan de la semaine 8",
        ]
        assert [r.week for r in records(db)] == ["2026-W07", "2026-W08"]

    def test_a_second_clock_that_queued_first_wins(self, db, slack, tmp_path):
        """When another clock queued the week's digest between this one's check and its own
        insert, the key stops it: nothing more is queued or recorded."""
        team_id = team(db, slack)
        with db.sessions.begin() as session:
            workspace_id = session.scalars(select(Team.workspace_id)).one()
            outbox.enqueue(
                session,
                workspace_id=workspace_id,
                key=schedule.manager_key(team_id, MANAGER, "2026-W07"),
                kind="digest",
                recipient=MANAGER,
                payload=message("Bilan de la semaine 7"),
                timezone="Europe/Paris",
                not_before=at(MONDAY, 9),
            )
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            assert "0 manager digest(s)" in tick(app, at(MONDAY, 9, 1))
        assert len(rows(db, "digest")) == 1 and records(db) == []
        assert len(digests(slack, MANAGER)) == 1

    def test_a_holiday_monday_moves_to_tuesday(self, db, slack, tmp_path):
        """With French public holidays, Easter Monday has no digest: it comes on Tuesday at
        09:00, and may be caught up until Wednesday 19:00."""
        team(db, slack, holidays="FR")
        with app_at(db, slack, tmp_path, at(EASTER_MONDAY, 9)) as app:
            tick(app, at(EASTER_MONDAY, 9, 1))
            tick(app, at(EASTER_MONDAY + timedelta(days=1), 8, 59))
            assert digests(slack, MANAGER) == []
            tick(app, at(EASTER_MONDAY + timedelta(days=1), 9, 1))
            (sent,) = digests(slack, MANAGER)
        assert header(sent) == "Bilan de la semaine 15"
        (row,) = rows(db, "digest")
        assert row.expires_at == at(EASTER_MONDAY + timedelta(days=2), 19)

    def test_a_team_made_after_monday_0900_starts_next_week(self, db, slack, tmp_path):
        """A team made on Tuesday morning gets no digest of a week it barely saw (nor do its
        admins): its first comes the next Monday."""
        team(db, slack, created=at(TUESDAY, 8))
        with app_at(db, slack, tmp_path, at(TUESDAY, 9)) as app:
            assert "0 manager digest(s)" in tick(app, at(TUESDAY, 10))
            tick(app, at(TUESDAY, 15, 1))
            assert digests(slack, MANAGER) == [] and records(db, "admins") == []
            tick(app, at(NEXT_MONDAY, 9, 1))
        assert [header(m) for m in digests(slack, MANAGER)] == ["Bilan de la semaine 8"]

    def test_turned_off_nothing(self, db, slack, tmp_path):
        """A manager who turned the digest off gets none, and nothing is recorded."""
        team(db, slack, managers=(MANAGER, NEW_YORKER))
        prefer(db, MANAGER, enabled=False)
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            for instant in (at(MONDAY, 9, 1), at(MONDAY, 15, 1), at(TUESDAY, 10)):
                tick(app, instant)
        assert digests(slack, MANAGER) == []
        assert [r.recipient for r in records(db)] == [NEW_YORKER]

    def test_another_weekday(self, db, slack, tmp_path):
        """A manager who chose Thursday gets nothing on Monday, and theirs on Thursday 09:00."""
        team(db, slack)
        prefer(db, MANAGER, weekday=3)
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            tick(app, at(MONDAY, 9, 1))
            tick(app, at(TUESDAY, 10))
            tick(app, at(THURSDAY, 8, 59))
            assert digests(slack, MANAGER) == []
            tick(app, at(THURSDAY, 9, 1))
        assert len(digests(slack, MANAGER)) == 1

    def test_each_digest_starts_where_the_last_ended(self, db, slack, tmp_path, monkeypatch):
        """The first digest covers from None (the composer's 7 days); the next one from the
        instant the first was planned."""
        team(db, slack)
        seen = spy(monkeypatch, compose, "manager_digest")
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            tick(app, at(MONDAY, 10, 30))
            tick(app, at(NEXT_MONDAY, 9, 1))
        assert [(c["week"], c["since"]) for c in seen] == [
            (Week(2026, 7), None),
            (Week(2026, 8), at(MONDAY, 10, 30)),
        ]
        assert [c["locale"] for c in seen] == ["fr", "fr"]

    def test_the_chart_goes_with_the_digest(self, db, slack, tmp_path, monkeypatch):
        """When the chart has something to draw, the queued digest carries it, named after
        the week and titled in the manager's language."""
        team(db, slack)
        monkeypatch.setattr(chart, "png", lambda series, locale: PNG)
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            tick(app, at(MONDAY, 9, 1))
        (row,) = rows(db, "digest")
        filename, title, content = file_of(row.payload)
        assert (filename, content) == ("digest-2026-W07.png", PNG)
        assert title == "Les 12 dernières semaines — Workshop"
        (shared,) = slack.files_in(MANAGER)  # the deliverer uploaded it after the message
        assert (shared.filename, shared.channel) == ("digest-2026-W07.png", "D" + MANAGER)

    @pytest.mark.parametrize("step", ["png", "weekly_series"])
    def test_a_failing_chart_leaves_the_digest(self, db, slack, tmp_path, monkeypatch, step):
        """A chart that fails to draw, or whose reading fails in the database (which, on
        PostgreSQL, aborts the transaction it ran in), is logged, and the digest goes
        without it."""
        team(db, slack)

        def broken_png(series, locale):
            raise RuntimeError("no font")

        def broken_series(session, policy, *, team, week, now):
            session.execute(text("SELECT no_such_column FROM teams"))

        monkeypatch.setattr(chart, step, broken_png if step == "png" else broken_series)
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            assert "1 manager digest(s)" in tick(app, at(MONDAY, 9, 1))
            assert "digest chart of team" in app.log_path.read_text()
        assert len(digests(slack, MANAGER)) == 1
        assert file_of(rows(db, "digest")[0].payload) is None

    def test_a_failing_team_does_not_stop_the_others(self, db, slack, tmp_path, monkeypatch):
        """When one team's digest fails to build, that team is logged and tried again at the
        next tick; the other team's digest is queued all the same."""
        team(db, slack)
        team(db, slack, name="Sales", managers=(SALES_MANAGER,), members=(EMPLOYEE,))
        real, failures = compose.manager_digest, [RuntimeError("a bad row")]

        def flaky(session, policy, *, team, **given):
            if team.name == "Sales" and failures:
                raise failures.pop()
            return real(session, policy, team=team, **given)

        monkeypatch.setattr(compose, "manager_digest", flaky)
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            report = tick(app, at(MONDAY, 9, 1))
            assert "1 manager digest(s), 0 admins' digest(s)" in report
            assert "(1 of " in report and " unit(s) failed, logged)" in report
            assert "digests: team" in app.log_path.read_text()
            assert "1 manager digest(s)" in tick(app, at(MONDAY, 9, 2))
        assert len(digests(slack, MANAGER)) == len(digests(slack, SALES_MANAGER)) == 1
        assert sorted(r.recipient for r in records(db)) == [MANAGER, SALES_MANAGER]


class TestSaidDid:
    def test_posted_in_the_channel_only_when_on_and_with_content(
        self, db, slack, tmp_path, monkeypatch
    ):
        """A team with the setting off gets no post even with something resolved; with it on,
        Monday 09:00 team time, in its channel, covering the 7 days before for the first and
        from the last post after; a week with nothing resolved posts nothing."""
        quiet = team(db, slack, name="Quiet", managers=(SALES_MANAGER,))
        busy = team(db, slack)
        said_did(db, busy)
        periods: list[tuple[int, datetime, datetime]] = []

        def resolved(session, policy, *, team, since, until, locale):
            periods.append((team.id, since, until))
            text = f"You said, we did — {team.name}"
            return message(text) if len(periods) == 1 else None

        monkeypatch.setattr(compose, "said_did_message", resolved)
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            tick(app, at(MONDAY, 8, 59))
            assert "0 channel post(s)" in tick(app, at(MONDAY, 8, 59))
            assert "1 channel post(s)" in tick(app, at(MONDAY, 9, 1))
            tick(app, at(TUESDAY, 10))
            assert "0 channel post(s)" in tick(app, at(NEXT_MONDAY, 9, 1))
            tick(app, at(NEXT_MONDAY, 9, 2))
        posts = [
            c.params
            for c in slack.calls_to("chat.postMessage")
            if c.params["channel"] == TEAM_CHANNEL
        ]
        assert [p["text"] for p in posts] == ["You said, we did — Workshop"]
        assert periods == [
            (busy, at(MONDAY, 9, 1) - timedelta(days=7), at(MONDAY, 9, 1)),
            (busy, at(MONDAY, 9, 1), at(NEXT_MONDAY, 9, 1)),
        ]
        assert quiet not in {team_id for team_id, _, _ in periods}
        assert [(r.week, r.recipient) for r in records(db, "channel")] == [
            ("2026-W07", TEAM_CHANNEL),
            ("2026-W08", TEAM_CHANNEL),
        ]

    def test_turned_on_again_the_post_is_the_past_week_s(self, db, slack, tmp_path):
        """A team that posted, turned the setting off for weeks, then on again: its next post
        lists what was resolved since the Monday before, not everything since its last
        post, which its title would call "this week"."""
        team_id = team(db, slack)
        said_did(db, team_id)
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            tick(app, at(MONDAY - timedelta(weeks=5), 9, 1))  # nothing resolved: no post
            with db.sessions.begin() as session:
                row = session.get(Team, team_id)
                row.said_did = False
                for description, days in (("Old fix", 20), ("Fresh fix", 2)):
                    fixed = at(MONDAY, 9) - timedelta(days=days)
                    irritant(session, row, reported=fixed - timedelta(days=1), status="resolved",
                             resolved=fixed, description=description)  # fmt: skip
            tick(app, at(MONDAY - timedelta(weeks=1), 9, 1))  # off: nothing
            said_did(db, team_id)
            tick(app, at(MONDAY, 9, 1))
        (post,) = [c.params for c in slack.calls_to("chat.postMessage")
                   if c.params["channel"] == TEAM_CHANNEL]  # fmt: skip
        assert post["text"] == "You said, we did: 1 irritant resolved this week"
        assert "Fresh fix" in str(post["blocks"]) and "Old fix" not in str(post["blocks"])

    def test_nothing_with_the_composer_saying_nothing(self, db, slack, tmp_path):
        """With the setting on and nothing resolved (the composer answers None), nothing is
        posted in the channel."""
        said_did(db, team(db, slack))
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            tick(app, at(MONDAY, 9, 1))
        assert slack.messages_to(TEAM_CHANNEL) == [] and rows(db, "digest_channel") == []


class TestAdmins:
    def test_each_admin_at_their_0900_in_their_language(self, db, slack, tmp_path, monkeypatch):
        """A workspace admin (New York, learned from Slack) and SYMMETRY_ADMINS (Lyon) each
        get the admins' digest at 09:00 their time, in their language, once; not managers."""
        team(db, slack)
        seen = []

        def lines(session, policy, *, workspace_id, week, locale, now):
            seen.append(locale)
            return message(f"Admins {locale} {week.label}")

        monkeypatch.setattr(compose, "admins_message", lines)
        admins = frozenset({SALARIEE})
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            tick(app, at(MONDAY, 8))  # no admin known yet: Slack is asked who they are
            tick(app, at(MONDAY, 8, 59), admins=admins)
            assert admins_digests(slack, SALARIEE) == []
            assert "1 admins' digest(s)" in tick(app, at(MONDAY, 9, 1), admins=admins)
            assert admins_digests(slack, ADMIN) == []  # 03:01 in New York
            tick(app, at(MONDAY, 15, 1), admins=admins)
            tick(app, at(TUESDAY, 15, 1), admins=admins)
        assert [m["text"] for m in admins_digests(slack, SALARIEE)] == ["Admins fr 2026-W07"]
        assert [m["text"] for m in admins_digests(slack, ADMIN)] == ["Admins en 2026-W07"]
        assert admins_digests(slack, MANAGER) == []
        found = records(db, "admins")
        assert sorted(r.recipient for r in found) == [ADMIN, SALARIEE]
        assert {r.team_id for r in found} == {None}
        assert sorted(r.key for r in rows(db, "digest_admins"))[0].startswith("digest-admins:")

    def test_nothing_when_the_composer_has_nothing(self, db, slack, tmp_path, monkeypatch):
        """No admins' digest is queued when the composer answers None (no team to list)."""
        team(db, slack)
        monkeypatch.setattr(compose, "admins_message", lambda *args, **kwargs: None)
        with app_at(db, slack, tmp_path, at(MONDAY, 9)) as app:
            tick(app, at(MONDAY, 15, 1), admins=frozenset({EMPLOYEE}))
        assert rows(db, "digest_admins") == [] and admins_digests(slack, EMPLOYEE) == []


def admins_digests(slack, user: str) -> list[dict]:
    return [
        m.params for m in slack.messages_to(user) if m.params.get("text", "").startswith("Admins")
    ]


def spy(monkeypatch, module, name: str) -> list[dict]:
    """Record the keyword arguments of each call to `module.name`, which still runs."""
    calls: list[dict] = []
    real = getattr(module, name)

    def recording(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, recording)
    return calls


WEEK_7 = at(MONDAY + timedelta(days=2), 10)  # a Wednesday morning of week 7


def open_digest(app, slack, user: str) -> dict:
    """`/symmetry digest` as `user`: the modal Slack was asked to open."""
    before = len(slack.calls_to("views.open"))
    response = app.platform.command(user, "/symmetry", "digest")
    assert response.status == 200 and not response.body  # acknowledged with nothing
    return slack.wait_for("views.open", count=before + 1)[-1].params["view"]


def preference(db, user: str) -> DigestPreference | None:
    with db.sessions() as session:
        return session.scalars(
            select(DigestPreference).where(DigestPreference.user_id == user)
        ).one_or_none()


class TestDigestCommand:
    def test_opens_the_settings_and_sends_each_team_s_digest_privately(self, db, slack, tmp_path):
        """A manager of two teams gets the settings modal (on, Monday) and, after it, this
        week's digest of each team in their DM, in their language; nothing is recorded or
        queued as the weekly one."""
        team(db, slack)
        team(db, slack, name="Sales", managers=(MANAGER,), members=(MANAGER, EMPLOYEE))
        with app_at(db, slack, tmp_path, WEEK_7) as app:
            view = open_digest(app, slack, MANAGER)
            slack.wait_for(
                "chat.postMessage", count=2, where=lambda c: c.params["channel"] == MANAGER
            )
        assert view["callback_id"] == "digest_settings"
        (enabled,) = [b for b in view["blocks"] if b.get("block_id") == "enabled"]
        assert [o["value"] for o in enabled["element"]["initial_options"]] == ["on"]
        (weekday,) = [b for b in view["blocks"] if b.get("block_id") == "weekday"]
        assert weekday["element"]["initial_option"]["value"] == "0"
        assert [header(m) for m in digests(slack, MANAGER)] == ["Bilan de la semaine 7"] * 2
        methods = [c.method for c in slack.calls if c.method in ("views.open", "chat.postMessage")]
        assert methods == ["views.open", "chat.postMessage", "chat.postMessage"]
        assert records(db) == [] and rows(db, "digest") == []

    def test_saves_the_submitter_s_own_choice(self, db, slack, tmp_path):
        """Unticked and Wednesday: saved for the manager, the modal says so in French, and
        the next opening shows it."""
        team(db, slack)
        with app_at(db, slack, tmp_path, WEEK_7) as app:
            view = open_digest(app, slack, MANAGER)
            answers = {"enabled": [], "weekday": "2"}
            response = app.platform.view_submission(MANAGER, view, form_values(view, answers))
            assert response.json()["response_action"] == "update"
            saved = response.json()["view"]
            assert "désactivé" in saved["blocks"][0]["text"]["text"]
            again = open_digest(app, slack, MANAGER)
        found = preference(db, MANAGER)
        assert (found.enabled, found.weekday) == (False, 2)
        (weekday,) = [b for b in again["blocks"] if b.get("block_id") == "weekday"]
        assert weekday["element"]["initial_option"]["value"] == "2"
        (enabled,) = [b for b in again["blocks"] if b.get("block_id") == "enabled"]
        assert "initial_options" not in enabled["element"]

    def test_forged_submissions_change_no_one_else(self, db, slack, tmp_path):
        """Someone neither manager nor admin submitting the manager's modal is refused and
        nothing is saved; an admin submitting it saves the admin's own choice only; a day
        that is not Monday to Friday is refused on its field."""
        team(db, slack)
        with app_at(db, slack, tmp_path, WEEK_7) as app:
            view = open_digest(app, slack, MANAGER)
            values = form_values(view, {"enabled": [], "weekday": "4"})
            forged = app.platform.view_submission(EMPLOYEE, view, values).json()
            assert forged["response_action"] == "errors"
            assert "Nothing was changed" in forged["errors"]["enabled"]
            weekend = form_values(view, {"weekday": "6"})
            refused = app.platform.view_submission(MANAGER, view, weekend).json()
            assert refused["errors"] == {"weekday": "Choisissez un jour du lundi au vendredi."}
            admin = app.platform.view_submission(ADMIN, view, values).json()
            assert admin["response_action"] == "update"
        assert preference(db, MANAGER) is None and preference(db, EMPLOYEE) is None
        found = preference(db, ADMIN)
        assert (found.enabled, found.weekday) == (False, 4)

    def test_the_preview_s_chart_goes_to_the_dm_channel(self, db, slack, tmp_path, monkeypatch):
        """With a chart to draw, it is uploaded after the preview, through the external upload
        flow, into the DM conversation the post answered (D…), never a user ID."""
        team(db, slack)
        monkeypatch.setattr(chart, "png", lambda series, locale: PNG)
        with app_at(db, slack, tmp_path, WEEK_7) as app:
            open_digest(app, slack, MANAGER)
            (completion,) = slack.wait_for("files.completeUploadExternal")
        (asked,) = slack.calls_to("files.getUploadURLExternal")
        assert asked.params["filename"] == "digest-2026-W07.png"
        assert int(asked.params["length"]) == len(PNG)
        assert completion.params["channel_id"] == "D" + MANAGER
        assert len(digests(slack, MANAGER)) == 1
        assert completion.at >= slack.messages_to(MANAGER)[-1].at
        (shared,) = slack.files_in(MANAGER)
        assert (shared.filename, shared.title, shared.content) == (
            "digest-2026-W07.png",
            "Les 12 dernières semaines — Workshop",
            PNG,
        )

    def test_an_admin_managing_no_team_gets_the_admins_digest(
        self, db, slack, tmp_path, monkeypatch
    ):
        """An admin who manages no team gets the modal and the admins' digest of the week."""
        team(db, slack)
        monkeypatch.setattr(
            compose,
            "admins_message",
            lambda session, policy, *, workspace_id, week, locale, now: message(
                f"Admins {locale} {week.label}"
            ),
        )
        with app_at(db, slack, tmp_path, WEEK_7) as app:
            open_digest(app, slack, ADMIN)
            (sent,) = slack.wait_for(
                "chat.postMessage", where=lambda c: c.params["channel"] == ADMIN
            )
        assert sent.params["text"] == "Admins en 2026-W07"
        assert records(db, "admins") == []

    def test_someone_neither_manager_nor_admin_is_refused(self, db, slack, tmp_path):
        """An employee is told, in their language, that the digest is for managers and
        admins; no modal opens and nothing is sent."""
        team(db, slack)
        with app_at(db, slack, tmp_path, WEEK_7) as app:
            english = answer_of(app.platform.command(EMPLOYEE, "/symmetry", "digest"), slack)
            french = answer_of(app.platform.command(SALARIEE, "/symmetry", "digest"), slack)
        assert "for team managers and admins" in english["text"]
        assert "responsables d’équipe" in french["text"]
        assert english["response_type"] == "ephemeral"
        assert slack.calls_to("views.open") == [] and slack.calls_to("chat.postMessage") == []


class TestTeamSetting:
    def test_said_did_in_the_team_modal(self, db, slack, tmp_path):
        """The team setup modal offers "You said, we did", unticked for a new team; ticked,
        the team has it, and editing the team shows it ticked."""
        with app_at(db, slack, tmp_path, WEEK_7) as app:
            view = open_setup(app.platform, slack)
            (field,) = [b for b in view["blocks"] if b["block_id"].startswith("said_did-")]
            assert field["optional"] is True and "initial_options" not in field["element"]
            answers = team_answers(said_did=["on"])
            response = app.platform.view_submission(ADMIN, view, form_values(view, answers))
            assert "errors" not in (response.body or "")
            slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == ADMIN)
        with db.sessions() as session:
            saved = session.scalars(select(Team)).one()
            assert saved.said_did is True
            form = setup_modal.form_for(session, POLICY, team_id=saved.id)
        assert form.said_did is True

    def test_said_did_from_the_command_line(self, db, cli):
        """`symmetry team add … --said-did` makes a team with the setting on."""
        args = ["--channel", TEAM_CHANNEL, "--manager", MANAGER, "--said-did"]
        result = cli.run("team", "add", "Atelier", *args)
        assert result.status == 0, result.err
        with db.sessions() as session:
            assert session.scalars(select(Team.said_did)).one() is True
