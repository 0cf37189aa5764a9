"""`symmetry nps import FILE.csv`: customer NPS per team and month from a CSV file, all or
nothing. Every row is checked before anything is stored, and every problem is reported with its
line number; a file with one bad row stores nothing.

The file has a header naming the columns `team`, `month` (YYYY-MM), `nps` (-100..100) and
`responses` (at least 1), in any order. A byte order mark, blank lines, spaces around values
and a spreadsheet's semicolons instead of commas are accepted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.digests.nps import HIGHEST, LOWEST, Figures, check, record
from storage import audit, queries
from storage.models import Team

COLUMNS = ("team", "month", "nps", "responses")
# What each problem `check` finds reads as, after the column's name, on the command line.
PROBLEMS = {
    ("month", "format"): "must be a month written YYYY-MM, not {value!r}",
    ("month", "future"): "{value} has not begun",
    ("nps", "format"): "must be a whole number, not {value!r}",
    ("nps", "range"): f"must be between {LOWEST} and {HIGHEST}, not {{value}}",
    ("responses", "format"): "must be a whole number, at least 1, not {value!r}",
    ("responses", "range"): "must be a whole number, at least 1, not {value!r}",
}


class BadFile(Exception):
    """The file cannot be imported; `errors` lists every problem, one line each."""

    def __init__(self, errors: list[str], *, bad_rows: int = 0) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
        self.bad_rows = bad_rows


@dataclass(frozen=True)
class Row:
    """A checked row of the file: its line, its team and its figures."""

    line: int
    team: Team
    figures: Figures


@dataclass(frozen=True)
class Recorded:
    """What one row stored, and the figures it replaced (None for a new month)."""

    team: str
    figures: Figures
    replaced: Figures | None


def decode(data: bytes) -> str:
    """The file's text (UTF-8, with or without a byte order mark)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile(["the file is not UTF-8 text: save it as CSV UTF-8"]) from None


def read(text: str, teams: Sequence[Team], *, now: datetime) -> list[Row]:
    """Every row of the file, checked against `teams` (those it may name) and `now` (no month
    to come); BadFile with every problem found, in line order, when any row is bad."""
    lines = [(n, row) for n, row in _rows(text) if any(cell.strip() for cell in row)]
    if not lines:
        raise BadFile([f"the file is empty: its first line must be {','.join(COLUMNS)}"])
    (header_line, header), body = lines[0], lines[1:]
    names = [cell.strip().lower() for cell in header]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in dict.fromkeys(names) if n not in COLUMNS]
    twice = [n for n in COLUMNS if names.count(n) > 1]
    errors = [f"line {header_line}: missing column {name}" for name in missing]
    errors += [f"line {header_line}: unknown column {name or '(empty)'}" for name in unknown]
    errors += [f"line {header_line}: column {name} appears twice" for name in twice]
    if errors:
        raise BadFile([*errors, f"the first line must name the columns {', '.join(COLUMNS)}"])
    by_name: dict[str, list[Team]] = {}
    for team in teams:
        by_name.setdefault(team.name.strip().lower(), []).append(team)
    rows: list[Row] = []
    bad: set[int] = set()
    first_of: dict[tuple[int, str], int] = {}
    for line, cells in body:
        row, problems = _check_row(line, cells, names, by_name, now)
        if row is not None:
            key = (row.team.id, row.figures.month)
            if key not in first_of:
                first_of[key] = line
                rows.append(row)
                continue
            problems = [
                f"line {line}: {row.team.name} {row.figures.month} "
                f"is already on line {first_of[key]}"
            ]
        bad.add(line)
        errors += problems
    if errors:
        raise BadFile(errors, bad_rows=len(bad))
    return rows


def import_csv(
    session: Session, *, data: bytes, workspace_id: int | None, now: datetime
) -> list[Recorded]:
    """Check the whole file against the teams of `workspace_id` (of every workspace when None),
    then record every row (BadFile, nothing recorded, when any is bad). The caller's
    transaction holds them all: it commits, or nothing is stored."""
    rows = read(decode(data), queries.list_teams(session, workspace_id=workspace_id), now=now)
    recorded = []
    for row in rows:
        figures = row.figures
        replaced = record(
            session,
            team=row.team,
            month=figures.month,
            nps=figures.nps,
            responses=figures.responses,
            by=None,
            now=now,
        )
        recorded.append(Recorded(row.team.name, figures, replaced))
    audit.record(
        session,
        actor=audit.CLI,
        action="nps.imported",
        now=now,
        workspace_id=workspace_id,
        months=[f"{r.team} {r.figures.month}" for r in recorded],
    )
    return recorded


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of each record; semicolons when the first line has more of them
    than commas (a spreadsheet's export in French and other locales)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    found = []
    line = 1
    try:
        for cells in reader:
            found.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:  # a value over the csv module's size limit, say
        raise BadFile([f"line {line}: not CSV the importer can read ({exc})"]) from None
    return found


def _check_row(
    line: int,
    cells: list[str],
    names: list[str],
    teams: dict[str, list[Team]],
    now: datetime,
) -> tuple[Row | None, list[str]]:
    """(the checked row, []) or (None, its problems, each a line of its own)."""
    if len(cells) != len(names):
        return None, [f"line {line}: {len(cells)} values where the header has {len(names)}"]
    given = {name: cell.strip() for name, cell in zip(names, cells, strict=True)}
    errors = []
    matches = teams.get(given["team"].lower(), []) if given["team"] else []
    if not given["team"]:
        errors.append(f"line {line}: team is missing")
    elif not matches:
        errors.append(f"line {line}: no team called {given['team']!r}")
    elif len(matches) > 1:
        errors.append(
            f"line {line}: {given['team']!r} exists in several workspaces: add --workspace"
        )
    timezone = matches[0].timezone if len(matches) == 1 else "UTC"
    figures, problems = check(
        month=given["month"],
        nps=given["nps"],
        responses=given["responses"],
        timezone=timezone,
        now=now,
    )
    for field in ("month", "nps", "responses"):
        problem = problems.get(field)
        if problem == "missing":
            errors.append(f"line {line}: {field} is missing")
        elif problem is not None:
            text = PROBLEMS[field, problem].format(value=given[field])
            errors.append(f"line {line}: {field} {text}")
    if errors or figures is None:
        return None, errors
    return Row(line, matches[0], figures), []
