"""Services: what listeners need (settings, sessions, the clock), carried in `context`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from bot.runtime.config import Settings
from storage import queries
from storage.db import read_connection, session_scope

LOCALE_TTL = 600.0  # seconds a person's language is trusted from memory
LOCALE_CACHE_SIZE = 50_000


def utcnow() -> datetime:
    """The real present, in UTC (only the edges call this; domain code takes `now`)."""
    return datetime.now(UTC)


@dataclass
class Services:
    """What listeners need, handed to them through `context["services"]`."""

    settings: Settings
    sessions: sessionmaker[Session]
    now: Callable[[], datetime] = utcnow
    installation_store: InstallationStore | None = None
    _workspace_ids: dict[str, int] = field(default_factory=dict)
    _locales: dict[tuple[int, str], tuple[str, float]] = field(default_factory=dict)
    _uninstalled: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def session(self):  # type: ignore[no-untyped-def]
        """A transaction scope: `with services.session() as session: ...`."""
        return session_scope(self.sessions)

    def reading(self) -> Connection:
        """A plain connection for a read on an acknowledgement's path (`with
        services.reading() as connection: ...`): no ORM session around it, whose set-up and
        commit cost more CPU than a small read itself."""
        return read_connection(self.sessions.kw["bind"])

    def workspace_id(self, slack_team_id: str) -> int:
        """The database ID of a Slack workspace, created on first sight and then cached."""
        with self._lock:
            cached = self._workspace_ids.get(slack_team_id)
        if cached is not None:
            return cached
        with self.session() as session:
            workspace = queries.get_or_create_workspace(session, slack_team_id=slack_team_id)
            workspace_id, gone = workspace.id, workspace.uninstalled_at is not None
        with self._lock:
            self._workspace_ids[slack_team_id] = workspace_id
            if gone:
                self._uninstalled.add(workspace_id)
        return workspace_id

    def mark_uninstalled(self, workspace_id: int) -> None:
        with self._lock:
            self._uninstalled.add(workspace_id)

    def back_from_uninstall(self, workspace_id: int) -> bool:
        """True (once) when a workspace marked uninstalled sends us a request again."""
        with self._lock:
            if workspace_id not in self._uninstalled:
                return False
            self._uninstalled.discard(workspace_id)
            return True

    def known_locale(self, workspace_id: int, user_id: str) -> str | None:
        """The language of someone recently seen, without touching the database.

        Acknowledgements must be fast: a command from a person met in the last few minutes
        is answered from this memory. None means "look it up" (and `remember_locale` it).
        """
        with self._lock:
            entry = self._locales.get((workspace_id, user_id))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def remember_locale(self, workspace_id: int, user_id: str, locale: str) -> None:
        with self._lock:
            if len(self._locales) > LOCALE_CACHE_SIZE:
                self._locales.clear()  # bounded memory; it refills from the database
            self._locales[(workspace_id, user_id)] = (locale, time.monotonic() + LOCALE_TTL)
