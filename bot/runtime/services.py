"""Services: what listeners need (settings, the policy, sessions, the directory of people,
the clock), carried in `context`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from bot.runtime.config import Settings
from bot.shared.policy import Policy
from bot.teams.directory import Directory
from storage import queries
from storage.db import read_connection, session_scope


def utcnow() -> datetime:
    """The real present, in UTC (only the edges call this; domain code takes `now`)."""
    return datetime.now(UTC)


@dataclass
class Services:
    """What listeners need, handed to them through `context["services"]`."""

    settings: Settings
    policy: Policy
    sessions: sessionmaker[Session]
    directory: Directory
    now: Callable[[], datetime] = utcnow
    installation_store: InstallationStore | None = None
    _workspace_ids: dict[str, int] = field(default_factory=dict)
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
