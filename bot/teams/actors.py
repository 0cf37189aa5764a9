"""Who is acting: one `Actor` per request, built once by `resolve`, before any transaction.

Every listener turns the Slack user behind a request into an `Actor` — workspace, user,
language, time zone and, when the action needs them, roles (admin, teams managed) — and hands
it to the domain, which checks permissions against it and never asks Slack itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from slack_sdk import WebClient

from bot.shared.i18n import pick_locale
from bot.shared.policy import Policy
from bot.shared.sending import timezone_for
from bot.shared.worktime import zone
from bot.teams.directory import Directory, Profile
from storage import queries
from storage.db import session_scope


@dataclass(frozen=True)
class Roles:
    """What a person may do beyond reporting and answering."""

    admin: bool
    managed: frozenset[int]  # database IDs of the teams they manage


@dataclass(frozen=True)
class Actor:
    """Someone acting in Slack: where, who, in which language and time zone, with which roles
    (None when the request did not need them)."""

    workspace_id: int
    slack_team_id: str
    user_id: str
    locale: str
    timezone: str
    roles: Roles | None = None

    @property
    def is_admin(self) -> bool:
        return self._roles().admin

    def manages(self, team_id: int) -> bool:
        return team_id in self._roles().managed

    def today(self, now: datetime) -> date:
        """The date in the person's own time zone."""
        return now.astimezone(zone(self.timezone)).date()

    def _roles(self) -> Roles:
        if self.roles is None:
            # A programming error, not a refusal: the listener must resolve with roles=True.
            raise LookupError("this actor was resolved without roles")
        return self.roles


def resolve(
    directory: Directory,
    policy: Policy,
    *,
    workspace_id: int,
    slack_team_id: str,
    user_id: str,
    now: datetime,
    client: WebClient | None = None,
    roles: bool = False,
    ask_slack: bool = True,
    fresh: bool = False,
) -> Actor:
    """The acting person. Their language and time zone come from memory when seen in the last
    minutes, else from the cached profile, else (first contact) from Slack — or, with
    `ask_slack=False` (before an acknowledgement that cannot wait), from their team and the
    defaults. With `roles`, the admin flag (at most minutes old) and the teams they manage
    are read too: call it before opening a transaction. With `fresh` (the Home tab), a
    profile older than a day is asked of Slack again.
    """
    admin = None
    if roles:
        # First: it may refresh the profile (at most minutes old), which the language uses.
        admin = directory.is_admin(
            workspace_id=workspace_id, user_id=user_id, now=now, client=client
        )
    recalled = None if fresh or roles else directory.recall(workspace_id, user_id)
    if recalled is None:
        if fresh:
            profile = directory.profile(
                workspace_id=workspace_id, user_id=user_id, now=now, client=client
            )
        else:
            profile = directory.cached(workspace_id=workspace_id, user_id=user_id)
        if profile is None and ask_slack and not fresh:
            profile = directory.profile(
                workspace_id=workspace_id, user_id=user_id, now=now, client=client
            )
        recalled = _language_and_zone(directory, policy, profile, workspace_id, user_id)
        directory.remember(workspace_id, user_id, *recalled)
    locale, timezone = recalled
    found = None
    if admin is not None:
        with session_scope(directory.sessions) as session:
            managed = queries.teams_managed_by(session, workspace_id=workspace_id, user_id=user_id)
            found = Roles(admin=admin, managed=frozenset(t.id for t in managed))
    return Actor(workspace_id, slack_team_id, user_id, locale, timezone, found)


def _language_and_zone(
    directory: Directory, policy: Policy, profile: Profile | None, workspace_id: int, user_id: str
) -> tuple[str, str]:
    """The person's language and time zone: theirs in Slack, else their first team's, else
    the deployment's defaults."""
    with session_scope(directory.sessions) as session:
        teams = queries.teams_of_member(session, workspace_id=workspace_id, user_id=user_id)
        team_locale = teams[0].locale if teams else None
        team_zone = teams[0].timezone if teams else None
    locale = pick_locale(
        profile.locale if profile else None, team_locale, default=policy.default_locale
    )
    timezone = timezone_for(
        profile.timezone if profile else None, team_zone, policy.default_timezone
    )
    return locale, timezone.key
