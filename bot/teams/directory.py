"""The directory: what Slack says about people and channels, asked once and remembered.

Every Slack look-up about a person (profile, language, time zone, admin flag) or a channel's
members goes through here. Profiles are cached in the database (a day for time zone and
language, minutes for the admin flag that guards setup) and languages in memory for minutes,
so that an acknowledgement can be answered without the database.

No database transaction is ever held across a Slack call: a look-up reads the cache in its
own short transaction, asks Slack with none open, then writes what it learned in another.
Callers therefore call the directory *before* opening their own transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy.orm import Session, sessionmaker

from bot.shared.i18n import pick_locale, slack_locale
from bot.shared.policy import Policy
from bot.shared.sending import Recipient
from storage import queries
from storage.db import session_scope
from storage.models import SlackUser, Team, Workspace

PROFILE_MAX_AGE = timedelta(days=1)
ADMIN_MAX_AGE = timedelta(minutes=10)
LOCALE_TTL = 600.0  # seconds a person's language is trusted from memory
LOCALE_CACHE_SIZE = 50_000
SLACKBOT = "USLACKBOT"
NOT_FOUND = ("user_not_found", "users_not_found")

ClientFor = Callable[[int], WebClient | None]


@dataclass(frozen=True)
class Profile:
    """A person as Slack described them, detached from any database session."""

    user_id: str
    real_name: str | None
    timezone: str | None
    locale: str | None
    is_admin: bool
    is_bot: bool
    deleted: bool
    fetched_at: datetime

    @classmethod
    def of(cls, row: SlackUser) -> Profile:
        return cls(
            user_id=row.user_id,
            real_name=row.real_name,
            timezone=row.timezone,
            locale=row.locale,
            is_admin=row.is_admin,
            is_bot=row.is_bot,
            deleted=row.deleted,
            fetched_at=row.fetched_at,
        )


@dataclass(frozen=True)
class Known:
    """A person's language and time zone as last worked out; `profiled` when they come from
    their own Slack profile rather than their team's or the defaults."""

    locale: str
    timezone: str
    profiled: bool


def is_fresh(profile: SlackUser | Profile | None, *, now: datetime, max_age: timedelta) -> bool:
    """True when a cached profile exists and is younger than `max_age`."""
    if profile is None:
        return False
    fetched = profile.fetched_at
    if fetched.tzinfo is None:  # SQLite hands back naive datetimes; they are UTC
        fetched = fetched.replace(tzinfo=now.tzinfo)
    return now - fetched < max_age


def is_human(profile: SlackUser | Profile | None) -> bool:
    """True for an active person (not a bot, not deactivated)."""
    return profile is not None and not profile.is_bot and not profile.deleted


def store_profile(session: Session, *, workspace_id: int, user: dict, now: datetime) -> SlackUser:
    """Cache a `users.info` / `users.list` user object."""
    fields = _fields(user)
    return queries.upsert_slack_user(
        session, workspace_id=workspace_id, user_id=fields.pop("user_id"), fetched_at=now, **fields
    )


def _rows(users: Iterable[dict]) -> list[dict]:
    """The cache's rows of Slack's user objects, once each."""
    return list({user["id"]: _fields(user) for user in users}.values())


def _nothing() -> None:
    """A write with nothing to write."""


def _fields(user: dict) -> dict:
    """The cached columns of a `users.info` / `users.list` user object."""
    return {
        "user_id": user["id"],
        "real_name": user.get("real_name") or user.get("profile", {}).get("real_name") or None,
        "timezone": user.get("tz") or None,
        "locale": slack_locale(user.get("locale")),
        "is_admin": bool(
            user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")
        ),
        "is_bot": bool(user.get("is_bot") or user.get("is_app_user")) or user["id"] == SLACKBOT,
        "deleted": bool(user.get("deleted")),
    }


def locale_for(session: Session, policy: Policy, *, workspace_id: int, user_id: str) -> str:
    """The person's language from the cache: their Slack locale, then their first team's,
    then the default (no Slack call; one statement)."""
    facts = queries.language_facts(session, workspace_id=workspace_id, user_id=user_id)
    return pick_locale(facts.locale, facts.team_locale, default=policy.default_locale)


def reach(session: Session, policy: Policy, *, team: Team, user_id: str) -> tuple[Recipient, str]:
    """How a message about `team` reaches a person, from the cache (no Slack call): their own
    time zone, else the team's, the team's public holidays; and their language (as
    `locale_for`)."""
    facts = queries.language_facts(session, workspace_id=team.workspace_id, user_id=user_id)
    to = Recipient(team.workspace_id, user_id, facts.timezone, team.timezone, team.holidays)
    return to, pick_locale(facts.locale, facts.team_locale, default=policy.default_locale)


class Directory:
    """Slack look-ups about people and channels, cached; see the module docstring."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client_for: ClientFor,
        *,
        admins: frozenset[str] = frozenset(),
    ) -> None:
        self.sessions = sessions
        self.client_for = client_for
        self.admins = admins  # SYMMETRY_ADMINS: admins whatever Slack says
        self._known: dict[tuple[int, str], tuple[Known, float]] = {}
        self._lock = threading.Lock()
        # workspace -> (the instant of its last `refresh_all`, how many it cached then)
        self._refreshed: dict[int, tuple[datetime, int]] = {}

    # Language and time zone in memory: what an acknowledgement needs, without the database.

    def recall(self, workspace_id: int, user_id: str) -> Known | None:
        """What was learned of someone seen in the last few minutes, or None."""
        with self._lock:
            entry = self._known.get((workspace_id, user_id))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def remember(self, workspace_id: int, user_id: str, known: Known) -> None:
        with self._lock:
            if len(self._known) > LOCALE_CACHE_SIZE:
                self._known.clear()  # bounded memory; it refills from the database
            self._known[(workspace_id, user_id)] = (known, time.monotonic() + LOCALE_TTL)

    # Profiles: the database cache, then Slack.

    def cached(self, *, workspace_id: int, user_id: str) -> Profile | None:
        """The cached profile, whatever its age (no Slack call)."""
        with session_scope(self.sessions) as session:
            row = queries.get_slack_user(session, workspace_id=workspace_id, user_id=user_id)
            return Profile.of(row) if row else None

    def profile(
        self,
        *,
        workspace_id: int,
        user_id: str,
        now: datetime,
        max_age: timedelta = PROFILE_MAX_AGE,
        client: WebClient | None = None,
    ) -> Profile | None:
        """A person's profile, from the cache when fresh enough, else from `users.info`.

        None when Slack does not know the person. With no client for the workspace (the bot
        was removed), the cached profile, however old.
        """
        found, missing, _written = self._lookup(
            workspace_id=workspace_id, user_ids=[user_id], now=now, max_age=max_age, client=client
        )
        return None if user_id in missing else found.get(user_id)

    def profiles(
        self,
        *,
        workspace_id: int,
        user_ids: Iterable[str],
        now: datetime,
        max_age: timedelta = PROFILE_MAX_AGE,
        client: WebClient | None = None,
    ) -> dict[str, Profile]:
        """Profiles of many people; stale ones are refreshed, with `users.list` when many are.
        Someone Slack no longer knows keeps their cached profile, if any (delivery to them
        fails once, and says so)."""
        found, write = self.profiles_to_cache(
            workspace_id=workspace_id, user_ids=user_ids, now=now, max_age=max_age, client=client
        )
        write()
        return found

    def profiles_to_cache(
        self,
        *,
        workspace_id: int,
        user_ids: Iterable[str],
        now: datetime,
        max_age: timedelta = PROFILE_MAX_AGE,
        client: WebClient | None = None,
    ) -> tuple[dict[str, Profile], Callable[[], None]]:
        """`profiles`, and the write that caches those Slack was asked for, for the caller to
        run when it suits it: a fan-out of welcomes queues them first, so that delivery
        starts before a thousand profiles are written."""
        found, _missing, write = self._lookup(
            workspace_id=workspace_id,
            user_ids=user_ids,
            now=now,
            max_age=max_age,
            client=client,
            deferred=True,
        )
        return found, write

    def _lookup(
        self,
        *,
        workspace_id: int,
        user_ids: Iterable[str],
        now: datetime,
        max_age: timedelta,
        client: WebClient | None,
        deferred: bool = False,
    ) -> tuple[dict[str, Profile], set[str], Callable[[], None]]:
        """(profiles, the IDs Slack answered it does not know, the write that caches what
        Slack said: already done unless `deferred`)."""
        ids = set(user_ids)
        with session_scope(self.sessions) as session:
            rows = queries.get_slack_users(session, workspace_id=workspace_id, user_ids=ids)
            cached = {i: Profile.of(row) for i, row in rows.items()}
        stale = {i for i in ids if not is_fresh(cached.get(i), now=now, max_age=max_age)}
        if not stale:
            return cached, set(), _nothing
        client = client or self.client_for(workspace_id)
        if client is None:
            return cached, set(), _nothing
        fetched: dict[str, dict] = {}
        if len(stale) > 20:
            # One page of users.list holds 200 people: far fewer calls than one users.info each.
            for page in self._users_list(client, workspace_id):
                fetched.update({u["id"]: u for u in page["members"] if u["id"] in stale})
        missing = set()
        for user_id in sorted(stale - fetched.keys()):
            try:
                fetched[user_id] = client.users_info(user=user_id, include_locale=True)["user"]
            except SlackApiError as exc:
                if exc.response.get("error") not in NOT_FOUND:
                    raise
                missing.add(user_id)
        rows = _rows(fetched.values())
        cached.update({row["user_id"]: Profile(**row, fetched_at=now) for row in rows})

        def write() -> None:
            self._write(workspace_id, rows, now=now)

        if not deferred:
            write()
        return {i: p for i, p in cached.items() if i in ids}, missing, write

    def refresh_all(self, *, workspace_id: int, now: datetime) -> int:
        """Cache everyone in the workspace (`users.list`, 200 a page); return how many. Once
        per instant: the clock's stages share a directory and a `now`, and two of them may
        each need the workspace's admins (roundups, the admins' digest)."""
        done = self._refreshed.get(workspace_id)
        if done is not None and done[0] == now:
            return done[1]
        client = self.client_for(workspace_id)
        if client is None:
            return 0
        # Without include_locale Slack leaves the locale out, and every cached language would
        # be forgotten (people then written to in their team's language).
        users = [
            user for page in self._users_list(client, workspace_id) for user in page["members"]
        ]
        count = len(self._store(workspace_id, users, now=now))
        self._refreshed[workspace_id] = (now, count)
        return count

    def _users_list(self, client: WebClient, workspace_id: int) -> Iterable[SlackResponse]:
        """The pages of `users.list` (with locales) for one workspace. The workspace is named:
        an org-wide installation's token covers many and Slack refuses the call without it
        (`missing_argument`); a workspace's own token ignores it."""
        with session_scope(self.sessions) as session:
            workspace = session.get(Workspace, workspace_id)
            team_id = workspace.slack_team_id if workspace else None
        named = {"team_id": team_id} if team_id else {}
        return client.users_list(limit=200, include_locale=True, **named)

    def _store(self, workspace_id: int, users: Iterable[dict], *, now: datetime) -> dict:
        """Cache many profiles in one statement per few hundred people."""
        rows = _rows(users)
        self._write(workspace_id, rows, now=now)
        return {row["user_id"]: Profile(**row, fetched_at=now) for row in rows}

    def _write(self, workspace_id: int, rows: list[dict], *, now: datetime) -> None:
        if not rows:
            return
        with session_scope(self.sessions) as session:
            queries.upsert_slack_users(
                session, workspace_id=workspace_id, fetched_at=now, users=rows
            )

    def is_admin(
        self, *, workspace_id: int, user_id: str, now: datetime, client: WebClient | None = None
    ) -> bool:
        """True for SYMMETRY_ADMINS, and for workspace owners and admins per a `users.info`
        answer at most minutes old: someone demoted in Slack loses the bot's admin rights
        within minutes, and someone Slack no longer knows has none."""
        if user_id in self.admins:
            return True
        found = self.profile(
            workspace_id=workspace_id,
            user_id=user_id,
            now=now,
            max_age=ADMIN_MAX_AGE,
            client=client,
        )
        fresh = is_fresh(found, now=now, max_age=ADMIN_MAX_AGE)
        return bool(found and fresh and found.is_admin and not found.deleted)

    # Channels.

    def channel_humans(
        self, *, workspace_id: int, channel_id: str, now: datetime, client: WebClient | None = None
    ) -> list[str]:
        """The human members of a channel: bots, Slackbot and deactivated accounts left out."""
        client = client or self.client_for(workspace_id)
        if client is None:
            return []
        member_ids: list[str] = []
        for page in client.conversations_members(channel=channel_id, limit=200):
            member_ids.extend(page["members"])
        found = self.profiles(
            workspace_id=workspace_id, user_ids=member_ids, now=now, client=client
        )
        return sorted(i for i in member_ids if is_human(found.get(i)))

    def check_channel(
        self, *, workspace_id: int, channel_id: str, client: WebClient | None = None
    ) -> str | None:
        """Make sure the bot can read the channel (joining a public one); return an error
        code (`channel_not_found`, `channel_archived`) or None."""
        client = client or self.client_for(workspace_id)
        if client is None:
            return "channel_not_found"
        try:
            channel = client.conversations_info(channel=channel_id)["channel"]
        except SlackApiError as exc:
            if _channel_missing(exc):
                return "channel_not_found"
            raise
        if channel.get("is_archived"):
            return "channel_archived"
        if not channel.get("is_private") and not channel.get("is_member"):
            # Joining lets the bot receive the channel's join/leave events.
            try:
                client.conversations_join(channel=channel_id)
            except SlackApiError as exc:
                if _channel_missing(exc):
                    return "channel_not_found"
                raise
        return None


def _channel_missing(exc: SlackApiError) -> bool:
    return exc.response.get("error") in ("channel_not_found", "not_in_channel", "is_archived")
