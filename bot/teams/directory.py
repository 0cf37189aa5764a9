"""People: what Slack says about a person (timezone, locale, roles), cached in the database.

`users.info` is asked only when the cached answer is older than the freshness a caller
needs: a day for timezone and locale, minutes for the admin flag that guards setup.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.runtime.config import Settings
from bot.shared.i18n import pick_locale, slack_locale
from storage import queries
from storage.models import SlackUser

PROFILE_MAX_AGE = timedelta(days=1)
ADMIN_MAX_AGE = timedelta(minutes=10)
SLACKBOT = "USLACKBOT"


def is_fresh(profile: SlackUser | None, *, now: datetime, max_age: timedelta) -> bool:
    """True when a cached profile exists and is younger than `max_age`."""
    if profile is None:
        return False
    fetched = profile.fetched_at
    if fetched.tzinfo is None:  # SQLite hands back naive datetimes; they are UTC
        fetched = fetched.replace(tzinfo=now.tzinfo)
    return now - fetched < max_age


def store_profile(session: Session, *, workspace_id: int, user: dict, now: datetime) -> SlackUser:
    """Cache a `users.info` / `users.list` user object."""
    return queries.upsert_slack_user(
        session,
        workspace_id=workspace_id,
        user_id=user["id"],
        fetched_at=now,
        real_name=(user.get("real_name") or user.get("profile", {}).get("real_name") or None),
        timezone=user.get("tz") or None,
        locale=slack_locale(user.get("locale")),
        is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
        is_bot=bool(user.get("is_bot") or user.get("is_app_user")) or user["id"] == SLACKBOT,
        deleted=bool(user.get("deleted")),
    )


def profile(
    session: Session,
    client: WebClient,
    *,
    workspace_id: int,
    user_id: str,
    now: datetime,
    max_age: timedelta = PROFILE_MAX_AGE,
) -> SlackUser | None:
    """A person's profile, from the cache when fresh enough, else from `users.info`.

    Returns None when Slack does not know the person.
    """
    cached = queries.get_slack_user(session, workspace_id=workspace_id, user_id=user_id)
    if is_fresh(cached, now=now, max_age=max_age):
        return cached
    try:
        user = client.users_info(user=user_id, include_locale=True)["user"]
    except SlackApiError as exc:
        if exc.response.get("error") in ("user_not_found", "users_not_found"):
            return None
        raise
    return store_profile(session, workspace_id=workspace_id, user=user, now=now)


def profiles(
    session: Session,
    client: WebClient,
    *,
    workspace_id: int,
    user_ids: Iterable[str],
    now: datetime,
    max_age: timedelta = PROFILE_MAX_AGE,
) -> dict[str, SlackUser]:
    """Profiles of many people; stale ones are refreshed with `users.list` when many are.

    Everything is fetched from Slack before anything is written, so no database write lock
    is held while waiting on Slack.
    """
    ids = set(user_ids)
    cached = queries.get_slack_users(session, workspace_id=workspace_id, user_ids=ids)
    stale = {i for i in ids if not is_fresh(cached.get(i), now=now, max_age=max_age)}
    fetched: dict[str, dict] = {}
    if len(stale) > 20:
        # One page of users.list holds 200 people: far fewer calls than one users.info each.
        for page in client.users_list(limit=200):
            fetched.update({u["id"]: u for u in page["members"] if u["id"] in stale})
    for user_id in sorted(stale - fetched.keys()):
        try:
            fetched[user_id] = client.users_info(user=user_id, include_locale=True)["user"]
        except SlackApiError as exc:
            if exc.response.get("error") not in ("user_not_found", "users_not_found"):
                raise
    for user_id, user in fetched.items():
        cached[user_id] = store_profile(session, workspace_id=workspace_id, user=user, now=now)
    return {i: p for i, p in cached.items() if i in ids}


def refresh_all(session: Session, client: WebClient, *, workspace_id: int, now: datetime) -> int:
    """Cache everyone in the workspace (`users.list`, 200 a page); return how many."""
    users = [user for page in client.users_list(limit=200) for user in page["members"]]
    for user in users:
        store_profile(session, workspace_id=workspace_id, user=user, now=now)
    return len(users)


def is_known(session: Session, *, workspace_id: int, user_id: str) -> bool:
    """True when the person's profile is cached (their language is known without Slack)."""
    return queries.get_slack_user(session, workspace_id=workspace_id, user_id=user_id) is not None


def is_human(profile: SlackUser | None) -> bool:
    """True for an active person (not a bot, not deactivated)."""
    return profile is not None and not profile.is_bot and not profile.deleted


def is_admin(
    session: Session,
    client: WebClient,
    settings: Settings,
    *,
    workspace_id: int,
    user_id: str,
    now: datetime,
) -> bool:
    """True for workspace owners and admins (per `users.info`) and for SYMMETRY_ADMINS."""
    if user_id in settings.admins:
        return True
    found = profile(
        session, client, workspace_id=workspace_id, user_id=user_id, now=now, max_age=ADMIN_MAX_AGE
    )
    return bool(found and found.is_admin and not found.deleted)


def locale_for(session: Session, settings: Settings, *, workspace_id: int, user_id: str) -> str:
    """The person's language: their Slack locale, then their team's, then the default."""
    cached = queries.get_slack_user(session, workspace_id=workspace_id, user_id=user_id)
    teams = queries.teams_of_member(session, workspace_id=workspace_id, user_id=user_id)
    return pick_locale(
        cached.locale if cached else None,
        teams[0].locale if teams else None,
        default=settings.default_locale,
    )
