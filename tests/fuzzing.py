"""The machinery of tests/test_fuzz_listeners.py: hostile values (Hypothesis strategies), the
app served as `symmetry serve` serves it with its listeners' work and errors watched, checks
that no row was lost, and a world of buttons and forms the app really showed."""

from __future__ import annotations

import copy
import io
import itertools
import json
import logging
import threading
import traceback
import wsgiref.util
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import String, cast, literal, select, union_all, update

from bot.demo.slack import Response, SlackClientSim, SlackSim, form_values
from bot.irritants import catalog
from bot.runtime.server import wsgi_app
from storage.models import Base, Team
from tests.conftest import (
    ADMIN,
    EMPLOYEE,
    GONE,
    MANAGER,
    OTHER_CHANNEL,
    OTHERBOT,
    PRIVATE_CHANNEL,
    SALARIEE,
    TEAM_CHANNEL,
)
from tests.inprocess import PARIS, TODAY, AppUnderTest, tick
from tests.irritant_helpers import EXTRA, big_team, report

# ---------------------------------------------------------------------------- hostile values

# Who clicks and submits (anyone active in the workspace, the owner of a button or not), and
# whom an event or a form may name (anyone, or no one Slack knows).
PEOPLE = [EMPLOYEE, MANAGER, ADMIN, SALARIEE, EXTRA[1]]
USERS = [*PEOPLE, GONE, OTHERBOT, "UNOBODY01"]
CHANNELS = [TEAM_CHANNEL, PRIVATE_CHANNEL, OTHER_CHANNEL, "CNOWHERE1"]
WORKSPACES = st.sampled_from([None, None, None, "T0FOREIGN1"])  # None: the simulated one
# Texts that broke something once, or could: NUL, digits int() refuses, numbers past the
# database's integers, JSON, sub-commands, mentions, invisible characters, and words the app
# writes in metadata and forms (another form's action, another origin).
TRICKY = [
    "", " ", "\x00", "a\x00b", "\x00list 2", "٣", "²", "١٢", "４２", "𝟒𝟐", "1²", "-1", "0", "1",
    "007", "9" * 19, "9" * 40, "2147483648", "1e3", "1.5", "null", "true", "[]", "{}", "[1, 2]",
    '{"irritant": 1}', "list", "liste", "list ٣", "list 99999999", "list -1", "help", "aide",
    "team", "survey", "sondage", "<!channel>", "\u202e", "\ufeff", "🙂", " list  2 ", "a:b:c:d",
    "1:q:3:sig", "::::", "new", "25:61", "24:00", "2026-02-30", "10000-01-01", "plan",
    "resolve", "decline", "acknowledge", "home", "message", "en", "fr", "Europe/Paris",
]  # fmt: skip
SHORT_TEXT = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=30),
    st.text(alphabet="0123456789٣²:- \x00", max_size=10),
)
# Longer than any field allows (3000 characters is the longest).
LONG_TEXT = st.builds(lambda piece: (piece * 4001)[:4001], st.text(min_size=1, max_size=3))
TEXT = SHORT_TEXT | LONG_TEXT
KEYS = ["irritant", "action", "origin", "team", "team_id", "value", "id", "type"]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**31, 2**63, -(2**63) - 1, 10**30])
    | st.floats(allow_nan=False, allow_infinity=False)
    | SHORT_TEXT,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def metadata_for(real: str) -> st.SearchStrategy[str]:
    """A modal's private_metadata: what the app wrote, text, JSON, or the app's object with
    one value swapped for anything."""
    try:
        written = json.loads(real)
    except ValueError:
        written = None
    swapped: st.SearchStrategy[str] = st.nothing()
    if isinstance(written, dict) and written:
        swapped = st.builds(
            lambda key, value: json.dumps({**written, key: value}),
            st.sampled_from(sorted(written)),
            JSON,
        )
    return st.one_of(st.just(real), swapped, TEXT, JSON.map(json.dumps))


def answer_for(element: dict) -> st.SearchStrategy[Any]:
    """What a person could pick in a form's `element`, or a forged value of the right type."""
    kind = element.get("type")
    options = [o["value"] for o in element.get("options", [])] + [
        o["value"] for g in element.get("option_groups", []) for o in g.get("options", [])
    ]
    picked = st.sampled_from(options) | TEXT if options else TEXT
    if kind in ("static_select", "radio_buttons"):
        return picked
    if kind == "checkboxes":
        return st.lists(picked, max_size=3)
    if kind == "datepicker":
        return st.dates().map(date.isoformat) | TEXT
    if kind == "timepicker":
        return st.times().map(lambda t: t.strftime("%H:%M")) | TEXT
    if kind == "users_select":
        return st.sampled_from(USERS) | TEXT
    if kind == "multi_users_select":
        return st.lists(st.sampled_from(USERS) | TEXT, max_size=3)
    if kind in ("conversations_select", "channels_select"):
        return st.sampled_from(CHANNELS) | TEXT
    return TEXT


@st.composite
def form_state(draw: st.DrawFn, modal: dict) -> Any:
    """The `state.values` of a submitted `modal`: each input filled, forged to the wrong type,
    replaced by any JSON, or left out; now and then the whole of it is any JSON."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    inputs = [b for b in modal.get("blocks", []) if b.get("type") == "input"]
    values: dict[str, Any] = form_values(
        modal, {b["block_id"]: draw(answer_for(b["element"])) for b in inputs}
    )
    for block in inputs:
        block_id, action_id = block["block_id"], block["element"]["action_id"]
        how = draw(st.sampled_from(["filled"] * 4 + ["wrong type", "any", "missing"]))
        if how == "wrong type":
            state = values[block_id][action_id]
            values[block_id][action_id] = {
                **state,
                draw(st.sampled_from(sorted(state))): draw(JSON),
            }
        elif how == "any":
            values[block_id] = draw(st.just({action_id: draw(JSON)}) | JSON)
        elif how == "missing":
            del values[block_id]
    return values


def sent_text(values: Any, block_id: str) -> str | None:
    """The text a form's input carried, when it carried text."""
    try:
        text = values[block_id]["value"]["value"]
    except (KeyError, TypeError):
        return None
    return text if isinstance(text, str) else None


# ---------------------------------------------------------------------------- the served app


class Served(SlackClientSim):
    """Slack's side, its requests handed in this process to the WSGI application `symmetry
    serve` runs (the server's own guards against malformed bodies included); now and then
    from a workspace other than the simulated one."""

    def __init__(self, under_test: AppUnderTest, signing_secret: str, sim: SlackSim) -> None:
        super().__init__("in-process:/slack/events", signing_secret, sim)
        self.application = wsgi_app(under_test.app, under_test.engine)
        self.foreign_team: str | None = None

    def _send(self, body: str, content_type: str, *args: Any, **kwargs: Any) -> Response:
        if self.foreign_team is not None:
            body = body.replace(self.sim.team_id, self.foreign_team)
        return super()._send(body, content_type, *args, **kwargs)

    def post_raw(self, body: bytes | str, headers: dict[str, str]) -> Response:
        data = body.encode() if isinstance(body, str) else body
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/slack/events",
            "CONTENT_LENGTH": str(len(data)),
            "CONTENT_TYPE": headers.get("Content-Type", ""),
            "wsgi.input": io.BytesIO(data),
        }
        environ.update(
            ("HTTP_" + name.upper().replace("-", "_"), value) for name, value in headers.items()
        )
        wsgiref.util.setup_testing_defaults(environ)
        started: list[tuple[str, list]] = []
        answer = b"".join(self.application(environ, lambda *args: started.append(args[:2])))
        status, answer_headers = started[0]
        return Response(int(status.split()[0]), answer.decode(), dict(answer_headers), 0.0)


class Tracked(Executor):
    """The listener pool, remembering what it runs, so that a test can wait for the work a
    listener does after its ack (where a failure is only logged)."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.futures: list[Future] = []
        self.lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = self.inner.submit(fn, *args, **kwargs)
        with self.lock:
            self.futures.append(future)
        return future

    def drain(self) -> None:
        with self.lock:
            pending, self.futures = self.futures, []
        wait(pending, timeout=30)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


class Errors(logging.Handler):
    """What was logged at ERROR meanwhile (`listener failed`, Bolt's own failures)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        taken, self.records = self.records, []
        return [_described(record) for record in taken]


def _described(record: logging.LogRecord) -> str:
    """The message, and the exception with the last line of our code it went through."""
    if not record.exc_info:
        return record.getMessage()
    _, error, trace = record.exc_info
    ours = [f for f, _ in traceback.walk_tb(trace) if "site-packages" not in f.f_code.co_filename]
    where = f"{ours[-1].f_code.co_filename}:{ours[-1].f_lineno}" if ours else "?"
    return f"{record.getMessage()}: {error!r} at {where}"


@dataclass
class Harness:
    """The app under test, served, and what it did after its acks."""

    app: AppUnderTest
    platform: Served
    slack: SlackSim
    db: Any
    pool: Tracked
    errors: Errors

    def __repr__(self) -> str:  # what Hypothesis prints of a failing example: keep it short
        return "Harness()"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def start(self, foreign_team: str | None) -> None:
        """Begin an example with no work or error left by the one before."""
        self.pool.drain()
        self.errors.take()
        self.platform.foreign_team = foreign_team

    def settle(self) -> None:
        """Wait for every listener's work, then fail on any error it logged."""
        self.pool.drain()
        logged = self.errors.take()
        assert not logged, "\n".join(logged)


def serve(app: AppUnderTest, slack: SlackSim, db: Any, signing_secret: str) -> Harness:
    """Watch `app`'s listener pool and the log (undo with `unserve`)."""
    bolt = app.app
    pool = Tracked(bolt.listener_runner.listener_executor)
    bolt.listener_runner.listener_executor = pool
    errors = Errors()
    logging.getLogger().addHandler(errors)
    return Harness(app, Served(app, signing_secret, slack), slack, db, pool, errors)


def unserve(harness: Harness) -> None:
    logging.getLogger().removeHandler(harness.errors)
    harness.pool.drain()


# ---------------------------------------------------------------------------- no data lost

# Rows a listener may delete on a valid request: a draft once decided, the members of a
# channel someone left, the managers an admin replaced.
MAY_SHRINK = {"irritant_drafts", "memberships", "team_managers"}


def rows(db: Any) -> set[tuple[str, str]]:
    """(table, primary key) of every row, read in one query."""
    every = union_all(
        *(
            select(literal(table.name), cast(next(iter(table.primary_key.columns)), String))
            for table in Base.metadata.sorted_tables
        )
    )
    with db.engine.connect() as connection:
        return {(name, key) for name, key in connection.execute(every)}


def nothing_lost(before: set[tuple[str, str]], after: set[tuple[str, str]]) -> None:
    lost = sorted(row for row in before - after if row[0] not in MAY_SHRINK)
    assert not lost, f"rows lost: {lost}"


# ---------------------------------------------------------------------------- the world

PAGE_AND_A_HALF = 18  # named reports: the manager's board then has a second page


@dataclass
class Container:
    """Where a button was: a message sent to `user` ("" for a command's answer), or a view."""

    user: str
    message: dict | None = None
    view_id: str | None = None

    def __repr__(self) -> str:
        return f"Container({self.user!r}, {self.view_id or 'a message'})"


@dataclass
class World:
    """What the app showed while a team lived a little: every element with an action ID (and
    where it was), and every modal (by callback ID: a triage form to plan, one to resolve)."""

    buttons: dict[str, list[tuple[dict, Container]]]
    modals: dict[str, list[dict]]
    earlier: frozenset[tuple[str, str]] = frozenset()  # (ID, hash) of views shown before

    def __repr__(self) -> str:
        return f"World({len(self.buttons)} action IDs, {len(self.modals)} modals)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def first(self, action_id: str, user: str) -> tuple[dict, Container]:
        """The first `action_id` element the app showed `user` (or showed in a view)."""
        return next((e, c) for e, c in self.buttons[action_id] if c.user in (user, ""))


def build_world(h: Harness) -> World:
    """Two teams (MANAGER manages both), named and anonymous reports (two pages of the
    manager's board, one resolved), a report offered "me too", the roundup, a pulse round
    delivered, and every modal opened once (the digest's with its private previews)."""
    platform, slack, app = h.platform, h.slack, h.app
    with slack._cond:  # the simulated Slack keeps the views of earlier tests
        world = World({}, {}, frozenset((v["id"], v["hash"]) for v in slack._ws.views.values()))
    big_team(h.db, slack)
    big_team(h.db, slack, name="Night", members=[MANAGER, ADMIN])
    report(platform, slack, SALARIEE)
    report(platform, slack, EXTRA[0])  # reads like SALARIEE's: "me too" is offered
    kinds = itertools.product(catalog.CATEGORIES, catalog.SPACES)
    for category, space in itertools.islice(kinds, PAGE_AND_A_HALF):
        text = f"The {category} of the {space} space is wrong"
        report(platform, slack, EMPLOYEE, share=True, description=text, category=category,
               space=space)  # fmt: skip
    tick(app, _paris(TODAY + timedelta(days=1), 16, 5))  # Friday's roundup
    tuesday = TODAY + timedelta(days=(1 - TODAY.weekday()) % 7 or 7)
    tick(app, _paris(tuesday - timedelta(days=1), 12))  # the round opens
    tick(app, _paris(tuesday, 16, 5))  # its surveys are delivered
    platform.command(EMPLOYEE, "/irritant", "list")
    h.settle()
    harvest(slack, into=world)
    for action_id, user in (
        ("irritant_resolve", MANAGER),
        ("irritant_details", EMPLOYEE),
        ("pulse_comment", SALARIEE),
        ("pulse_pause", SALARIEE),
    ):
        click(platform, slack, action_id, *world.first(action_id, user), user=user)
        h.settle()
    (resolving,) = harvest(slack, into=world).modals["irritant_triage"]
    platform.view_submission(MANAGER, resolving, form_values(resolving, {"note": "Fixed."}))
    click(platform, slack, "irritant_plan", *world.first("irritant_plan", MANAGER), user=MANAGER)
    platform.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
    platform.command(MANAGER, "/symmetry", "survey")
    platform.command(MANAGER, "/symmetry", "nps")
    platform.command(ADMIN, "/symmetry", "team")
    platform.command(MANAGER, "/symmetry", "digest")
    platform.command(EMPLOYEE, "/irritant")
    h.settle()
    harvest(slack, into=world)
    # The board's second page (the first, with its button to the second, stays in `world`).
    click(platform, slack, "home_page_next", *world.first("home_page_next", ""), user=MANAGER)
    h.settle()
    harvest(slack, into=world)
    walk(h, world, late=_paris(tuesday, 17))
    return harvest(slack, into=world)


def walk(h: Harness, world: World, *, late: datetime) -> None:
    """The quarter's sensory walk: its prompt (the teams made before the quarter, prompted
    late), the form saved with a teammate invited and done, the teammate's form, the
    findings, the summary's learning expedition, and the team picker of `/symmetry walk`."""
    platform, slack, app = h.platform, h.slack, h.app
    with h.db.sessions.begin() as session:
        session.execute(update(Team).values(created_at=datetime(2025, 12, 1, tzinfo=UTC)))
    tick(app, late)
    h.settle()
    harvest(slack, into=world)
    click(platform, slack, "walk_start", *world.first("walk_start", MANAGER), user=MANAGER)
    h.settle()
    (form, *_) = harvest(slack, into=world).modals["walk_submit"]
    answers = {
        "rate-smell-customer": "4",
        "rate-smell-employee": "2",
        "note-smell-employee": "Stale air",
        "invite": [ADMIN],
        "finish": "done",
    }
    platform.view_submission(MANAGER, form, form_values(form, answers))
    tick(app, late + timedelta(minutes=5))  # the teammate's invitation goes
    h.settle()
    harvest(slack, into=world)
    for action_id, user in (("walk_teammate_open", ADMIN),):
        click(platform, slack, action_id, *world.first(action_id, user), user=user)
    h.settle()
    (findings, *_) = harvest(slack, into=world).modals["walk_findings"]
    platform.view_submission(MANAGER, findings, form_values(findings, {}))
    h.settle()
    harvest(slack, into=world)
    click(platform, slack, "expedition_open", *world.first("expedition_open", ""), user=MANAGER)
    platform.command(MANAGER, "/symmetry", "walk")  # MANAGER manages two teams: a picker
    h.settle()


def _paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def harvest(slack: SlackSim, *, into: World) -> World:
    """Every element with an action ID the app sent (in messages, and in views as they stand,
    those a submission's answer put there included), and every modal, added to `into` (a
    view keeps only its latest state)."""
    world = into

    def collect(blocks: list, where: Container) -> None:
        for block in blocks or []:
            elements = [*block.get("elements", []), block.get("accessory"), block.get("element")]
            for element in elements:
                if isinstance(element, dict) and element.get("action_id"):
                    world.buttons.setdefault(element["action_id"], []).append((element, where))

    for call in slack.calls:
        if call.method in ("chat.postMessage", "chat.update", "response_url"):
            # A DM's channel is the person; a command's answer is its commander's ("").
            where = Container(call.params.get("channel", ""), call.params)
            collect(call.params.get("blocks"), where)
    with slack._cond:
        shown = [v for v in slack._ws.views.values() if (v["id"], v["hash"]) not in world.earlier]
        views = copy.deepcopy(shown)
    for view in views:
        collect(view.get("blocks"), Container("", view_id=view["id"]))
        if view.get("type") == "modal" and view["callback_id"]:
            shown = world.modals.setdefault(view["callback_id"], [])
            shown[:] = [*(v for v in shown if v["id"] != view["id"]), view]
    return world


def click(
    platform: SlackClientSim,
    slack: SlackSim,
    action_id: str,
    element: dict,
    where: Container,
    *,
    user: str,
    **extra: Any,
) -> Response:
    """Click `element` (as the app sent it, or forged) where it was, as `user`."""
    view = slack.view(where.view_id) if where.view_id else None
    return platform.block_action(
        user,
        action_id,
        element.get("value"),
        view=view,
        message=None if view else where.message,
        **extra,
    )
