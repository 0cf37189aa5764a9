"""The audit trail: admin and manager actions recorded with who, what and when, in the
transaction of the action, read back by `symmetry audit` (JSON or CSV); never the reporter of
an anonymous report."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from bot.demo.slack import form_values
from tests.conftest import ADMIN, EMPLOYEE, MANAGER, OTHER_CHANNEL, SALARIEE
from tests.irritant_helpers import big_team, irritants, wait_until
from tests.privacy_helpers import button, dms, dump, populate

NOW = "2026-12-07T10:00:00+00:00"


def audit(cli, *args: str) -> list[dict]:
    ran = cli.run("audit", *args)
    assert ran.status == 0, ran.err
    return json.loads(ran.out)


def resolve_anonymous_report(app, slack, db) -> None:
    """The manager resolves the anonymous report from their roundup, with a note."""
    roundup = next(m for m in dms(slack, MANAGER) if "irritant_resolve" in json.dumps(m))
    resolve = button(roundup, "irritant_resolve")
    app.platform.block_action(MANAGER, "irritant_resolve", resolve["value"], message=roundup)
    form = slack.wait_for(
        "views.open", where=lambda c: c.params["view"].get("callback_id") == "irritant_triage"
    )[-1].params["view"]
    values = form_values(form, {"note": "Heating repaired by Marc"})
    app.platform.view_submission(MANAGER, form, values)
    wait_until(lambda: any(i.status == "resolved" for i in irritants(db)))


def change_survey(app, slack) -> None:
    slack.clear_calls()
    app.platform.command(MANAGER, "/symmetry", "survey")
    view = slack.wait_for("views.open")[0].params["view"]
    answers = {"cadence": "biweekly", "weekday": "3", "time": "14:30", "questions": "5",
               "days": "4", "enabled": ["on"]}  # fmt: skip
    response = app.platform.view_submission(MANAGER, view, form_values(view, answers))
    assert "errors" not in response.body


def change_digest(app, slack) -> None:
    before = len(slack.calls_to("views.open"))
    app.platform.command(MANAGER, "/symmetry", "digest")
    view = slack.wait_for("views.open", count=before + 1)[-1].params["view"]
    values = form_values(view, {"enabled": [], "weekday": "2"})
    assert app.platform.view_submission(MANAGER, view, values).json()["response_action"] == "update"


class TestAuditTrail:
    def test_actions_are_recorded_and_the_anonymous_reporter_never(
        self, app, slack, db, cli, tmp_path
    ):
        """Triage, survey and digest settings (in Slack), team add, exports, NPS import and
        the privacy requests (on the command line) are each recorded with who, what and
        when; no record holds SALARIEE, who reported anonymously, nor any free text."""
        populate(app, slack, db)
        resolve_anonymous_report(app, slack, db)
        change_survey(app, slack)
        change_digest(app, slack)
        added = cli.run("team", "add", "Sales", "--channel", OTHER_CHANNEL, "--manager", ADMIN)
        assert added.status == 0, added.err
        assert cli.run("export", "irritants", "--team", "Workshop").status == 0
        path = tmp_path / "nps.csv"
        path.write_text("team,month,nps,responses\nWorkshop,2026-11,42,120\n")
        assert cli.run("nps", "import", str(path), "--now", NOW).status == 0

        records = audit(cli)
        assert all(set(r) == {"at", "workspace", "actor", "action", "detail"} for r in records)
        done = [(r["actor"], r["action"]) for r in records]
        for expected in [
            (MANAGER, "irritant.acknowledge"),
            (MANAGER, "irritant.resolve"),
            (MANAGER, "survey.settings"),
            (MANAGER, "digest.settings"),
            ("cli", "team.created"),
            ("cli", "data.exported"),
            ("cli", "nps.imported"),
        ]:
            assert expected in done, expected
        resolved = next(r for r in records if r["action"] == "irritant.resolve")
        assert resolved["workspace"] == slack.team_id
        assert (
            resolved["detail"]["status"] == "resolved" and resolved["detail"]["team"] == "Workshop"
        )
        nps = next(r for r in records if r["action"] == "nps.imported")
        assert (nps["at"], nps["detail"]) == (NOW, {"months": ["Workshop 2026-11"]})
        written = json.dumps(records, ensure_ascii=False)
        assert SALARIEE not in written
        for free_text in ("freezing", "Marc", "Broken chair", "flickers"):
            assert free_text not in written

        assert cli.run("export", "person", "--user", SALARIEE).status == 0
        assert cli.run("forget", "--user", SALARIEE).status == 0
        records = audit(cli)
        privacy = [r for r in records if r["action"].startswith("person.")]
        assert [(r["actor"], r["action"]) for r in privacy] == [
            ("cli", "person.exported"),
            ("cli", "person.forgotten"),
        ]
        assert privacy[1]["detail"]["removed"]["memberships"] == 1
        assert SALARIEE not in json.dumps(records)

    def test_the_setup_modal_and_a_refused_submission(self, app, slack, db, cli):
        """A team made in the setup modal is recorded as the admin's; a forged submission
        by someone who is not an admin changes nothing and records nothing."""
        from tests.test_teams import open_setup, team_answers

        slack.clear_calls()
        view = open_setup(app.platform, slack)
        forged = app.platform.view_submission(EMPLOYEE, view, form_values(view, team_answers()))
        assert forged.json()["response_action"] == "errors"
        assert audit(cli) == []
        app.platform.view_submission(ADMIN, view, form_values(view, team_answers()))
        slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == ADMIN)
        (made,) = audit(cli)
        assert (made["actor"], made["action"], made["workspace"]) == (
            ADMIN,
            "team.created",
            slack.team_id,
        )
        assert made["detail"]["team"] == "Workshop" and made["detail"]["managers"] == 1

    def test_csv_and_since(self, app, slack, db, cli, tmp_path):
        """`--format csv` gives the same records with a header; `--since` keeps those from
        that day on; a bad date exits 2."""
        big_team(db, slack)
        path = tmp_path / "nps.csv"
        path.write_text("team,month,nps,responses\nWorkshop,2026-11,42,120\n")
        assert cli.run("nps", "import", str(path), "--now", "2026-11-30T23:00:00+00:00").status == 0
        assert cli.run("nps", "import", str(path), "--now", NOW).status == 0
        ran = cli.run("audit", "--format", "csv")
        assert ran.status == 0, ran.err
        rows = list(csv.DictReader(io.StringIO(ran.out)))
        assert [r["action"] for r in rows] == ["nps.imported", "nps.imported"]
        assert list(rows[0]) == ["at", "workspace", "actor", "action", "detail"]
        assert json.loads(rows[0]["detail"]) == {"months": ["Workshop 2026-11"]}
        assert [r["at"] for r in audit(cli, "--since", "2026-12-01")] == [NOW]
        assert audit(cli, "--since", "2026-12-08") == []
        bad = cli.run("audit", "--since", "yesterday")
        assert bad.status == 2 and len(bad.err.splitlines()) == 1

    def test_a_refused_action_records_nothing(self, app, slack, db, cli, tmp_path):
        """An NPS file with a bad row stores nothing, and records nothing either: the record
        is in the action's transaction."""
        big_team(db, slack)
        path = tmp_path / "nps.csv"
        path.write_text("team,month,nps,responses\nWorkshop,2026-11,42,120\nWorkshop,11,1,1\n")
        tables = dump(db.engine)
        assert cli.run("nps", "import", str(path), "--now", NOW).status == 1
        assert dump(db.engine) == tables
        assert audit(cli) == []

    @pytest.mark.parametrize("fmt", ["csv"])
    def test_the_command_as_a_process(self, db, slack, cli, fmt):
        """`symmetry audit` as a real process: a CSV header when nothing is recorded yet."""
        done = subprocess.run(
            [sys.executable, "-m", "bot", "audit", "--format", fmt],
            capture_output=True,
            text=True,
            env=dict(os.environ),
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == "at,workspace,actor,action,detail\n"
