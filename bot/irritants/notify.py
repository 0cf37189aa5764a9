"""Who hears about an irritant, and when: managers (at once for named reports, in the daily
roundup for anonymous ones), admins instead for teams too small to stay anonymous, and the
reporter at every status change. Everything goes through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.irritants.catalog import SEVERITY_RANK, labels
from bot.irritants.ownership import goes_to_admins, reporter_of
from bot.shared.blocks import render
from bot.shared.policy import Policy
from bot.shared.sending import Recipient, queue
from bot.shared.tenants import Units, reachable
from bot.shared.worktime import day_of, is_workday, zone
from bot.teams import sizes
from bot.teams.directory import Directory, locale_for, reach
from storage import irritants as store
from storage import queries
from storage.db import session_scope
from storage.models import Irritant, IrritantEvent, SlackUser, Team, Workspace

ROUNDUP_SHOWN = 8  # irritants detailed in one roundup message (Slack: 50 blocks a message)


def admins(session: Session, policy: Policy, *, workspace_id: int) -> list[str]:
    """The bot's admins in a workspace: SYMMETRY_ADMINS and the known owners and admins."""
    known = session.scalars(
        select(SlackUser.user_id).where(
            SlackUser.workspace_id == workspace_id,
            SlackUser.is_admin.is_(True),
            SlackUser.deleted.is_(False),
        )
    )
    return sorted(set(policy.admins) | set(known))


def _send(
    session: Session,
    policy: Policy,
    *,
    team: Team,
    recipient: str,
    key: str,
    kind: str,
    template: str,
    now: datetime,
    scrub: bool = False,
    **context: object,
) -> bool:
    """Render `template` in the recipient's language and queue it for their working hours."""
    to, locale = reach(session, policy, team=team, user_id=recipient)
    payload = render(template, locale, team=team, **labels(), **context)
    if scrub:
        payload["scrub_recipient"] = True
    return queue(
        session,
        to=to,
        key=key,
        kind=kind,
        payload=payload,
        earliest=now,
        default_timezone=policy.default_timezone,
    )


def new_named_report(
    session: Session, policy: Policy, *, irritant: Irritant, now: datetime
) -> None:
    """A named report reaches the team's managers at once (in their working hours)."""
    team = irritant.team or session.get(Team, irritant.team_id)
    for manager in sorted(m.user_id for m in team.managers):
        _send(
            session,
            policy,
            team=team,
            recipient=manager,
            key=f"irritant:{irritant.public_id}:new:{manager}",
            kind="irritant_new",
            template="irritant_new",
            now=now,
            irritant=irritant,
        )
    irritant.rounded_up_at = now


def status_changed(
    session: Session, policy: Policy, *, irritant: Irritant, event: IrritantEvent, now: datetime
) -> bool:
    """Tell the reporter what happened, anonymous or not.

    A named reporter's message is queued as usual. An anonymous reporter's is queued with no
    recipient and no content: the deliverer finds them and writes it in their language at the
    moment of sending (`reporter_resolver`), within the team's working hours, so no row
    waiting in the outbox ever holds their ID next to the report; once sent, nothing remains.
    """
    team = irritant.team or session.get(Team, irritant.team_id)
    key = f"irritant:{irritant.public_id}:event:{event.id}"
    if not irritant.anonymous:
        if irritant.reporter_id is None:  # a reporter who asked to be forgotten
            return False
        return _send(
            session,
            policy,
            team=team,
            recipient=irritant.reporter_id,
            key=key,
            kind="irritant_update",
            template="irritant_update",
            now=now,
            irritant=irritant,
            event=event,
        )
    return queue(
        session,
        to=Recipient(team.workspace_id, None, None, team.timezone, team.holidays),  # team's hours
        key=key,
        kind="irritant_update",
        payload={
            "resolve": RESOLVE_REPORTER,
            "irritant": irritant.public_id,
            "event": event.id,
            "scrub_recipient": True,
        },
        earliest=now,
        default_timezone=policy.default_timezone,
    )


RESOLVE_REPORTER = "irritant_reporter"


def reporter_resolver(policy: Policy, sessions):  # type: ignore[no-untyped-def]
    """For the deliverer: (reporter's user ID, the message in their language) of an anonymous
    follow-up, or None when the reporter can no longer be found."""

    def resolve(payload: dict) -> tuple[str, dict] | None:
        if payload.get("resolve") != RESOLVE_REPORTER:
            return None
        with session_scope(sessions) as session:
            found = payload["irritant"]
            # Queued before public ids (an upgrade with follow-ups waiting): the row's id then.
            irritant = (
                store.get(session, public_id=found)
                if isinstance(found, str)
                else store.by_row(session, irritant_id=found)
            )
            event = session.get(IrritantEvent, payload["event"])
            if irritant is None or event is None:
                return None
            workspace = session.get(Workspace, irritant.workspace_id)
            reporter = reporter_of(session, policy, irritant, slack_team_id=workspace.slack_team_id)
            if reporter is None:
                return None
            locale = locale_for(
                session, policy, workspace_id=irritant.workspace_id, user_id=reporter
            )
            message = render(
                "irritant_update",
                locale,
                team=irritant.team,
                irritant=irritant,
                event=event,
                **labels(),
            )
        return reporter, message

    return resolve


def roundup_due(team: Team, now: datetime) -> datetime | None:
    """Today's roundup instant for the team when it has passed on a working day, else None.
    A weekend or one of the team's public holidays has none: the next working day's roundup
    takes what waited."""
    tz = zone(team.timezone)
    local = now.astimezone(tz)
    hour, minute = (int(part) for part in team.roundup_time.split(":"))
    instant = datetime.combine(local.date(), time(hour, minute), tzinfo=tz)
    if not is_workday(local.date(), team.holidays) or local < instant:
        return None
    if team.last_roundup_on == local.date():
        return None
    return instant


def admins_of_team(session: Session, policy: Policy, *, team: Team) -> list[str]:
    """Who gets a small team's anonymous reports: the admins, without the team's own managers
    unless nobody else is an admin."""
    recipients = admins(session, policy, workspace_id=team.workspace_id)
    managers = {m.user_id for m in team.managers}
    return [r for r in recipients if r not in managers] or recipients


def plan_roundups(
    sessions: sessionmaker[Session],
    policy: Policy,
    directory: Directory,
    *,
    now: datetime,
    units: Units | None = None,
) -> int:
    """Queue today's roundup of anonymous reports for every team whose time has come.

    The teams due are read first. When a small team's reports must go to the admins and none
    is known yet, Slack is asked who they are, with no transaction open. Each team, and each
    workspace's look-up, is a unit of its own (`units`).
    """
    units = units or Units(sessions, directory.client_for, now, stage="roundups")
    due: list[int] = []
    unknown: set[int] = set()
    with session_scope(sessions) as session:
        for team in queries.list_teams(session, members=False):  # sizes come from queries
            if not reachable(team.workspace):
                continue
            work = partial(_due, session, policy, team, now=now, known=unknown)
            found = units.alone(
                f"team {team.id}", work, workspace_id=team.workspace_id, reading=session
            )
            if found is not None:
                due.append(team.id)
                if found:
                    unknown.add(team.workspace_id)
    for workspace_id in sorted(unknown):
        refresh = partial(directory.refresh_all, workspace_id=workspace_id, now=now)
        what = f"workspace {workspace_id}'s admins"
        if units.alone(what, refresh, workspace_id=workspace_id) is not None:
            unknown.discard(workspace_id)
    planned = 0
    with session_scope(sessions) as session:
        for team_id in due:
            team = queries.get_team(session, team_id=team_id)
            if team is None or team.workspace_id in unknown:
                continue  # its admins could not be asked: the next tick tries again
            work = partial(_plan_roundup, session, policy, team, now=now)
            found = units.alone(
                f"team {team.id}", work, workspace_id=team.workspace_id, session=session
            )
            planned += found or 0
    return planned


def _due(
    session: Session, policy: Policy, team: Team, *, now: datetime, known: set[int]
) -> bool | None:
    """None when the team's roundup is not due; else whether its workspace's admins must be
    asked of Slack first (some reports go to them, and none is known yet)."""
    if roundup_due(team, now) is None:
        return None
    if team.workspace_id in known or admins(session, policy, workspace_id=team.workspace_id):
        return False
    tomorrow = day_of(now, team.timezone) + timedelta(days=1)
    waiting = store.unrounded_anonymous(session, team_id=team.id, before=tomorrow)
    size = sizes.counted_size(session, team, now=now)
    threshold = policy.anonymity_threshold
    return any(goes_to_admins(i, team_size=size, threshold=threshold) for i in waiting)


def _plan_roundup(session: Session, policy: Policy, team: Team, *, now: datetime) -> int:
    if roundup_due(team, now) is None:
        return 0  # a second clock did it a moment ago
    planned = 0
    today = now.astimezone(zone(team.timezone)).date()
    previous = team.last_roundup_on
    # Today's roundup time has passed: whatever comes later waits for tomorrow's, even on
    # a day with nothing to send, or a lone report's timing would show.
    team.last_roundup_on = today
    # An anonymous report keeps only its day, the team's: all made so far are dated today
    # at the latest (in a zone east of UTC, today's date is kept as a later instant).
    tomorrow = day_of(now, team.timezone) + timedelta(days=1)
    waiting = store.unrounded_anonymous(session, team_id=team.id, before=tomorrow)
    size = sizes.counted_size(session, team, now=now)
    threshold = policy.anonymity_threshold
    shown: list[Irritant] = []
    for for_admins in (False, True):
        group = [
            i
            for i in waiting
            if goes_to_admins(i, team_size=size, threshold=threshold) is for_admins
        ]
        if not group:
            continue
        # The most severe first: past ROUNDUP_SHOWN, the message details those.
        group.sort(key=lambda i: (-SEVERITY_RANK.get(i.severity, 0), i.id))
        if for_admins:
            recipients = admins_of_team(session, policy, team=team)
        else:
            recipients = sorted(m.user_id for m in team.managers)
        if not recipients:
            continue  # nobody to tell yet: keep them for the next roundup
        kind = "roundup-admins" if for_admins else "roundup"
        for recipient in recipients:
            planned += _send(
                session,
                policy,
                team=team,
                recipient=recipient,
                key=f"{kind}:{team.id}:{today.isoformat()}:{recipient}",
                kind="roundup",
                template="irritant_roundup",
                now=now,
                irritants=group[:ROUNDUP_SHOWN],
                more=max(0, len(group) - ROUNDUP_SHOWN),
                total=len(group),
                for_admins=for_admins,
            )
        for irritant in group:
            irritant.rounded_up_at = now
        shown.extend(group)
    store.show_votes(session, team_id=team.id)
    since = datetime.combine(previous, time(0), tzinfo=UTC) if previous else None
    details = store.reporter_details_since(
        session, team_id=team.id, since=since, excluding=[i.id for i in shown]
    )
    store.reinsert_events(session, details)
    store.reinsert(session, shown)
    return planned
