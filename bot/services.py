"""Services: what listeners need (settings, sessions, the clock), carried in `context`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from storage import queries
from storage.db import session_scope


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
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def session(self):  # type: ignore[no-untyped-def]
        """A transaction scope: `with services.session() as session: ...`."""
        return session_scope(self.sessions)

    def workspace_id(self, slack_team_id: str) -> int:
        """The database ID of a Slack workspace, created on first sight and then cached."""
        with self._lock:
            cached = self._workspace_ids.get(slack_team_id)
        if cached is not None:
            return cached
        with self.session() as session:
            workspace_id = queries.get_or_create_workspace(session, slack_team_id=slack_team_id).id
        with self._lock:
            self._workspace_ids[slack_team_id] = workspace_id
        return workspace_id
