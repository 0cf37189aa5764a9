"""Enterprise Grid end to end: the app installed over OAuth in one workspace of an organisation,
or org-wide, then used (a command and events from `W…` people), planned and delivered by the
clock with that installation's token, and uninstalled, through `symmetry serve`, the command
line and the simulated Slack answering with Grid shapes."""

from __future__ import annotations

import re
import time
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import select, text

from bot.demo.slack import SimChannel, SimUser
from storage.models import Membership, OutboxMessage, Workspace
from tests.cli_inprocess import Cli, cli_for
from tests.conftest import OAUTH_ENV, multi_workspace_server

TUESDAY_10_PARIS = "2026-01-13T10:00:00+01:00"
ENTERPRISE = "E0SYMGRID"
GRID_CHANNEL = "CGRID0001"
BOSS = "WGRIDMAN1"  # Grid people have W… IDs
WORKER = "WGRIDEMP1"
NEWCOMER = "WGRIDNEW1"
TOKENS = {"grid": "xoxb-sim-grid-workspace", "org": "xoxb-sim-grid-org"}


@pytest.fixture(scope="module")
def grid_server_process(database, sim, tmp_path_factory):
    """`symmetry serve` in multi-workspace mode, shared by this file's tests on each backend."""
    with multi_workspace_server(database, sim, tmp_path_factory.mktemp("grid-server")) as running:
        yield running


@pytest.fixture
def grid_server(grid_server_process, db, slack):
    """The server with an empty database and the Grid cast in the simulated workspace; what
    a test installed is removed after it, and the workspace row (which the database keeps
    between tests) is a plain, installed one again."""
    slack.add_user(SimUser(BOSS, "sophie", "Sophie Grid", tz="Europe/Paris", locale="fr-FR"))
    slack.add_user(SimUser(WORKER, "tom", "Tom Grid", tz="Europe/Paris", locale="en-GB"))
    slack.add_user(SimUser(NEWCOMER, "lea", "Léa Grid", tz="Europe/Paris", locale="fr-FR"))
    slack.add_channel(SimChannel(GRID_CHANNEL, "grid-workshop", [BOSS, WORKER, slack.bot_user_id]))
    yield grid_server_process
    with db.engine.begin() as connection:
        for table in ("slack_bots", "slack_installations", "slack_oauth_states"):
            connection.execute(text(f"DELETE FROM {table}"))
        connection.execute(
            text(
                "UPDATE workspaces SET enterprise_id = NULL, is_enterprise_install = false,"
                " uninstalled_at = NULL"
            )
        )


@pytest.fixture
def grid_cli(db, slack, tmp_path, monkeypatch, capsys) -> Cli:
    """`symmetry` in this process, in multi-workspace mode (no bot token: installations)."""
    cli = cli_for(db.url, slack, tmp_path, monkeypatch, capsys)
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    for name, value in OAUTH_ENV.items():
        monkeypatch.setenv(name, value)
    return cli


def install(base_url: str) -> None:
    """The OAuth flow as a browser goes through it: /slack/install, then Slack's redirect."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(base_url + "/slack/install", timeout=10) as response:
        page = response.read().decode()
        cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    state = re.search(r"state=([\w-]+)", page)
    assert state, page
    query = urllib.parse.urlencode({"code": "sim-code", "state": state.group(1)})
    request = urllib.request.Request(
        f"{base_url}/slack/oauth_redirect?{query}", headers={"Cookie": cookie}
    )
    with opener.open(request, timeout=10) as response:
        assert response.status == 200


def stored(db, table: str) -> list[tuple]:
    """(enterprise_id, team_id, is_enterprise_install) of the installation store's rows."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT enterprise_id, team_id, is_enterprise_install FROM {table}")
        )
        return [(e, t, bool(org)) for e, t, org in rows]


def workspace_row(db, slack_team_id: str) -> Workspace:
    with db.sessions() as session:
        return session.scalars(
            select(Workspace).where(Workspace.slack_team_id == slack_team_id)
        ).one()


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def members(db) -> set[str]:
    with db.sessions() as session:
        return set(session.scalars(select(Membership.user_id)))


def welcomes(slack, user_id: str) -> list:
    """The welcome DMs sent to a person."""
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.params.get("channel") == user_id
        and c.params.get("text", "").startswith(("Welcome to Symmetry", "Bienvenue"))
    ]


@pytest.mark.parametrize("kind", ["grid", "org"])
class TestGridInstall:
    def test_installed_used_planned_delivered_and_uninstalled(
        self, kind, grid_server, grid_cli, slack, db
    ):
        """Installed in a Grid workspace, or org-wide: the installation is stored under the
        organisation; a W… person's Home and `/irritant` are answered; a team is set up; the
        clock welcomes its members with that installation's token; after `app_uninstalled`
        (as Slack sends it for that installation) its tokens are gone and nothing more is
        planned there."""
        token = TOKENS[kind]
        slack.install_as(kind, enterprise_id=ENTERPRISE, bot_token=token)
        install(grid_server.base_url)
        org = kind == "org"
        expected = (ENTERPRISE, None if org else slack.team_id, org)
        assert stored(db, "slack_bots") == [expected]
        assert stored(db, "slack_installations") == [expected]

        platform = grid_server.platform
        opened = platform.event({"type": "app_home_opened", "user": WORKER, "tab": "home"})
        assert opened.status == 200
        (home,) = slack.wait_for("views.publish")
        assert home.token == token and home.params["user_id"] == WORKER
        workspace = workspace_row(db, slack.team_id)
        assert (workspace.enterprise_id, workspace.is_enterprise_install) == (ENTERPRISE, org)

        added = grid_cli.run(
            "team", "add", "Grid workshop", "--channel", GRID_CHANNEL, "--manager", BOSS,
            "--timezone", "Europe/Paris", "--workspace", slack.team_id,
        )  # fmt: skip
        assert added.status == 0, added.err
        platform.command(WORKER, "/irritant", channel_id=GRID_CHANNEL)
        (modal,) = slack.wait_for("views.open")
        assert modal.token == token

        ticked = grid_cli.run("tick", "--now", TUESDAY_10_PARIS)
        assert ticked.status == 0, ticked.err
        for person in (BOSS, WORKER):
            (welcome,) = welcomes(slack, person)
            assert welcome.token == token and not welcome.failed

        slack.join(GRID_CHANNEL, NEWCOMER)
        joined = platform.event(
            {"type": "member_joined_channel", "user": NEWCOMER, "channel": GRID_CHANNEL}
        )
        assert joined.status == 200
        wait_until(lambda: members(db) == {BOSS, WORKER, NEWCOMER})
        assert platform.uninstalled().status == 200
        wait_until(lambda: workspace_row(db, slack.team_id).uninstalled_at is not None)
        wait_until(lambda: stored(db, "slack_bots") == [])
        assert stored(db, "slack_installations") == []

        slack.clear_calls()
        again = grid_cli.run("tick", "--now", TUESDAY_10_PARIS)
        assert again.status == 0, again.err
        assert slack.calls_to("chat.postMessage") == []
        with db.sessions() as session:
            planned = session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.recipient == NEWCOMER)
            ).all()
        assert planned == []
