"""The command line against the simulated workspace and a real database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.runtime.manifest import BOT_EVENTS, BOT_SCOPES, ORG_EVENTS, render_yaml
from storage.db import make_engine
from storage.models import Team
from tests.cli_inprocess import Cli
from tests.conftest import (
    EMPLOYEE,
    GONE,
    MANAGER,
    OTHER_CHANNEL,
    OTHERBOT,
    PRIVATE_CHANNEL,
    ROOT,
    SALARIEE,
    TEAM_CHANNEL,
    free_port,
    server_env,
)


def symmetry(*args: str, env: dict[str, str], cwd: Path, timeout: float = 60):
    """Run `python -m bot ARGS` and return the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def env(db, slack, tmp_path) -> dict[str, str]:
    """The environment of a CLI run against this test's database and simulated Slack."""
    return server_env(db.url, slack, free_port())


class TestTeamCommands:
    def test_add_then_list_json(self, cli, db):
        """team add creates a team of the channel's humans; team list --json shows it."""
        result = cli.run(
            "team", "add", "Atelier", "--channel", TEAM_CHANNEL, "--manager", MANAGER,
            "--timezone", "Europe/Paris", "--locale", "fr",
        )  # fmt: skip
        assert result.status == 0, result.err
        assert "3 members" in result.out
        listed = cli.run("team", "list", "--json")
        assert json.loads(listed.out) == [
            {
                "name": "Atelier",
                "channel": TEAM_CHANNEL,
                "managers": [MANAGER],
                "members": 3,
                "timezone": "Europe/Paris",
                "locale": "fr",
            }
        ]
        with db.sessions() as session:
            team = session.scalars(select(Team)).one()
            assert {m.user_id for m in team.memberships} == {MANAGER, EMPLOYEE, SALARIEE}

    def test_add_uses_the_default_timezone_and_locale(self, cli, monkeypatch):
        """Without --timezone and --locale the team takes the deployment's defaults."""
        monkeypatch.setenv("SYMMETRY_DEFAULT_TIMEZONE", "Europe/Brussels")
        monkeypatch.setenv("SYMMETRY_DEFAULT_LOCALE", "fr")
        result = cli.run("team", "add", "Sales", "--channel", OTHER_CHANNEL, "--manager", EMPLOYEE)
        assert result.status == 0, result.err
        (team,) = json.loads(cli.run("team", "list", "--json").out)
        assert (team["timezone"], team["locale"]) == ("Europe/Brussels", "fr")

    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            (["--channel", "CNOPE0001", "--manager", MANAGER], "channel"),
            (["--channel", PRIVATE_CHANNEL, "--manager", MANAGER], "invite"),
            (["--channel", TEAM_CHANNEL, "--manager", OTHERBOT], "managers"),
            (["--channel", TEAM_CHANNEL, "--manager", GONE], "managers"),
            (["--channel", TEAM_CHANNEL, "--manager", MANAGER, "--timezone", "Nowhere"], "zone"),
        ],
    )
    def test_add_refuses_bad_input(self, cli, db, args, expected):
        """Unknown channels, bots or deactivated managers and bad zones are refused clearly."""
        result = cli.run("team", "add", "Atelier", *args)
        assert result.status == 1
        assert expected in result.err.lower()
        assert "Traceback" not in result.err
        with db.sessions() as session:
            assert session.scalars(select(Team)).all() == []

    def test_add_refuses_a_duplicate_name(self, cli):
        """A second team with the same name (any case) is refused."""
        args = ["--channel", TEAM_CHANNEL, "--manager", MANAGER]
        assert cli.run("team", "add", "Atelier", *args).status == 0
        args = ["--channel", OTHER_CHANNEL, "--manager", MANAGER]
        result = cli.run("team", "add", "ATELIER", *args)
        assert result.status == 1
        assert "already has this name" in result.err

    def test_sync_follows_the_channel(self, cli, slack):
        """team sync adds people who joined the channel and removes those who left."""
        args = ["--channel", TEAM_CHANNEL, "--manager", MANAGER]
        assert cli.run("team", "add", "Atelier", *args).status == 0
        slack.leave(TEAM_CHANNEL, EMPLOYEE)
        slack.join(TEAM_CHANNEL, "UADMIN01")
        result = cli.run("team", "sync")
        assert result.status == 0, result.err
        assert "1 joined, 1 left" in result.out
        (team,) = json.loads(cli.run("team", "list", "--json").out)
        assert team["members"] == 3

    def test_list_without_teams(self, cli):
        """team list says how to create a team when there is none, and --json gives []."""
        assert "symmetry team add" in cli.run("team", "list").out
        assert json.loads(cli.run("team", "list", "--json").out) == []


class TestDatabaseCommands:
    def test_serve_refuses_an_unmigrated_database(self, slack, tmp_path):
        """serve on a database without migrations exits with a message naming db upgrade."""
        env = server_env(f"sqlite:///{tmp_path / 'fresh.db'}", slack, free_port())
        result = symmetry("serve", env=env, cwd=tmp_path)
        assert result.returncode == 1
        assert "symmetry db upgrade" in result.stderr

    def test_db_upgrade_team_add_list_then_tick(self, slack, tmp_path):
        """db upgrade brings a new database up to date; team add, team list --json and tick
        --now then run on it and exit 0: each command run as a program, end to end (the
        other tests run them in this process)."""
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        env = server_env(url, slack, free_port())
        assert symmetry("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
        args = ["--channel", TEAM_CHANNEL, "--manager", MANAGER, "--locale", "fr"]
        added = symmetry("team", "add", "Atelier", *args, env=env, cwd=tmp_path)
        assert added.returncode == 0, added.stderr
        assert "3 members" in added.stdout
        listed = symmetry("team", "list", "--json", env=env, cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert [(t["name"], t["members"]) for t in json.loads(listed.stdout)] == [("Atelier", 3)]
        result = symmetry("tick", "--now", "2026-03-29T01:30:00+01:00", env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "2026-03-29T00:30:00+00:00" in result.stdout or "2026-03-29T01:30" in result.stdout
        with make_engine(url).connect() as connection:
            assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

    def test_tick_refuses_a_bad_instant(self, cli):
        """tick --now with something that is not ISO-8601 says so."""
        result = cli.run("tick", "--now", "next tuesday")
        assert result.status == 1
        assert "--now" in result.err


class TestManifest:
    def test_socket_mode_manifest(self, tmp_path):
        """Without --url the manifest enables Socket Mode and has no request URLs (run as a
        process with no setting at all)."""
        result = symmetry("manifest", env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
        manifest = yaml.safe_load(result.stdout)
        assert manifest["settings"]["socket_mode_enabled"] is True
        assert manifest["settings"]["org_deploy_enabled"] is False
        assert "request_url" not in manifest["settings"]["event_subscriptions"]
        assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == set(BOT_EVENTS)
        assert {"app_uninstalled", "tokens_revoked", "app_home_opened"} <= set(BOT_EVENTS)
        assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
        commands = {c["command"] for c in manifest["features"]["slash_commands"]}
        assert commands == {"/irritant", "/symmetry"}
        assert manifest["features"]["app_home"]["home_tab_enabled"] is True
        assert manifest["settings"]["interactivity"]["is_enabled"] is True

    def test_http_manifest(self, capsys):
        """With --url every request URL points at /slack/events, Socket Mode is off, and the
        app is org-ready (an Enterprise Grid organisation may install it org-wide, and tells
        it which workspaces it grants)."""
        result = Cli(capsys).run("manifest", "--url", "https://bot.example/")
        assert result.status == 0
        manifest = yaml.safe_load(result.out)
        url = "https://bot.example/slack/events"
        assert manifest["settings"]["socket_mode_enabled"] is False
        assert manifest["settings"]["event_subscriptions"]["request_url"] == url
        assert manifest["settings"]["interactivity"]["request_url"] == url
        assert all(c["url"] == url for c in manifest["features"]["slash_commands"])
        assert manifest["oauth_config"]["redirect_urls"] == [
            "https://bot.example/slack/oauth_redirect"
        ]
        assert manifest["settings"]["org_deploy_enabled"] is True
        events = manifest["settings"]["event_subscriptions"]["bot_events"]
        assert set(events) == set(BOT_EVENTS) | set(ORG_EVENTS)

    def test_manifest_file_is_the_socket_mode_output(self):
        """manifest.yml in the repository is exactly `symmetry manifest`."""
        assert (ROOT / "manifest.yml").read_text() == render_yaml()


class TestSocketMode:
    def test_socket_opens_a_connection_through_slack_api_url(self, env, slack, tmp_path):
        """symmetry socket asks SLACK_API_URL for a Socket Mode URL with the app token, and
        stops cleanly on SIGTERM; its output, a pipe, is JSON lines without the token."""
        env["SLACK_APP_TOKEN"] = "xapp-1-sim"
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "socket"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            call = slack.wait_for("apps.connections.open", timeout=20)[0]
            assert call.token == "xapp-1-sim"
            process.terminate()
            assert process.wait(timeout=10) == 0  # SIGTERM: closes and exits at once
            out = process.stdout.read().decode()
            lines = [json.loads(line) for line in out.splitlines()]  # each one JSON
            assert any("Socket Mode" in line["message"] for line in lines)
            assert "xapp-1-sim" not in out
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
