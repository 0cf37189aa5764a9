"""The directory and the acting person: what is asked of Slack, when, and what a stale cache
may not grant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.teams import actors
from bot.teams.directory import ADMIN_MAX_AGE, Directory
from storage import queries
from storage.models import Membership, Team
from tests.conftest import ADMIN, EMPLOYEE, MANAGER, POLICY

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


@pytest.fixture
def directory(db, slack) -> Directory:
    """A directory wired to the simulated workspace and a real database."""
    client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
    return Directory(db.sessions, lambda _workspace_id: client)


@pytest.fixture
def workspace_id(db, slack) -> int:
    with db.sessions.begin() as session:
        return queries.get_or_create_workspace(session, slack_team_id=slack.team_id).id


def cache(db, workspace_id: int, user_id: str, *, age: timedelta, is_admin: bool) -> None:
    """A cached profile of `user_id`, fetched `age` before NOW."""
    with db.sessions.begin() as session:
        queries.upsert_slack_user(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            fetched_at=NOW - age,
            real_name="Cached",
            timezone="Europe/Paris",
            locale="fr",
            is_admin=is_admin,
            is_bot=False,
            deleted=False,
        )


class TestAdminFlag:
    def test_a_recent_answer_is_trusted_without_asking_slack(
        self, directory, slack, db, workspace_id
    ):
        """An admin flag cached minutes ago is used as it is: no users.info."""
        cache(db, workspace_id, ADMIN, age=timedelta(minutes=2), is_admin=True)
        assert directory.is_admin(workspace_id=workspace_id, user_id=ADMIN, now=NOW)
        assert slack.calls_to("users.info") == []

    def test_an_old_admin_flag_is_asked_again(self, directory, slack, db, workspace_id):
        """Cached as admin an hour ago, no longer admin in Slack: not an admin now."""
        cache(db, workspace_id, EMPLOYEE, age=timedelta(hours=1), is_admin=True)
        assert not directory.is_admin(workspace_id=workspace_id, user_id=EMPLOYEE, now=NOW)
        assert len(slack.calls_to("users.info")) == 1

    def test_someone_slack_no_longer_knows_is_no_admin(self, directory, slack, db, workspace_id):
        """Cached as admin, then removed from Slack: the old cache grants nothing."""
        cache(db, workspace_id, "UREMOVED1", age=ADMIN_MAX_AGE * 2, is_admin=True)
        assert not directory.is_admin(workspace_id=workspace_id, user_id="UREMOVED1", now=NOW)
        asked = directory.profile(
            workspace_id=workspace_id, user_id="UREMOVED1", now=NOW, max_age=ADMIN_MAX_AGE
        )
        assert asked is None

    def test_without_a_client_an_old_flag_grants_nothing(self, db, workspace_id):
        """The bot removed from the workspace (no client): a stale admin flag is not enough."""
        cache(db, workspace_id, ADMIN, age=timedelta(hours=1), is_admin=True)
        offline = Directory(db.sessions, lambda _workspace_id: None)
        assert not offline.is_admin(workspace_id=workspace_id, user_id=ADMIN, now=NOW)

    def test_the_deployment_admins_need_no_slack(self, db, slack, workspace_id):
        """SYMMETRY_ADMINS are admins without any look-up."""
        listed = Directory(db.sessions, lambda _workspace_id: None, admins=frozenset({MANAGER}))
        assert listed.is_admin(workspace_id=workspace_id, user_id=MANAGER, now=NOW)
        assert slack.calls_to("users.info") == []


class TestRefresh:
    def test_refreshing_everyone_keeps_each_persons_language(self, directory, db, workspace_id):
        """`refresh_all` (users.list) caches each person's Slack language, so that a later
        message is written in it (without include_locale, Slack leaves it out)."""
        cache(db, workspace_id, EMPLOYEE, age=timedelta(hours=1), is_admin=False)
        assert directory.refresh_all(workspace_id=workspace_id, now=NOW) >= 4
        with db.sessions.begin() as session:
            cached = queries.get_slack_users(
                session, workspace_id=workspace_id, user_ids=[ADMIN, MANAGER, EMPLOYEE]
            )
            locales = {user_id: row.locale for user_id, row in cached.items()}
        assert locales == {ADMIN: "en", MANAGER: "fr", EMPLOYEE: "en"}

    def test_everyone_is_asked_of_slack_once_per_instant(self, directory, slack, workspace_id):
        """Two stages of one tick that each need the workspace's admins (roundups, the admins'
        digest) share one `users.list`; a later tick asks again."""
        first = directory.refresh_all(workspace_id=workspace_id, now=NOW)
        pages = len(slack.calls_to("users.list"))
        assert directory.refresh_all(workspace_id=workspace_id, now=NOW) == first
        assert len(slack.calls_to("users.list")) == pages
        directory.refresh_all(workspace_id=workspace_id, now=NOW + timedelta(minutes=1))
        assert len(slack.calls_to("users.list")) == 2 * pages

    def test_many_stale_profiles_keep_their_language(self, directory, slack, workspace_id):
        """Over 20 people to look up are read from users.list pages, languages included."""
        ids = [ADMIN, MANAGER, EMPLOYEE, *(f"UNKNOWN{n:02d}" for n in range(20))]
        found = directory.profiles(workspace_id=workspace_id, user_ids=ids, now=NOW)
        assert {i: found[i].locale for i in (ADMIN, MANAGER, EMPLOYEE)} == {
            ADMIN: "en",
            MANAGER: "fr",
            EMPLOYEE: "en",
        }
        assert slack.calls_to("users.list")


class TestResolve:
    def test_first_contact_reads_the_language_from_slack(self, directory, slack, workspace_id):
        """Someone never seen: their Slack profile gives language and time zone."""
        who = actors.resolve(
            directory, POLICY, workspace_id=workspace_id, slack_team_id=slack.team_id,
            user_id=MANAGER, now=NOW,
        )  # fmt: skip
        assert (who.locale, who.timezone, who.profiled) == ("fr", "Europe/Paris", True)
        assert len(slack.calls_to("users.info")) == 1

    def test_before_an_ack_slack_is_not_asked(self, directory, slack, workspace_id):
        """With ask_slack=False an unknown person gets the defaults, and Slack hears nothing."""
        who = actors.resolve(
            directory, POLICY, workspace_id=workspace_id, slack_team_id=slack.team_id,
            user_id=MANAGER, now=NOW, ask_slack=False,
        )  # fmt: skip
        assert (who.locale, who.timezone, who.profiled) == ("en", "UTC", False)
        assert slack.calls_to("users.info") == []

    def test_without_a_profile_the_first_teams_language_and_zone(self, slack, db, workspace_id):
        """Not profiled yet (before an ack): the language and zone of the first team they
        joined; a profile's empty language falls back to that team's while its zone counts;
        another workspace's profile and teams count for nothing."""
        with db.sessions.begin() as session:
            other = queries.get_or_create_workspace(session, slack_team_id="TOTHER").id
            queries.upsert_slack_user(
                session, workspace_id=other, user_id=EMPLOYEE, fetched_at=NOW,
                real_name="Elsewhere", timezone="Asia/Tokyo", locale="fr",
            )  # fmt: skip
            for where, name, zone, locale, age in [
                (other, "Oldest", "Asia/Tokyo", "fr", 9),
                (workspace_id, "Later", "America/New_York", "en", 1),
                (workspace_id, "First", "Europe/Paris", "fr", 2),
            ]:
                session.add(
                    Team(
                        workspace_id=where, name=name, channel_id=f"C{name.upper()}",
                        timezone=zone, locale=locale, created_at=NOW - timedelta(days=age),
                        memberships=[Membership(user_id=EMPLOYEE)],
                    )
                )  # fmt: skip

        def resolved() -> tuple[str, str, bool]:
            fresh = Directory(db.sessions, lambda _workspace_id: None)  # nothing remembered
            who = actors.resolve(
                fresh, POLICY, workspace_id=workspace_id, slack_team_id=slack.team_id,
                user_id=EMPLOYEE, now=NOW, ask_slack=False,
            )  # fmt: skip
            return who.locale, who.timezone, who.profiled

        assert resolved() == ("fr", "Europe/Paris", False)
        with db.sessions.begin() as session:
            queries.upsert_slack_user(
                session, workspace_id=workspace_id, user_id=EMPLOYEE, fetched_at=NOW,
                real_name="Here", timezone="America/Chicago", locale=None,
            )  # fmt: skip
        assert resolved() == ("fr", "America/Chicago", True)
        assert slack.calls_to("users.info") == []

    def test_roles_without_the_admin_flag_say_so(self, directory, slack, db, workspace_id):
        """Resolved with admin=False, reading the admin flag raises AdminUnknown (so that the
        caller looks it up outside its transaction) and Slack was not asked about it."""
        cache(db, workspace_id, EMPLOYEE, age=timedelta(hours=1), is_admin=False)
        who = actors.resolve(
            directory, POLICY, workspace_id=workspace_id, slack_team_id=slack.team_id,
            user_id=EMPLOYEE, now=NOW, roles=True, admin=False,
        )  # fmt: skip
        assert not who.manages(1)
        with pytest.raises(actors.AdminUnknown):
            _ = who.is_admin
        assert slack.calls_to("users.info") == []

    def test_an_actor_without_roles_cannot_be_taken_for_one_with(self, directory, slack):
        """Reading roles that were never resolved is a programming error, not a refusal."""
        who = actors.Actor(1, slack.team_id, EMPLOYEE, "en", "UTC")
        with pytest.raises(LookupError):
            _ = who.is_admin

    def test_today_is_the_persons_own(self):
        """Late on Monday evening in New York is already Tuesday in UTC: the person's today."""
        who = actors.Actor(1, "T1", EMPLOYEE, "en", "America/New_York")
        late_monday = datetime(2026, 12, 8, 3, 30, tzinfo=UTC)  # Monday 22:30 in New York
        assert who.today(late_monday).isoformat() == "2026-12-07"
