"""A workspace used the way people use it, for privacy requests and the audit trail: a team
of six, an anonymous report by SALARIEE shown in the manager's roundup and acknowledged, a
named report by EMPLOYEE that SALARIEE says "me too" to, a named report by SALARIEE, and a
survey round that SALARIEE answered and that is still open."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, inspect, text

from storage.models import Irritant
from tests.conftest import EMPLOYEE, MANAGER, SALARIEE
from tests.inprocess import PARIS, TODAY, tick
from tests.irritant_helpers import big_team, irritants, report, wait_until

FRIDAY = datetime.combine(TODAY + timedelta(days=1), time(16, 5), tzinfo=PARIS)  # roundup
TUESDAY = TODAY + timedelta(days=(1 - TODAY.weekday()) % 7 or 7)  # survey day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def button(blocks_of: dict, action_id: str) -> dict:
    for block in blocks_of.get("blocks", []):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} button")


def dms(slack, user_id: str) -> list[dict]:
    return [
        c.params
        for c in slack.calls_to("chat.postMessage")
        if not c.failed and c.params["channel"] == user_id
    ]


def populate(app, slack, db) -> None:
    """The workspace described above, made through the app, its clock and the simulated Slack."""
    assert TODAY.weekday() == 3  # the app starts on a Thursday: Friday is a working day
    big_team(db, slack)
    report(app.platform, slack, SALARIEE, description="The staff room is freezing")
    tick(app, FRIDAY)
    roundup = next(m for m in dms(slack, MANAGER) if "irritant_acknowledge" in json.dumps(m))
    ack = button(roundup, "irritant_acknowledge")
    app.platform.block_action(MANAGER, "irritant_acknowledge", ack["value"], message=roundup)
    wait_until(lambda: irritants(db)[0].status == "acknowledged")
    report(app.platform, slack, EMPLOYEE, share=True, description="Broken chair", category="tools")
    similar = report(
        app.platform, slack, SALARIEE, description="broken chair", category="tools"
    ).json()["view"]
    vote = button(similar, "irritant_similar_vote")
    app.platform.block_action(SALARIEE, "irritant_similar_vote", vote["value"], view=similar)
    slack.wait_for("views.update")
    report(
        app.platform,
        slack,
        SALARIEE,
        share=True,
        description="The corridor light flickers",
        category="lighting",
    )
    tick(app, FRIDAY + timedelta(minutes=1))
    assert "1 round(s) opened" in tick(app, at(TUESDAY - timedelta(days=1), 12))
    tick(app, at(TUESDAY, 16, 5))
    (survey,) = [m for m in dms(slack, SALARIEE) if "pulse_answer" in json.dumps(m)]
    answer = next(
        (element, block["block_id"])
        for block in survey["blocks"]
        if block["type"] == "actions" and block["block_id"].startswith("a-")
        for element in block["elements"]
        if element["action_id"] == "pulse_answer:4"
    )
    element, block_id = answer
    app.platform.block_action(
        SALARIEE, element["action_id"], element["value"], block_id=block_id, message=survey
    )
    wait_until(lambda: "pulse_answers" not in empty_tables(db.engine))


def dump(engine: Engine) -> dict[str, str]:
    """Every row of every table, as text (the OAuth and migration tables included)."""
    found = {}
    with engine.connect() as connection:
        for table in sorted(inspect(engine).get_table_names()):
            rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
            found[table] = json.dumps([list(r) for r in rows], default=str, ensure_ascii=False)
    return found


def tables_naming(engine: Engine, user_id: str) -> list[str]:
    """The tables with a row that holds `user_id` in any column."""
    return [table for table, rows in dump(engine).items() if user_id in rows]


def empty_tables(engine: Engine) -> set[str]:
    return {table for table, rows in dump(engine).items() if rows == "[]"}


def anonymous_report(db) -> Irritant:
    (found,) = [i for i in irritants(db) if i.anonymous]
    return found
