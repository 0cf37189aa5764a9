"""Irritant hunting: /irritant, the modal, similar reports and what managers are told at once
— through the app in this process (tests/inprocess.py), the simulated Slack and a real DB."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.demo.slack import form_values
from bot.irritants import choices
from bot.irritants.choices import ChoiceCache
from storage.irritants import ReportChoices
from storage.models import (
    Irritant,
    IrritantDraft,
    IrritantVote,
    Membership,
    OutboxMessage,
    Team,
)
from tests.conftest import EMPLOYEE, MANAGER, SALARIEE, answer_of
from tests.irritant_helpers import EXTRA, answers, big_team, irritants, open_modal, report


def outbox_rows(db, kind: str | None = None) -> list[OutboxMessage]:
    with db.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        return list(session.scalars(query))


class TestCommand:
    def test_opens_the_modal_with_the_team_preselected(self, platform, slack, db):
        """/irritant opens the report modal within 3 s, the person's only team preselected."""
        big_team(db, slack)
        response = platform.command(EMPLOYEE, "/irritant", "")
        assert response.status == 200 and response.elapsed < 3
        view = slack.wait_for("views.open")[0].params["view"]
        assert view["callback_id"] == "irritant_report"
        team = next(b for b in view["blocks"] if b.get("block_id") == "team")
        assert team["element"]["initial_option"]["text"]["text"] == "Workshop"
        share = next(b for b in view["blocks"] if b.get("block_id") == "share")
        assert "initial_options" not in share["element"]  # anonymous unless ticked

    def test_offers_the_team_recent_places(self, platform, slack, db):
        """The modal offers the places named in the team's reports, newest first; an
        anonymous report's place only once the roundup has shown it."""
        big_team(db, slack)
        view = open_modal(platform, slack, EMPLOYEE)
        assert "recent_location" not in {b.get("block_id") for b in view["blocks"]}
        report(platform, slack, EMPLOYEE, share=True, location="Loading dock")
        report(platform, slack, SALARIEE, location="Back office", description="Cold")

        def offered() -> list[str]:
            view = open_modal(platform, slack, MANAGER)
            block = next(b for b in view["blocks"] if b.get("block_id") == "recent_location")
            return [option["value"] for option in block["element"]["options"]]

        assert offered() == ["Loading dock"]
        with db.sessions.begin() as session:
            session.execute(update(Irritant).values(rounded_up_at=func.now()))
        assert offered() == ["Back office", "Loading dock"]

    @pytest.mark.parametrize(
        ("user", "words", "category"),
        [
            (EMPLOYEE, "the printer jams again", "tools"),
            (SALARIEE, "il fait trop chaud dans l'atelier", "temperature"),
        ],
    )
    def test_text_prefills_and_guesses(self, platform, slack, db, user, words, category):
        """/irritant TEXT fills the description and guesses the category, in EN and FR."""
        big_team(db, slack)
        view = open_modal(platform, slack, user, words)
        blocks = {b.get("block_id"): b for b in view["blocks"]}
        assert blocks["description"]["element"]["initial_value"] == words
        assert blocks["category"]["element"]["initial_option"]["value"] == category

    def test_help_and_list_answer_privately(self, platform, slack, db):
        """/irritant help and /irritant list answer on the response URL, ephemerally."""
        big_team(db, slack)
        platform.command(EMPLOYEE, "/irritant", "help")
        help_answer = slack.wait_for("response_url")[0].params
        assert help_answer["response_type"] == "ephemeral"
        assert "/irritant list" in json.dumps(help_answer)
        slack.clear_calls()
        platform.command(EMPLOYEE, "/irritant", "list")
        listing = slack.wait_for("response_url")[0].params
        assert listing["response_type"] == "ephemeral"
        assert "not reported anything" in json.dumps(listing)

    def test_text_past_the_limit_is_cut_and_said(self, platform, slack, db):
        """/irritant with more than 3000 characters: the modal holds the first 3000 and says
        the end was cut, before anything is sent."""
        big_team(db, slack)
        view = open_modal(platform, slack, EMPLOYEE, "x" * 2990 + " the end is here")
        (description,) = [b for b in view["blocks"] if b.get("block_id") == "description"]
        assert len(description["element"]["initial_value"]) == 3000
        assert "3000" in description["hint"]["text"]
        view = open_modal(platform, slack, EMPLOYEE, "the printer jams")
        (description,) = [b for b in view["blocks"] if b.get("block_id") == "description"]
        assert "hint" not in description

    def test_list_pages_through_every_report(self, platform, slack, db):
        """Seventeen reports: the list shows the newest fifteen and how to see the rest;
        `/irritant list 2` shows the other two; no report is out of reach."""
        team_id = big_team(db, slack)
        with db.sessions.begin() as session:
            workspace_id = session.get(Team, team_id).workspace_id
            for number in range(1, 18):
                moment = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=number)
                session.add(
                    Irritant(
                        workspace_id=workspace_id, team_id=team_id, category="noise",
                        space="employee", location="", severity="minor",
                        description=f"Report number {number:02d}", anonymous=False,
                        reporter_id=EMPLOYEE, status="new", created_at=moment,
                        updated_at=moment,
                    )
                )  # fmt: skip
        first = answer_of(platform.command(EMPLOYEE, "/irritant", "list"), slack)
        shown = re.findall(r"Report number (\d\d)", json.dumps(first))
        assert shown == [f"{n:02d}" for n in range(17, 2, -1)]
        assert "/irritant list 2" in json.dumps(first)
        second = answer_of(platform.command(EMPLOYEE, "/irritant", "list 2"), slack)
        assert re.findall(r"Report number (\d\d)", json.dumps(second)) == ["02", "01"]
        assert "/irritant list 3" not in json.dumps(second)

    def test_person_in_no_team_is_told_how_to_join(self, platform, slack, db):
        """Someone in no team gets directions instead of a modal."""
        big_team(db, slack, members=[MANAGER, EMPLOYEE])
        platform.command(SALARIEE, "/irritant", "")
        answer = json.dumps(slack.wait_for("response_url")[0].params, ensure_ascii=False)
        assert "équipe" in answer or "team" in answer
        assert slack.calls_to("views.open") == []


class TestValidation:
    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"description": "   "}, "description"),
            ({"description": "x" * 3001}, "description"),
            ({"category": None}, "category"),
            ({"space": None}, "space"),
            ({"severity": None}, "severity"),
            ({"location": "y" * 201}, "location"),
        ],
    )
    def test_refused_inside_the_modal(self, platform, slack, db, overrides, field):
        """Empty or too-long text and missing choices are field errors; nothing is stored."""
        big_team(db, slack)
        view = open_modal(platform, slack, EMPLOYEE)
        values = form_values(view, {k: v for k, v in answers(**overrides).items() if v})
        response = platform.view_submission(EMPLOYEE, view, values)
        body = response.json()
        assert body["response_action"] == "errors"
        assert field in body["errors"]
        assert irritants(db) == []

    def test_a_team_that_is_not_theirs_is_refused(self, platform, slack, db):
        """A forged team value (not one of the person's teams) is refused."""
        big_team(db, slack)
        other = big_team(db, slack, name="Office", members=[MANAGER])
        view = open_modal(platform, slack, EMPLOYEE)
        values = form_values(view, answers())
        values["team"] = {
            "value": {"type": "static_select", "selected_option": {"value": str(other)}}
        }
        body = platform.view_submission(EMPLOYEE, view, values).json()
        assert "team" in body["errors"]
        assert irritants(db) == []


class TestAnonymousReport:
    def test_stored_without_user_id_and_not_pinged(self, platform, slack, db):
        """An anonymous report keeps only a keyed hash, and managers are not pinged now."""
        big_team(db, slack)
        response = report(platform, slack, SALARIEE)
        assert response.json()["response_action"] == "update", response.body
        (irritant,) = irritants(db)
        assert irritant.anonymous and irritant.reporter_id is None and irritant.reporter_hash
        assert irritant.created_at.hour == 0 and irritant.created_at.minute == 0
        assert outbox_rows(db) == []  # nobody is told before the roundup
        assert slack.calls_to("chat.postMessage") == []

    def test_same_submission_twice_is_stored_once(self, platform, slack, db):
        """Slack delivering the same view submission twice stores one report."""
        big_team(db, slack)
        view = open_modal(platform, slack, EMPLOYEE)
        values = form_values(view, answers())
        first = platform.view_submission(EMPLOYEE, view, values)
        second = platform.view_submission(EMPLOYEE, view, values)
        assert first.status == second.status == 200
        assert len(irritants(db)) == 1

    def test_small_team_routes_to_admins_and_says_so(self, platform, slack, db):
        """In a team under the threshold, the modal warns and the roundup goes to admins."""
        big_team(db, slack, members=[MANAGER, EMPLOYEE, SALARIEE])
        view = open_modal(platform, slack, EMPLOYEE)
        assert "admins" in json.dumps(view)
        response = report(platform, slack, EMPLOYEE)
        # The modal is replaced through the ack (`views.open` holds only the modal itself).
        assert response.json()["response_action"] == "update", response.body


class TestKeptChoices:
    """The modal's choices are kept per person for seconds (bot.irritants.choices)."""

    def test_a_team_that_shrinks_warns_on_the_next_modal(self, platform, slack, db):
        """A membership removed in this process voids the kept choices at once: the next
        modal warns that the team is now too small to stay anonymous."""
        big_team(db, slack)
        assert "admins" not in json.dumps(open_modal(platform, slack, EMPLOYEE))
        assert "admins" not in json.dumps(open_modal(platform, slack, EMPLOYEE))  # kept
        with db.sessions.begin() as session:
            for membership in session.scalars(
                select(Membership).where(Membership.user_id.in_(EXTRA))
            ):
                session.delete(membership)
        assert "admins" in json.dumps(open_modal(platform, slack, EMPLOYEE))

    def test_kept_for_seconds_then_read_again(self):
        """Kept while the real and the injected clocks both stay within the TTL; a write
        committed elsewhere in the process voids it."""
        ticks = [100.0]
        cache = ChoiceCache(ttl=30, clock=lambda: ticks[0])
        reads: list[int] = []

        def read() -> ReportChoices:
            reads.append(1)
            return ReportChoices([], [f"place {len(reads)}"])

        now = datetime(2026, 3, 2, 9, tzinfo=UTC)
        ask = lambda at: cache.get(1, "U1", now=at, read=read).locations  # noqa: E731
        assert ask(now) == ["place 1"]
        assert ask(now + timedelta(seconds=20)) == ["place 1"]
        assert cache.get(1, "U2", now=now, read=read).locations == ["place 2"]  # per person
        ticks[0] += 31
        assert ask(now) == ["place 3"]  # real time past the TTL
        assert ask(now + timedelta(seconds=31)) == ["place 4"]  # injected time past it
        assert ask(now - timedelta(seconds=1)) == ["place 5"]  # injected time went back
        choices.invalidate()
        assert ask(now - timedelta(seconds=1)) == ["place 6"]
        assert len(reads) == 6


class TestOddText:
    def test_a_nul_character_is_dropped_not_the_report(self, platform, slack, db):
        """A report whose texts hold NUL characters (PostgreSQL refuses them) is stored
        without them, and the reporter is thanked as usual."""
        big_team(db, slack)
        response = report(
            platform,
            slack,
            EMPLOYEE,
            description="The fan\x00 rattles all day",
            location="Bay\x002",
        )
        assert response.status == 200 and response.json()["response_action"] == "update"
        (irritant,) = irritants(db)
        assert (irritant.description, irritant.location) == ("The fan rattles all day", "Bay2")


class TestNamedReport:
    def test_managers_are_told_at_once(self, platform, slack, db):
        """A named report keeps the reporter's ID and queues a message to each manager now."""
        big_team(db, slack)
        report(platform, slack, EMPLOYEE, share=True)
        (irritant,) = irritants(db)
        assert (irritant.anonymous, irritant.reporter_id) == (False, EMPLOYEE)
        (message,) = outbox_rows(db, "irritant_new")
        assert message.recipient == MANAGER
        assert f"<@{EMPLOYEE}>" in json.dumps(message.payload)


def similar_button(view: dict, action_id: str) -> dict:
    """The button `action_id` of the similar-report view."""
    return next(
        e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
        if e["action_id"] == action_id
    )  # fmt: skip


def offered_a_similar_one(platform, slack, db) -> tuple[dict, dict]:
    """EMPLOYEE reports, then SALARIEE writes much the same: the similar-report view she is
    shown, and its "send mine" button."""
    big_team(db, slack)
    report(platform, slack, EMPLOYEE)
    view = report(
        platform, slack, SALARIEE, description="staff room freezing every morning"
    ).json()["view"]
    send = similar_button(view, "irritant_similar_send")
    return view, send


class TestSimilar:
    def test_me_too_instead_of_a_duplicate(self, platform, slack, db):
        """A report like an open one offers "me too"; the vote counts once per person and
        stores no user ID."""
        big_team(db, slack)
        report(platform, slack, EMPLOYEE)
        response = report(
            platform, slack, SALARIEE, description="the staff room is freezing in the morning"
        )
        view = response.json()["view"]
        assert "irritant_similar_vote" in json.dumps(view)
        vote = similar_button(view, "irritant_similar_vote")
        # The simulated Slack shows this modal in place of the report (same view id).
        platform.block_action(SALARIEE, "irritant_similar_vote", vote["value"], view=view)
        (update,) = slack.wait_for("views.update")
        assert not update.failed
        assert len(irritants(db)) == 1
        with db.sessions() as session:
            votes = session.scalars(select(IrritantVote)).all()
        assert len(votes) == 1 and SALARIEE not in votes[0].voter_hash
        # The same choice again (a replay) adds nothing.
        platform.block_action(SALARIEE, "irritant_similar_vote", vote["value"], view=view)
        slack.wait_for("views.update", count=2)
        with db.sessions() as session:
            assert session.scalar(select(func.count()).select_from(IrritantVote)) == 1

    def test_send_mine_anyway(self, platform, slack, db):
        """Choosing "it's different" stores the second report."""
        view, send = offered_a_similar_one(platform, slack, db)
        platform.block_action(SALARIEE, "irritant_similar_send", send["value"], view=view)
        # Sent after the write: waiting for it leaves nothing of this test in flight.
        (update,) = slack.wait_for("views.update")
        assert not update.failed
        assert len(irritants(db)) == 2

    def test_a_manager_is_not_shown_a_report_before_its_roundup(self, platform, slack, db):
        """The team's manager, reporting the same thing, is not offered the anonymous report
        the roundup has not shown yet: theirs is stored."""
        big_team(db, slack)
        report(platform, slack, SALARIEE)
        response = report(
            platform, slack, MANAGER, description="the staff room is freezing in the morning"
        )
        assert "irritant_similar_vote" not in json.dumps(response.json())
        assert len(irritants(db)) == 2

    def test_a_forged_me_too_shows_a_manager_no_hidden_report(self, platform, slack, db):
        """A manager offered a visible report, who forges "me too" on an anonymous one the
        roundup has not shown, reads nothing of it and adds no vote to it; their own report
        is kept."""
        big_team(db, slack)
        report(
            platform, slack, SALARIEE, description="The printer upstairs jams on every page",
            category="tools", location="Print room",
        )  # fmt: skip
        (hidden,) = irritants(db)
        report(platform, slack, EMPLOYEE, share=True)  # named: on the manager's board at once
        view = report(
            platform, slack, MANAGER, description="the staff room is freezing in the morning"
        ).json()["view"]
        vote = similar_button(view, "irritant_similar_vote")
        token = vote["value"].partition(":")[0]
        slack.clear_calls()
        forged = f"{token}:{hidden.id}"
        platform.block_action(MANAGER, "irritant_similar_vote", forged, view=view)
        (update_call,) = slack.wait_for("views.update")
        assert "printer" not in json.dumps(update_call.params["view"]).lower()
        with db.sessions() as session:
            votes = session.scalars(select(IrritantVote.irritant_id)).all()
        assert hidden.id not in votes
        assert len(irritants(db)) == 3  # the manager's own report, not lost

    def test_a_second_click_stores_nothing_more_and_says_why(self, platform, slack, db):
        """A double click on "send mine": one report, and the second click's answer points to
        the list rather than claiming nothing was stored."""
        view, send = offered_a_similar_one(platform, slack, db)
        platform.block_action(SALARIEE, "irritant_similar_send", send["value"], view=view)
        slack.wait_for("views.update")
        platform.block_action(SALARIEE, "irritant_similar_send", send["value"], view=view)
        second = slack.wait_for("views.update", count=2)[-1].params["view"]
        assert "/irritant list" in json.dumps(second)
        assert len(irritants(db)) == 2

    def test_a_late_choice_still_counts(self, platform, slack, db):
        """A choice made after the draft's lifetime, before `tick` forgot it, is honoured: what
        the person typed is not lost."""
        view, send = offered_a_similar_one(platform, slack, db)
        with db.sessions.begin() as session:
            session.execute(
                update(IrritantDraft).values(expires_at=datetime(2020, 1, 1, tzinfo=UTC))
            )
        platform.block_action(SALARIEE, "irritant_similar_send", send["value"], view=view)
        slack.wait_for("views.update")
        assert len(irritants(db)) == 2

    def test_another_person_cannot_use_the_choice(self, platform, slack, db):
        """A forged "me too" click by someone else with the draft's token changes nothing."""
        view, send = offered_a_similar_one(platform, slack, db)
        platform.block_action(EMPLOYEE, "irritant_similar_send", send["value"], view=view)
        (refusal,) = slack.wait_for("views.update")
        assert not refusal.failed
        assert len(irritants(db)) == 1
