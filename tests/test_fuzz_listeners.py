"""Hostile input at every listener (issue 10, finding 11): Hypothesis throws arbitrary text
and JSON at each slash command, button, menu, form and event the app registers, as signed
requests to the app served in this process, and checks that none of them fails: no 5xx, no
listener error in the log, a field error beside a field the form has, no report lost and no
row lost (tests/fuzzing.py holds the machinery).

The listeners are read from `handlers.register` itself: a new one is fuzzed with the others,
or this file fails until it knows how to send it. On PostgreSQL too when TEST_DATABASE_URL is
set (NUL characters and over-long values fail only there).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import handlers
from bot.demo.harness import SIGNING_SECRET
from storage.models import Irritant, IrritantDraft
from tests.fuzzing import (
    CHANNELS,
    JSON,
    PEOPLE,
    TEXT,
    USERS,
    WORKSPACES,
    Harness,
    World,
    build_world,
    click,
    form_state,
    metadata_for,
    nothing_lost,
    rows,
    sent_text,
    serve,
    unserve,
)
from tests.irritant_helpers import big_team

# Repeatable in CI: derandomized, no example database written anywhere, and a few examples
# per listener, so that the file takes seconds. `HYPOTHESIS_PROFILE=deep` tries many more.
settings.register_profile(
    "ci",
    max_examples=5,  # per listener: see `scaled`
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    # The app and its world are built once per test and shared by its examples on purpose:
    # what one hostile request leaves behind must not break the next one either.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
settings.register_profile("deep", settings.get_profile("ci"), max_examples=200)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# What `symmetry serve` answers, before Bolt, to a body Slack never sends: the fields Bolt
# routes on have the wrong types; or it is over a megabyte (a form full of long texts).
MALFORMED, TOO_LARGE = 400, 413


# ---------------------------------------------------------------------------- the listeners


@dataclass(frozen=True)
class Registered:
    """One listener as `handlers.register` attaches it: the App method and its constraint."""

    kind: str  # command, action, view, event…
    key: Any  # a string, or a compiled pattern


def registered() -> list[Registered]:
    """Every listener the app registers, read by handing `handlers.register` a recorder."""
    seen: list[Registered] = []

    class Recorder:
        def __getattr__(self, kind: str):
            def register(key: Any, *_args: Any, **_kwargs: Any):
                seen.append(Registered(kind, key))
                return lambda listener: listener

            return register

    handlers.register(Recorder())  # type: ignore[arg-type]
    return seen


LISTENERS = registered()
COMMANDS, BUTTONS, FORMS, CLOSED, EVENTS = (
    [listener for listener in LISTENERS if listener.kind == kind]
    for kind in ("command", "action", "view", "view_closed", "event")
)


def scaled(listeners: list[Registered]) -> settings:
    """The profile, with its examples for each of `listeners`."""
    return settings(PROFILE, max_examples=PROFILE.max_examples * len(listeners))


def action_ids(world: World, listener: Registered) -> list[str]:
    """The action IDs the world shows for a button listener (a pattern may match several)."""
    if isinstance(listener.key, str):
        return [listener.key] if listener.key in world.buttons else []
    return sorted(a for a in world.buttons if listener.key.search(a))


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture
def harness(app, slack, db) -> Iterator[Harness]:
    """The app in this process, served as `symmetry serve` serves it, its listeners' work and
    errors watched."""
    served = serve(app, slack, db, SIGNING_SECRET)
    yield served
    unserve(served)


@pytest.fixture
def team(harness) -> int:
    return big_team(harness.db, harness.slack)


@pytest.fixture
def world(harness) -> World:
    """What the app showed a team: a button or menu for every button listener, a modal for
    every form listener (a listener the world lacks fails here: show it in `build_world`)."""
    assert len(harness.app.app._listeners) == len(LISTENERS), "the recorder missed some"
    shown = build_world(harness)
    assert [b.key for b in BUTTONS if not action_ids(shown, b)] == []
    assert [f.key for f in FORMS + CLOSED if f.key not in shown.modals] == []
    return shown


# ---------------------------------------------------------------------------- the tests


def test_every_listener_is_of_a_kind_fuzzed_here():
    """Commands, buttons and menus, forms (submitted or closed) and events: a shortcut would
    need its own requests here."""
    kinds = {"command", "action", "view", "view_closed", "event"}
    assert {listener.kind for listener in LISTENERS} <= kinds


class TestHostileInput:
    @scaled(COMMANDS)
    @given(data=st.data())
    def test_commands(self, harness, team, data):
        """Any text after any command, from anyone: an answer, never an error."""
        h = harness
        h.start(data.draw(WORKSPACES, label="foreign workspace"))
        command = data.draw(st.sampled_from(COMMANDS), label="command").key
        user = data.draw(st.sampled_from(USERS), label="user")
        text = data.draw(TEXT, label="text")
        before, calls = rows(h.db), len(h.slack.calls)
        response = h.platform.command(user, command, text)
        assert response.status == 200
        h.settle()
        answers = [
            c for c in h.slack.calls[calls:]
            if c.method == "views.open"
            or (c.method == "response_url" and c.params.get("_key") == response.response_key)
        ]  # fmt: skip
        assert response.body.strip() or answers, "no answer"
        nothing_lost(before, rows(h.db))

    @scaled(BUTTONS + FORMS)
    @given(data=st.data())
    def test_buttons_and_forms(self, harness, world, data):
        """Any value in any button or menu the app shows, clicked by anyone where it was; any
        metadata and state in any form it opens, submitted by anyone."""
        h = harness
        h.start(data.draw(WORKSPACES, label="foreign workspace"))
        listener = data.draw(st.sampled_from(BUTTONS + FORMS), label="listener")
        before = rows(h.db)
        if listener.kind == "action":
            press(h, world, listener, data)
        else:
            submit(h, world, listener, data)
        nothing_lost(before, rows(h.db))

    @scaled(CLOSED)
    @given(data=st.data())
    def test_closed_forms(self, harness, world, data):
        """Any metadata and state in a form closed by anyone (a form that asked to be told):
        acknowledged, and nothing fails or is lost."""
        h = harness
        h.start(data.draw(WORKSPACES, label="foreign workspace"))
        listener = data.draw(st.sampled_from(CLOSED), label="listener")
        shown = world.modals[listener.key]
        modal = shown[data.draw(st.integers(0, len(shown) - 1), label=f"form (of {len(shown)})")]
        user = data.draw(st.sampled_from(PEOPLE), label="user")
        metadata = data.draw(metadata_for(modal.get("private_metadata", "")), label="metadata")
        values = data.draw(form_state(modal), label="values")
        before = rows(h.db)
        response = h.platform.view_closed(user, {**modal, "private_metadata": metadata}, values)
        assert response.status in (200, TOO_LARGE)
        h.settle()
        nothing_lost(before, rows(h.db))

    @scaled(EVENTS)
    @given(data=st.data())
    def test_events(self, harness, team, data):
        """Any field in any event the app listens to: acknowledged, and nothing fails."""
        h = harness
        h.start(data.draw(WORKSPACES, label="foreign workspace"))
        event_type = data.draw(st.sampled_from(EVENTS), label="listener").key
        tokens = st.fixed_dictionaries(
            {}, optional={"bot": st.lists(st.sampled_from(USERS)) | JSON, "oauth": JSON}
        )
        fields = st.fixed_dictionaries(
            {},
            optional={
                "user": st.sampled_from(USERS) | JSON,
                "channel": st.sampled_from(CHANNELS) | JSON,
                "tab": st.sampled_from(["home", "messages"]) | JSON,
                "tokens": tokens | JSON,
                "view": JSON,
            },
        )
        event = {"type": event_type, **data.draw(fields, label="event")}
        before = rows(h.db)
        assert h.platform.event(event).status in (200, MALFORMED)
        h.settle()
        nothing_lost(before, rows(h.db))


def press(h: Harness, world: World, listener: Registered, data: st.DataObject) -> None:
    """Click a button or pick in a menu the world shows, its value forged or not."""
    action_id = data.draw(st.sampled_from(action_ids(world, listener)), label="action_id")
    element, where = data.draw(st.sampled_from(world.buttons[action_id]), label="where")
    user = data.draw(st.sampled_from(PEOPLE), label="user")
    value = data.draw(
        st.one_of(st.just(element.get("value")), st.none(), TEXT, JSON.map(json.dumps)),
        label="value",
    )
    options = element.get("options") or []
    selected = data.draw(
        st.one_of(
            st.none(),
            st.sampled_from(options) if options else st.nothing(),
            st.builds(lambda v: {"value": v}, TEXT),
            JSON,
        ),
        label="selected_option",
    )
    forged = {} if value is None else {"value": value}
    response = click(h.platform, h.slack, action_id, forged, where, user=user,
                     selected_option=selected)  # fmt: skip
    assert response.status == 200
    h.settle()


def submit(h: Harness, world: World, listener: Registered, data: st.DataObject) -> None:
    """Submit a form the world shows with any metadata and state: a field error beside a
    field the form has, or its next step; a report typed is stored or kept as a draft."""
    shown = world.modals[listener.key]
    modal = shown[data.draw(st.integers(0, len(shown) - 1), label=f"form (of {len(shown)})")]
    user = data.draw(st.sampled_from(PEOPLE), label="user")
    metadata = data.draw(metadata_for(modal.get("private_metadata", "")), label="metadata")
    values = data.draw(form_state(modal), label="values")
    # A view ID of its own: a submission is not taken for Slack's retry of an earlier one.
    view = {**modal, "id": f"VFUZZ{next(VIEW_IDS):06d}", "private_metadata": metadata}
    reporting = listener.key == "irritant_report"
    stored = reports(h.db) if reporting else set()
    response = h.platform.view_submission(user, view, values)
    assert response.status in (200, TOO_LARGE)
    h.settle()
    answer = response.json() if response.status == 200 else None
    if answer is not None:
        assert isinstance(answer, dict)
        assert answer.get("response_action") in ("errors", "update", "push", "clear")
    if answer and answer["response_action"] == "errors":
        fields = {b["block_id"] for b in modal["blocks"] if b.get("type") == "input"}
        assert set(answer["errors"]) <= fields, "an error beside no field"
        assert all(isinstance(t, str) and t.strip() for t in answer["errors"].values())
    elif answer and reporting:
        (new,) = reports(h.db) - stored  # a report, or its draft while "me too" is offered
        typed = sent_text(values, "description") or ""
        assert new[1] == typed.replace("\x00", "").strip()


VIEW_IDS = itertools.count(1)


def reports(db: Any) -> set[tuple[str, Any, Any]]:
    """(kind, description, key) of every report and every draft of one."""
    with db.sessions() as session:
        stored = {("report", i.description, i.id) for i in session.scalars(select(Irritant))}
        drafts = session.scalars(select(IrritantDraft))
        return stored | {("draft", d.fields.get("description"), d.token) for d in drafts}
