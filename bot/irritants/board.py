"""What the Home tab shows about irritants: a person's own reports, and for a manager the
team board — new, waiting longest first, planned, recently resolved — in pages that stay
under Slack's 100 blocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.irritants.ownership import Person, reports_of
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


def visible_to_managers(irritant: Irritant, *, team_size: int, threshold: int) -> bool:
    """Whether a team's managers may see a report on their board.

    Named reports: at once. Anonymous ones: only once the daily roundup has shown them (so
    their timing gives nothing away), and never in a team too small for anonymity, whose
    anonymous reports go to the admins instead.
    """
    if not irritant.anonymous:
        return True
    return irritant.rounded_up_at is not None and team_size >= threshold


def board_entries(
    session: Session, *, teams: list[Team], now: datetime, threshold: int
) -> list[Entry]:
    """Every entry of the managers' board, in display order."""
    entries: list[Entry] = []
    for team in teams:
        size = len(team.memberships)

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
    settings: Settings,
    *,
    who: Person,
    managed: list[Team],
    page: int,
    now: datetime,
) -> dict[str, Any]:
    """The irritant parts of a person's Home tab."""
    mine = reports_of(session, settings, who=who)
    entries = board_entries(session, teams=managed, now=now, threshold=settings.anonymity_threshold)
    pages = paginate(entries) if managed else []
    page = min(max(page, 1), max(len(pages), 1))
    return {
        "my_reports": mine[:MINE_SHOWN],
        "my_total": len(mine),
        "board": pages[page - 1] if pages else [],
        "page": page,
        "pages": len(pages),
    }
