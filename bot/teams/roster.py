"""Teams: a channel's human members, with managers, a timezone and a language.

Used by the CLI (`symmetry team add|list|sync`), the `/symmetry team` modal and the channel
membership events. Validation returns error codes keyed by field; callers translate them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.runtime.config import LOCALES, Settings, is_timezone
from bot.shared.i18n import N_
from bot.teams import directory as people
from storage import queries
from storage.models import Team

MAX_NAME = 80


@dataclass
class TeamForm:
    """What an admin asks for when creating or editing a team."""

    name: str
    channel_id: str
    manager_ids: list[str]
    timezone: str
    locale: str
    team_id: int | None = None  # the team being edited, None for a new one
    roundup_time: str = "16:00"  # when anonymous reports reach managers, team time


@dataclass
class SyncResult:
    team: Team
    added: int = 0
    removed: int = 0
    errors: list[str] = field(default_factory=list)


class TeamError(Exception):
    """A team cannot be saved; `errors` maps a field to an error code (see messages)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# Error codes → English text (translated with gettext where shown to a person).
ERROR_TEXT = {
    "name_missing": N_("Give the team a name."),
    "name_too_long": N_("A team name has at most 80 characters."),
    "name_taken": N_("Another team already has this name."),
    "channel_missing": N_("Choose the team's channel."),
    "channel_taken": N_("Another team already uses this channel."),
    "channel_not_found": N_(
        "I can't see this channel. For a private channel, invite the bot to it first."
    ),
    "channel_archived": N_("This channel is archived."),
    "managers_missing": N_("Choose at least one manager."),
    "manager_unknown": N_("One of the managers is not a person in this workspace."),
    "timezone_invalid": N_("This is not a time zone: use a name such as Europe/Paris."),
    "locale_invalid": N_("The language must be en or fr."),
    "roundup_invalid": N_("Choose a time between 08:00 and 18:59."),
}


def validate(session: Session, *, workspace_id: int, form: TeamForm) -> dict[str, str]:
    """Check a form against the database; return {field: error code} (empty when valid)."""
    errors: dict[str, str] = {}
    name = form.name.strip()
    if not name:
        errors["name"] = "name_missing"
    elif len(name) > MAX_NAME:
        errors["name"] = "name_too_long"
    else:
        other = queries.get_team_by_name(session, workspace_id=workspace_id, name=name)
        if other is not None and other.id != form.team_id:
            errors["name"] = "name_taken"
    if not form.channel_id:
        errors["channel"] = "channel_missing"
    else:
        other = queries.get_team_by_channel(
            session, workspace_id=workspace_id, channel_id=form.channel_id
        )
        if other is not None and other.id != form.team_id:
            errors["channel"] = "channel_taken"
    if not form.manager_ids:
        errors["managers"] = "managers_missing"
    if not is_timezone(form.timezone):
        errors["timezone"] = "timezone_invalid"
    if form.locale not in LOCALES:
        errors["locale"] = "locale_invalid"
    if not _working_time(form.roundup_time):
        errors["roundup"] = "roundup_invalid"
    return errors


def check_channel(client: WebClient, *, channel_id: str) -> str | None:
    """Make sure the bot can read the channel (joining a public one); return an error code."""
    try:
        channel = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as exc:
        return "channel_not_found" if _is_not_found(exc) else _reraise(exc)
    if channel.get("is_archived"):
        return "channel_archived"
    if not channel.get("is_private") and not channel.get("is_member"):
        # Joining lets the bot receive the channel's join/leave events.
        try:
            client.conversations_join(channel=channel_id)
        except SlackApiError as exc:
            return "channel_not_found" if _is_not_found(exc) else _reraise(exc)
    return None


def check_managers(
    session: Session, client: WebClient, *, workspace_id: int, manager_ids: list[str], now: datetime
) -> str | None:
    """Return `manager_unknown` unless every manager is an active person."""
    found = people.profiles(
        session, client, workspace_id=workspace_id, user_ids=manager_ids, now=now
    )
    if all(people.is_human(found.get(user_id)) for user_id in manager_ids):
        return None
    return "manager_unknown"


def channel_humans(
    session: Session, client: WebClient, *, workspace_id: int, channel_id: str, now: datetime
) -> list[str]:
    """The human members of a channel: bots, Slackbot and deactivated accounts left out."""
    member_ids: list[str] = []
    for page in client.conversations_members(channel=channel_id, limit=200):
        member_ids.extend(page["members"])
    found = people.profiles(
        session, client, workspace_id=workspace_id, user_ids=member_ids, now=now
    )
    return sorted(i for i in member_ids if people.is_human(found.get(i)))


def check(
    session: Session, client: WebClient, *, workspace_id: int, form: TeamForm, now: datetime
) -> dict[str, str]:
    """Every check a team form must pass, the Slack ones included: {field: error code}."""
    errors = validate(session, workspace_id=workspace_id, form=form)
    if errors:
        return errors
    channel_error = check_channel(client, channel_id=form.channel_id)
    if channel_error:
        errors["channel"] = channel_error
    manager_error = check_managers(
        session, client, workspace_id=workspace_id, manager_ids=form.manager_ids, now=now
    )
    if manager_error:
        errors["managers"] = manager_error
    return errors


def apply(
    session: Session, client: WebClient, *, workspace_id: int, form: TeamForm, now: datetime
) -> SyncResult:
    """Create or update a team from a checked form, then read its members from the channel."""
    # Slack first, writes after: no write lock is held while waiting on Slack.
    humans = channel_humans(
        session, client, workspace_id=workspace_id, channel_id=form.channel_id, now=now
    )
    team = queries.get_team(session, team_id=form.team_id) if form.team_id else None
    if team is None:
        team = Team(workspace_id=workspace_id)
        session.add(team)
    team.name = form.name.strip()
    team.channel_id = form.channel_id
    team.timezone = form.timezone
    team.locale = form.locale
    team.roundup_time = form.roundup_time
    team.updated_at = now
    session.flush()
    queries.set_managers(session, team=team, user_ids=form.manager_ids)
    added, removed = queries.set_members(session, team=team, user_ids=humans)
    return SyncResult(team=team, added=added, removed=removed)


def save(
    session: Session, client: WebClient, *, workspace_id: int, form: TeamForm, now: datetime
) -> SyncResult:
    """Check then apply a form; raise TeamError when it is not acceptable."""
    errors = check(session, client, workspace_id=workspace_id, form=form, now=now)
    if errors:
        raise TeamError(errors)
    return apply(session, client, workspace_id=workspace_id, form=form, now=now)


def sync(session: Session, client: WebClient, *, team: Team, now: datetime) -> SyncResult:
    """Make the team's members the human members of its channel."""
    humans = channel_humans(
        session, client, workspace_id=team.workspace_id, channel_id=team.channel_id, now=now
    )
    added, removed = queries.set_members(session, team=team, user_ids=humans)
    return SyncResult(team=team, added=added, removed=removed)


def member_joined(
    session: Session,
    client: WebClient,
    *,
    workspace_id: int,
    channel_id: str,
    user_id: str,
    now: datetime,
) -> Team | None:
    """A person joined a channel: add them to its team if they are human. Returns the team."""
    team = queries.get_team_by_channel(session, workspace_id=workspace_id, channel_id=channel_id)
    if team is None:
        return None
    found = people.profile(session, client, workspace_id=workspace_id, user_id=user_id, now=now)
    if not people.is_human(found):
        return None
    return team if queries.add_member(session, team=team, user_id=user_id) else None


def member_left(session: Session, *, workspace_id: int, channel_id: str, user_id: str) -> bool:
    """A person left a channel: they leave its team. True when a membership ended."""
    team = queries.get_team_by_channel(session, workspace_id=workspace_id, channel_id=channel_id)
    return team is not None and queries.remove_member(session, team=team, user_id=user_id)


def describe(team: Team) -> dict:
    """The contract's JSON shape of a team (`symmetry team list --json`)."""
    return {
        "name": team.name,
        "channel": team.channel_id,
        "managers": sorted(m.user_id for m in team.managers),
        "members": len(team.memberships),
        "timezone": team.timezone,
        "locale": team.locale,
    }


def default_form(settings: Settings) -> TeamForm:
    """An empty form with the deployment's default timezone and language."""
    return TeamForm(
        name="",
        channel_id="",
        manager_ids=[],
        timezone=settings.default_timezone,
        locale=settings.default_locale,
    )


def _working_time(value: str) -> bool:
    """True for an "HH:MM" within working hours (a roundup outside them would wait anyway)."""
    hour, _, minute = value.partition(":")
    return (
        len(value) == 5
        and hour.isdigit()
        and minute.isdigit()
        and 8 <= int(hour) <= 18
        and int(minute) < 60
    )


def _is_not_found(exc: SlackApiError) -> bool:
    return exc.response.get("error") in ("channel_not_found", "not_in_channel", "is_archived")


def _reraise(exc: SlackApiError) -> str:
    raise exc
