"""What a manager's Home tab shows of pulse results: each team's latest closed round, the
90-day eNPS, and for several teams a total — with the subtraction rule applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.pulse import results
from bot.shared.policy import Policy
from storage.models import Team

TEAMS_SHOWN = 3


@dataclass
class TeamLine:
    team: Team
    result: results.RoundResult | None  # None: no closed round yet
    hidden: bool  # too few answers, or hidden so that the total cannot be subtracted
    enps_90: int | None


@dataclass
class Total:
    responded: int
    enps: int | None


def home_results(
    session: Session, policy: Policy, *, teams: list[Team], locale: str, now: datetime
) -> tuple[list[TeamLine], Total | None]:
    """Lines for up to a few teams, and a total when there are several."""
    lines: list[TeamLine] = []
    for team in teams[:TEAMS_SHOWN]:
        history = results.team_history(
            session, policy.anonymity_threshold, team, locale=locale, limit=1
        )
        result = history[-1] if history else None
        lines.append(
            TeamLine(
                team=team,
                result=result,
                hidden=result is None or result.suppressed,
                enps_90=results.enps_90_days(session, policy.anonymity_threshold, team, now=now),
            )
        )
    with_rounds = [line for line in lines if line.result is not None]
    if len(with_rounds) < 2:
        return lines, None
    # Each team's respondents other than its readers: the rule that hides a team alone.
    sizes = {str(line.team.id): line.result.counted for line in with_rounds}  # type: ignore[union-attr]
    hidden = results.hidden_groups(sizes, policy.anonymity_threshold)
    for line in with_rounds:
        if str(line.team.id) in hidden:
            line.hidden = True
            line.enps_90 = None  # the 90-day figure could be subtracted just as well
    responded = sum(line.result.responded for line in with_rounds)  # type: ignore[union-attr]
    # The total's eNPS counts only rounds whose own eNPS could be shown, so that no hidden
    # team's figure can be recovered from it.
    enps_values = results.shown_enps_values(
        session,
        policy.anonymity_threshold,
        [line.result.round for line in with_rounds],  # type: ignore[union-attr]
    )
    total = Total(
        responded=responded,
        enps=results.enps(enps_values)
        if sum(sizes.values()) >= policy.anonymity_threshold and enps_values
        else None,
    )
    return lines, total
