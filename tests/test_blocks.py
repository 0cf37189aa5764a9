"""Block Kit templates: every template renders valid Block Kit in every locale, within limits."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from babel.dates import format_date
from jinja2 import DictLoader, Environment, StrictUndefined
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.irritants.board import Entry
from bot.irritants.catalog import labels
from bot.pulse.bank import shipped
from bot.pulse.settings_ui import CADENCES, WEEKDAYS
from bot.runtime.config import LOCALES
from bot.shared import blocks
from bot.shared.blocks import BlockKitLimitError, check_limits, render
from bot.shared.i18n import translate
from bot.shared.worktime import day_of
from bot.teams.roster import ERROR_TEXT, TeamForm
from bot.walks import access, findings, walking
from bot.walks.form import Form, senses_of
from bot.walks.overview import TeamWalks, status
from bot.walks.quarters import Quarter
from bot.walks.results import result
from bot.walks.senses import RATINGS, SENSES, SPACES
from tests.digest_content_samples import admins_context, digest_context, said_did_context

TEMPLATE_DIR = Path(blocks.__file__).parent.parent / "templates"
TEMPLATES = sorted(path.name.removesuffix(".json.j2") for path in TEMPLATE_DIR.glob("*.json.j2"))
VIEW_TYPES = ("modal", "home")

Context = dict[str, Any]
ContextFactory = Callable[[str], Context]


# --- Sample data -------------------------------------------------------------------------


def make_team(
    team_id: int,
    name: str,
    *,
    channel_id: str = "C0LYON001",
    timezone: str = "Europe/Paris",
    locale: str = "fr",
    members: int = 12,
    managers: tuple[str, ...] = ("U0MANAG01",),
    holidays: str | None = None,
) -> SimpleNamespace:
    """A team as the templates see it: the attributes of storage.models.Team they read."""
    return SimpleNamespace(
        id=team_id,
        workspace_id=1,
        name=name,
        channel_id=channel_id,
        timezone=timezone,
        locale=locale,
        holidays=holidays,
        memberships=[SimpleNamespace(user_id=f"U0MEMB{i:03d}") for i in range(members)],
        managers=[SimpleNamespace(user_id=user_id) for user_id in managers],
    )


LYON = make_team(
    1, "Atelier de Lyon", members=14, managers=("U0MANAG01", "U0MANAG02"), holidays="FR"
)
DESK = make_team(2, "Front desk — Paris Opéra", channel_id="C0DESK001", locale="en", members=1)
SUPPORT = make_team(
    3, "Customer support", channel_id="C0SUPP001", timezone="America/New_York", locale="en"
)


def form_for(team: SimpleNamespace) -> TeamForm:
    """The form of an existing team, as bot.teams.setup_modal.form_for builds it."""
    return TeamForm(
        name=team.name,
        channel_id=team.channel_id,
        manager_ids=sorted(m.user_id for m in team.managers),
        timezone=team.timezone,
        locale=team.locale,
        team_id=team.id,
        holidays=team.holidays,
    )


def new_form() -> TeamForm:
    """An empty form with the defaults, as bot.teams.roster.default_form builds it."""
    return TeamForm(name="", channel_id="", manager_ids=[], timezone="UTC", locale="en")


def modal_context(teams: list[SimpleNamespace], form: TeamForm) -> Context:
    """The team modal's context, as bot.teams.setup_modal.modal builds it."""
    return {
        "teams": teams,
        "form": form,
        "version": form.team_id or "new",
        "metadata": json.dumps({"team_id": form.team_id}),
    }


NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def make_irritant(
    irritant_id: int,
    *,
    status: str = "new",
    anonymous: bool = True,
    description: str = "The staff room is freezing every morning before 9.",
    votes: int = 2,
    note: str | None = None,
    team: SimpleNamespace | None = None,
    created_at: datetime = datetime(2026, 11, 24, tzinfo=UTC),
    details: list[str] = (),  # type: ignore[assignment]
) -> SimpleNamespace:
    """An irritant as the templates see it: the attributes of storage.models.Irritant."""
    return SimpleNamespace(
        id=irritant_id,
        public_id=f"{irritant_id:0>10}".translate(str.maketrans("0123456789", "abcdefghjk")),
        team=team or LYON,
        category="temperature",
        space="employee",
        severity="annoying",
        location="Salle de pause, 2e étage",
        description=description,
        anonymous=anonymous,
        reporter_id=None if anonymous else "U0REPORT1",
        status=status,
        eta=date(2026, 12, 3) if status == "planned" else None,
        votes=[SimpleNamespace(id=i) for i in range(votes)],
        votes_shown=votes,
        created_at=created_at,
        resolution_note=note,
        events=[
            SimpleNamespace(action="reported", note=None, created_at=created_at),
            *(SimpleNamespace(action="detail", note=t, created_at=created_at) for t in details),
        ],
    )


IRRITANTS = [
    make_irritant(1),
    make_irritant(2, status="acknowledged", anonymous=False, votes=0),
    make_irritant(3, status="planned", details=["Since Monday, and worse after lunch."]),
    make_irritant(4, status="resolved", note="New radiator installed."),
    make_irritant(5, status="declined", note="The landlord handles the heating; we asked."),
]
BIG = make_irritant(9, description="é" * 3000, note="n" * 2000, details=["d" * 2000] * 5)


def board(irritants: list[SimpleNamespace]) -> list[Entry]:
    entries: list[Entry] = [Entry("heading", LYON, "new")]
    entries += [Entry("card", LYON, "new", irritant) for irritant in irritants]  # type: ignore[arg-type]
    return entries


def make_walk(
    public_id: str,
    quarter: str,
    *,
    scores: dict | None = None,
    done: bool = True,
    draft: dict | None = None,
    expeditions: int = 0,
) -> SimpleNamespace:
    """A walk as the templates see it: the attributes of storage.models.Walk they read."""
    return SimpleNamespace(
        public_id=public_id,
        quarter=quarter,
        scores=scores,
        done_at=datetime(2026, 10, 12, 14, 30, tzinfo=UTC) if done else None,
        declared=done and not scores,
        draft=draft,
        expeditions=[SimpleNamespace(place=f"Place {i}") for i in range(expeditions)],
    )


def ratings(customer: int, *employee: int | None) -> dict:
    """Each sense's ratings: `customer` everywhere, the employee's sense by sense."""
    return {s: {"customer": customer, "employee": e} for s, e in zip(SENSES, employee, strict=True)}


PREVIOUS_WALK = result(make_walk("wprevious1", "2026-Q3", scores=ratings(4, 3, 3, 1, 2, 4)))
DONE_WALK = make_walk("wdone00001", "2026-Q4", scores=ratings(5, 4, 3, 2, 2, None), expeditions=2)
DUE_WALK = make_walk("wdue000001", "2026-Q4", done=False, draft={"smell": "stale air"})
WALK_LINES = [
    TeamWalks(
        status=status(LYON, DONE_WALK, now=NOW),  # type: ignore[arg-type]
        walk=DONE_WALK,  # type: ignore[arg-type]
        latest=result(DONE_WALK, PREVIOUS_WALK),  # type: ignore[arg-type]
        trend=[("2026-Q1", 2.4), ("2026-Q2", 1.8), ("2026-Q3", 1.4), ("2026-Q4", 1.5)],
    ),
    TeamWalks(
        status=status(DESK, DUE_WALK, now=NOW),  # type: ignore[arg-type]
        walk=DUE_WALK,  # type: ignore[arg-type]
        latest=None,
        trend=[],
    ),
]


def walk_statuses(count: int) -> list:
    """Every team's state for the quarter, as an admin's Home tab lists it."""
    declared = make_walk("wdeclared1", "2026-Q4")
    walks = [DONE_WALK, None, declared, DUE_WALK]
    return [
        status(make_team(i, f"Team {i} " + "n" * 60), walks[i % 4], now=NOW)  # type: ignore[arg-type]
        for i in range(count)
    ]


def expedition_context(state: str, *, posted: bool = True, borrow: str = "x") -> Context:
    """The expedition modal's context, as bot.walks.expeditions builds it."""
    expedition = SimpleNamespace(
        place="Hôtel de la Gare, Lyon",
        visited_on=date(2026, 11, 20),
        surprised="The night porter knew every guest's name. " * 40,
        borrow=borrow and "A board at the entrance with the day's news for the staff. " * 30,
        author_id="U0MANAG01",
        posted_at=NOW if posted else None,
        walk=DONE_WALK,
    )
    return {
        "state": state,
        "team": LYON,
        "today": date(2026, 11, 30),
        "metadata": json.dumps({"walk": DONE_WALK.public_id, "origin": "home"}),
        "expedition": expedition,
    }


def home_context(**overrides: Any) -> Context:
    context: Context = {
        "managed_teams": [LYON, DESK],
        "is_admin": True,
        "team_count": 3,
        "threshold": 5,
        "my_reports": IRRITANTS[:4],
        "my_total": 7,
        "board": board(IRRITANTS),
        "team_board_empty": False,
        "now": NOW,
        "page": 2,
        "pages": 3,
        "pulse_lines": PULSE_LINES,
        "pulse_total": SimpleNamespace(responded=21, enps=35),
        "walk_lines": WALK_LINES,
        "walk_more": 1,
        "walk_statuses": walk_statuses(4),
        "senses": SENSES,
        **labels(),
    }
    context.update(overrides)
    return context


def pulse_line(name: str, *, hidden: bool, closed: bool = True) -> SimpleNamespace:
    questions = [
        SimpleNamespace(text=q.text("en") * 3, mean=4.2, enps=None, responses=7, change=-0.3)
        for q in shipped()[1:6]
    ]
    questions.insert(0, SimpleNamespace(text="eNPS", mean=8.1, enps=42, responses=7, change=12))
    questions.append(SimpleNamespace(text="Noise", mean=None, enps=None, responses=3, change=None))
    result = SimpleNamespace(
        round=SimpleNamespace(period=date(2026, 12, 1)),
        responded=7,
        sent=9,
        questions=questions,
        comments=["Le bruit de la climatisation fatigue." * 20, "Merci pour les nouvelles chaises"],
    )
    return SimpleNamespace(
        team=make_team(9, name), result=result if closed else None, hidden=hidden, enps_90=-5
    )


PULSE_LINES = [
    pulse_line("Atelier", hidden=False),
    pulse_line("Desk", hidden=True),
    pulse_line("New", hidden=True, closed=False),
]


def event(action: str, note: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(action=action, note=note, eta=date(2026, 12, 3))


SURVEY_TEAM = SimpleNamespace(
    **vars(LYON),
    survey_enabled=True,
    survey_cadence="biweekly",
    survey_weekday=1,
    survey_time="10:00",
    survey_questions=5,
    survey_days=5,
)
ROUND = SimpleNamespace(id=42, state="open", questions=["enps", "temperature", "noise"])


def survey_context(locale: str, *, answers: dict[str, int], closed: bool = False) -> Context:
    """The survey message's context, as bot.pulse.answers.survey_context builds it."""
    questions = [q for q in shipped()][:5]
    return {
        "round": ROUND,
        "team": SURVEY_TEAM,
        "sig": "s" * 24,
        "questions": [
            {
                "key": q.key,
                "text": q.text(locale),
                "buttons": [(v, q.label(v, locale)) for v in q.values],
                "scale": q.scale,
                "low": q.label(q.values[0], locale),
                "high": q.label(q.values[-1], locale),
                "answer": answers.get(q.key),
                "answer_label": q.label(answers[q.key], locale) if q.key in answers else None,
            }
            for q in questions
        ],
        "closes_on": date(2026, 12, 8),
        "skipped": False,
        "answered": len(answers),
        "closed": closed,
    }


def settings_context(locale: str, *, admin: bool = True) -> Context:
    return {
        "teams": [SURVEY_TEAM, SimpleNamespace(**{**vars(SURVEY_TEAM), "id": 2, "name": "Desk"})],
        "team": SURVEY_TEAM,
        "admin": admin,
        "weekdays": WEEKDAYS,
        "cadences": CADENCES,
        "metadata": json.dumps({"team": 1}),
    }


WALK_ID = "abcdefghjk"
WALK_METADATA = json.dumps({"walk": WALK_ID})
WALK_NOTE = "Le néon du vestiaire clignote depuis des semaines, et personne ne le voit plus. "


def walk_form(*, filled: bool) -> Form:
    """The manager's form, as a draft resumed (`filled`) or new."""
    form = Form()
    if filled:
        for rank, sense in enumerate(SENSES):
            form.scores[sense] = {"customer": 5 - rank % 3, "employee": 1 + rank % 5}
            form.notes[sense] = {space: (WALK_NOTE * 20)[:1000] for space in SPACES}
        form.stopped_seeing, form.works_well = "é" * 2000, "La machine à café des clients."
    return form


def walk_modal_context(*, filled: bool) -> Context:
    """The manager's walk modal, as bot.walks.form.manager_modal builds it."""
    form = walk_form(filled=filled)
    return {
        "team": LYON,
        "quarter": Quarter(2026, 4),
        "senses": senses_of(form),
        "ratings": RATINGS,
        "stopped_seeing": form.stopped_seeing,
        "works_well": form.works_well,
        "invited": [f"U0MEMB{i:03d}" for i in range(10)] if filled else [],
        "saved_at": NOW if filled else None,
        "metadata": WALK_METADATA,
    }


def walk_notes(count: int, authors: int) -> list[SimpleNamespace]:
    """`count` notes of a walk by `authors` people (the manager first), as stored."""
    senses = list(SENSES)
    return [
        SimpleNamespace(
            id=i + 1,
            author_id=f"U0MEMB{i * authors // count:03d}",
            sense=senses[i % 5],
            space=SPACES[i % 2],
            text=(WALK_NOTE * 20)[:1000],
        )
        for i in range(count)
    ]


def findings_context(count: int, authors: int) -> Context:
    """The findings step, with as many of `count` notes as bot.walks.findings fits."""
    groups, more = findings.fit_notes(walk_notes(count, authors))
    return {
        "team": LYON,
        "quarter": Quarter(2026, 4),
        "reporter": "U0MEMB000",
        "groups": groups,
        "more": more,
        "senses": SENSES,
        "categories": labels()["categories"],
        "metadata": WALK_METADATA,
    }


def summary_context(*, done: bool) -> Context:
    made = [
        {"category": "noise", "space": "employee", "text": WALK_NOTE * 3},
        {"category": "cleanliness", "space": "customer", "text": "Les toilettes du personnel."},
    ]
    return {
        "team": LYON,
        "quarter": Quarter(2026, 4),
        "rows": [
            {
                "label": label,
                "customer": 4,
                "employee": 2 if done else None,
                "gap": 2 if done else None,
            }
            for label in SENSES.values()
        ],
        "findings": made * (6 if done else 0),
        "categories": labels()["categories"],
        "stopped_seeing": "La fontaine à eau de l'atelier n'a plus de gobelets." if done else "",
        "works_well": "é" * 2000 if done else "",
        "walk_id": WALK_ID,
    }


WALK = SimpleNamespace(public_id="w2k3m4n5p6", quarter="2026-Q4")


def walk_prompt(*, reminder: bool) -> Context:
    """A manager's walk prompt (or reminder), as bot.walks.schedule renders it."""
    quarter = Quarter(2026, 4)
    last_day = date(2026, 12, 31)
    return {
        "team": LYON,
        "walk": WALK,
        "quarter": quarter,
        "last_day": last_day,
        "reminder": reminder,
    }


def walk_overdue(teams: list[SimpleNamespace], more: int = 0) -> Context:
    """The admins' notice, as bot.walks.overdue renders it."""
    return {"quarter": Quarter(2026, 4), "teams": teams, "more": more, "total": len(teams) + more}


# One realistic context per template; a new template fails the tests until it gets one.
SAMPLES: dict[str, ContextFactory] = {
    "digest": lambda locale: digest_context(locale),
    "digest_admins": lambda locale: admins_context(locale),
    "digest_said_did": lambda locale: said_did_context(locale),
    "digest_nps_modal": lambda locale: {
        "teams": [LYON, SURVEY_TEAM],
        "months": [("2026-12", "décembre 2026"), ("2026-11", "novembre 2026")],
        "last_month": "2026-11",
    },
    "digest_nps_saved": lambda locale: {
        "team": LYON,
        "month": "novembre 2026",
        "figures": SimpleNamespace(month="2026-11", nps=42, responses=310),
        "replaced": SimpleNamespace(month="2026-11", nps=38, responses=290),
    },
    "digest_nps_refused": lambda locale: {},
    "not_allowed_survey": lambda locale: {},
    "pulse_comment_modal": lambda locale: {"value": "42:comment:0:" + "s" * 24},
    "pulse_pause_modal": lambda locale: {
        "value": "42:pause:0:" + "s" * 24,
        "suggested": date(2026, 12, 10),
    },
    "pulse_reminder": lambda locale: survey_context(locale, answers={}),
    "pulse_closed": lambda locale: {"team": SURVEY_TEAM, "shown": True},
    "pulse_settings_modal": lambda locale: settings_context(locale),
    "pulse_settings_saved": lambda locale: {
        "team": SURVEY_TEAM,
        "weekdays": WEEKDAYS,
        "cadences": CADENCES,
    },
    "pulse_survey": lambda locale: survey_context(locale, answers={"enps": 9, "temperature": 2}),
    "help": lambda locale: {"unknown": "stats"},
    "home": lambda locale: home_context(),
    "irritant_details_modal": lambda locale: {"irritant": IRRITANTS[0], **labels()},
    "irritant_expired": lambda locale: {},
    "irritant_help": lambda locale: {"unknown": None},
    "irritant_list": lambda locale: {
        "irritants": IRRITANTS * 3,
        "total": 40,
        "page": 2,
        "pages": 3,
        **labels(),
    },
    "irritant_modal": lambda locale: {
        "prefill": "the printer jams again " * 130,
        "cut": True,
        "guessed": "tools",
        "teams": [LYON, DESK],
        "small": [DESK],
        "threshold": 5,
        "locations": ["Salle de pause", "x" * 200],
        "categories": labels()["categories"],
        "spaces": labels()["spaces"],
        "severities": labels()["severities"],
    },
    "irritant_new": lambda locale: {"team": LYON, "irritant": IRRITANTS[1], **labels()},
    "irritant_no_team": lambda locale: {"teams": [LYON, DESK]},
    "irritant_roundup": lambda locale: {
        "team": LYON,
        "irritants": [BIG] * 8,
        "more": 4,
        "total": 12,
        "for_admins": True,
        **labels(),
    },
    "irritant_similar": lambda locale: {"irritant": BIG, "token": "a" * 32, **labels()},
    "irritant_thanks": lambda locale: {
        "irritant": IRRITANTS[0],
        "team": LYON,
        "to_admins": False,
        "roundup_time": "16:00",
        **labels(),
    },
    "irritant_triage_modal": lambda locale: {
        "irritant": IRRITANTS[2],
        "action": "plan",
        "metadata": json.dumps({"irritant": 3, "action": "plan", "origin": "home"}),
        "now": NOW,
        **labels(),
    },
    "irritant_update": lambda locale: {
        "team": LYON,
        "irritant": IRRITANTS[2],
        "event": event("plan", "A new radiator is ordered."),
        **labels(),
    },
    "irritant_voted": lambda locale: {"irritant": IRRITANTS[0], "added": True, **labels()},
    "not_admin": lambda locale: {},
    "digest_refused": lambda locale: {},
    "digest_settings_modal": lambda locale: digest_settings(None, previewed=True),
    "team_failed": lambda locale: {
        "name": "Atelier de Lyon",
        "problems": [translate(locale, "Another team took this name or channel meanwhile.")],
    },
    "team_modal": lambda locale: modal_context([LYON, DESK, SUPPORT], form_for(LYON)),
    "team_saved": lambda locale: {
        "team": LYON,
        "members": len(LYON.memberships),
        "managers": sorted(m.user_id for m in LYON.managers),
        "added": 14,
        "removed": 0,
    },
    "walk_expedition_modal": lambda locale: expedition_context("saved"),
    "walk_expedition_post": lambda locale: {"team": LYON, **expedition_context("saved")},
    "walk_overdue": lambda locale: walk_overdue([LYON, SUPPORT, make_team(4, "Nuit", managers=())]),
    "walk_prompt": lambda locale: walk_prompt(reminder=False),
    "welcome": lambda locale: {"team": LYON, "threshold": 5},
    "walk_modal": lambda locale: walk_modal_context(filled=True),
    "walk_teammate_modal": lambda locale: {
        "team": LYON,
        "manager": "U0MANAG01",
        "senses": senses_of(Form()),
        "metadata": WALK_METADATA,
    },
    "walk_findings_modal": lambda locale: findings_context(12, 3),
    "walk_summary_modal": lambda locale: summary_context(done=True),
    "walk_notice_modal": lambda locale: {"message": access.REFUSALS["expired"], "day": None},
    "walk_pick_modal": lambda locale: {"teams": [LYON, DESK]},
    "walk_invite": lambda locale: {
        "team": LYON,
        "manager": "U0MANAG01",
        "walk_id": WALK_ID,
        "until": date(2027, 1, 14),
    },
    "walk_notes_added": lambda locale: {"team": LYON, "author": "U0MEMB003", "walk_id": WALK_ID},
}


def digest_settings(preference: object, *, previewed: bool = False, saved: bool = False) -> dict:
    """`/symmetry digest`'s modal: one's choice (None: never chosen), before or once saved."""
    return {"preference": preference, "weekdays": WEEKDAYS, "previewed": previewed, "saved": saved}


# Other branches of the templates: (case id, template, context factory).
VARIANTS: list[tuple[str, str, ContextFactory]] = [
    ("digest-quiet", "digest", lambda locale: digest_context(locale, quiet=True)),
    ("digest-hidden-pulse", "digest", lambda locale: digest_context(locale, hidden=True)),
    ("digest_admins-many-teams", "digest_admins", lambda locale: admins_context(locale, teams=352)),
    ("walk_prompt-reminder", "walk_prompt", lambda locale: walk_prompt(reminder=True)),
    (
        "walk_overdue-many-teams",
        "walk_overdue",
        lambda locale: walk_overdue(
            [
                make_team(i, "&" * 80, managers=tuple(f"U0MANAG{j:02d}" for j in range(9)))
                for i in range(160)
            ],
            more=40,
        ),
    ),
    ("help-plain", "help", lambda locale: {"unknown": None}),
    ("walk_modal-new", "walk_modal", lambda locale: walk_modal_context(filled=False)),
    ("walk_findings_modal-full", "walk_findings_modal", lambda locale: findings_context(80, 1)),
    (
        "walk_findings_modal-many-authors",
        "walk_findings_modal",
        lambda locale: findings_context(60, 60),
    ),
    (
        "walk_summary_modal-partial",
        "walk_summary_modal",
        lambda locale: summary_context(done=False),
    ),
    (
        "walk_notice_modal-draft",
        "walk_notice_modal",
        lambda locale: {"message": walking.DRAFT_SAVED, "day": date(2027, 1, 14)},
    ),
    (
        "pulse_survey-closed",
        "pulse_survey",
        lambda locale: survey_context(locale, answers={"enps": 0}, closed=True),
    ),
    (
        "pulse_survey-all-answered",
        "pulse_survey",
        lambda locale: survey_context(locale, answers={q.key: q.values[-1] for q in shipped()[:5]}),
    ),
    (
        "pulse_settings_modal-manager",
        "pulse_settings_modal",
        lambda locale: settings_context(locale, admin=False),
    ),
    ("help-long-word", "help", lambda locale: {"unknown": "x" * 500}),
    (
        "digest_settings_modal-off-wednesday-nothing-to-show",
        "digest_settings_modal",
        lambda locale: digest_settings(SimpleNamespace(enabled=False, weekday=2), previewed=False),
    ),
    (
        "digest_settings_modal-saved-on-friday",
        "digest_settings_modal",
        lambda locale: digest_settings(SimpleNamespace(enabled=True, weekday=4), saved=True),
    ),
    (
        "digest_settings_modal-saved-off",
        "digest_settings_modal",
        lambda locale: digest_settings(SimpleNamespace(enabled=False, weekday=0), saved=True),
    ),
    (
        "home-employee",
        "home",
        lambda locale: home_context(
            managed_teams=[],
            is_admin=False,
            team_count=0,
            threshold=3,
            board=[],
            team_board_empty=True,
            pages=0,
            my_reports=[],
            my_total=0,
        ),
    ),
    (
        "home-admin-only",
        "home",
        lambda locale: home_context(
            managed_teams=[],
            board=[Entry("heading", DESK, "admins")]
            + [Entry("card", DESK, "admins", i) for i in IRRITANTS],  # type: ignore[arg-type]
            page=1,
            pages=1,
        ),
    ),
    (
        "home-many-teams-full-board",
        "home",
        lambda locale: home_context(
            managed_teams=[make_team(i, f"Team {i}") for i in range(1, 61)],
            board=board([BIG] * 19),
            walk_more=58,
            walk_statuses=walk_statuses(60),
        ),
    ),
    (
        "home-manager-of-one-team-no-walk-yet",
        "home",
        lambda locale: home_context(
            managed_teams=[LYON],
            is_admin=False,
            walk_lines=WALK_LINES[1:],
            walk_more=0,
            walk_statuses=[],
        ),
    ),
    (
        "walk_expedition_modal-form",
        "walk_expedition_modal",
        lambda locale: expedition_context("form"),
    ),
    (
        "walk_expedition_modal-refused",
        "walk_expedition_modal",
        lambda locale: {"state": "refused"},
    ),
    (
        "walk_expedition_modal-saved-not-posted",
        "walk_expedition_modal",
        lambda locale: expedition_context("saved", posted=False),
    ),
    (
        "walk_expedition_post-nothing-to-borrow",
        "walk_expedition_post",
        lambda locale: expedition_context("saved", borrow=""),
    ),
    *[
        (
            f"irritant_update-{action}",
            "irritant_update",
            lambda locale, action=action: {
                "team": LYON,
                "irritant": BIG,
                "event": event(action, "x" * 2000),
                **labels(),
            },
        )
        for action in ("acknowledge", "plan", "resolve", "decline", "reopen")
    ],
    *[
        (
            f"irritant_triage_modal-{action}",
            "irritant_triage_modal",
            lambda locale, action=action: {
                "irritant": BIG,
                "action": action,
                "metadata": "{}",
                "now": NOW,
                **labels(),
            },
        )
        for action in ("resolve", "decline")
    ],
    (
        "irritant_list-empty",
        "irritant_list",
        lambda locale: {"irritants": [], "total": 0, **labels()},
    ),
    ("irritant_no_team-none", "irritant_no_team", lambda locale: {"teams": []}),
    (
        "irritant_thanks-small-team",
        "irritant_thanks",
        lambda locale: {
            "irritant": BIG,
            "team": DESK,
            "to_admins": True,
            "roundup_time": "16:00",
            **labels(),
        },
    ),
    ("team_modal-first-team", "team_modal", lambda locale: modal_context([], new_form())),
    ("team_modal-new", "team_modal", lambda locale: modal_context([LYON, DESK], new_form())),
    (
        "team_modal-many-teams",
        "team_modal",
        lambda locale: modal_context(
            [make_team(i, f"Team {i}") for i in range(1, 151)], new_form()
        ),
    ),
    (
        "team_failed-all-errors",
        "team_failed",
        lambda locale: {
            "name": "Atelier de Lyon",
            "problems": [translate(locale, text) for text in ERROR_TEXT.values()],
        },
    ),
    (
        "team_saved-english-team",
        "team_saved",
        lambda locale: {
            "team": SUPPORT,
            "members": 1,
            "managers": ["U0MANAG01"],
            "added": 0,
            "removed": 3,
        },
    ),
]


# --- Rendering and validation helpers ----------------------------------------------------


def validate_deep(obj: Any) -> None:
    """Run slack_sdk's validators on an object and on every object nested in it."""
    if isinstance(obj, JsonObject):
        obj.validate_json()
        for value in vars(obj).values():
            validate_deep(value)
    elif isinstance(obj, list | tuple):
        for item in obj:
            validate_deep(item)


def validate_block_kit(payload: dict[str, Any]) -> None:
    """Validate a view or a message with slack_sdk's Block Kit models."""
    if payload.get("type") in VIEW_TYPES:
        view = View(**payload)
        validate_deep(view)
        assert view.to_dict() == payload, "slack_sdk dropped or changed part of the view"
        return
    assert isinstance(payload.get("text"), str)
    assert payload["text"].strip(), "a message needs a notification text"
    assert payload.get("response_type", "ephemeral") in ("ephemeral", "in_channel")
    for block in payload["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None, f"slack_sdk does not know block type {block.get('type')!r}"
        validate_deep(parsed)
        round_trip = parsed.to_dict()
        assert round_trip["type"] == block["type"]
        assert round_trip == block, "slack_sdk dropped or changed part of the block"


def picker(payload: dict[str, Any]) -> dict[str, Any]:
    """The team picker of a rendered team modal."""
    return next(b for b in payload["blocks"] if b.get("block_id") == "pick")["accessory"]


# --- Every template, every locale --------------------------------------------------------


class TestTemplates:
    def test_every_template_has_a_sample_context(self):
        """SAMPLES names exactly the templates in bot/templates, so a new template needs one."""
        missing = sorted(set(TEMPLATES) - set(SAMPLES))
        stale = sorted(set(SAMPLES) - set(TEMPLATES))
        assert not missing, f"add a sample context to SAMPLES for: {', '.join(missing)}"
        assert not stale, f"SAMPLES names templates that no longer exist: {', '.join(stale)}"

    @pytest.mark.parametrize("locale", LOCALES)
    @pytest.mark.parametrize("name", TEMPLATES)
    def test_template_renders_valid_block_kit(self, name, locale):
        """Each template renders, with its sample context, to Block Kit that slack_sdk accepts."""
        if name not in SAMPLES:
            pytest.fail(f"template {name} has no sample context: add one to SAMPLES")
        payload = render(name, locale, **SAMPLES[name](locale))
        validate_block_kit(payload)

    @pytest.mark.parametrize("locale", LOCALES)
    @pytest.mark.parametrize(
        ("name", "factory"),
        [pytest.param(name, factory, id=case) for case, name, factory in VARIANTS],
    )
    def test_template_variant_renders_valid_block_kit(self, name, factory, locale):
        """The other branches of the templates (empty lists, many teams) are valid too."""
        validate_block_kit(render(name, locale, **factory(locale)))

    @pytest.mark.parametrize("name", TEMPLATES)
    def test_locales_render_the_same_structure(self, name):
        """Every locale renders the same blocks, in the same order, as English."""
        if name not in SAMPLES:
            pytest.fail(f"template {name} has no sample context: add one to SAMPLES")

        def shape(payload: dict[str, Any]) -> list[tuple[Any, ...]]:
            return [(b["type"], b.get("block_id")) for b in payload["blocks"]]

        english = render(name, "en", **SAMPLES[name]("en"))
        for locale in LOCALES:
            payload = render(name, locale, **SAMPLES[name](locale))
            assert shape(payload) == shape(english), locale
            assert payload.get("type") == english.get("type"), locale

    @pytest.mark.parametrize("locale", LOCALES)
    def test_team_failed_names_the_team_and_the_problems(self, locale):
        """The failure message takes a `name` variable, as the setup modal passes it to `render`."""
        payload = render("team_failed", locale, **SAMPLES["team_failed"](locale))
        text = payload["blocks"][0]["text"]["text"]
        assert "*Atelier de Lyon*" in text
        assert translate(locale, "Another team took this name or channel meanwhile.") in text


def my_list(irritant: SimpleNamespace) -> dict:
    """`/irritant list` showing one report, in English."""
    return render("irritant_list", "en", irritants=[irritant], total=1, page=1, pages=1, **labels())


class TestReportedDay:
    """A card's "reported on" date is the team's date, not the UTC one."""

    def test_named_report_in_a_new_york_evening(self):
        """20:30 in New York is already the next day in UTC: the card shows New York's."""
        irritant = make_irritant(
            1, anonymous=False, team=SUPPORT, created_at=datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
        )
        text = json.dumps(
            render(
                "irritant_list", "en", irritants=[irritant], total=1, page=1, pages=1, **labels()
            )
        )
        assert "reported Nov 26, 2026" in text and "Nov 27" not in text

    @pytest.mark.parametrize(
        ("instant", "timezone", "day"),
        [
            (datetime(2026, 11, 27, 1, 30, tzinfo=UTC), "America/New_York", date(2026, 11, 26)),
            (datetime(2026, 11, 26, 23, 30, tzinfo=UTC), "Europe/Paris", date(2026, 11, 27)),
            (datetime(2026, 11, 26, 12, 0, tzinfo=UTC), "Not/AZone", date(2026, 11, 26)),
        ],
    )
    def test_anonymous_report_keeps_the_teams_day(self, instant, timezone, day):
        """An anonymous report keeps only its day, the team's, and its card shows that day."""
        kept = day_of(instant, timezone)
        assert kept == datetime.combine(day, time(0), tzinfo=UTC)
        team = make_team(4, "Night shift", timezone=timezone, locale="en")
        irritant = make_irritant(1, team=team, created_at=kept)
        text = json.dumps(
            render(
                "irritant_list", "en", irritants=[irritant], total=1, page=1, pages=1, **labels()
            )
        )
        assert f"reported {format_date(day, format='medium', locale='en')}" in text


class TestAddedDetails:
    """Details reach the managers; an anonymous reporter's, from the next day only."""

    def test_anonymous_details_of_today_wait(self):
        yesterday, today = datetime(2026, 11, 29, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
        irritant = make_irritant(1, created_at=yesterday)
        irritant.events += [
            SimpleNamespace(action="detail", note="Since Monday", created_at=yesterday),
            SimpleNamespace(action="detail", note="Worse today", created_at=today),
        ]
        context = {"action": "plan", "metadata": "{}", "now": NOW, **labels()}
        shown = json.dumps(render("irritant_triage_modal", "en", irritant=irritant, **context))
        assert "Since Monday" in shown and "Worse today" not in shown
        irritant.anonymous = False
        shown = json.dumps(render("irritant_triage_modal", "en", irritant=irritant, **context))
        assert "Since Monday" in shown and "Worse today" in shown


class TestTeamModal:
    @pytest.mark.parametrize("locale", LOCALES)
    @pytest.mark.parametrize("length", [80, 200])
    def test_long_team_name_is_truncated_in_the_picker(self, locale, length):
        """A long team name is shortened in the picker instead of breaking the option limit."""
        long_team = make_team(7, "Équipe " + "x" * (length - 7), channel_id="C0LONG001")
        context = modal_context([LYON, long_team], form_for(long_team))
        payload = render("team_modal", locale, **context)
        validate_block_kit(payload)
        accessory = picker(payload)
        option = next(o for o in accessory["options"] if o["value"] == "7")
        assert len(option["text"]["text"]) == 75
        assert option["text"]["text"].endswith("…")
        assert option["text"]["text"].startswith("Équipe xxx")
        assert accessory["initial_option"] == option

    @pytest.mark.parametrize("locale", LOCALES)
    def test_picker_keeps_within_100_options(self, locale):
        """With 150 teams the picker lists at most 100 options, "New team" included."""
        context = modal_context([make_team(i, f"Team {i}") for i in range(1, 151)], new_form())
        accessory = picker(render("team_modal", locale, **context))
        assert len(accessory["options"]) == 100
        assert accessory["options"][0]["value"] == "new"
        assert accessory["initial_option"] == accessory["options"][0]

    def test_modal_title_and_buttons_are_translated(self):
        """The French modal's title, submit and close texts are French and within 24 characters."""
        english = render("team_modal", "en", **modal_context([], new_form()))
        french = render("team_modal", "fr", **modal_context([], new_form()))
        for key in ("title", "submit", "close"):
            assert french[key]["text"] != english[key]["text"]
            assert len(french[key]["text"]) <= 24


class TestKept:
    def test_frozen_is_shared_and_refuses_changes(self):
        """`Kept.frozen` is decoded once and shared: equal to a fresh copy, encoded the same,
        and no caller can change any part of it for the next one (dicts refuse, lists are
        tuples); a copy stays the caller's own."""
        payload = render("team_modal", "en", **modal_context([], new_form()))
        kept = blocks.kept(payload)
        frozen = kept.frozen
        assert frozen is kept.frozen
        assert kept.copy() == payload
        assert json.dumps(frozen) == json.dumps(payload)  # tuples go out as arrays
        first = frozen["blocks"][0]
        for change in (
            lambda: frozen.__setitem__("title", "x"),
            lambda: frozen.update(title="x"),
            lambda: frozen.pop("title"),
            lambda: frozen.setdefault("other", 1),
            lambda: frozen.clear(),
            lambda: first.__delitem__("type"),
            lambda: first.popitem(),
        ):
            with pytest.raises(TypeError):
                change()
        with pytest.raises(AttributeError):
            frozen["blocks"].append({})  # type: ignore[attr-defined]
        frozen_again = frozen
        with pytest.raises(TypeError):
            frozen_again |= {"title": "x"}
        assert json.dumps(kept.frozen) == json.dumps(payload)
        mine = kept.copy()
        mine["title"] = "x"
        deep = copy.deepcopy(frozen)  # plain dicts and lists: the caller's own
        deep["blocks"].append({})
        deep["blocks"][0]["type"] = "x"
        shallow = copy.copy(frozen)
        shallow["title"] = "x"
        assert json.dumps(kept.frozen) == json.dumps(payload)


class TestCompiledOnce:
    def test_code_compiled_for_one_locale_renders_another(self):
        """A template is compiled once for every locale: environments as `environment` makes
        them, sharing one cache, render English and French from code compiled once."""
        cache = blocks._CompiledOnce()
        compiled = []

        def environment(locale: str) -> Environment:
            env = blocks.environment.__wrapped__(locale)
            env.bytecode_cache = cache
            compile_ = env._compile
            env._compile = lambda *args: compiled.append(locale) or compile_(*args)
            return env

        said = "Only Symmetry admins can do this."
        english = environment("en").get_template("not_admin.json.j2").render()
        french = environment("fr").get_template("not_admin.json.j2").render()
        assert compiled == ["en"]
        assert json.loads(english)["text"] == said
        assert json.loads(french)["text"] == translate("fr", said) != said


# --- Slack's limits ----------------------------------------------------------------------


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def modal(blocks_: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Team setup"), "blocks": blocks_, **fields}


def message(blocks_: list[dict[str, Any]]) -> dict[str, Any]:
    return {"text": "Symmetry", "blocks": blocks_}


def header(length: int) -> dict[str, Any]:
    return {"type": "header", "text": plain("h" * length)}


def button(length: int) -> dict[str, Any]:
    return {"type": "button", "action_id": "go", "text": plain("b" * length), "value": "1"}


def options(length: int) -> list[dict[str, Any]]:
    return [{"text": plain("o" * length), "value": "1"}, {"text": plain("short"), "value": "2"}]


DIVIDER = {"type": "divider"}

# (case id, payload within the limit, the same payload one step over it)
LIMIT_CASES = [
    ("header-150", message([header(150)]), message([header(151)])),
    ("message-50-blocks", message([DIVIDER] * 50), message([DIVIDER] * 51)),
    ("modal-100-blocks", modal([DIVIDER] * 100), modal([DIVIDER] * 101)),
    (
        "home-100-blocks",
        {"type": "home", "blocks": [DIVIDER] * 100},
        {
            "type": "home",
            "blocks": [DIVIDER] * 101,
        },
    ),
    ("modal-title-24", modal([], title=plain("t" * 24)), modal([], title=plain("t" * 25))),
    ("modal-submit-24", modal([], submit=plain("s" * 24)), modal([], submit=plain("s" * 25))),
    (
        "button-text-75",
        message([{"type": "actions", "elements": [button(75)]}]),
        message([{"type": "actions", "elements": [button(76)]}]),
    ),
    (
        "accessory-button-text-75",
        message([{"type": "section", "text": plain("x"), "accessory": button(75)}]),
        message([{"type": "section", "text": plain("x"), "accessory": button(76)}]),
    ),
    (
        "private-metadata-3000",
        modal([], private_metadata="m" * 3000),
        modal([], private_metadata="m" * 3001),
    ),
    (
        "option-text-75",
        modal(
            [
                {
                    "type": "section",
                    "text": plain("Pick"),
                    "accessory": {"type": "static_select", "options": options(75)},
                }
            ]
        ),
        modal(
            [
                {
                    "type": "section",
                    "text": plain("Pick"),
                    "accessory": {"type": "static_select", "options": options(76)},
                }
            ]
        ),
    ),
    (
        "input-option-text-75",
        modal(
            [
                {
                    "type": "input",
                    "label": plain("Language"),
                    "element": {"type": "static_select", "options": options(75)},
                }
            ]
        ),
        modal(
            [
                {
                    "type": "input",
                    "label": plain("Language"),
                    "element": {"type": "static_select", "options": options(76)},
                }
            ]
        ),
    ),
    (
        "option-group-text-75",
        modal(
            [
                {
                    "type": "input",
                    "label": plain("Team"),
                    "element": {
                        "type": "static_select",
                        "option_groups": [{"label": plain("Teams"), "options": options(75)}],
                    },
                }
            ]
        ),
        modal(
            [
                {
                    "type": "input",
                    "label": plain("Team"),
                    "element": {
                        "type": "static_select",
                        "option_groups": [{"label": plain("Teams"), "options": options(76)}],
                    },
                }
            ]
        ),
    ),
    (
        "section-text-3000",
        message([{"type": "section", "text": plain("s" * 3000)}]),
        message([{"type": "section", "text": plain("s" * 3001)}]),
    ),
]


class TestCheckLimits:
    @pytest.mark.parametrize("payload", [pytest.param(ok, id=case) for case, ok, _ in LIMIT_CASES])
    def test_payload_at_the_limit_passes(self, payload):
        """A payload exactly at one of Slack's limits is accepted."""
        check_limits(payload)

    @pytest.mark.parametrize(
        "payload", [pytest.param(over, id=case) for case, _, over in LIMIT_CASES]
    )
    def test_payload_over_the_limit_is_refused(self, payload):
        """A payload one step over one of Slack's limits raises BlockKitLimitError."""
        with pytest.raises(BlockKitLimitError):
            check_limits(payload)

    def test_unknown_payload_type_is_refused(self):
        """A payload whose type is neither a message, a modal nor a home tab is refused."""
        with pytest.raises(BlockKitLimitError, match="unknown payload type"):
            check_limits({"type": "workflow_step", "blocks": []})

    def test_error_names_the_template(self):
        """The error message says where the limit was broken."""
        with pytest.raises(BlockKitLimitError, match=r"team_modal: modal title"):
            check_limits(modal([], title=plain("t" * 25)), where="team_modal")


class TestRenderRefuses:
    @pytest.fixture
    def fake_templates(self, monkeypatch):
        """Make `render` read templates from a dict instead of bot/templates."""
        sources: dict[str, str] = {}
        env = Environment(loader=DictLoader(sources), undefined=StrictUndefined)
        monkeypatch.setattr(blocks, "environment", lambda locale: env)
        return sources

    def test_render_refuses_a_header_over_150_characters(self, fake_templates):
        """`render` raises BlockKitLimitError rather than return a header Slack would reject."""
        fake_templates["long.json.j2"] = (
            '{"text": "t", "blocks": [{"type": "header", "text": '
            '{"type": "plain_text", "text": {{ title | tojson }}}}]}'
        )
        assert render("long", "en", title="h" * 150)["blocks"][0]["type"] == "header"
        with pytest.raises(BlockKitLimitError, match="header"):
            render("long", "en", title="h" * 151)

    def test_render_refuses_invalid_json(self, fake_templates):
        """`render` raises BlockKitLimitError when a template renders invalid JSON."""
        fake_templates["broken.json.j2"] = '{"text": {{ text }}, "blocks": []}'
        with pytest.raises(BlockKitLimitError, match="invalid JSON"):
            render("broken", "en", text="not quoted")

    def test_render_refuses_a_modal_with_101_blocks(self, fake_templates):
        """`render` raises BlockKitLimitError for a modal with more than 100 blocks."""
        fake_templates["many.json.j2"] = (
            '{"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": ['
            '{% for i in range(count) %}{% if i %},{% endif %}{"type": "divider"}{% endfor %}]}'
        )
        assert len(render("many", "en", count=100)["blocks"]) == 100
        with pytest.raises(BlockKitLimitError, match="101 blocks"):
            render("many", "en", count=101)
