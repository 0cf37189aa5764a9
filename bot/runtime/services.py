"""Services: what listeners need (settings, the policy, sessions, the directory of people,
the clock), carried in `context`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from bot.irritants.choices import ChoiceCache
from bot.runtime import workspaces
from bot.runtime.config import Settings
from bot.shared.policy import Policy
from bot.teams.directory import Directory
from storage import queries
from storage.db import reading, session_scope


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
    # The Grid organisation and org-wide flag last recorded for each workspace (by ID).
    _organisations: dict[int, tuple[str | None, bool]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # The report modal's choices per person, for a few seconds (bot.irritants.choices).
    report_choices: ChoiceCache = field(default_factory=ChoiceCache)

    def session(self):  # type: ignore[no-untyped-def]
        """A transaction scope: `with services.session() as session: ...`."""
        return session_scope(self.sessions)

    def reading(self) -> AbstractContextManager[Connection]:
        """A plain connection for a read on an acknowledgement's path (`with
        services.reading() as connection: ...`; see storage.db.reading)."""
        return reading(self.sessions)

    def workspace_id(self, slack_team_id: str) -> int:
        """The database ID of a Slack workspace, created on first sight and then cached."""
        with self._lock:
            cached = self._workspace_ids.get(slack_team_id)
        if cached is not None:
            return cached
        with self.session() as session:
            workspace = queries.get_or_create_workspace(session, slack_team_id=slack_team_id)
            workspace_id, gone = workspace.id, workspace.uninstalled_at is not None
            organisation = (workspace.enterprise_id, bool(workspace.is_enterprise_install))
        with self._lock:
            self._workspace_ids[slack_team_id] = workspace_id
            self._organisations[workspace_id] = organisation
            if gone:
                self._uninstalled.add(workspace_id)
        return workspace_id

    def workspace_of_request(
        self, slack_team_id: str, *, enterprise_id: str | None, is_enterprise_install: bool
    ) -> int:
        """`workspace_id`, recording the Enterprise Grid organisation a request names and
        whether an org-wide installation authorized it, when that is news (a write the first
        time only: the clock, which sees no request, finds the workspace's token by them)."""
        workspace_id = self.workspace_id(slack_team_id)
        if enterprise_id is None:
            return workspace_id  # a request naming no organisation leaves the record as it is
        seen = (enterprise_id, bool(is_enterprise_install))
        with self._lock:
            if self._organisations.get(workspace_id) == seen:
                return workspace_id
        with self.session() as session:
            workspaces.organisation_seen(
                session,
                workspace_id=workspace_id,
                enterprise_id=enterprise_id,
                is_enterprise_install=seen[1],
            )
        with self._lock:
            self._organisations[workspace_id] = seen
        return workspace_id

    def mark_uninstalled(self, workspace_id: int) -> None:
        with self._lock:
            self._uninstalled.add(workspace_id)

    def back_from_uninstall(self, workspace_id: int) -> bool:
        """True (once) when a workspace marked uninstalled sends us a request again. Its ID
        is then looked up afresh: purged meanwhile (bot.runtime.retention), it has a new row."""
        with self._lock:
            if workspace_id not in self._uninstalled:
                return False
            self._uninstalled.discard(workspace_id)
            for slack_team_id, cached in list(self._workspace_ids.items()):
                if cached == workspace_id:
                    del self._workspace_ids[slack_team_id]
            return True
