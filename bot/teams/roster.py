"""Teams: a channel's human members, with managers, a timezone, a language and, if it
wants, a calendar of public holidays.

Used by the CLI (`symmetry team add|list|sync`), the `/symmetry team` modal and the channel
membership events. Validation returns error codes keyed by field; callers translate them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.shared.i18n import LOCALES, N_
from bot.shared.inputs import number
from bot.shared.policy import Policy
from bot.shared.worktime import is_holiday_calendar, is_timezone
from bot.teams import sizes
from bot.teams.directory import Directory, is_human
from storage import audit, queries
from storage.db import session_scope
from storage.models import Team

MAX_NAME = 80
MAX_HOLIDAYS = 16  # teams.holidays and outbox.holidays


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
    holidays: str | None = None  # public holidays counted like weekends: "FR", "US-NY"
    said_did: bool = False  # "you said, we did" posted in the team's channel every Monday


@dataclass
class SyncResult:
    team: Team
    added: int = 0
    removed: int = 0
    errors: list[str] = field(default_factory=list)
    name: str = ""  # what a caller may print once the session is closed
    members: int = 0


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
    "holidays_unknown": N_(
        "This is not a country code I know public holidays for: use one such as FR, or a "
        "country and region such as US-NY or DE-BY."
    ),
}


def holiday_code(value: str | None) -> str | None:
    """A public holiday calendar as typed ("fr", " us-ny "), written as stored ("FR",
    "US-NY"); None when left empty. Whether it exists is `validate`'s question."""
    code = (value or "").strip().upper()
    return code or None


def is_known_calendar(code: str | None) -> bool:
    """True for no calendar, or one the `holidays` package knows ("FR", "US-NY")."""
    return code is None or (
        not code.endswith("-") and len(code) <= MAX_HOLIDAYS and is_holiday_calendar(code)
    )


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
    if not is_known_calendar(form.holidays):
        errors["holidays"] = "holidays_unknown"
    return errors


def check_in_slack(
    directory: Directory,
    *,
    workspace_id: int,
    form: TeamForm,
    now: datetime,
    client: WebClient | None = None,
) -> dict[str, str]:
    """The checks only Slack can answer (call with no transaction open): the bot can read the
    channel (joining a public one), and every manager is an active person."""
    errors: dict[str, str] = {}
    channel_error = directory.check_channel(
        workspace_id=workspace_id, channel_id=form.channel_id, client=client
    )
    if channel_error:
        errors["channel"] = channel_error
    found = directory.profiles(
        workspace_id=workspace_id, user_ids=form.manager_ids, now=now, client=client
    )
    if not all(is_human(found.get(user_id)) for user_id in form.manager_ids):
        errors["managers"] = "manager_unknown"
    return errors


def apply(
    session: Session,
    *,
    workspace_id: int,
    form: TeamForm,
    humans: list[str],
    now: datetime,
    actor: str = audit.CLI,
) -> SyncResult:
    """Create or update a team from a checked form, with `humans` (the channel's human
    members, read from Slack beforehand) as its members; audited as done by `actor`."""
    team = queries.get_team(session, team_id=form.team_id) if form.team_id else None
    created = team is None
    if team is None:
        team = Team(workspace_id=workspace_id)
        session.add(team)
    team.name = form.name.strip()
    team.channel_id = form.channel_id
    team.timezone = form.timezone
    team.locale = form.locale
    team.roundup_time = form.roundup_time
    team.holidays = form.holidays
    team.said_did = form.said_did
    team.updated_at = now
    session.flush()
    queries.set_managers(session, team=team, user_ids=form.manager_ids)
    added, removed = queries.set_members(session, team=team, user_ids=humans)
    sizes.record(session, team, now=now)
    audit.record(
        session,
        actor=actor,
        action="team.created" if created else "team.updated",
        now=now,
        workspace_id=workspace_id,
        team=team.name,
        channel=team.channel_id,
        managers=len(form.manager_ids),
        timezone=team.timezone,
        locale=team.locale,
        holidays=team.holidays,
        said_did=team.said_did,
    )
    return SyncResult(team=team, added=added, removed=removed)


def save(
    sessions: sessionmaker[Session],
    directory: Directory,
    *,
    workspace_id: int,
    form: TeamForm,
    now: datetime,
    client: WebClient | None = None,
) -> dict:
    """Check then apply a form (`symmetry team add`); raise TeamError when it is not
    acceptable. Returns the team as `describe` shows it."""
    with session_scope(sessions) as session:
        errors = validate(session, workspace_id=workspace_id, form=form)
    if not errors:
        errors = check_in_slack(
            directory, workspace_id=workspace_id, form=form, now=now, client=client
        )
    if errors:
        raise TeamError(errors)
    humans = directory.channel_humans(
        workspace_id=workspace_id, channel_id=form.channel_id, now=now, client=client
    )
    with session_scope(sessions) as session:
        return describe(
            apply(session, workspace_id=workspace_id, form=form, humans=humans, now=now).team
        )


def sync(
    sessions: sessionmaker[Session],
    directory: Directory,
    *,
    team_id: int,
    now: datetime,
    client: WebClient | None = None,
) -> SyncResult | None:
    """Make the team's members the human members of its channel (read from Slack first).
    None when the team no longer exists."""
    with session_scope(sessions) as session:
        team = queries.get_team(session, team_id=team_id)
        if team is None:
            return None
        workspace_id, channel_id = team.workspace_id, team.channel_id
    humans = directory.channel_humans(
        workspace_id=workspace_id, channel_id=channel_id, now=now, client=client
    )
    with session_scope(sessions) as session:
        team = queries.get_team(session, team_id=team_id)
        if team is None:
            return None
        added, removed = queries.set_members(session, team=team, user_ids=humans)
        sizes.record(session, team, now=now)
        return SyncResult(
            team=team, added=added, removed=removed, name=team.name, members=len(team.memberships)
        )


def member_joined(
    sessions: sessionmaker[Session],
    directory: Directory,
    *,
    workspace_id: int,
    channel_id: str,
    user_id: str,
    now: datetime,
    client: WebClient | None = None,
) -> bool:
    """A person joined a channel: add them to its team if they are human. True when added."""
    with session_scope(sessions) as session:
        team = queries.get_team_by_channel(
            session, workspace_id=workspace_id, channel_id=channel_id
        )
        if team is None:
            return False
    found = directory.profile(workspace_id=workspace_id, user_id=user_id, now=now, client=client)
    if not is_human(found):
        return False
    with session_scope(sessions) as session:
        team = queries.get_team_by_channel(
            session, workspace_id=workspace_id, channel_id=channel_id
        )
        if team is None or not queries.add_member(session, team=team, user_id=user_id):
            return False
        sizes.record(session, team, now=now)
        return True


def member_left(
    session: Session, *, workspace_id: int, channel_id: str, user_id: str, now: datetime
) -> bool:
    """A person left a channel: they leave its team. True when a membership ended."""
    team = queries.get_team_by_channel(session, workspace_id=workspace_id, channel_id=channel_id)
    if team is None or not queries.remove_member(session, team=team, user_id=user_id):
        return False
    sizes.record(session, team, now=now)
    return True


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


def default_form(policy: Policy) -> TeamForm:
    """An empty form with the deployment's default timezone and language."""
    return TeamForm(
        name="",
        channel_id="",
        manager_ids=[],
        timezone=policy.default_timezone,
        locale=policy.default_locale,
    )


def _working_time(value: str) -> bool:
    """True for an "HH:MM" within working hours (a roundup outside them would wait anyway)."""
    hour, _, minute = value.partition(":")
    h, m = number(hour), number(minute)
    return len(value) == 5 and h is not None and m is not None and 8 <= h <= 18 and m < 60
