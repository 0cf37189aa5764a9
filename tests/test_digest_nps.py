"""Customer NPS per team and month: `symmetry nps import FILE.csv` (all or nothing, every bad
row named by its line) and `/symmetry nps` (a modal for admins and the team's managers)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.demo.harness import server_env
from bot.demo.slack import form_values
from bot.digests import nps
from bot.digests.nps_import import BadFile, read
from storage import queries
from storage.models import CustomerNps, Team
from tests.conftest import ADMIN, EMPLOYEE, MANAGER, answer_of
from tests.irritant_helpers import big_team

NOW = "2026-12-07T10:00:00+00:00"  # a Monday: this month is 2026-12, the next one 2027-01
INSTANT = datetime(2026, 12, 7, 10, tzinfo=UTC)


@pytest.fixture
def teams(db, slack) -> dict[str, int]:
    """Workshop (managed by MANAGER) and Night (managed by ADMIN)."""
    workshop = big_team(db, slack)
    night = big_team(db, slack, name="Night", members=[MANAGER, ADMIN, EMPLOYEE])
    with db.sessions.begin() as session:
        session.get(Team, night).managers[0].user_id = ADMIN
    return {"Workshop": workshop, "Night": night}


def stored(db) -> set[tuple[str, str, int, int, str | None]]:
    """(team, month, nps, responses, recorded by) of every customer NPS recorded."""
    with db.sessions() as session:
        rows = session.scalars(select(CustomerNps)).all()
        return {
            (session.get(Team, r.team_id).name, r.month, r.nps, r.responses, r.recorded_by)
            for r in rows
        }


def import_file(cli, tmp_path, text: str, *args: str, encoding: str = "utf-8"):
    path = tmp_path / "nps.csv"
    path.write_bytes(text.encode(encoding))
    return cli.run("nps", "import", str(path), "--now", NOW, *args)


class TestImport:
    def test_a_good_file_is_recorded(self, cli, db, teams, tmp_path):
        """A BOM, blank lines, spaces and another column order are fine; every row is stored,
        recorded by nobody (the command line), and each is printed."""
        text = (
            "\ufeff month , team ,nps, responses\n"
            "\n"
            "2026-11, workshop , 42, 120\n"
            "  \n"
            "2026-12,Night,-15,8\n"
        )
        ran = import_file(cli, tmp_path, text)
        assert ran.status == 0, ran.err
        assert stored(db) == {
            ("Workshop", "2026-11", 42, 120, None),
            ("Night", "2026-12", -15, 8, None),
        }
        assert "Workshop 2026-11: NPS 42 (120 responses)" in ran.out
        assert "Night 2026-12: NPS -15 (8 responses)" in ran.out
        assert ran.err == ""

    def test_every_bad_row_is_reported_and_nothing_is_stored(self, cli, db, teams, tmp_path):
        """Bad rows on several lines: each problem on its own line of stderr with its line
        number, exit status 1, and not even the good rows are stored."""
        text = (
            "team,month,nps,responses\n"
            "Workshop,2026-10,40,100\n"  # 2: good
            "Workshop,2026-11,150,100\n"  # 3: nps out of range
            "Workshop,2026-13,10,5\n"  # 4: no 13th month
            "Night,2026-09,ten,0\n"  # 5: nps not a number, no responses
            "Atlier,2026-09,10,5\n"  # 6: no such team
            "\n"
            "Night,2027-01,10,5\n"  # 8: next month: the future
            "WORKSHOP,2026-10,41,90\n"  # 9: the same team and month as line 2
            "Night,2026-08,10\n"  # 10: a value missing
        )
        ran = import_file(cli, tmp_path, text)
        assert ran.status == 1
        lines = ran.err.splitlines()
        assert "line 3: nps must be between -100 and 100, not 150" in lines
        assert "line 4: month must be a month written YYYY-MM, not '2026-13'" in lines
        assert "line 5: nps must be a whole number, not 'ten'" in lines
        assert "line 5: responses must be a whole number, at least 1, not '0'" in lines
        assert "line 6: no team called 'Atlier'" in lines
        assert "line 8: month 2027-01 has not begun" in lines
        assert "line 9: Workshop 2026-10 is already on line 2" in lines
        assert "line 10: 3 values where the header has 4" in lines
        assert not any(line.startswith("line 2:") for line in lines)
        assert lines[-1] == "symmetry: nothing recorded: 7 bad rows in nps.csv"
        assert stored(db) == set()
        assert "Traceback" not in ran.err

    def test_a_reimport_replaces_the_month(self, cli, db, teams, tmp_path):
        """Importing a team's month again replaces its figures, and says what it replaced."""
        first = import_file(cli, tmp_path, "team,month,nps,responses\nWorkshop,2026-11,10,50\n")
        assert first.status == 0, first.err
        ran = import_file(cli, tmp_path, "team,month,nps,responses\nWorkshop,2026-11,42,120\n")
        assert ran.status == 0, ran.err
        assert stored(db) == {("Workshop", "2026-11", 42, 120, None)}
        assert "replaces NPS 10 (50 responses)" in ran.out

    def test_a_bad_row_leaves_earlier_figures_alone(self, cli, db, teams, tmp_path):
        """A file with a bad row changes nothing, not even a month recorded before."""
        import_file(cli, tmp_path, "team,month,nps,responses\nWorkshop,2026-11,10,50\n")
        text = "team,month,nps,responses\nWorkshop,2026-11,42,120\nNight,2026-11,-101,3\n"
        ran = import_file(cli, tmp_path, text)
        assert ran.status == 1
        assert "line 3: nps must be between -100 and 100, not -101" in ran.err
        assert stored(db) == {("Workshop", "2026-11", 10, 50, None)}

    def test_an_unknown_team_is_named(self, cli, db, teams, tmp_path):
        """A team the workspace does not have is refused with its line and name."""
        ran = import_file(cli, tmp_path, "team,month,nps,responses\nSales,2026-11,10,50\n")
        assert ran.status == 1
        assert "line 2: no team called 'Sales'" in ran.err.splitlines()
        assert stored(db) == set()

    def test_a_team_of_another_workspace_is_unknown_with_workspace(
        self, cli, db, slack, teams, tmp_path
    ):
        """With --workspace, only that workspace's teams are known."""
        with db.sessions.begin() as session:
            other = queries.get_or_create_workspace(session, slack_team_id="T0OTHER1")
            session.add(Team(workspace_id=other.id, name="Sales", channel_id="C0SALES",
                             timezone="UTC", locale="en"))  # fmt: skip
        text = "team,month,nps,responses\nSales,2026-11,10,50\n"
        ran = import_file(cli, tmp_path, text, "--workspace", slack.team_id)
        assert "line 2: no team called 'Sales'" in ran.err
        assert import_file(cli, tmp_path, text, "--workspace", "T0OTHER1").status == 0
        assert stored(db) == {("Sales", "2026-11", 10, 50, None)}

    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("team,month,nps", "line 1: missing column responses"),
            ("team,month,nps,responses,region", "line 1: unknown column region"),
            ("team,month,score,responses", "line 1: missing column nps"),
            ("Workshop,2026-11,10,50", "line 1: missing column"),
        ],
    )
    def test_the_header_is_required_and_exact(self, cli, db, teams, tmp_path, header, expected):
        """A missing or unknown column (or no header at all) is refused on line 1."""
        ran = import_file(cli, tmp_path, f"{header}\nWorkshop,2026-11,10,50\n")
        assert ran.status == 1
        assert any(line.startswith(expected) for line in ran.err.splitlines()), ran.err
        assert stored(db) == set()

    def test_semicolons_and_latin1_files(self, cli, db, teams, tmp_path):
        """A spreadsheet's semicolon-separated export is read; a file that is not UTF-8 is
        refused with a clear line."""
        ran = import_file(cli, tmp_path, "team;month;nps;responses\nWorkshop;2026-11;12;30\n")
        assert ran.status == 0, ran.err
        ran = import_file(cli, tmp_path, "team,month,nps,responses\nAtelier é,2026-11,1,2\n",
                          encoding="latin-1")  # fmt: skip
        assert ran.status == 1
        assert "not UTF-8" in ran.err
        assert stored(db) == {("Workshop", "2026-11", 12, 30, None)}

    def test_a_missing_file_and_an_empty_one(self, cli, db, teams, tmp_path):
        """A file that cannot be read, or holds nothing, is said so in one line."""
        ran = cli.run("nps", "import", str(tmp_path / "nowhere.csv"), "--now", NOW)
        assert ran.status == 1 and "cannot read" in ran.err and len(ran.err.splitlines()) == 1
        ran = import_file(cli, tmp_path, "\n\n")
        assert ran.status == 1 and "empty" in ran.err

    def test_the_command_as_a_process(self, db, slack, teams, tmp_path):
        """`symmetry nps import` run as a program: exit status 1, the bad line on stderr,
        no traceback, nothing stored."""
        path = tmp_path / "nps.csv"
        path.write_text("team,month,nps,responses\nWorkshop,2026-11,42,120\nNight,11/2026,3,4\n")
        result = subprocess.run(
            [sys.executable, "-m", "bot", "nps", "import", str(path), "--now", NOW],
            env=server_env(db.url, slack),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert "line 3: month must be a month written YYYY-MM, not '11/2026'" in result.stderr
        assert "Traceback" not in result.stderr
        assert stored(db) == set()


class TestDomain:
    def test_read_reports_every_problem_without_a_database(self, db, teams):
        """`read` checks a whole file against the known teams before anything is stored."""
        with db.sessions() as session:
            known = list(queries.list_teams(session))
        with pytest.raises(BadFile) as refused:
            read("team,month,nps,responses\nWorkshop,2026-11,x,1\nNight,2026-11,1,x\n",
                 known, now=INSTANT)  # fmt: skip
        assert [e.split(":")[0] for e in refused.value.errors] == ["line 2", "line 3"]

    def test_a_file_the_csv_reader_refuses_is_one_line(self):
        """A value over the csv module's size limit is reported, not raised."""
        huge = 'team,month,nps,responses\nx,"' + "a" * 200_000 + '",1,1\n'
        with pytest.raises(BadFile) as refused:
            read(huge, [], now=INSTANT)
        assert refused.value.errors[0].startswith("line 2: not CSV the importer can read")

    def test_latest_is_the_newest_month_on_or_before(self, db, teams):
        """The digest reads the newest month recorded up to the one it asks for."""
        with db.sessions.begin() as session:
            team = session.get(Team, teams["Workshop"])
            for month, score in (("2026-09", 10), ("2026-10", 20), ("2026-12", 40)):
                nps.record(session, team=team, month=month, nps=score, responses=9, by=None,
                           now=INSTANT)  # fmt: skip
        with db.sessions() as session:
            found = nps.latest(session, team_id=teams["Workshop"], on_or_before_month="2026-11")
            assert (found.month, found.nps) == ("2026-10", 20)
            assert nps.latest(session, team_id=teams["Night"], on_or_before_month="2026-11") is None

    def test_record_refuses_figures_out_of_range(self, db, teams):
        """`record` itself refuses what no path should hand it."""
        with db.sessions() as session:
            team = session.get(Team, teams["Workshop"])
            with pytest.raises(ValueError):
                nps.record(session, team=team, month="2026-11", nps=101, responses=9, by=None,
                           now=INSTANT)  # fmt: skip


def open_modal(platform, slack, user: str) -> dict:
    slack.clear_calls()
    platform.command(user, "/symmetry", "nps")
    return slack.wait_for("views.open")[0].params["view"]


def options(view: dict, block_id: str) -> list[str]:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return [o["value"] for o in block["element"]["options"]]


class TestModal:
    def test_a_manager_records_for_their_team(self, platform, slack, db, teams):
        """The manager picks among their teams only; last month is the default; the figures
        are stored under their name and confirmed to them in a DM."""
        view = open_modal(platform, slack, MANAGER)
        assert view["callback_id"] == "digest_nps"
        assert options(view, "team") == [str(teams["Workshop"])]
        month = next(b for b in view["blocks"] if b.get("block_id") == "month")
        assert month["element"]["initial_option"]["value"] == "2026-01"  # the app starts in Feb
        assert "2026-03" not in options(view, "month")
        response = platform.view_submission(
            MANAGER, view, form_values(view, {"nps": "42", "responses": "120"})
        )
        assert response.status == 200 and "errors" not in response.body
        assert stored(db) == {("Workshop", "2026-01", 42, 120, MANAGER)}
        (dm,) = slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == MANAGER)
        assert "42" in json.dumps(dm.params, ensure_ascii=False)
        assert "Workshop" in json.dumps(dm.params, ensure_ascii=False)

    def test_an_admin_records_for_any_team_and_replaces(self, platform, slack, db, teams):
        """An admin sees every team; recording a month again replaces it."""
        view = open_modal(platform, slack, ADMIN)
        assert sorted(options(view, "team")) == sorted(str(t) for t in teams.values())
        for score in ("10", "-20"):
            answers = {"team": str(teams["Workshop"]), "month": "2025-12", "nps": score,
                       "responses": "30"}  # fmt: skip
            response = platform.view_submission(ADMIN, view, form_values(view, answers))
            assert "errors" not in response.body
            slack.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == ADMIN)
            slack.clear_calls()
        assert stored(db) == {("Workshop", "2025-12", -20, 30, ADMIN)}

    @pytest.mark.parametrize(
        ("user", "nps_error", "responses_error"),
        [
            (ADMIN, "whole number from -100 to 100", "at least 1"),
            (MANAGER, "nombre entier de -100 à 100", "au moins 1"),
        ],
    )
    def test_bad_figures_are_refused_in_the_persons_language(
        self, platform, slack, db, teams, user, nps_error, responses_error
    ):
        """NPS out of range and no responses: field errors in English or French, nothing
        stored."""
        view = open_modal(platform, slack, user)
        answers = {"nps": "150", "responses": "0"}
        body = platform.view_submission(user, view, form_values(view, answers)).json()
        assert body["response_action"] == "errors"
        assert nps_error in body["errors"]["nps"]
        assert responses_error in body["errors"]["responses"]
        assert stored(db) == set()

    def test_a_month_to_come_is_refused(self, platform, slack, db, teams):
        """A forged month that has not begun is refused beside the month."""
        view = open_modal(platform, slack, ADMIN)
        answers = {"month": "2026-03", "nps": "10", "responses": "3"}
        body = platform.view_submission(ADMIN, view, form_values(view, answers)).json()
        assert body["response_action"] == "errors" and "month" in body["errors"]
        assert stored(db) == set()

    def test_a_forged_team_changes_nothing(self, platform, slack, db, teams):
        """A manager submitting another team's id, or an employee submitting the manager's
        form, is refused; nothing is stored. An employee's `/symmetry nps` is told why not."""
        view = open_modal(platform, slack, MANAGER)
        forged = {"team": str(teams["Night"]), "nps": "99", "responses": "9"}
        body = platform.view_submission(MANAGER, view, form_values(view, forged)).json()
        assert body["response_action"] == "errors" and "team" in body["errors"]
        answers = {"nps": "99", "responses": "9"}
        body = platform.view_submission(EMPLOYEE, view, form_values(view, answers)).json()
        assert body["response_action"] == "errors"
        assert stored(db) == set()
        refusal = answer_of(platform.command(EMPLOYEE, "/symmetry", "nps"), slack)
        assert "Nothing was changed" in json.dumps(refusal)

    def test_help_names_the_command(self, platform, slack, db):
        """`/symmetry help` lists `/symmetry nps`."""
        helped = answer_of(platform.command(ADMIN, "/symmetry", "help"), slack)
        assert "/symmetry nps" in json.dumps(helped)
