"""What the Home tab shows about irritants: a person's own reports, and for a manager the
team board — new, waiting longest first, planned, recently resolved — in pages that stay
under Slack's 100 blocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.irritants import notify
from bot.irritants.ownership import goes_to_admins, reports_of, visible_to_managers
from bot.shared.policy import Policy
from bot.teams import sizes
from bot.teams.actors import Actor
from storage import irritants as store
from storage.models import Irritant, Team

MINE_SHOWN = 4
BOARD_BUDGET = 50  # blocks per board page; the rest of the Home tab fits in the other 50
RECENT = timedelta(days=14)
SECTIONS = ("new", "waiting", "planned", "resolved")


@dataclass(frozen=True)
class Entry:
    """One line of the board: a section heading (team and section) or an irritant card."""

    kind: str  # "heading" or "card"
    team: Team
    section: str
    irritant: Irritant | None = None

    @property
    def cost(self) -> int:
        return 1 if self.kind == "heading" else 3


def board_entries(
    session: Session, *, teams: list[Team], now: datetime, threshold: int
) -> list[Entry]:
    """Every entry of the managers' board, in display order."""
    entries: list[Entry] = []
    for team in teams:
        size = sizes.counted_size(session, team, now=now)

        def shown(irritant: Irritant, size: int = size) -> bool:
            return visible_to_managers(irritant, team_size=size, threshold=threshold)

        statuses = ("new", "acknowledged", "planned")
        open_ = [i for i in store.of_team(session, team_id=team.id, statuses=statuses) if shown(i)]
        closed = [
            i
            for i in store.of_team(session, team_id=team.id, statuses=("resolved", "declined"))
            if shown(i)
        ]
        sections = {
            "new": [i for i in open_ if i.status == "new"],
            "waiting": [i for i in open_ if i.status == "acknowledged"],
            "planned": sorted(
                (i for i in open_ if i.status == "planned"), key=lambda i: (i.eta, i.id)
            ),
            "resolved": sorted(
                (i for i in closed if i.resolved_at and now - i.resolved_at <= RECENT),
                key=lambda i: i.resolved_at,
                reverse=True,
            ),
        }
        for section in SECTIONS:
            if sections[section]:
                entries.append(Entry("heading", team, section))
                entries.extend(Entry("card", team, section, i) for i in sections[section])
    return entries


def admin_entries(session: Session, policy: Policy, *, who: Actor, now: datetime) -> list[Entry]:
    """For an admin: the anonymous reports that went to the admins because their team was too
    small for anonymity, once their roundup has shown them — open ones, then recently closed
    ones — team by team; a team's own managers are left out as in the roundup."""
    threshold = policy.anonymity_threshold
    recipients: dict[int, list[str]] = {}
    counted: dict[int, int] = {}
    by_team: dict[int, list[Irritant]] = {}
    found = store.rounded_up_for_admins(
        session, workspace_id=who.workspace_id, closed_since=now - RECENT
    )
    for irritant in found:
        team = irritant.team
        if team.id not in counted:
            counted[team.id] = sizes.counted_size(session, team, now=now)
        if not goes_to_admins(irritant, team_size=counted[team.id], threshold=threshold):
            continue
        if team.id not in recipients:
            recipients[team.id] = notify.admins_of_team(session, policy, team=team)
        if who.user_id not in recipients[team.id]:
            continue
        closed = irritant.status in ("resolved", "declined")
        if closed and not (irritant.resolved_at and now - irritant.resolved_at <= RECENT):
            continue
        by_team.setdefault(team.id, []).append(irritant)
    entries: list[Entry] = []
    for items in by_team.values():
        team = items[0].team
        items.sort(key=lambda i: (i.status in ("resolved", "declined"), i.created_at, i.id))
        entries.append(Entry("heading", team, "admins"))
        entries.extend(Entry("card", team, "admins", i) for i in items)
    return entries


def paginate(entries: list[Entry], *, budget: int = BOARD_BUDGET) -> list[list[Entry]]:
    """Split entries into pages of at most `budget` blocks; a page never starts with a card
    without its heading."""
    pages: list[list[Entry]] = []
    page: list[Entry] = []
    used = 0
    heading: Entry | None = None
    for entry in entries:
        if entry.kind == "heading":
            heading = entry
        if used + entry.cost > budget and page:
            pages.append(page)
            page, used = [], 0
            if entry.kind == "card" and heading is not None:
                page.append(heading)
                used += heading.cost
        page.append(entry)
        used += entry.cost
    if page:
        pages.append(page)
    return pages


def home_context(
    session: Session,
    policy: Policy,
    *,
    who: Actor,
    managed: list[Team],
    admin: bool,
    page: int,
    now: datetime,
) -> dict[str, Any]:
    """The irritant parts of a person's Home tab: their reports; the board of the teams they
    manage; for an admin, the reports of small teams that went to the admins."""
    mine = reports_of(session, policy, who=who)
    threshold = policy.anonymity_threshold
    entries = board_entries(session, teams=managed, now=now, threshold=threshold)
    if admin:
        entries += admin_entries(session, policy, who=who, now=now)
    pages = paginate(entries)
    page = min(max(page, 1), max(len(pages), 1))
    return {
        "my_reports": mine[:MINE_SHOWN],
        "my_total": len(mine),
        "board": pages[page - 1] if pages else [],
        "team_board_empty": not any(entry.section != "admins" for entry in entries),
        "now": now,
        "page": page,
        "pages": len(pages),
    }
