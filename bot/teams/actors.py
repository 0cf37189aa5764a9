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
from bot.teams.directory import Directory, Known
from storage import queries
from storage.db import reading, session_scope


class AdminUnknown(Exception):
    """The admin flag was not looked up: resolve again with it, outside the transaction."""


@dataclass(frozen=True)
class Roles:
    """What a person may do beyond reporting and answering."""

    admin: bool | None  # None: not looked up (it may cost a Slack call)
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
    profiled: bool = True  # language and zone from their own Slack profile (else team's)

    @property
    def is_admin(self) -> bool:
        admin = self._roles().admin
        if admin is None:
            raise AdminUnknown(self.user_id)
        return admin

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
    admin: bool = True,
    ask_slack: bool = True,
    fresh: bool = False,
) -> Actor:
    """The acting person. Their language and time zone come from memory when seen in the last
    minutes, else from the cached profile, else (first contact) from Slack — or, with
    `ask_slack=False` (before an acknowledgement that cannot wait), from their team and the
    defaults. With `roles`, the teams they manage are read too, and the admin flag (at most
    minutes old, so it may cost a Slack call) unless `admin=False`, where reading it raises
    `AdminUnknown` (see `handlers.common.with_admin_retry`). Call it before opening a
    transaction. `roles` and `fresh` read the database rather than memory; with `fresh`
    (the Home tab), a profile older than a day is asked of Slack again.
    """
    flag = None
    if roles and admin:
        # First: it may refresh the profile (at most minutes old), which the language uses.
        flag = directory.is_admin(
            workspace_id=workspace_id, user_id=user_id, now=now, client=client
        )
    known = None if fresh or roles else directory.recall(workspace_id, user_id)
    if known is None or (ask_slack and not known.profiled):
        if fresh:
            directory.profile(workspace_id=workspace_id, user_id=user_id, now=now, client=client)
        known = _language_and_zone(directory, policy, workspace_id, user_id)
        if not known.profiled and ask_slack and not fresh:
            # First contact: the language Slack knows for them.
            directory.profile(workspace_id=workspace_id, user_id=user_id, now=now, client=client)
            known = _language_and_zone(directory, policy, workspace_id, user_id)
        directory.remember(workspace_id, user_id, known)
    found = None
    if roles:
        with session_scope(directory.sessions) as session:
            managed = queries.teams_managed_by(session, workspace_id=workspace_id, user_id=user_id)
            found = Roles(admin=flag, managed=frozenset(t.id for t in managed))
    return Actor(
        workspace_id,
        slack_team_id,
        user_id,
        known.locale,
        known.timezone,
        roles=found,
        profiled=known.profiled,
    )


def _language_and_zone(
    directory: Directory, policy: Policy, workspace_id: int, user_id: str
) -> Known:
    """The person's language and time zone, in one read (one statement, no ORM session):
    theirs in Slack, else their first team's, else the deployment's defaults."""
    with reading(directory.sessions) as connection:
        facts = queries.language_facts(connection, workspace_id=workspace_id, user_id=user_id)
    locale = pick_locale(facts.locale, facts.team_locale, default=policy.default_locale)
    timezone = timezone_for(facts.timezone, facts.team_timezone, policy.default_timezone)
    return Known(locale, timezone.key, profiled=facts.profiled)
