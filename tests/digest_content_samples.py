"""Sample contexts of the digest templates, as bot/digests/compose.py builds them, for the
tests that render every template (tests/test_blocks.py, tests/test_mrkdwn.py): a full
digest, a quiet one, one whose pulse is hidden; the admins' digest; "you said, we did"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from bot.digests.admins import PER_SECTION, TeamLine, Total
from bot.digests.compose import CustomerScore, Digest
from bot.digests.irritant_figures import (
    CategoryCount,
    IrritantFigures,
    IrritantLine,
    Median,
    MirrorLine,
    ServiceLevels,
)
from bot.digests.next_step import NextStep
from bot.digests.pulse_figures import PulseFigures
from bot.digests.weeks import Week
from bot.irritants.catalog import labels
from bot.pulse.results import QuestionResult, RoundResult
from bot.walks.overview import status

NOW = datetime(2026, 12, 14, 8, 0, tzinfo=UTC)
TEAM = SimpleNamespace(id=1, workspace_id=1, name="Atelier de Lyon", timezone="Europe/Paris")
WALK = SimpleNamespace(
    public_id="w2k3m4n5p6",
    quarter="2026-Q4",
    team_id=1,
    done_at=datetime(2026, 11, 3, 14, 0, tzinfo=UTC),
    declared=False,
    scores={"sight": {"customer": 5, "employee": 3}, "smell": {"customer": 4, "employee": 2}},
    stopped_seeing="The flickering neon in the locker room",
    works_well="The new coffee machine",
)


def line(
    n: int, *, category: str = "temperature", status: str = "new", days: int = 12
) -> IrritantLine:
    return IrritantLine(
        public_id=f"irritant{n:02d}",
        category=category,
        space="employee",
        status=status,
        description="The staff room is freezing every morning before 9.",
        location="Salle de pause, 2e étage",
        resolution_note="New radiator installed." if status == "resolved" else None,
        votes=n,
        days=days,
    )


def irritant_figures() -> IrritantFigures:
    waiting = [line(1, days=21), line(2, category="noise", days=15), line(3, days=3)]
    return IrritantFigures(
        new=[CategoryCount("temperature", 2), CategoryCount("noise", 1), CategoryCount("other", 3)],
        most_voted=[line(7, status="acknowledged"), line(4)],
        waiting=waiting,
        waiting_total=9,
        oldest_fundamental=waiting[0],
        resolved=[line(n, status="resolved", days=4) for n in range(5)],
        resolved_total=7,
        service=ServiceLevels(Median(1.5, 4, 3.0, 11), Median(None, 0, 12.5, 6)),
        mirror=[MirrorLine("temperature", 1, 4), MirrorLine("cleanliness", 3, 0)],
        open_total=14,
    )


def round_result(*, suppressed: bool = False) -> RoundResult:
    questions = [
        QuestionResult(
            "enps", "How likely are you to recommend this workplace?", 11, 7.9, None, 27, -6
        ),
        QuestionResult(
            "temperature", "How comfortable is the temperature?", 11, 3.45, None, None, 0.25
        ),
        QuestionResult("noise", "How comfortable is the noise level?", 4, None, None),
    ]
    return RoundResult(
        round=SimpleNamespace(id=5, period=date(2026, 12, 8)),
        team=TEAM,
        sent=14,
        responded=4 if suppressed else 11,
        suppressed=suppressed,
        questions=[] if suppressed else questions,
        comments=[] if suppressed else ["Much better since the blinds", "Still cold at 8"] * 4,
        readers=1,
    )


def digest_context(locale: str, *, quiet: bool = False, hidden: bool = False) -> dict[str, Any]:
    walk = status(TEAM, WALK, now=NOW)  # type: ignore[arg-type]
    figures = None if quiet else irritant_figures()
    digest = Digest(
        team=TEAM,  # type: ignore[arg-type]
        week=Week(2026, 51),
        locale=locale,
        since=datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
        until=NOW,
        manager_id="U0MANAG01",
        irritants=figures,
        pulse=None if quiet else PulseFigures(round_result(suppressed=hidden), 27, -4, 5),
        customer=None if quiet else CustomerScore("2026-11", 35, 120),
        walk=walk,
        next_step=None
        if quiet
        else NextStep(
            "fundamental_long_wait", "irritant_plan", "irritant01", irritant=line(1, days=21)
        ),
    )
    return {"digest": digest, **labels()}


def admins_context(locale: str, *, teams: int = 3) -> dict[str, Any]:
    lines = [
        TeamLine("Atelier de Lyon", 14, 3, 5, "overdue", False, 11, 14, 27),
        TeamLine("Front desk — Paris Opéra", 2, 0, 1, "done", True),
        TeamLine("Customer support", 0, 0, 0, "due", False, 4, 9, None),
    ]
    lines = (lines * (teams // 3 + 1))[:teams]
    return {
        "week": Week(2026, 51),
        "lines": lines,
        "more": 0,
        "total": Total.of(lines),
        "per_section": PER_SECTION,
        "threshold": 5,
        "long_wait": 14,
    }


def said_did_context(locale: str) -> dict[str, Any]:
    fixed = [line(n, status="resolved") for n in range(10)]
    return {"team": TEAM, "irritants": fixed, "total": 12, "more": 2, **labels()}
