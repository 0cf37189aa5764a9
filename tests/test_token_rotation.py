"""Token rotation for the clock: in multi-workspace mode, a tick refreshes an expiring bot token
through the simulated Slack's `oauth.v2.access` (`grant_type=refresh_token`) before it sends,
posts with the new token and stores it where Bolt reads it; the simulated Slack refuses the
expired token, so nothing is sent without the refresh."""

from __future__ import annotations

import time

import pytest
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bot.runtime import rotation
from tests.conftest import OAUTH_ENV, crowd

TUESDAY_10_PARIS = "2026-01-13T10:00:00+01:00"


@pytest.fixture
def store(db) -> SQLAlchemyInstallationStore:
    """The installation store `symmetry serve` keeps its tokens in (emptied by `db`)."""
    return SQLAlchemyInstallationStore(client_id=OAUTH_ENV["SLACK_CLIENT_ID"], engine=db.engine)


def install_rotating(slack, store, *, expires_in: int) -> str:
    """The app installed with token rotation on, its bot token expiring in `expires_in`
    seconds (negative: expired), as Bolt's OAuth flow stores it; returns the refresh token."""
    refresh = slack.rotate_tokens(expires_in=expires_in)
    store.save(
        Installation(
            app_id=slack.app_id,
            enterprise_id=None,
            team_id=slack.team_id,
            bot_token=slack.bot_token,
            bot_refresh_token=refresh,
            bot_token_expires_at=int(time.time()) + expires_in,
            bot_id="B0BOT",
            bot_user_id=slack.bot_user_id,
            user_id="U0INSTALL",
        )
    )
    return refresh


def posts_by_token(slack) -> dict[str | None, int]:
    counts: dict[str | None, int] = {}
    for call in slack.calls_to("chat.postMessage"):
        if not call.failed:
            counts[call.token] = counts.get(call.token, 0) + 1
    return counts


class TestClockRefreshesTokens:
    @pytest.mark.parametrize("expires_in", [-60, 600], ids=["expired", "expiring-in-10-min"])
    def test_tick_refreshes_an_expiring_token_before_sending(
        self, oauth_cli, db, slack, store, expires_in
    ):
        """A token expired or expiring within two hours: the tick refreshes it once (through
        `oauth.v2.access`, `grant_type=refresh_token`), every welcome is posted with the new
        token, and the new token and refresh token are stored for the next process."""
        old_token = slack.bot_token
        refresh = install_rotating(slack, store, expires_in=expires_in)
        people = crowd(slack, db, 5)
        result = oauth_cli.run("tick", "--now", TUESDAY_10_PARIS)
        assert result.status == 0, result.err
        (refreshed,) = slack.calls_to("oauth.v2.access")  # once, for all the send threads
        assert refreshed.params["grant_type"] == "refresh_token"
        assert refreshed.params["refresh_token"] == refresh
        new_token = slack.bot_token
        assert new_token != old_token
        assert posts_by_token(slack) == {new_token: len(people)}
        bot = store.find_bot(enterprise_id=None, team_id=slack.team_id)
        assert bot.bot_token == new_token
        assert bot.bot_refresh_token not in (None, refresh)
        assert bot.bot_token_expires_at > time.time() + 11 * 3600
        installation = store.find_installation(enterprise_id=None, team_id=slack.team_id)
        assert installation.bot_token == new_token  # where Bolt reads it for requests

    def test_a_token_good_for_hours_is_used_as_it_is(self, oauth_cli, db, slack, store):
        """A rotating token with more than two hours left is not refreshed."""
        old_token = slack.bot_token
        install_rotating(slack, store, expires_in=5 * 3600)
        people = crowd(slack, db, 2)
        result = oauth_cli.run("tick", "--now", TUESDAY_10_PARIS)
        assert result.status == 0, result.err
        assert slack.calls_to("oauth.v2.access") == []
        assert posts_by_token(slack) == {old_token: len(people)}

    def test_the_expired_token_is_refused_by_the_simulated_slack(self, oauth_cli, slack, store):
        """The simulated Slack answers `token_expired` to an expired token (what the refresh
        spares the clock) and accepts the rotated one."""
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError

        old_token = slack.bot_token
        refresh = install_rotating(slack, store, expires_in=-1)
        with pytest.raises(SlackApiError) as refused:
            WebClient(token=old_token, base_url=slack.url).auth_test()
        assert refused.value.response["error"] == "token_expired"
        answer = WebClient(base_url=slack.url).oauth_v2_access(
            client_id="111.222",
            client_secret="s",
            grant_type="refresh_token",
            refresh_token=refresh,
        )
        assert answer["expires_in"] > 11 * 3600 and answer["refresh_token"] != refresh
        assert WebClient(token=answer["access_token"], base_url=slack.url).auth_test()["ok"]


class TestClientCache:
    def test_a_client_is_not_kept_past_its_token_refresh_time(self):
        """A token due a refresh in 10 s is trusted for 10 s at most, not the cache's 5
        minutes; one that does not rotate, for the whole 5 minutes."""
        soon = Bot(
            bot_token="xoxe.xoxb-1",
            bot_refresh_token="xoxe-1",
            bot_token_expires_at=int(time.time()) + rotation.REFRESH_BEFORE + 10,
            bot_id="B0BOT",
            bot_user_id="U0BOT",
            installed_at=time.time(),
        )
        assert 0 < rotation.trusted_for(soon, 300.0) <= 10
        assert rotation.trusted_for(None, 300.0) == 300.0
