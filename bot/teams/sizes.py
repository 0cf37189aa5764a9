"""How many people a team counts for anonymity, and the history that keeps that number honest.

A team counts the members who could have made what its managers read: the managers
themselves are left out (they are the readers), and so are deactivated accounts. The number
that decides anonymity (whether a team's anonymous reports go to its managers or to the
admins) is the smallest the team counted over the last 30 days, or since it was created when
it is younger: whoever receives the reports cannot move it quickly. A manager who brings
people into the channel learns nothing from it: for 30 days the team counts as it did before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from storage import queries
from storage.models import Team

WINDOW = timedelta(days=30)


def counted_sizes(
    session: Session | Connection, *, team_ids: Sequence[int], now: datetime
) -> dict[int, int]:
    """The size deciding each team's anonymity at `now`: the smallest of its counted size now
    (deactivated accounts left out as soon as they are known), the sizes recorded from 30 days
    before `now` on, and the size in force 30 days before `now`."""
    facts = queries.size_facts(session, team_ids=team_ids, since=now - WINDOW)
    return {team_id: deciding(fact) for team_id, fact in facts.items()}


def deciding(fact: queries.SizeFacts) -> int:
    """The size that decides a team's anonymity, from its facts read `WINDOW` before now."""
    return min(size for size in (fact.now, fact.smallest_since, fact.at_start) if size is not None)


def counted_size(session: Session | Connection, team: Team, *, now: datetime) -> int:
    """`counted_sizes` for one team."""
    return counted_sizes(session, team_ids=[team.id], now=now).get(team.id, 0)


def record(session: Session, team: Team, *, now: datetime) -> None:
    """Keep the team's counted size from `now` on, after its members or managers changed."""
    queries.record_size(session, team_id=team.id, at=now)
