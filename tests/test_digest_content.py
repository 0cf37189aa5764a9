"""A manager's weekly digest, built from a real database (both backends) and rendered: every
section with and without data, the anonymity rules (roundups, reports for the admins, the
pulse threshold and its readers), both languages, Slack's limits with a huge history, the
plain-text version, and the next step's rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from bot.digests import compose
from bot.digests.irritant_figures import IrritantFigures, IrritantLine
from bot.digests.next_step import RULES, choose
from bot.shared.blocks import MAX_BLOCKS, TEXT_LIMITS
from bot.walks.overview import status
from storage import digest_figures as digest_store
from storage import pulse as pulse_store
from storage.models import OutboxMessage, new_public_id
from tests.conftest import POLICY
from tests.digest_content_factories import (
    BOSS,
    NOW,
    REPORTER,
    WEEK,
    block,
    block_text,
    customer_nps,
    days_ago,
    irritant,
    make_team,
    pulse_round,
    texts,
    walk,
)

DEC_1, DEC_8 = date(2026, 12, 1), date(2026, 12, 8)  # survey days (Tuesdays)


def digest_of(db, build, *, locale: str = "en", now: datetime = NOW, since=None):
    """Build rows with `build(session, team)`, then the digest's message, as BOSS reads it."""
    with db.sessions.begin() as session:
        team = make_team(session, name=f"Atelier {new_public_id()}")  # several in a test
        build(session, team)
        digest = compose.manager_digest(
            session, POLICY, team=team, manager_id=BOSS, week=WEEK, locale=locale, now=now,
            since=since,
        )  # fmt: skip
        return digest, compose.message(digest)


def nothing(session, team) -> None:
    """A team with no report, no round, no walk and no customer score."""


class TestHeader:
    @pytest.mark.parametrize(
        ("locale", "title"),
        [("en", "Weekly digest — week 51"), ("fr", "Bilan de la semaine 51")],
    )
    def test_first_block_names_the_week(self, db, locale, title):
        """The first block is a header naming the ISO week, in the reader's language."""
        _, payload = digest_of(db, nothing, locale=locale)
        assert payload["blocks"][0] == {
            "type": "header",
            "block_id": "digest-week",
            "text": {"type": "plain_text", "text": title},
        }
        assert payload["text"].startswith(title)

    def test_sections_with_nothing_to_say_leave_themselves_out(self, db):
        """A quiet team's digest holds the header, its period and the walk: no irritant,
        pulse, customer or next-step section."""
        digest, payload = digest_of(db, nothing)
        ids = [b.get("block_id") for b in payload["blocks"]]
        assert ids == ["digest-week", None, None, "digest-walk"]  # header, period, divider, walk
        assert digest.irritants is None and digest.pulse is None and digest.next_step is None

    def test_the_period_is_since_the_last_digest(self, db):
        """`since` starts the period (a report before it is not new); a first digest covers
        the 7 days before; a gap of months is cut to four weeks."""

        def build(session, team):
            irritant(session, team, reported=days_ago(4), category="noise")
            irritant(session, team, reported=days_ago(9), category="lighting")

        _, first = digest_of(db, build)
        assert "*1 new*" in block_text(first, "digest-irritants")
        _, later = digest_of(db, build, since=days_ago(10))
        assert "*2 new*" in block_text(later, "digest-irritants")
        digest, _ = digest_of(db, build, since=days_ago(200))
        assert digest.since == NOW - timedelta(weeks=4)


class TestIrritants:
    def test_new_by_category_fundamentals_first(self, db):
        """New reports are counted by category, fundamentals on their own line first."""

        def build(session, team):
            for category in ("break_spaces", "break_spaces", "noise", "temperature"):
                irritant(session, team, reported=days_ago(2), category=category)

        _, payload = digest_of(db, build)
        text = block_text(payload, "digest-irritants")
        assert "*4 new* since" in text
        lines = text.splitlines()
        assert lines[2] == "Fundamentals: Temperature 1 · Noise 1"
        assert lines[3] == "Other categories: Break spaces and amenities 2"

    def test_anonymous_reports_count_from_their_roundup(self, db):
        """An anonymous report no roundup has shown is absent; one shown is new and waits
        from its roundup, not from the day it was made."""

        def build(session, team):
            irritant(session, team, reported=days_ago(1), anonymous=True, description="UNSEEN")
            irritant(
                session, team, reported=days_ago(30), anonymous=True, shown=days_ago(3),
                description="SHOWN", category="lighting",
            )  # fmt: skip

        digest, payload = digest_of(db, build)
        assert "UNSEEN" not in texts(payload)
        assert "*1 new*" in block_text(payload, "digest-irritants")
        assert digest.irritants.waiting[0].description == "SHOWN"
        assert "• 3 days · *Lighting* — SHOWN" in block_text(payload, "digest-waiting")

    def test_reports_for_the_admins_never_reach_the_managers(self, db):
        """An anonymous report made while the team was too small goes to the admins: not in
        the managers' digest, even shown in a roundup and with the team grown since."""

        def build(session, team):
            irritant(
                session, team, reported=days_ago(3), anonymous=True, shown=days_ago(2),
                for_admins=True, description="FOR ADMINS", votes_shown=9, category="temperature",
            )  # fmt: skip

        digest, payload = digest_of(db, build)
        assert "FOR ADMINS" not in texts(payload)
        assert digest.irritants is None and digest.next_step is None

    def test_an_older_report_of_a_small_team_goes_by_its_size(self, db):
        """A report older than the admins' flag counts by the team's size: hidden while the
        team is under the threshold."""
        with db.sessions.begin() as session:
            team = make_team(session, members=3)
            irritant(
                session, team, reported=days_ago(3), anonymous=True, shown=days_ago(2),
                description="SMALL TEAM",
            )  # fmt: skip
            digest = compose.manager_digest(
                session, POLICY, team=team, manager_id=BOSS, week=WEEK, locale="en", now=NOW
            )
            assert "SMALL TEAM" not in texts(compose.message(digest))

    def test_most_me_too_uses_the_counts_of_the_last_roundup(self, db):
        """The "me too" shown are those of the last roundup: live votes since are not."""

        def build(session, team):
            irritant(session, team, reported=days_ago(20), votes_shown=4, description="SHOWN")
            irritant(session, team, reported=days_ago(20), live_votes=7, description="LIVE")
            irritant(
                session, team, reported=days_ago(20), votes_shown=9, status="resolved",
                resolved=days_ago(12), description="CLOSED",
            )  # fmt: skip

        _, payload = digest_of(db, build)
        text = block_text(payload, "digest-voted")
        assert "4 “me too” · *Noise* — SHOWN" in text
        assert "LIVE" not in text and "CLOSED" not in text and "7" not in text

    def test_waiting_longest_with_their_days(self, db):
        """The three reports waiting longest for a first answer, oldest first, with their
        days; the total when there are more; answered ones are not waiting."""

        def build(session, team):
            for days in (5, 40, 12, 21):
                irritant(session, team, reported=days_ago(days), description=f"W{days}")
            irritant(
                session, team, reported=days_ago(60), status="acknowledged",
                acknowledged=days_ago(50), description="ANSWERED",
            )  # fmt: skip

        _, payload = digest_of(db, build)
        lines = block_text(payload, "digest-waiting").splitlines()
        assert lines[0] == "*Waiting longest for an answer* · 4 waiting in all"
        assert [line.split(" — ")[1] for line in lines[1:]] == ["W40", "W21", "W12"]
        assert lines[1].startswith("• 40 days · ")
        assert "ANSWERED" not in "\n".join(lines)

    def test_you_said_we_did(self, db):
        """Reports resolved in the period are listed with their note, latest first; those
        resolved earlier, declined or reopened are not."""

        def build(session, team):
            for days, note in ((2, "Radiator fixed"), (4, "Bulbs changed")):
                irritant(
                    session, team, reported=days_ago(9), status="resolved",
                    acknowledged=days_ago(8), resolved=days_ago(days), note=note,
                )  # fmt: skip
            irritant(
                session, team, reported=days_ago(30), status="resolved", resolved=days_ago(20),
                note="LONG AGO",
            )  # fmt: skip
            irritant(
                session, team, reported=days_ago(5), status="declined", resolved=days_ago(1),
                note="DECLINED",
            )  # fmt: skip

        _, payload = digest_of(db, build)
        text = block_text(payload, "digest-resolved")
        assert text.startswith("*You said, we did* · 2 resolved in the period")
        assert text.index("Radiator fixed") < text.index("Bulbs changed")
        assert "LONG AGO" not in text and "DECLINED" not in text

    def test_service_levels_against_the_four_weeks_before(self, db):
        """Median days to a first answer and to a fix in the period, beside the four weeks
        before; an anonymous report's clock starts at its roundup."""

        def build(session, team):
            irritant(
                session, team, reported=days_ago(4), acknowledged=days_ago(3), status="acknowledged"
            )
            irritant(
                session, team, reported=days_ago(6), acknowledged=days_ago(2), status="acknowledged"
            )
            irritant(
                session, team, reported=days_ago(40), anonymous=True, shown=days_ago(20),
                acknowledged=days_ago(15), resolved=days_ago(10), status="resolved",
            )  # fmt: skip

        digest, payload = digest_of(db, build)
        service = digest.irritants.service
        assert (service.acknowledge.now, service.acknowledge.now_count) == (2.5, 2)
        assert (service.acknowledge.before, service.resolve.before) == (5.0, 10.0)
        assert service.resolve.now is None
        fields = block(payload, "digest-service")["fields"]
        assert fields[0]["text"].splitlines()[1:] == [
            "This period: 2.5 days (2 reports)",
            "The 4 weeks before: 5 days (1 report)",
        ]
        assert fields[1]["text"].splitlines()[1] == "This period: —"

    def test_the_symmetry_mirror(self, db):
        """Per category, the last 90 days' reports from customer spaces beside those from
        employee spaces, fundamentals first; older ones are not counted."""

        def build(session, team):
            for space in ("customer", "employee", "employee"):
                irritant(session, team, reported=days_ago(30), category="cleanliness", space=space)
            irritant(session, team, reported=days_ago(10), category="temperature", space="employee")
            irritant(session, team, reported=days_ago(100), category="noise", space="customer")

        _, payload = digest_of(db, build)
        lines = block_text(payload, "digest-mirror").splitlines()[1:]
        assert lines == [
            "• Temperature: 0 in customer spaces · 1 in employee spaces",
            "• Cleanliness and hygiene: 1 in customer spaces · 2 in employee spaces",
        ]

    def test_no_reporter_is_named(self, db):
        """The digest counts and lists reports, never who made them."""

        def build(session, team):
            irritant(session, team, reported=days_ago(2), votes_shown=2)

        _, payload = digest_of(db, build)
        assert REPORTER not in texts(payload)


class TestPulse:
    @staticmethod
    def two_rounds(session, team, *, comments=("Better light, thanks",)) -> None:
        pulse_round(session, team, period=DEC_1, answers={"enps": [10] * 5, "noise": [3] * 5})
        pulse_round(
            session, team, period=DEC_8, sent=8, comments=comments,
            answers={"enps": [9, 9, 9, 7, 3, 3], "noise": [4, 4, 4, 4, 3, 2]},
        )  # fmt: skip

    def test_participation_means_changes_and_comments(self, db):
        """The round closed in the period: who answered of how many, each question's mean
        and its change since the round before, eNPS over 90 days and its week's change,
        the comments."""
        _, payload = digest_of(db, self.two_rounds)
        lines = block_text(payload, "digest-pulse").splitlines()
        assert lines[0] == "*Pulse* · round of Dec 8, 2026: 6 of 8 answered (75%)"
        # 11 answers over 90 days: 8 promoters, 2 detractors; a week ago, 5 promoters of 5.
        assert lines[1] == "eNPS over 90 days: +55 (-45 in a week)"
        fields = [f["text"] for f in block(payload, "digest-questions-1")["fields"]]
        assert fields[0].endswith("\neNPS +17 (-83)")
        assert fields[1] == "How comfortable is the noise level where you work?\nmean 3.5 (+0.5)"
        assert "Better light, thanks" in block_text(payload, "digest-comments")

    def test_numbers_in_french(self, db):
        """Means, changes and rates are written the French way."""
        _, payload = digest_of(db, self.two_rounds, locale="fr")
        assert "(75\xa0%)" in block_text(payload, "digest-pulse")
        fields = [f["text"] for f in block(payload, "digest-questions-1")["fields"]]
        assert fields[1].endswith("\nmoyenne 3,5 (+0,5)")

    def test_quotes_in_french(self, db):
        """A comment, and a fix's note, are quoted the French way in a French digest, as its
        own words are (« moi aussi »)."""

        def build(session, team):
            self.two_rounds(session, team)
            irritant(session, team, reported=days_ago(9), status="resolved",
                     resolved=days_ago(2), note="Radiateur changé")  # fmt: skip

        _, payload = digest_of(db, build, locale="fr")
        assert "> «\xa0Better light, thanks\xa0»" in block_text(payload, "digest-comments")
        assert "«\xa0Radiateur changé\xa0»" in block_text(payload, "digest-resolved")
        assert "“" not in texts(payload)

    @pytest.mark.parametrize(
        ("locale", "answered", "hidden"),
        [
            ("en", "1 of 6 answered", "hidden (1 answer)"),
            ("fr", "1 réponse sur 6", "masqué (1 réponse)"),
        ],
    )
    def test_one_answer_is_singular(self, db, locale, answered, hidden):
        """One person answering a round, or one question of a shown round, reads in the
        singular, in both languages."""

        def alone(session, team):
            pulse_round(session, team, period=DEC_8, sent=6, answers={"enps": [10]})

        def one_question(session, team):
            answers = {"enps": [9, 9, 9, 7, 3], "noise": [4]}
            pulse_round(session, team, period=DEC_8, sent=6, answers=answers)

        _, payload = digest_of(db, alone, locale=locale)
        assert answered in block_text(payload, "digest-pulse")
        _, payload = digest_of(db, one_question, locale=locale)
        assert block_text(payload, "digest-questions-1").endswith(hidden)

    def test_hidden_under_the_threshold(self, db):
        """Four answers: no mean, no comment, no eNPS; a plain line says why."""

        def build(session, team):
            pulse_round(
                session, team, period=DEC_8, comments=["SECRET"],
                answers={"enps": [10, 0, 5, 9], "noise": [1, 2, 3, 4]},
            )  # fmt: skip

        _, payload = digest_of(db, build)
        assert block(payload, "digest-questions-1") is None
        assert "SECRET" not in texts(payload)
        assert "eNPS" not in block_text(payload, "digest-pulse")
        assert block_text(payload, "digest-hidden") == (
            "Results hidden: 4 people answered besides the team's managers, and results are "
            "shown from 5, so that no answer can be traced to anyone."
        )

    def test_the_readers_answers_do_not_count(self, db):
        """Five answers with the team's manager among the people asked count as four: the
        results stay hidden from that manager."""

        def build(session, team):
            pulse_round(
                session, team, period=DEC_8, managers_asked=[BOSS],
                answers={"enps": [10, 9, 9, 8, 2], "noise": [1, 2, 3, 4, 5]},
            )  # fmt: skip

        digest, payload = digest_of(db, build)
        assert digest.pulse.hidden and digest.pulse.enps is None
        assert "4 people answered besides" in block_text(payload, "digest-hidden")

    def test_no_round_in_the_period(self, db):
        """A round closed before the period shows no round, but its eNPS still counts over
        90 days; with no round at all, no pulse section."""

        def build(session, team):
            pulse_round(session, team, period=DEC_1, answers={"enps": [10] * 5})

        _, payload = digest_of(db, build)
        assert (
            block_text(payload, "digest-pulse") == "*Pulse*\neNPS over 90 days: +100 (+0 in a week)"
        )
        _, quiet = digest_of(db, nothing)
        assert block(quiet, "digest-pulse") is None

    def test_many_comments_are_cut(self, db):
        """Five comments are quoted, the rest counted."""
        _, payload = digest_of(
            db, lambda s, t: self.two_rounds(s, t, comments=[f"C{i}" for i in range(8)])
        )
        text = block_text(payload, "digest-comments")
        assert text.count("> “") == 5 and "…and 3 more on your Home tab." in text


class TestSymmetry:
    def test_enps_beside_the_latest_customer_nps(self, db):
        """The team's eNPS beside the customer NPS of the latest month recorded (a later
        month is not yet), naming that month."""

        def build(session, team):
            pulse_round(session, team, period=DEC_8, answers={"enps": [10] * 5})
            customer_nps(session, team, month="2026-10", nps=20, responses=80)
            customer_nps(session, team, month="2026-11", nps=35, responses=120)
            customer_nps(session, team, month="2027-01", nps=-5, responses=9)

        _, payload = digest_of(db, build)
        assert block_text(payload, "digest-symmetry").splitlines()[1:] == [
            "Team eNPS over 90 days: +100",
            "Customer NPS for November 2026: +35 (120 responses)",
        ]
        _, french = digest_of(db, build, locale="fr")
        assert "novembre 2026" in block_text(french, "digest-symmetry")

    def test_without_a_customer_score(self, db):
        """No customer NPS recorded: no symmetry section."""
        _, payload = digest_of(
            db, lambda s, t: pulse_round(s, t, period=DEC_8, answers={"enps": [9] * 5})
        )
        assert block(payload, "digest-symmetry") is None

    def test_customer_score_without_an_enps(self, db):
        """A customer NPS with no eNPS that may be shown says so."""
        _, payload = digest_of(
            db, lambda s, t: customer_nps(s, t, month="2026-12", nps=10, responses=1)
        )
        assert "Team eNPS: not enough answers to show yet" in block_text(payload, "digest-symmetry")


class TestWalk:
    def test_done_with_its_widest_gap(self, db):
        """A walk done this quarter says so, with the sense where employee spaces lag most."""
        scores = {"sight": {"customer": 5, "employee": 4}, "smell": {"customer": 5, "employee": 2}}
        _, payload = digest_of(db, lambda s, t: walk(s, t, done=days_ago(30), scores=scores))
        assert block_text(payload, "digest-walk") == (
            "*Sensory walk · Q4 2026*\nDone; the widest gap is in smell: +3 between customer "
            "and employee spaces"
        )

    def test_due_then_overdue(self, db):
        """Early in the quarter the walk is still to do; from 45 days in, overdue."""
        october = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)
        _, early = digest_of(db, lambda s, t: walk(s, t), now=october)
        assert "Still to do, 81 days left in the quarter" in block_text(early, "digest-walk")
        _, late = digest_of(db, lambda s, t: walk(s, t))
        assert "Overdue, 18 days left in the quarter" in block_text(late, "digest-walk")


def line(
    public_id: str, *, category: str = "safety", status: str = "new", days: int = 1, votes: int = 0
) -> IrritantLine:
    return IrritantLine(public_id, category, "employee", status, "d", "", None, votes, days)


def figures(*waiting: IrritantLine, voted: tuple[IrritantLine, ...] = ()) -> IrritantFigures:
    """Figures with these reports waiting (oldest first) and these most "me too"."""
    fundamental = next((found for found in waiting if found.fundamental), None)
    return IrritantFigures(
        waiting=list(waiting), oldest_fundamental=fundamental, most_voted=list(voted)
    )


WALK_ID = "walk000001"


def walk_status(state: str):
    """The quarter's walk, not done: "due" early in Q4 2026, "overdue" in December."""
    day = 14 if state == "overdue" else 5
    now = datetime(2026, 12 if state == "overdue" else 10, day, tzinfo=UTC)
    found = SimpleNamespace(public_id=WALK_ID, done_at=None, team_id=1)
    return status(SimpleNamespace(timezone="UTC"), found, now=now)  # type: ignore[arg-type]


class TestNextStep:
    def test_the_rules_in_order(self):
        """Each rule wins over those after it: fundamentals and long waits first, then the
        overdue walk, then fundamentals, "me too", any wait, and the walk still to do."""
        old_fundamental = line("oldfund001", category="temperature", days=20)
        old_other = line("oldother01", days=30)
        fundamental = line("fund000001", category="lighting", days=2)
        voted = (line("voted00001", status="acknowledged", votes=5),)
        other = line("other00001", days=1)
        cases = [
            (figures(old_other, old_fundamental), "overdue", "fundamental_long_wait", "oldfund001"),
            (figures(old_other, fundamental), "overdue", "long_wait", "oldother01"),
            (figures(fundamental, voted=voted), "overdue", "walk_overdue", WALK_ID),
            (figures(fundamental, voted=voted), "due", "fundamental_waiting", "fund000001"),
            (figures(other, voted=voted), "due", "most_voted", "voted00001"),
            (figures(other), "due", "waiting", "other00001"),
            (figures(), "due", "walk_due", WALK_ID),
        ]
        assert [rule for _, _, rule, _ in cases] == list(RULES)
        for found, state, rule, value in cases:
            step = choose(found, walk_status(state))
            assert (step.rule, step.value) == (rule, value)
            assert step.action_id == ("walk_start" if value == WALK_ID else "irritant_plan")

    def test_nothing_to_suggest(self):
        """No report waiting, nothing voted, the walk done or unknown: no next step."""
        planned = line("planned001", status="planned", votes=3)
        assert choose(IrritantFigures(most_voted=[planned]), None) is None

    def test_the_step_is_explained_and_has_its_button(self, db):
        """The message explains the step in one sentence and shows the report and a button
        that plans its fix."""

        def build(session, team):
            irritant(
                session, team, reported=days_ago(16), category="temperature", description="COLD"
            )

        digest, payload = digest_of(db, build)
        assert block_text(payload, "digest-next").splitlines() == [
            "*Suggested next step*",
            "Temperature is a fundamental, and this report has waited 16 days for an answer: "
            "plan a fix, or explain why not.",
            "> *Temperature* — COLD",
        ]
        (button,) = block(payload, "digest-next-button")["elements"]
        assert (button["action_id"], button["value"]) == ("irritant_plan", digest.next_step.value)


class TestLimits:
    @pytest.mark.parametrize("locale", ["en", "fr"])
    def test_a_huge_history_stays_within_slacks_limits(self, db, locale):
        """Hundreds of reports with the longest texts, every category, a long team name, a
        round with many questions and long comments: under 50 blocks, every text within its
        limit (render checks), the lists cut."""
        worst = "<&>" * 1000

        def build(session, team):
            team.name = "&" * 80
            categories = ("temperature", "lighting", "noise", "tools", "cleanliness",
                          "break_spaces", "safety", "organisation", "other")  # fmt: skip
            for n in range(300):
                category = categories[n % len(categories)]
                irritant(
                    session, team, reported=days_ago(n % 80), category=category,
                    space=("customer", "employee")[n % 2], description=worst, location="<" * 200,
                    votes_shown=n % 7, status=("new", "acknowledged", "resolved")[n % 3],
                    acknowledged=days_ago(n % 80 / 2), resolved=days_ago(n % 6), note=worst,
                )  # fmt: skip
            keys = ["enps", "temperature", "lighting", "noise", "tools", "pleasure",
                    "manager_support", "customer_experience", "spaces_symmetry"]  # fmt: skip
            answers = {key: [5] * 25 for key in keys} | {f"custom{i}": [3] * 25 for i in range(16)}
            pulse_round(session, team, period=DEC_8, answers=answers, comments=[worst] * 30)
            customer_nps(session, team, month="2026-12", nps=-100, responses=10**6)
            walk(session, team)

        digest, payload = digest_of(db, build, locale=locale)
        assert len(payload["blocks"]) <= MAX_BLOCKS["message"]
        for found in payload["blocks"]:
            if found["type"] == "section" and "text" in found:
                assert len(found["text"]["text"]) <= TEXT_LIMITS["section"]
        assert len(digest.irritants.waiting) == 3 and digest.irritants.waiting_total > 3
        assert block(payload, "digest-questions-2") is not None
        assert block(payload, "digest-questions-3") is None  # 20 questions shown at most
        assert compose.as_text(digest).startswith(payload["blocks"][0]["text"]["text"])


class TestPlainText:
    def test_read_from_the_blocks(self, db):
        """The text version shows the header underlined, each section, the fields, and the
        button in brackets, with what people typed shown as typed."""

        def build(session, team):
            irritant(
                session, team, reported=days_ago(3), description="Draught <near> the door & window"
            )

        digest, payload = digest_of(db, build)
        text = compose.as_text(digest)
        assert text.startswith("Weekly digest — week 51\n=======================\n\n")
        assert "Draught <near> the door & window" in text
        assert "[Plan a fix…]" in text
        for found in payload["blocks"]:
            if found["type"] == "section":
                first = found["text"]["text"].splitlines()[0]
                assert first.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") in text


class TestDeliveredCounts:
    @pytest.mark.parametrize("ranged", [True, False])
    def test_the_same_count_as_the_outbox_prefix(self, db, monkeypatch, ranged):
        """Each round's survey DMs that Slack accepted, read as a range of the key's index
        (or, where text is not ordered byte by byte, by the prefix alone): the same as
        storage.pulse.delivered, never another round's whose id starts alike."""
        if not ranged:
            monkeypatch.setattr(digest_store, "_byte_ordered", lambda session: False)
        rows = [
            ("pulse:1:a", "pulse", "sent"),
            ("pulse:1:b", "pulse", "sent"),
            ("pulse:1:c", "pulse", "dead"),
            ("pulse:10:a", "pulse", "sent"),
            ("pulse:1;x", "pulse", "sent"),
            ("pulse-reminder:1:a", "pulse-reminder", "sent"),
        ]
        with db.sessions.begin() as session:
            team = make_team(session)
            session.add_all(
                OutboxMessage(
                    workspace_id=team.workspace_id,
                    key=key,
                    kind=kind,
                    timezone="UTC",
                    payload={},
                    state=state,
                    not_before=NOW,
                )
                for key, kind, state in rows
            )
        with db.sessions() as session:
            counts = digest_store.delivered_counts(session, round_ids=[1, 10, 2])
            assert counts == {r: pulse_store.delivered(session, round_id=r) for r in (1, 10, 2)}
            assert counts == {1: 2, 10: 1, 2: 0}
