"""Multi-workspace mode end to end: install over OAuth, then serve the installed workspace."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import text

from tests.conftest import EMPLOYEE, multi_workspace_server


@pytest.fixture(scope="module")
def oauth_server_process(database, sim, tmp_path_factory):
    """`symmetry serve` with a client ID and secret instead of a bot token, shared by this
    file's tests on each backend (it keeps nothing between requests but the database)."""
    with multi_workspace_server(database, sim, tmp_path_factory.mktemp("oauth-server")) as running:
        yield running


@pytest.fixture
def oauth_server(oauth_server_process, db, slack):
    """The OAuth server, with an empty database and a freshly seeded workspace; what a test
    installed is removed after it."""
    yield oauth_server_process
    with db.engine.begin() as connection:
        for table in ("slack_bots", "slack_installations", "slack_oauth_states"):
            connection.execute(text(f"DELETE FROM {table}"))


class TestOAuthInstall:
    def test_install_then_use(self, oauth_server, slack, db):
        """/slack/install links to Slack with a state; the redirect stores the installation;
        the workspace's commands are then answered."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(oauth_server.base_url + "/slack/install", timeout=10) as response:
            page = response.read().decode()
            # Bolt's state cookie is Secure; a browser on HTTPS sends it back, so do we.
            cookie = response.headers["Set-Cookie"].split(";", 1)[0]
        state = re.search(r"state=([\w-]+)", page)
        assert state, page
        assert "client_id=111.222" in page
        query = urllib.parse.urlencode({"code": "sim-code", "state": state.group(1)})
        redirect = f"{oauth_server.base_url}/slack/oauth_redirect?{query}"
        request = urllib.request.Request(redirect, headers={"Cookie": cookie})
        with opener.open(request, timeout=10) as response:
            assert response.status == 200
        assert slack.calls_to("oauth.v2.access")
        with db.engine.connect() as connection:
            bots = connection.execute(text("SELECT team_id FROM slack_bots")).scalars().all()
        assert bots == [slack.team_id]

        platform = oauth_server.platform
        platform.command(EMPLOYEE, "/symmetry", "help")
        answer = slack.wait_for("response_url")[0].params
        assert "/irritant" in str(answer)

    def test_redirect_with_a_forged_state_is_refused(self, oauth_server, slack):
        """An OAuth redirect whose state was never issued stores nothing."""
        query = urllib.parse.urlencode({"code": "sim-code", "state": "forged"})
        status, _body = oauth_server.get(f"/slack/oauth_redirect?{query}")
        assert status >= 400
        assert slack.calls_to("oauth.v2.access") == []
