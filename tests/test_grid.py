"""Enterprise Grid end to end: the app installed over OAuth in one workspace of an organisation,
or org-wide, then used (a command and events from `W…` people), planned and delivered by the
clock with that installation's token, and uninstalled, through `symmetry serve`, the command
line and the simulated Slack answering with Grid shapes."""

from __future__ import annotations

import re
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import delete, select, text

from bot.demo.slack import SimChannel, SimUser
from bot.runtime import workspaces
from bot.teams.directory import Directory
from storage import queries
from storage.models import Membership, OutboxMessage, Workspace
from tests.conftest import OAUTH_ENV, multi_workspace_server

TUESDAY_10_PARIS = "2026-01-13T10:00:00+01:00"
ENTERPRISE = "E0SYMGRID"
GRID_CHANNEL = "CGRID0001"
BOSS = "WGRIDMAN1"  # Grid people have W… IDs
WORKER = "WGRIDEMP1"
NEWCOMER = "WGRIDNEW1"
SECOND, THIRD = "T0SECOND1", "T0THIRD01"  # other workspaces of the organisation
TOKENS = {"grid": "xoxb-sim-grid-workspace", "org": "xoxb-sim-grid-org"}


@pytest.fixture(autouse=True)
def plain_afterwards(sim):
    """The shared simulated Slack is a plain workspace's again after each test, without the
    Grid cast (tests of other files use it as it is)."""
    yield
    sim.install_as("workspace")
    for user_id in (BOSS, WORKER, NEWCOMER):
        sim.users.pop(user_id, None)
    sim.channels.pop(GRID_CHANNEL, None)


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
        connection.execute(delete(Workspace).where(Workspace.slack_team_id.in_([SECOND, THIRD])))


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
        self, kind, grid_server, oauth_cli, slack, db
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
        if not org:  # recorded at install; an org-wide install names no workspace
            assert rows(db)[slack.team_id] == (ENTERPRISE, False, False)

        platform = grid_server.platform
        opened = platform.event({"type": "app_home_opened", "user": WORKER, "tab": "home"})
        assert opened.status == 200
        (home,) = slack.wait_for("views.publish")
        assert home.token == token and home.params["user_id"] == WORKER
        workspace = workspace_row(db, slack.team_id)
        assert (workspace.enterprise_id, workspace.is_enterprise_install) == (ENTERPRISE, org)

        added = oauth_cli.run(
            "team", "add", "Grid workshop", "--channel", GRID_CHANNEL, "--manager", BOSS,
            "--timezone", "Europe/Paris", "--workspace", slack.team_id,
        )  # fmt: skip
        assert added.status == 0, added.err
        platform.command(WORKER, "/irritant", channel_id=GRID_CHANNEL)
        (modal,) = slack.wait_for("views.open")
        assert modal.token == token

        ticked = oauth_cli.run("tick", "--now", TUESDAY_10_PARIS)
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
        again = oauth_cli.run("tick", "--now", TUESDAY_10_PARIS)
        assert again.status == 0, again.err
        assert slack.calls_to("chat.postMessage") == []
        with db.sessions() as session:
            planned = session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.recipient == NEWCOMER)
            ).all()
        assert planned == []


class TestTeamAccess:
    def test_an_org_install_follows_the_workspaces_it_is_granted(self, grid_server, slack, db):
        """Installed org-wide, the app is told which workspaces the organisation grants it:
        a workspace granted is recorded (the clock can find its token with no request from
        it); one revoked is no longer served while the organisation's token stays; granted
        again, it is served again."""
        slack.install_as("org", enterprise_id=ENTERPRISE, bot_token=TOKENS["org"])
        install(grid_server.base_url)
        platform = grid_server.platform
        assert platform.team_access([SECOND, THIRD], granted=True).status == 200
        served = (ENTERPRISE, True, False)
        wait_until(lambda: [rows(db).get(t) for t in (SECOND, THIRD)] == [served, served])

        assert platform.team_access([THIRD], granted=False).status == 200
        wait_until(lambda: rows(db)[THIRD] == (ENTERPRISE, True, True))
        assert rows(db)[SECOND] == served
        assert stored(db, "slack_bots") == [(ENTERPRISE, None, True)]

        assert platform.team_access([THIRD], granted=True).status == 200
        wait_until(lambda: rows(db)[THIRD] == served)


def rows(db) -> dict[str, tuple[str | None, bool, bool]]:
    """Workspaces by Slack team ID: (organisation, org-wide, uninstalled)."""
    with db.sessions() as session:
        return {
            w.slack_team_id: (
                w.enterprise_id,
                w.is_enterprise_install,
                w.uninstalled_at is not None,
            )
            for w in session.scalars(select(Workspace))
        }


NOW = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)
OTHER_ORG = "E0OTHERORG"


@pytest.fixture
def store(db):
    """The installation store `symmetry serve` keeps its tokens in, on this test's database;
    emptied after the test, with the workspace rows the test made (the database keeps
    workspaces between tests)."""
    made = SQLAlchemyInstallationStore(client_id=OAUTH_ENV["SLACK_CLIENT_ID"], engine=db.engine)
    yield made
    with db.engine.begin() as connection:
        for table in ("slack_bots", "slack_installations"):
            connection.execute(text(f"DELETE FROM {table}"))
        connection.execute(
            delete(Workspace).where(
                Workspace.slack_team_id.in_(
                    ["T0ORGA001", "T0ORGB001", "T0OWN0001", "T0OWN0002", "T0ELSE001"]
                )
            )
        )


def save(store, *, enterprise_id, team_id, token) -> None:
    """An installation as Bolt's OAuth flow saves it (org-wide when there is no team)."""
    store.save(
        Installation(
            app_id="A0SYMMETRY",
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=token,
            bot_id="B0BOT",
            bot_user_id="W0BOT",
            user_id="WINSTALL1",
            is_enterprise_install=team_id is None,
        )
    )


def workspace_rows(db, rows: dict[str, tuple[str | None, bool]]) -> dict[str, int]:
    """Workspace rows by Slack team ID: (organisation, relies on an org-wide install)."""
    ids = {}
    with db.sessions.begin() as session:
        for slack_team_id, (enterprise_id, org_wide) in rows.items():
            workspace = queries.get_or_create_workspace(session, slack_team_id=slack_team_id)
            workspace.enterprise_id, workspace.is_enterprise_install = enterprise_id, org_wide
            workspace.uninstalled_at = None
            session.flush()
            ids[slack_team_id] = workspace.id
    return ids


def gone(db) -> set[str]:
    with db.sessions() as session:
        return set(
            session.scalars(
                select(Workspace.slack_team_id).where(Workspace.uninstalled_at.is_not(None))
            )
        )


class TestUninstalled:
    def test_org_wide_uninstall_leaves_every_workspace_that_relied_on_it(self, db, store):
        """Removed from an organisation, the org-wide installation's rows go and every
        workspace of the organisation without an installation of its own is left; a workspace
        installed by itself, and another organisation's, stay."""
        save(store, enterprise_id=ENTERPRISE, team_id=None, token="xoxb-org")
        save(store, enterprise_id=ENTERPRISE, team_id="T0OWN0001", token="xoxb-own")
        save(store, enterprise_id=OTHER_ORG, team_id=None, token="xoxb-other")
        ids = workspace_rows(
            db,
            {
                "T0ORGA001": (ENTERPRISE, True),
                "T0ORGB001": (ENTERPRISE, True),
                "T0OWN0001": (ENTERPRISE, False),
                "T0ELSE001": (OTHER_ORG, True),
            },
        )
        with db.sessions.begin() as session:
            left = workspaces.uninstalled(
                session,
                slack_team_id=None,
                enterprise_id=ENTERPRISE,
                now=NOW,
                installation_store=store,
            )
        assert sorted(left) == sorted([ids["T0ORGA001"], ids["T0ORGB001"]])
        assert gone(db) == {"T0ORGA001", "T0ORGB001"}
        kept = {(ENTERPRISE, "T0OWN0001", False), (OTHER_ORG, None, True)}
        assert set(stored(db, "slack_bots")) == kept
        assert set(stored(db, "slack_installations")) == kept

    def test_grid_workspace_uninstall_removes_its_installation_only(self, db, store):
        """Removed from one workspace of a Grid organisation (the event names both), that
        workspace's rows go: the organisation's other installations stay."""
        save(store, enterprise_id=ENTERPRISE, team_id="T0OWN0001", token="xoxb-own")
        save(store, enterprise_id=ENTERPRISE, team_id="T0OWN0002", token="xoxb-own2")
        workspace_rows(db, {"T0OWN0001": (ENTERPRISE, False), "T0OWN0002": (ENTERPRISE, False)})
        with db.sessions.begin() as session:
            workspaces.uninstalled(
                session,
                slack_team_id="T0OWN0001",
                enterprise_id=ENTERPRISE,
                now=NOW,
                installation_store=store,
            )
        assert gone(db) == {"T0OWN0001"}
        assert stored(db, "slack_bots") == [(ENTERPRISE, "T0OWN0002", False)]

    def test_tokens_revoked_for_a_grid_bot(self, db, store):
        """`tokens_revoked` naming the bot's W… user, from an org-wide installation, removes it
        like an uninstall; one naming only people's tokens changes nothing."""
        save(store, enterprise_id=ENTERPRISE, team_id=None, token="xoxb-org")
        workspace_rows(db, {"T0ORGA001": (ENTERPRISE, True)})
        with db.sessions.begin() as session:
            kept = workspaces.tokens_revoked(
                session, slack_team_id=None, enterprise_id=ENTERPRISE, bot_user_ids=[], now=NOW,
                installation_store=store,
            )  # fmt: skip
        assert kept == [] and gone(db) == set()
        with db.sessions.begin() as session:
            workspaces.tokens_revoked(
                session, slack_team_id=None, enterprise_id=ENTERPRISE, bot_user_ids=["W0BOT"],
                now=NOW, installation_store=store,
            )  # fmt: skip
        assert gone(db) == {"T0ORGA001"}
        assert stored(db, "slack_bots") == []


class TestFindBot:
    def test_each_shape_of_installation_is_found(self, db, store):
        """A plain workspace's bot by its team; a Grid workspace's by organisation and team;
        an org-wide one by organisation alone; a workspace relying on its organisation's
        install falls back to it when it has none of its own; a workspace whose organisation
        was never recorded is found by its team ID."""
        save(store, enterprise_id=None, team_id="T0PLAIN01", token="xoxb-plain")
        save(store, enterprise_id=ENTERPRISE, team_id="T0OWN0001", token="xoxb-own")
        save(store, enterprise_id=ENTERPRISE, team_id=None, token="xoxb-org")

        def token(slack_team_id, enterprise_id, org_wide):
            bot = workspaces.find_bot(
                store,
                slack_team_id=slack_team_id,
                enterprise_id=enterprise_id,
                is_enterprise_install=org_wide,
            )
            return bot.bot_token if bot else None

        assert token("T0PLAIN01", None, False) == "xoxb-plain"
        assert token("T0OWN0001", ENTERPRISE, False) == "xoxb-own"
        assert token("T0ORGA001", ENTERPRISE, True) == "xoxb-org"
        assert token("T0ORGB001", ENTERPRISE, False) == "xoxb-org"
        assert token("T0OWN0001", None, False) == "xoxb-own"
        assert token("T0NOBODY1", None, False) is None
        assert token("T0NOBODY1", OTHER_ORG, True) is None


class TestOrgToken:
    def test_the_directory_names_the_workspace_to_list_its_people(self, db, slack, workspace_id):
        """With an org-wide installation's token, `users.list` names the workspace (Slack
        refuses it otherwise), and everyone is cached."""
        slack.install_as("org", enterprise_id=ENTERPRISE, bot_token=TOKENS["org"])
        client = WebClient(token=TOKENS["org"], base_url=slack.url, retry_handlers=[])
        directory = Directory(db.sessions, lambda _workspace_id: client)
        assert directory.refresh_all(workspace_id=workspace_id, now=NOW) == len(slack.users)
        (listed,) = slack.calls_to("users.list")
        assert listed.params["team_id"] == slack.team_id and not listed.failed
