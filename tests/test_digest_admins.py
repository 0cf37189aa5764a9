"""The admins' digest (one line per team) and the "you said, we did" channel post, built from
a real database on both backends: their figures, the anonymity rules (small teams show counts
only; anonymous reports once shown; no reporter named) and Slack's limits for many teams."""

from __future__ import annotations

from datetime import date

from bot.digests import compose
from bot.shared.blocks import MAX_BLOCKS, TEXT_LIMITS
from storage import queries
from tests.conftest import POLICY
from tests.digest_content_factories import (
    NOW,
    REPORTER,
    SINCE,
    WEEK,
    block_text,
    days_ago,
    irritant,
    make_team,
    pulse_round,
    texts,
    walk,
)


def admins(db, locale: str = "en") -> dict | None:
    with db.sessions() as session:
        workspace = queries.get_or_create_workspace(session, slack_team_id="T0DIGEST1")
        return compose.admins_message(
            session, POLICY, workspace_id=workspace.id, week=WEEK, locale=locale, now=NOW
        )


class TestAdminsDigest:
    def test_one_line_per_team(self, db):
        """Each team's open reports, those unanswered over 14 days, those resolved in the
        week, its latest round's participation, its 90-day eNPS and its walk; anonymous
        reports count once shown (those that went to the admins included)."""
        with db.sessions.begin() as session:
            team = make_team(session, "Lyon")
            irritant(session, team, reported=days_ago(20))
            irritant(session, team, reported=days_ago(2))
            irritant(
                session,
                team,
                reported=days_ago(30),
                status="acknowledged",
                acknowledged=days_ago(29),
            )
            irritant(
                session,
                team,
                reported=days_ago(40),
                anonymous=True,
                shown=days_ago(25),
                for_admins=True,
            )
            irritant(session, team, reported=days_ago(1), anonymous=True)  # no roundup yet
            irritant(session, team, reported=days_ago(9), status="resolved", resolved=days_ago(3))
            irritant(session, team, reported=days_ago(30), status="resolved", resolved=days_ago(20))
            pulse_round(
                session,
                team,
                period=date(2026, 12, 8),
                sent=8,
                answers={"enps": [10, 10, 10, 9, 5, 3]},
            )
            walk(session, team, done=days_ago(40))
            make_team(session, "Quiet")
        payload = admins(db)
        assert payload["blocks"][0]["text"]["text"] == "Teams digest — week 51"
        assert block_text(payload, "digest-admins-total") == (
            "*2 teams* · 4 open · 2 waiting over 14 days · 1 resolved"
        )
        assert block_text(payload, "digest-admins-1").splitlines() == [
            "*Lyon* — 4 open · 2 waiting over 14 days · 1 resolved · participation 75% · "
            "eNPS +33 · walk: done",
            "*Quiet* — 0 open · 0 waiting over 14 days · 0 resolved · walk: overdue",
        ]

    def test_a_small_team_shows_counts_only(self, db):
        """A team under the anonymity threshold shows its counts and its walk, no pulse
        figure, whatever its rounds hold."""
        with db.sessions.begin() as session:
            team = make_team(session, "Tiny", members=3)
            irritant(session, team, reported=days_ago(2))
            pulse_round(session, team, period=date(2026, 12, 8), answers={"enps": [10] * 6})
        line = block_text(admins(db), "digest-admins-1")
        assert line == (
            "*Tiny* — 1 open · 0 waiting over 14 days · 0 resolved · "
            "_counts only: fewer than 5 people_ · walk: overdue"
        )

    def test_in_french(self, db):
        """The admins' digest speaks the admin's language."""
        with db.sessions.begin() as session:
            make_team(session, "Lyon")
        payload = admins(db, "fr")
        assert payload["blocks"][0]["text"]["text"] == "Bilan des équipes — semaine 51"
        assert "parcours\u00a0: en retard" in block_text(payload, "digest-admins-1")
        assert "le parcours sensoriel du trimestre" in texts(payload)  # masculine

    def test_no_team_no_digest(self, db):
        """A workspace without teams gets no admins' digest."""
        assert admins(db) is None

    def test_many_teams_stay_within_slacks_limits(self, db):
        """Four hundred teams with the longest names: eight a section, under 50 blocks, the
        teams most in need first and the calmest counted at the end."""
        with db.sessions.begin() as session:
            for n in range(400):
                team = make_team(session, f"{n:03d}" + "&" * 77, members=1)
                if n % 50 == 0:
                    irritant(session, team, reported=days_ago(30))
        payload = admins(db)
        assert len(payload["blocks"]) <= MAX_BLOCKS["message"]
        for found in payload["blocks"]:
            if found["type"] == "section":
                assert len(found["text"]["text"]) <= TEXT_LIMITS["section"]
        assert block_text(payload, "digest-admins-1").startswith("*000&amp;")
        assert "1 waiting over 14 days" in block_text(payload, "digest-admins-1").splitlines()[7]
        assert "…and 48 calmer teams" in texts(payload)
        assert "*400 teams* · 8 open" in block_text(payload, "digest-admins-total")


class TestSaidDid:
    def test_the_weeks_resolved_reports_without_names(self, db):
        """Reports resolved in the period, with their fix, and no reporter; not those
        declined, resolved before, or that went to the admins."""
        anonymous = {"anonymous": True, "shown": days_ago(8)}
        reports = [
            {"resolved": days_ago(2), "description": "Cold room", "note": "New radiator"},
            {"description": "Dark stairs", "category": "lighting", **anonymous},
            {"description": "ADMINS ONLY", "for_admins": True, **anonymous},
            {"description": "DECLINED", "status": "declined"},
            {"description": "EARLIER", "resolved": days_ago(10)},
        ]
        with db.sessions.begin() as session:
            team = make_team(session, "Lyon")
            for report in reports:
                fields = {"status": "resolved", "resolved": days_ago(1)} | report
                irritant(session, team, reported=days_ago(9), **fields)
            payload = compose.said_did_message(
                session, POLICY, team=team, since=SINCE, until=NOW, locale="en"
            )
        assert payload["text"] == "You said, we did: 2 irritants resolved this week"
        assert block_text(payload, "said-did-1").splitlines() == [
            "• ✅ *Lighting* — Dark stairs",
            "• ✅ *Noise* — Cold room",
            "      “New radiator”",
        ]
        for absent in ("ADMINS ONLY", "DECLINED", "EARLIER", REPORTER):
            assert absent not in texts(payload)

    def test_nothing_resolved_no_post(self, db):
        """A week without a fix posts nothing."""
        with db.sessions.begin() as session:
            team = make_team(session, "Lyon")
            irritant(session, team, reported=days_ago(2))
            assert (
                compose.said_did_message(
                    session, POLICY, team=team, since=SINCE, until=NOW, locale="en"
                )
                is None
            )

    def test_a_busy_week_is_cut(self, db):
        """Twenty-five fixes in French: ten listed, the rest counted, within Slack's limits."""
        with db.sessions.begin() as session:
            team = make_team(session, "Lyon")
            for n in range(25):
                irritant(
                    session,
                    team,
                    reported=days_ago(9),
                    status="resolved",
                    resolved=days_ago(1 + n / 10),
                    description="<" * 2000,
                    note=">" * 2000,
                )
            payload = compose.said_did_message(
                session, POLICY, team=team, since=SINCE, until=NOW, locale="fr"
            )
        assert payload["text"].startswith("Vous l’avez dit, nous l’avons fait\u00a0: 25 irritants")
        assert texts(payload).count("✅") == 10
        assert "…et 15 autres." in texts(payload)
