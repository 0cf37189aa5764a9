"""The report modal's choices (a person's teams with their size facts, their teams' recent
places), kept in memory for a few seconds per person.

`/irritant` opens the modal after its ack, and its one read was still about half of the CPU
the product adds to bare Bolt's per command (bench/README.md). A person who opens the modal
again within `TTL` (a closed modal, a second report) gets the choices read then.

Staleness is bounded, and cannot weaken anonymity:
* an entry lives `TTL` at most (real time), and only while the injected clock stays within
  `TTL` of when it was read (a test, or a replay, that moves `now` reads afresh);
* a transaction of this process that writes a membership, a manager, a team, its recorded
  sizes, a person's record (deactivation) or a report (places) empties the cache when it
  commits (ORM flushes and ORM bulk statements, see `_watch`); a write in another process
  (another worker, the clock) shows here within `TTL`;
* the modal is a snapshot anyway: a person fills it for minutes before sending it, and
  `reporting.create` decides where an anonymous report goes from the team's size read at
  submission, not from the modal. A team that became small meanwhile sends it to the admins
  whatever the modal said; and a team's deciding size cannot grow within seconds (it is the
  smallest over 30 days, `bot.teams.sizes`).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from storage.irritants import ReportChoices

TTL = 30.0  # seconds an entry is trusted
MAX_ENTRIES = 10_000  # then the cache starts afresh (entries are a few hundred bytes)
# Tables whose rows the choices come from: a committed write to one empties every cache.
WATCHED = frozenset(
    {"memberships", "team_managers", "teams", "team_sizes", "slack_users", "irritants"}
)

_generation = itertools.count(1)
_current = [0]  # bumped on a commit that wrote a watched table (read without a lock: an int)


class ChoiceCache:
    """Per (workspace, person): the `ReportChoices` read at some `now`, for `TTL` seconds."""

    def __init__(self, *, ttl: float = TTL, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[int, str], tuple[int, float, datetime, ReportChoices]] = {}

    def get(
        self,
        workspace_id: int,
        user_id: str,
        *,
        now: datetime,
        read: Callable[[], ReportChoices],
    ) -> ReportChoices:
        """The person's choices kept at most `TTL` ago, or `read()` (then kept)."""
        key = (workspace_id, user_id)
        generation = _current[0]  # before the read: a write committed during it voids it
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None:
            kept_generation, expires, read_at, choices = entry
            fresh = timedelta(0) <= now - read_at <= timedelta(seconds=self._ttl)
            if kept_generation == generation and self._clock() < expires and fresh:
                return choices
        choices = read()
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (generation, self._clock() + self._ttl, now, choices)
        return choices


def invalidate() -> None:
    """Void every entry of every cache of this process."""
    _current[0] = next(_generation)


def _flushed(session: Session, _context: Any) -> None:
    for row in itertools.chain(session.new, session.dirty, session.deleted):
        if getattr(row, "__tablename__", None) in WATCHED:
            session.info["choices_written"] = True
            invalidate()  # now as well: a reader between flush and commit keeps nothing
            return


def _executed(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in WATCHED:
            state.session.info["choices_written"] = True
            invalidate()


def _committed(session: Session) -> None:
    # A flag left by a rolled-back transaction voids the caches once more: harmless.
    if session.info.pop("choices_written", False):
        invalidate()


def _watch() -> None:
    event.listen(Session, "after_flush", _flushed)
    event.listen(Session, "do_orm_execute", _executed)
    event.listen(Session, "after_commit", _committed)


_watch()
