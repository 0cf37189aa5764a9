"""The sensory walk's forms (issue 11, items 2, 3 and 6): the manager's modal (draft, close
and resume, submit), invited teammates' notes, findings made irritants, and every refusal —
on the app in this process (tests/inprocess.py), the simulated Slack and a real database;
the quarter's closing, where an instant matters, through the domain with `now` injected."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.demo.slack import form_values
from bot.shared.i18n import translate
from bot.walks import access, teammates, walking
from bot.walks.form import ERRORS
from bot.walks.quarters import Quarter
from storage import walks
from storage.models import Irritant, OutboxMessage, Team, TeamManager, Walk
from tests.conftest import ADMIN, EMPLOYEE, MANAGER, POLICY, SALARIEE
from tests.inprocess import PARIS, TODAY, tick
from tests.irritant_helpers import big_team, wait_until

QUARTER = Quarter.of(TODAY)  # the in-process app's quarter, not the real one
DUE = datetime(2026, 1, 2, 8, 30, tzinfo=UTC)
SCORES = {
    "rate-sight-customer": "5",
    "rate-sight-employee": "3",
    "rate-smell-customer": "4",
    "rate-smell-employee": "1",
    "rate-touch-customer": "4",
    "rate-touch-employee": "2",
}
NOTES = {
    "note-smell-employee": "The staff toilets smell, the customer ones are spotless",
    "note-touch-employee": "The workshop chairs are worn through",
    "note-sight-customer": "The entrance sign is clean and well lit",
}


def a_walk(db, team_id: int, quarter: str = QUARTER.label, **columns) -> str:
    """The team's walk of `quarter` (as the clock makes it), with `columns` set; its id."""
    with db.sessions.begin() as session:
        walk = walks.get_or_create(session, team_id=team_id, quarter=quarter, due_at=DUE)
        for name, value in columns.items():
            setattr(walk, name, value)
        session.flush()
        return walk.public_id


def the_walk(db, public_id: str) -> Walk:
    with db.sessions() as session:
        walk = walks.get(session, public_id=public_id)
        assert walk is not None
        session.expunge_all()
        return walk


def irritants(db) -> list[Irritant]:
    with db.sessions() as session:
        return list(session.scalars(select(Irritant).order_by(Irritant.id)))


def queued(db, kind: str) -> list[OutboxMessage]:
    with db.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        return list(session.scalars(query))


def opened(platform, slack, user: str, action: str, value: str) -> dict:
    """Click `action` in a DM and return the modal Slack was asked to open."""
    slack.clear_calls()
    platform.block_action(user, action, value, message={})
    return slack.wait_for("views.open")[0].params["view"]


def open_walk(platform, slack, public_id: str, user: str = MANAGER) -> dict:
    return opened(platform, slack, user, "walk_start", public_id)


def submit(platform, user: str, view: dict, answers: dict):
    """Submit `view` filled with `answers` (by block ID); the response's JSON."""
    response = platform.view_submission(user, view, form_values(view, answers))
    assert response.status == 200
    return response.json()


def notice_text(view: dict) -> str:
    assert view.get("callback_id", "") in ("", None) and view["type"] == "modal"
    return view["blocks"][0]["text"]["text"]


def refusal(code: str, locale: str = "en") -> str:
    """A refusal's text (MANAGER and SALARIEE read French, the others English)."""
    return translate(locale, access.REFUSALS[code])


def block_ids(view: dict) -> list[str]:
    return [b.get("block_id", "") for b in view["blocks"]]


def initial(view: dict, block_id: str):
    (block,) = [b for b in view["blocks"] if b.get("block_id") == block_id]
    element = block["element"]
    option = element.get("initial_option")
    return option["value"] if option else element.get("initial_value")


class TestTheModal:
    def test_fits_a_phone_and_slack(self, platform, slack, db):
        """The modal holds the five senses in order, a rating and a note per space, the two
        questions, teammates and the draft/done choice, within Slack's 100 blocks; it asks
        to be told when it is closed."""
        walk_id = a_walk(db, big_team(db, slack))
        view = open_walk(platform, slack, walk_id)
        assert view["callback_id"] == "walk_submit" and view["notify_on_close"] is True
        assert len(view["blocks"]) <= 100
        ids = block_ids(view)
        rated = [i for i in ids if i.startswith("rate-")]
        assert rated == [
            f"rate-{sense}-{space}"
            for sense in ("sight", "hearing", "smell", "touch", "taste")
            for space in ("customer", "employee")
        ]
        assert {"stopped_seeing", "works_well", "invite", "finish"} <= set(ids)
        french = open_walk(platform, slack, walk_id, user=SALARIEE)  # refused, in French
        assert notice_text(french) == refusal("not_manager", "fr")


class TestDraft:
    def test_save_a_draft_then_resume(self, platform, slack, db):
        """ "Save as a draft" keeps what was typed on the server and nothing else; opening
        the walk again fills the form with it."""
        walk_id = a_walk(db, big_team(db, slack))
        view = open_walk(platform, slack, walk_id)
        answer = submit(platform, MANAGER, view, {**SCORES, **NOTES, "finish": "draft"})
        assert answer["response_action"] == "update"
        assert notice_text(answer["view"]).startswith("Votre brouillon est enregistré")
        walk = the_walk(db, walk_id)
        assert walk.draft["scores"]["smell"] == {"customer": 4, "employee": 1}
        assert walk.draft["notes"]["touch"]["employee"] == NOTES["note-touch-employee"]
        assert walk.draft_by == MANAGER and walk.draft_saved_at is not None
        assert (walk.done_at, walk.scores, walk.notes, walk.manager_id) == (None, None, [], None)
        again = open_walk(platform, slack, walk_id)
        assert initial(again, "rate-smell-employee") == "1"
        assert initial(again, "note-smell-employee") == NOTES["note-smell-employee"]
        assert initial(again, "rate-hearing-customer") is None

    def test_closing_the_modal_loses_nothing(self, platform, slack, db):
        """Closing the modal (Slack's view_closed) keeps what was typed as the draft, which
        the next opening resumes."""
        walk_id = a_walk(db, big_team(db, slack))
        view = open_walk(platform, slack, walk_id)
        values = form_values(view, {"rate-taste-employee": "2", "works_well": "The coffee"})
        assert platform.view_closed(MANAGER, view, values).status == 200
        wait_until(lambda: the_walk(db, walk_id).draft is not None)
        assert the_walk(db, walk_id).done_at is None
        again = open_walk(platform, slack, walk_id)
        assert initial(again, "rate-taste-employee") == "2"
        assert initial(again, "works_well") == "The coffee"


class TestSubmit:
    def test_done_records_the_walk_and_offers_the_findings(self, platform, slack, db):
        """ "I'm done" stores the ratings, a note per field written (by the manager), the two
        answers, when and by whom, drops the draft, and shows the findings step."""
        walk_id = a_walk(db, big_team(db, slack), draft={"scores": {}}, draft_by=MANAGER)
        view = open_walk(platform, slack, walk_id)
        answers = {**SCORES, **NOTES, "stopped_seeing": "The break room has no window"}
        answer = submit(platform, MANAGER, view, {**answers, "finish": "done"})
        assert answer["view"]["callback_id"] == "walk_findings"
        walk = the_walk(db, walk_id)
        assert walk.done_at is not None and walk.manager_id == MANAGER
        assert walk.scores["sight"] == {"customer": 5, "employee": 3}
        assert walk.scores["hearing"] == {"customer": None, "employee": None}
        assert walk.stopped_seeing == "The break room has no window" and walk.works_well is None
        assert walk.draft is None and walk.submission_key
        notes = {(n.sense, n.space): (n.text, n.author_id) for n in walk.notes}
        assert notes == {
            ("smell", "employee"): (NOTES["note-smell-employee"], MANAGER),
            ("touch", "employee"): (NOTES["note-touch-employee"], MANAGER),
            ("sight", "customer"): (NOTES["note-sight-customer"], MANAGER),
        }

    def test_the_same_submission_twice_counts_once(self, platform, slack, db):
        """The same view delivered again answers as the first time and stores nothing more;
        another submission once the walk is done is refused as already done."""
        walk_id = a_walk(db, big_team(db, slack))
        view = open_walk(platform, slack, walk_id)
        view["id"] = slack._find_view(view)["id"]  # the id Slack gave it
        values = form_values(view, {**SCORES, **NOTES, "finish": "done"})
        first = platform.view_submission(MANAGER, view, values).json()
        stored = the_walk(db, walk_id)
        second = platform.view_submission(MANAGER, view, values).json()
        assert second["view"]["callback_id"] == first["view"]["callback_id"] == "walk_findings"
        other = {**view, "id": "VANOTHER01"}
        third = submit(platform, MANAGER, other, {**SCORES, "finish": "done"})
        assert notice_text(third["view"]) == refusal("done", "fr")
        walk = the_walk(db, walk_id)
        assert len(walk.notes) == len(NOTES) and walk.done_at == stored.done_at
        assert walk.submission_key == stored.submission_key

    def test_done_needs_a_rating_and_a_choice(self, platform, slack, db):
        """Finishing with nothing rated, or without choosing draft or done, is refused in
        the form, and nothing is stored."""
        walk_id = a_walk(db, big_team(db, slack))
        view = open_walk(platform, slack, walk_id)
        empty = submit(platform, MANAGER, view, {**NOTES, "finish": "done"})
        assert empty["errors"] == {"rate-sight-customer": translate("fr", ERRORS["nothing_rated"])}
        unchosen = submit(platform, MANAGER, view, SCORES)
        assert list(unchosen["errors"]) == ["finish"]
        walk = the_walk(db, walk_id)
        assert (walk.done_at, walk.draft, walk.notes) == (None, None, [])


class TestFindings:
    def decide(self, platform, slack, db, walk_id: str) -> dict:
        """Do the walk with NOTES, then tick the smell and touch notes as findings, touch's
        in "tools" rather than the proposed category; the summary view."""
        view = open_walk(platform, slack, walk_id)
        step = submit(platform, MANAGER, view, {**SCORES, **NOTES, "finish": "done"})["view"]
        ids = {(n.sense, n.space): n.id for n in the_walk(db, walk_id).notes}
        smell, touch = ids[("smell", "employee")], ids[("touch", "employee")]
        proposed = initial(step, f"category-{touch}")
        assert (initial(step, f"category-{smell}"), proposed) == ("cleanliness", "temperature")
        ticks = {f"finding-{smell}": ["finding"], f"finding-{touch}": ["finding"]}
        answer = submit(platform, MANAGER, step, {**ticks, f"category-{touch}": "tools"})
        return answer["view"]

    def test_findings_become_named_irritants_of_the_team(self, platform, slack, db):
        """Each ticked note becomes an irritant of the team: named, the manager reporting,
        source "walk", its walk, its space from its field, the category proposed or chosen;
        the team's managers are told at once, like any named report; the summary shows the
        gap per sense."""
        team_id = big_team(db, slack)
        walk_id = a_walk(db, team_id)
        summary = self.decide(platform, slack, db, walk_id)
        made = irritants(db)
        walk = the_walk(db, walk_id)
        assert [(i.category, i.space) for i in made] == [
            ("cleanliness", "employee"),
            ("tools", "employee"),
        ]
        for irritant in made:
            assert (irritant.source, irritant.walk_id, irritant.team_id) == (
                "walk",
                walk.id,
                team_id,
            )
            assert (irritant.anonymous, irritant.reporter_id, irritant.status) == (
                False,
                MANAGER,
                "new",
            )
        notes = {n.irritant_id: n for n in walk.notes if n.finding}
        assert {i.id for i in made} == set(notes)
        assert notes[made[1].id].category == "tools"
        assert [m.recipient for m in queued(db, "irritant_new")] == [MANAGER, MANAGER]
        gaps = json.dumps(summary)
        assert summary["blocks"][1]["fields"][2]["text"].endswith("Écart +3")  # smell: 4 - 1
        assert "expedition_open" in gaps and walk_id in gaps

    def test_the_manager_hears_when_a_finding_moves(self, app, platform, slack, db):
        """A finding goes through triage like any named report: its reporter, the walk's
        manager, gets the follow-up."""
        walk_id = a_walk(db, big_team(db, slack))
        self.decide(platform, slack, db, walk_id)
        first = irritants(db)[0]
        platform.block_action(MANAGER, "irritant_acknowledge", first.public_id, message={})
        wait_until(lambda: irritants(db)[0].status == "acknowledged")
        (update,) = queued(db, "irritant_update")
        assert update.recipient == MANAGER

    def test_a_replayed_choice_makes_each_irritant_once(self, platform, slack, db):
        """The findings step submitted again makes no second irritant, and the walk opened
        again shows its summary."""
        walk_id = a_walk(db, big_team(db, slack))
        view = open_walk(platform, slack, walk_id)
        step = submit(platform, MANAGER, view, {**SCORES, **NOTES, "finish": "done"})["view"]
        (note_id, *_) = [n.id for n in the_walk(db, walk_id).notes]
        values = form_values(step, {f"finding-{note_id}": ["finding"]})
        platform.view_submission(MANAGER, step, values)
        platform.view_submission(MANAGER, step, values)
        assert len(irritants(db)) == 1
        again = open_walk(platform, slack, walk_id)
        assert "expedition_open" in json.dumps(again)

    def test_only_the_teams_managers_decide(self, platform, slack, db):
        """The findings step replayed by someone else, or with a forged category, makes
        nothing."""
        walk_id = a_walk(db, big_team(db, slack))
        view = open_walk(platform, slack, walk_id)
        step = submit(platform, MANAGER, view, {**SCORES, **NOTES, "finish": "done"})["view"]
        note_id = the_walk(db, walk_id).notes[0].id
        ticked = {f"finding-{note_id}": ["finding"]}
        forged = submit(platform, EMPLOYEE, step, ticked)
        assert notice_text(forged["view"]) == refusal("not_manager")
        odd = submit(platform, MANAGER, step, {**ticked, f"category-{note_id}": "gold"})
        assert list(odd["errors"]) == [f"category-{note_id}"]
        assert irritants(db) == []


class TestTeammates:
    def test_an_invited_teammate_adds_notes(self, app, platform, slack, db):
        """Teammates named in the form get a DM (once) with a button to their short form;
        their notes join the walk under their name, once; the manager can make them
        findings. Nobody else may send notes."""
        walk_id = a_walk(db, big_team(db, slack))
        platform.command(SALARIEE, "/symmetry", "help")  # the bot now knows her language
        view = open_walk(platform, slack, walk_id)
        submit(platform, MANAGER, view, {"invite": [SALARIEE, MANAGER], "finish": "draft"})
        submit(platform, MANAGER, view, {"invite": [SALARIEE], "finish": "draft"})
        (invite,) = queued(db, "walk_invite")
        assert invite.recipient == SALARIEE
        tick(app, app.now() + timedelta(minutes=1))
        (message,) = [
            c.params
            for c in slack.calls_to("chat.postMessage")
            if c.params["channel"] == SALARIEE and "walk_teammate_open" in json.dumps(c.params)
        ]
        assert message["text"].startswith("Vous êtes invité")  # in her language
        form = opened(platform, slack, SALARIEE, "walk_teammate_open", walk_id)
        assert form["callback_id"] == "walk_teammate" and "rate-" not in json.dumps(form)
        outsider = opened(platform, slack, EMPLOYEE, "walk_teammate_open", walk_id)
        assert notice_text(outsider) == refusal("not_invited")
        note = {"note-hearing-employee": "The compressor drowns every phone call"}
        assert notice_text(submit(platform, EMPLOYEE, form, note)["view"]) == refusal("not_invited")
        thanks = submit(platform, SALARIEE, form, note)
        assert "Merci" in notice_text(thanks["view"])
        again = submit(platform, SALARIEE, form, {"note-taste-customer": "More"})
        assert notice_text(again["view"]) == refusal("sent", "fr")
        walk = the_walk(db, walk_id)
        assert [(n.author_id, n.sense, n.space) for n in walk.notes] == [
            (SALARIEE, "hearing", "employee")
        ]
        step = open_walk(platform, slack, walk_id)
        done = submit(platform, MANAGER, step, {**SCORES, "finish": "done"})["view"]
        assert f"<@{SALARIEE}>" in json.dumps(done)
        submit(platform, MANAGER, done, {f"finding-{walk.notes[0].id}": ["finding"]})
        (irritant,) = irritants(db)
        assert (irritant.category, irritant.reporter_id, irritant.description) == (
            "noise",
            MANAGER,
            "The compressor drowns every phone call",
        )

    def test_notes_after_the_walk_reach_the_manager(self, platform, slack, db):
        """A teammate's notes sent after the walk was recorded: the manager is told, with a
        button back to the findings step."""
        walk_id = a_walk(db, big_team(db, slack))
        view = open_walk(platform, slack, walk_id)
        submit(platform, MANAGER, view, {**SCORES, "invite": [EMPLOYEE], "finish": "done"})
        form = opened(platform, slack, EMPLOYEE, "walk_teammate_open", walk_id)
        submit(platform, EMPLOYEE, form, {"note-smell-customer": "Fresh flowers at the desk"})
        (told,) = queued(db, "walk_notes")
        assert told.recipient == MANAGER and "walk_start" in json.dumps(told.payload)
        step = open_walk(platform, slack, walk_id)
        assert step["callback_id"] == "walk_findings"


class TestRefusals:
    def test_a_forged_rating_is_refused(self, platform, slack, db):
        """A rating out of 1–5 ("7", "²", "0") is refused on its field; nothing is kept."""
        walk_id = a_walk(db, big_team(db, slack))
        view = open_walk(platform, slack, walk_id)
        forged = {
            "rate-sight-customer": "7",
            "rate-hearing-employee": "²",
            "rate-taste-customer": "0",
        }
        for finish in ("draft", "done"):
            answer = submit(platform, MANAGER, view, {**forged, **NOTES, "finish": finish})
            assert set(answer["errors"]) == set(forged)
            assert answer["errors"]["rate-sight-customer"] == translate("fr", ERRORS["rating"])
        values = form_values(view, forged)
        platform.view_closed(MANAGER, view, values)
        walk = the_walk(db, walk_id)
        assert (walk.draft, walk.done_at, walk.notes) == (None, None, [])

    def test_only_the_teams_managers_open_it(self, platform, slack, db):
        """An employee, and a workspace admin who is not the team's manager, are told why
        they cannot open the walk."""
        walk_id = a_walk(db, big_team(db, slack))
        for user in (EMPLOYEE, ADMIN):
            assert notice_text(open_walk(platform, slack, walk_id, user)) == refusal("not_manager")
        assert notice_text(open_walk(platform, slack, "nosuchwalk")) == refusal("unknown", "fr")

    def test_a_managers_modal_replayed_by_someone_else(self, platform, slack, db):
        """The manager's modal submitted or closed by another person (the submitting user
        is checked, not the view) is refused and changes nothing."""
        walk_id = a_walk(db, big_team(db, slack))
        view = open_walk(platform, slack, walk_id)
        for finish in ("draft", "done"):
            answer = submit(platform, ADMIN, view, {**SCORES, **NOTES, "finish": finish})
            assert notice_text(answer["view"]) == refusal("not_manager")
        platform.view_closed(EMPLOYEE, view, form_values(view, SCORES))
        walk = the_walk(db, walk_id)
        assert (walk.draft, walk.done_at, walk.notes, walk.scores) == (None, None, [], None)

    def test_an_expired_draft_is_refused_and_dropped(self, platform, slack, db):
        """A walk whose quarter closed (14 days after it ended) cannot be opened nor
        submitted: the person is told, and its draft is dropped."""
        team_id = big_team(db, slack)
        old = QUARTER.previous.previous.label
        walk_id = a_walk(db, team_id, old, draft={"scores": {}}, draft_by=MANAGER)
        assert notice_text(open_walk(platform, slack, walk_id)) == refusal("expired", "fr")
        assert the_walk(db, walk_id).draft is None
        a_walk(db, team_id, old, draft={"scores": {}}, draft_by=MANAGER)
        view = open_walk(platform, slack, a_walk(db, team_id))
        view["private_metadata"] = json.dumps({"walk": walk_id})
        answer = submit(platform, MANAGER, view, {**SCORES, "finish": "done"})
        assert notice_text(answer["view"]) == refusal("expired", "fr")
        walk = the_walk(db, walk_id)
        assert (walk.draft, walk.done_at, walk.notes) == (None, None, [])


class TestQuarterCloses:
    """The walk works until midnight starting the 14th day after its quarter, team time."""

    @pytest.mark.parametrize(("offset", "closed"), [(-1, False), (0, True)])
    def test_at_the_closing_instant(self, db, slack, offset, closed):
        team_id = big_team(db, slack)
        walk_id = a_walk(db, team_id, "2026-Q1", draft={"scores": {}}, draft_by=MANAGER)
        closes = datetime(2026, 4, 15, tzinfo=PARIS)  # 1 April + 14 days
        now = closes + timedelta(seconds=offset)
        who = manager_actor(db, team_id)
        view = {"id": "V1", "private_metadata": json.dumps({"walk": walk_id}), "state": {}}
        with db.sessions.begin() as session:
            walk = walks.get(session, public_id=walk_id)
            assert access.closes_at(walk, walk.team) == closes
            outcome = walking.submit(session, POLICY, who=who, view=view, now=now)
        said = outcome.view["blocks"][0]["text"]["text"] if outcome.view else ""
        assert (said == refusal("expired")) is closed
        assert (the_walk(db, walk_id).draft is None) is closed

    def test_no_invite_is_sent_after_the_quarter_closes(self, db, slack):
        """An invitation waiting for working hours is not sent once the quarter closed."""
        team_id = big_team(db, slack)
        walk_id = a_walk(db, team_id, "2026-Q1")
        saturday = datetime(2026, 4, 11, 12, tzinfo=PARIS)  # the next Monday is the 13th
        late = datetime(2026, 4, 14, 20, tzinfo=PARIS)  # next opening: the 15th, closed
        for user, now in ((SALARIEE, saturday), (EMPLOYEE, late)):
            with db.sessions.begin() as session:
                walk = walks.get(session, public_id=walk_id)
                who = manager_actor(db, team_id)
                teammates.invite(session, POLICY, walk=walk, by=who, user_ids=[user], now=now)
        (row,) = queued(db, "walk_invite")
        assert row.recipient == SALARIEE
        assert row.not_before < datetime(2026, 4, 15, tzinfo=PARIS)


def manager_actor(db, team_id: int):
    from bot.teams.actors import Actor, Roles

    with db.sessions() as session:
        team = session.get(Team, team_id)
        return Actor(
            team.workspace_id,
            "T0SIM",
            MANAGER,
            "en",
            "Europe/Paris",
            roles=Roles(admin=False, managed=frozenset({team_id})),
        )


class TestSymmetryWalk:
    def test_a_manager_opens_the_quarters_walk(self, platform, slack, db):
        """`/symmetry walk` opens the team's walk for the current quarter, made when the
        clock has not made it yet, due on the quarter's first working day at 09:30 (a
        public holiday of the team's calendar skipped)."""
        team_id = big_team(db, slack)
        with db.sessions.begin() as session:
            session.get(Team, team_id).holidays = "FR"
        slack.clear_calls()
        platform.command(MANAGER, "/symmetry", "walk")
        view = slack.wait_for("views.open")[0].params["view"]
        assert view["callback_id"] == "walk_submit"
        with db.sessions() as session:
            walk = session.scalars(select(Walk)).one()
            assert walk.quarter == QUARTER.label
            first = QUARTER.first_working_day("FR")
            assert walk.due_at == datetime.combine(
                first, datetime.min.time(), tzinfo=PARIS
            ).replace(hour=9, minute=30)
            assert json.loads(view["private_metadata"]) == {"walk": walk.public_id}

    def test_a_manager_of_two_teams_picks_one(self, platform, slack, db):
        """A manager of several teams chooses the team first; a team they do not manage
        is refused."""
        big_team(db, slack)
        second = big_team(db, slack, name="Desk")
        outsider = big_team(db, slack, name="Other")
        with db.sessions.begin() as session:
            session.get(Team, outsider).managers = [TeamManager(user_id=EMPLOYEE)]
        slack.clear_calls()
        platform.command(MANAGER, "/symmetry", "walk")
        picker = slack.wait_for("views.open")[0].params["view"]
        assert picker["callback_id"] == "walk_pick"
        assert "errors" in submit(platform, MANAGER, picker, {"team": str(outsider)})
        answer = submit(platform, MANAGER, picker, {"team": str(second)})
        assert answer["view"]["callback_id"] == "walk_submit"
        with db.sessions() as session:
            (walk,) = session.scalars(select(Walk)).all()
            assert walk.team_id == second

    @pytest.mark.parametrize("user", [EMPLOYEE, ADMIN])
    def test_someone_who_manages_no_team(self, platform, slack, db, user):
        """An employee or an admin who manages no team is told why, and no walk is made."""
        big_team(db, slack)
        slack.clear_calls()
        response = platform.command(user, "/symmetry", "walk")
        (answer,) = slack.wait_for(
            "response_url", where=lambda c: c.params.get("_key") == response.response_key
        )
        assert answer.params["text"] == refusal("no_team")
        with db.sessions() as session:
            assert session.scalars(select(Walk)).all() == []

    @pytest.mark.parametrize("locale", ["en", "fr"])
    def test_help_names_it(self, locale):
        from bot.runtime.usage import help_message

        assert "`/symmetry walk`" in json.dumps(help_message(locale), ensure_ascii=False)
