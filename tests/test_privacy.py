"""Privacy requests: `symmetry export person` and `symmetry forget`, run through the command
line on a workspace filled by the app's own flows (tests/privacy_helpers.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from bot.irritants.ownership import owns
from bot.pulse.answers import respondent
from bot.shared.pseudonyms import keyed_hash
from storage.models import Irritant, IrritantVote, PulseAnswer, PulseRound
from tests.conftest import EMPLOYEE, MANAGER, POLICY, SALARIEE
from tests.irritant_helpers import big_team, irritants
from tests.privacy_helpers import anonymous_report, dump, populate, tables_naming


@pytest.fixture
def populated(app, slack, db):
    """The workspace of tests/privacy_helpers.py; SALARIEE is named in it."""
    populate(app, slack, db)
    assert tables_naming(db.engine, SALARIEE)
    return app


def links_to(db, slack, user_id: str) -> list[str]:
    """What the key still ties to `user_id`: anonymous reports, votes, open answers."""
    found = []
    with db.sessions() as session:
        for irritant in session.scalars(select(Irritant)):
            if irritant.anonymous and owns(
                POLICY, irritant, slack_team_id=slack.team_id, user_id=user_id
            ):
                found.append(f"report {irritant.public_id}")
            vote = keyed_hash(POLICY.secret_key, "vote", irritant.public_id, user_id)
            if session.scalars(select(IrritantVote).where(IrritantVote.voter_hash == vote)).all():
                found.append(f"vote on {irritant.public_id}")
        for pulse_round in session.scalars(select(PulseRound)):
            who = respondent(POLICY, pulse_round.id, user_id)
            if session.scalars(select(PulseAnswer).where(PulseAnswer.respondent == who)).all():
                found.append(f"answers in round {pulse_round.id}")
    return found


class TestExportPerson:
    def test_everything_named_and_why_the_rest_is_not(self, populated, db, slack, cli):
        """The export lists SALARIEE's profile, membership, named report with its history,
        "me too" vote, survey round and deliveries, says what is anonymous by design, and
        shows nothing of their anonymous report (nor anything of someone else)."""
        hidden = anonymous_report(db)
        ran = cli.run("export", "person", "--user", SALARIEE, "--workspace", slack.team_id)
        assert ran.status == 0, ran.err
        held = json.loads(ran.out)
        assert (held["user"], held["workspaces"]) == (SALARIEE, [slack.team_id])
        assert [p["real_name"] for p in held["profile"]] == ["Chloé Martin"]
        assert [m["team"] for m in held["memberships"]] == ["Workshop"]
        (named,) = held["named_reports"]
        assert (named["reporter"], named["description"]) == (
            SALARIEE,
            "The corridor light flickers",
        )
        assert [step["action"] for step in named["history"]] == ["reported"]
        broken_chair = next(i for i in irritants(db) if i.reporter_id == EMPLOYEE)
        assert held["me_too_votes"] == [{"irritant": broken_chair.public_id}]
        assert [r["team"] for r in held["survey_rounds"]] == ["Workshop"]
        assert held["deliveries"] and {d["state"] for d in held["deliveries"]} == {"sent"}
        assert {n["what"] for n in held["not_exported"]} >= {
            "anonymous reports",
            "pulse survey answers and comments",
        }
        assert hidden.public_id not in ran.out and "freezing" not in ran.out
        assert EMPLOYEE not in ran.out and MANAGER not in ran.out

    def test_every_workspace_when_none_is_named(self, populated, slack, cli):
        """Without --workspace the export covers every workspace."""
        ran = cli.run("export", "person", "--user", SALARIEE)
        assert ran.status == 0, ran.err
        assert json.loads(ran.out)["workspaces"] == [slack.team_id]


class TestForget:
    def test_forget_leaves_no_trace_and_keeps_the_aggregates(self, populated, db, slack, cli):
        """After `forget`, no column of any table holds SALARIEE's ID and the key ties
        nothing to them; their named report stays without a reporter, the anonymous one and
        the answers stay; what it removed is printed, and a second run removes nothing."""
        assert len(links_to(db, slack, SALARIEE)) == 3  # the report, the vote, the answers
        before = {i.public_id: (i.status, i.votes_shown, i.description) for i in irritants(db)}
        answers = len(json.loads(dump(db.engine)["pulse_answers"]))
        ran = cli.run("forget", "--user", SALARIEE, "--workspace", slack.team_id)
        assert ran.status == 0, ran.err
        counts = dict(line.split(": ") for line in ran.out.splitlines()[:-1])
        assert counts["memberships"] == counts["profile"] == counts["votes"] == "1"
        assert counts["survey_rounds"] == counts["named_reports_anonymised"] == "1"
        assert counts["anonymous_reports_unlinked"] == "1"
        assert int(counts["deliveries"]) >= 1 and int(counts["messages_unnamed"]) >= 1

        assert tables_naming(db.engine, SALARIEE) == []
        assert links_to(db, slack, SALARIEE) == []
        after = {i.public_id: (i.status, i.votes_shown, i.description) for i in irritants(db)}
        assert after == before
        flickers = next(i for i in irritants(db) if i.description.startswith("The corridor"))
        assert (flickers.anonymous, flickers.reporter_id) == (False, None)
        assert len(json.loads(dump(db.engine)["pulse_answers"])) == answers
        assert "memberships" in tables_naming(db.engine, EMPLOYEE)  # the others stay

        tables = dump(db.engine)
        again = cli.run("forget", "--user", SALARIEE)
        assert again.status == 0, again.err
        assert all(line.endswith(": 0") for line in again.out.splitlines()[:-1])
        changed = {t for t, rows in dump(db.engine).items() if rows != tables[t]}
        assert changed == {"audit_records"}  # the second request is on record, nothing else

    def test_a_dry_run_prints_and_changes_nothing(self, populated, db, cli):
        """`--dry-run` prints the same counts as the real run, and no table changes."""
        tables = dump(db.engine)
        dry = cli.run("forget", "--user", SALARIEE, "--dry-run")
        assert dry.status == 0, dry.err
        assert "would remove" in dry.out and "memberships: 1" in dry.out
        assert dump(db.engine) == tables
        real = cli.run("forget", "--user", SALARIEE)
        assert real.out.splitlines()[:-1] == dry.out.splitlines()[:-1]

    def test_the_last_admin_can_be_forgotten(self, populated, db, cli):
        """The team's only manager (and the workspace's admin in Slack) is forgotten too: the
        admins are Slack's, not the bot's."""
        ran = cli.run("forget", "--user", MANAGER)
        assert ran.status == 0, ran.err
        assert "manager_roles: 1" in ran.out
        assert tables_naming(db.engine, MANAGER) == []


class TestBadInput:
    @pytest.mark.parametrize(
        "args",
        [
            ("forget", "--user", "UNOBODY01"),
            ("forget", "--user", SALARIEE, "--workspace", "T0NOTHERE"),
            ("export", "person", "--user", "UNOBODY01"),
            ("export", "person", "--user", SALARIEE, "--workspace", "T0NOTHERE"),
            ("export", "person"),
        ],
    )
    def test_unknown_user_or_workspace_exits_2_and_changes_nothing(self, app, slack, db, cli, args):
        """An unknown person or a workspace with no data: one line on stderr, exit 2, no
        table changed (not even the audit trail)."""
        big_team(db, slack)
        tables = dump(db.engine)
        ran = cli.run(*args)
        assert ran.status == 2
        assert ran.out == "" and len(ran.err.strip().splitlines()) == 1, ran.err
        assert dump(db.engine) == tables


class TestProcesses:
    def test_the_commands_as_processes(self, db, slack, cli, tmp_path, monkeypatch):
        """`symmetry export person` and `symmetry forget` as real processes: an unknown
        person exits 2; the forget of a known one exits 0."""
        big_team(db, slack)

        for args, status in (
            (("export", "person", "--user", "UNOBODY01"), 2),
            (("forget", "--user", SALARIEE), 0),
        ):
            done = subprocess.run(
                [sys.executable, "-m", "bot", *args],
                capture_output=True,
                text=True,
                env=dict(os.environ),
                cwd=tmp_path,
                timeout=60,
            )
            assert done.returncode == status, done.stderr
        assert tables_naming(db.engine, SALARIEE) == []
