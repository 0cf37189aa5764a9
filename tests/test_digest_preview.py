"""`symmetry digest preview`: a team's manager digest rendered on the command line, sent to
nobody."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.demo.harness import server_env
from bot.digests import chart, preview
from bot.digests.weeks import Week
from storage.models import DigestRecord, OutboxMessage, Team
from tests.irritant_helpers import big_team

NOW = "2026-12-09T10:00:00+00:00"  # Wednesday of 2026-W50
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def team(db, slack) -> int:
    """Workshop: managed by MANAGER, in English, in Paris."""
    return big_team(db, slack)


def header(payload: dict) -> str:
    first = payload["blocks"][0]
    assert first["type"] == "header"
    return first["text"]["text"]


class TestPreview:
    def test_json_is_the_block_kit_payload_and_nothing_is_sent(self, cli, db, slack, team):
        """--format json prints exactly {"blocks": [...], "text": ...}, headed by the week;
        nothing is queued, recorded or asked of Slack."""
        ran = cli.run("digest", "preview", "--team", "workshop", "--format", "json",
                      "--now", NOW)  # fmt: skip
        assert ran.status == 0, ran.err
        payload = json.loads(ran.out)
        assert set(payload) == {"blocks", "text"}
        assert isinstance(payload["blocks"], list) and isinstance(payload["text"], str)
        assert header(payload) == "Weekly digest — week 50"
        assert slack.calls == []
        with db.sessions() as session:
            assert session.scalars(select(OutboxMessage)).all() == []
            assert session.scalars(select(DigestRecord)).all() == []

    def test_text_is_the_default_and_speaks_the_teams_language(self, cli, db, team):
        """Without --format the readable text is printed, in the team's language."""
        ran = cli.run("digest", "preview", "--team", "Workshop", "--now", NOW)
        assert ran.status == 0, ran.err
        assert "Weekly digest — week 50" in ran.out
        with db.sessions.begin() as session:
            session.get(Team, team).locale = "fr"
        ran = cli.run("digest", "preview", "--team", "Workshop", "--now", NOW)
        assert "Bilan de la semaine 50" in ran.out

    def test_a_past_week(self, cli, team):
        """--week names an earlier week: its digest, as of its Monday morning."""
        ran = cli.run("digest", "preview", "--team", "Workshop", "--week", "2026-W45",
                      "--format", "json", "--now", NOW)  # fmt: skip
        assert ran.status == 0, ran.err
        assert header(json.loads(ran.out)) == "Weekly digest — week 45"

    @pytest.mark.parametrize(
        ("week", "expected"),
        [
            ("2026-50", "--week: not an ISO week such as 2026-W50: '2026-50'"),
            ("2026-W54", "--week: not an ISO week such as 2026-W50: '2026-W54'"),
            ("next week", "--week: not an ISO week such as 2026-W50: 'next week'"),
            (
                "2026-W51",
                "--week: 2026-W51's digest is not due until 2026-12-14 09:00 Europe/Paris",
            ),
        ],
    )
    def test_a_bad_or_future_week_is_refused(self, cli, team, week, expected):
        """A malformed week, or one whose digest is not due yet, is one clear line; exit 1."""
        ran = cli.run("digest", "preview", "--team", "Workshop", "--week", week, "--now", NOW)
        assert ran.status == 1
        assert ran.err.splitlines() == [f"symmetry: {expected}"]
        assert ran.out == ""

    def test_an_unknown_team(self, cli, team):
        """A team that does not exist is named in one line; exit 1."""
        ran = cli.run("digest", "preview", "--team", "Sales", "--now", NOW)
        assert ran.status == 1
        assert ran.err.splitlines() == ["symmetry: --team: no team called 'Sales'"]

    def test_png_writes_the_chart(self, cli, team, tmp_path, monkeypatch):
        """--png writes the bytes the chart draws, and says where, on stderr (stdout keeps
        the payload alone)."""
        drawn = b"\x89PNG\r\n\x1a\nchart"
        seen = []

        def fake_png(series, locale):
            seen.append(locale)
            return drawn

        monkeypatch.setattr(chart, "png", fake_png)
        target = tmp_path / "chart.png"
        ran = cli.run("digest", "preview", "--team", "Workshop", "--format", "json",
                      "--png", str(target), "--now", NOW)  # fmt: skip
        assert ran.status == 0, ran.err
        assert target.read_bytes() == drawn and seen == ["en"]
        assert str(target) in ran.err
        json.loads(ran.out)

    def test_png_with_nothing_to_draw(self, cli, team, tmp_path, monkeypatch):
        """When the chart has nothing to draw, no file is written and stderr says so."""
        monkeypatch.setattr(chart, "png", lambda series, locale: None)
        target = tmp_path / "chart.png"
        ran = cli.run("digest", "preview", "--team", "Workshop", "--png", str(target),
                      "--now", NOW)  # fmt: skip
        assert ran.status == 0, ran.err
        assert "no chart: nothing to draw yet" in ran.err
        assert not target.exists()

    def test_the_command_as_a_process(self, db, slack, team, tmp_path):
        """`symmetry digest preview --format json` run as a program prints the payload."""
        result = subprocess.run(
            [sys.executable, "-m", "bot", "digest", "preview", "--team", "Workshop",
             "--format", "json", "--now", NOW],
            env=server_env(db.url, slack),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert header(json.loads(result.stdout)) == "Weekly digest — week 50"


class TestWhen:
    def test_a_week_is_previewed_as_of_its_monday_morning(self, db, team):
        """--week takes that week's Monday 09:00 in the team's zone; no --week, the present."""
        now = datetime(2026, 12, 9, 10, tzinfo=UTC)
        with db.sessions() as session:
            workshop = session.get(Team, team)
            week, instant = preview.when(workshop, "2026-W45", now=now)
            assert (week, instant) == (Week(2026, 45), datetime(2026, 11, 2, 9, tzinfo=PARIS))
            assert preview.when(workshop, None, now=now) == (Week(2026, 50), now)

    def test_this_weeks_digest_before_monday_morning_is_not_due(self, db, team):
        """On Monday at 08:00 in Paris this week's digest is not due yet; without --week the
        preview shows this week as of now."""
        now = datetime(2026, 12, 7, 8, tzinfo=PARIS)
        with db.sessions() as session:
            workshop = session.get(Team, team)
            with pytest.raises(preview.PreviewError):
                preview.when(workshop, "2026-W50", now=now)
            assert preview.when(workshop, None, now=now)[0] == Week(2026, 50)
