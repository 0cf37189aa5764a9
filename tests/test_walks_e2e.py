"""A sensory walk end to end: `symmetry tick --now` plans and sends the quarter's prompt
(the command in this process: tests/cli_inprocess.py), the manager's clicks and forms reach
the real `symmetry serve` as signed HTTP requests, and a `symmetry export walks` process
reads the result; the simulated Slack in between.

The server runs on the real clock, so the prompt is for the quarter after today's: its walk
is open from then until 14 days after that quarter ends."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from bot.demo.slack import form_values
from bot.walks.quarters import Quarter
from storage.models import Irritant, Walk
from tests.conftest import EMPLOYEE, MANAGER, SALARIEE, server_env
from tests.inprocess import PARIS
from tests.irritant_helpers import big_team

SCORES = {
    "rate-smell-customer": "4",
    "rate-smell-employee": "1",
    "rate-touch-customer": "5",
    "rate-touch-employee": "2",
    "rate-sight-customer": "4",
    "rate-sight-employee": "4",
}
NOTES = {
    "note-smell-employee": "The staff toilets smell; the customers' are spotless",
    "note-touch-employee": "The workshop chairs are worn through",
}


def symmetry(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def button(message: dict, action_id: str) -> dict:
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} in {json.dumps(message)[:400]}")


def test_prompt_walk_findings_and_export(server, http_platform, slack, db, tmp_path, cli):
    """The prompt reaches the manager at 09:30 on the next quarter's first working day; its
    "Start my walk" opens the modal through the server; the walk is submitted, two notes
    become irritants of the team, and the export shows the scores, the gaps and the
    findings. Someone else's click on the same button opens nothing."""
    team_id = big_team(db, slack)
    quarter = Quarter.of(datetime.now(PARIS).date()).next
    first: date = quarter.first_working_day()
    env = server_env(db.url, slack)
    slack.clear_calls()
    early = cli.run("tick", "--now", datetime.combine(first, time(9, 0), PARIS).isoformat())
    assert early.status == 0, early.err
    assert not [
        c for c in slack.calls_to("chat.postMessage") if "walk_start" in json.dumps(c.params)
    ]
    due = cli.run("tick", "--now", datetime.combine(first, time(9, 31), PARIS).isoformat())
    assert due.status == 0, due.err
    (prompt,) = [
        c.params
        for c in slack.calls_to("chat.postMessage")
        if "walk_start" in json.dumps(c.params) and c.params["channel"] in (MANAGER, "D" + MANAGER)
    ]
    start = button(prompt, "walk_start")

    slack.clear_calls()
    http_platform.block_action(EMPLOYEE, "walk_start", start["value"], message=prompt)
    refused = slack.wait_for("views.open")[0].params["view"]
    assert refused.get("callback_id") != "walk_submit"  # a notice, not the form
    slack.clear_calls()
    http_platform.block_action(MANAGER, "walk_start", start["value"], message=prompt)
    view = slack.wait_for("views.open")[0].params["view"]
    assert view["callback_id"] == "walk_submit" and len(view["blocks"]) <= 100
    answers = {**SCORES, **NOTES, "finish": "done"}
    step = http_platform.view_submission(MANAGER, view, form_values(view, answers)).json()["view"]
    assert step["callback_id"] == "walk_findings"
    ticks = {
        b["block_id"]: ["finding"]
        for b in step["blocks"]
        if b.get("block_id", "").startswith("finding-")
    }
    assert len(ticks) == 2
    summary = http_platform.view_submission(MANAGER, step, form_values(step, ticks)).json()
    assert "expedition_open" in json.dumps(summary)

    with db.sessions() as session:
        walk = session.scalars(select(Walk).where(Walk.team_id == team_id)).one()
        made = session.scalars(select(Irritant).where(Irritant.walk_id == walk.id)).all()
        assert (walk.quarter, walk.manager_id) == (quarter.label, MANAGER)
        assert walk.done_at is not None and walk.done_at > datetime.now(UTC) - timedelta(hours=1)
        assert sorted((i.category, i.space, i.reporter_id, i.source) for i in made) == [
            ("cleanliness", "employee", MANAGER, "walk"),
            ("temperature", "employee", MANAGER, "walk"),
        ]
        found = sorted(i.public_id for i in made)

    (row,) = json.loads(
        symmetry("export", "walks", "--format", "json", env=env, cwd=tmp_path).stdout
    )
    assert (row["quarter"], row["manager"], sorted(row["findings"])) == (
        quarter.label,
        MANAGER,
        found,
    )
    assert row["scores"]["smell"] == {"customer": 4, "employee": 1}
    assert (row["gap"]["smell"], row["gap"]["touch"], row["gap"]["sight"]) == (3, 3, 0)
    assert row["gap"]["taste"] is None and row["expeditions"] == []
    assert SALARIEE not in json.dumps(row)
