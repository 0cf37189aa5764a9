"""One tenant cannot stop the others: planning in units that fail alone, and workspaces whose
token Slack refused.

The clock plans each workspace and each team in its own unit of failure (`Units.alone`): a
unit that raises is logged, counted in the tick's report and left for the next tick, and the
others go on. A unit that writes inside a transaction shared with others runs in a savepoint,
and one that fails while reading in a shared transaction (a read of every team) rolls it back,
so that on PostgreSQL its failed statement does not abort the others'.

A workspace whose token Slack refuses (`invalid_auth`, `token_revoked`, `account_inactive`,
`not_authed`), to the directory's calls while planning or to a delivery, is marked
(`Workspace.token_error`): planning skips it and delivery leaves its messages queued, with no
more calls with that token, until it is installed again (a new OAuth install clears the mark)
or, in single-workspace mode, until a process starts with a token that Slack accepts. Its
queued messages wait rather than die, since the workspace may come back: once the mark is
cleared they are delivered, save those whose moment passed meanwhile (a message with an
expiry then expires, as any late message does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from storage import tokens
from storage.db import session_scope
from storage.models import Workspace

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed"})
# Slack also answers account_inactive to a message for a deactivated person: `auth.test`
# then tells whether the token itself is refused.
AMBIGUOUS = frozenset({"account_inactive"})

T = TypeVar("T")
ClientFor = Callable[[int], WebClient | None]


def reachable(workspace: Workspace) -> bool:
    """True when the bot may act in the workspace: installed, and its token not refused."""
    return workspace.uninstalled_at is None and workspace.token_error is None


def refusal(exc: BaseException) -> str | None:
    """Slack's error code when `exc` may be Slack refusing the bot token, else None."""
    if not isinstance(exc, SlackApiError):
        return None
    error = exc.response.get("error")
    return str(error) if error in TOKEN_ERRORS else None


# What `confirmed` answers when the token that failed is no longer the workspace's: the call
# is worth trying again, with the new one.
REPLACED = "token_replaced"


def confirmed(client_for: ClientFor, workspace_id: int, error: str) -> str | None:
    """The error to mark the workspace with; REPLACED when the token that failed was replaced
    meanwhile (a reinstall that a cached client had not seen yet); None when the error was
    about the recipient (`auth.test` passes with the token). A workspace to mark keeps no
    cached client: the next one, once it is installed again, carries the new token."""
    if error not in TOKEN_ERRORS:
        return None
    used = client_for(workspace_id)
    forget = getattr(client_for, "forget", None)  # bot.runtime.clients.workspace_clients's cache
    if forget is not None:
        forget(workspace_id)
        current = client_for(workspace_id)
        forget(workspace_id)
        if current is None or used is None or current.token != used.token:
            return REPLACED
    if error not in AMBIGUOUS:
        return error
    if used is None:
        return None
    try:
        used.auth_test()
    except SlackApiError as again:
        error = again.response.get("error")
        return str(error) if error in TOKEN_ERRORS else None
    except Exception:  # Slack unreachable: not a refusal we can be sure of
        return None
    return None  # the token works: the error was about the recipient


def mark_refused(
    sessions: sessionmaker[Session], *, workspace_id: int, error: str, now: datetime
) -> None:
    """Mark the workspace, in a transaction of its own."""
    with session_scope(sessions) as session:
        first = tokens.mark_refused(session, workspace_id=workspace_id, error=error, now=now)
    if first:
        log.warning(
            "workspace %s: Slack refused the bot token (%s): nothing is planned or sent there "
            "until it is installed again",
            workspace_id,
            error,
        )


@dataclass
class Units:
    """The units of failure of one stage of planning (teams, workspaces): each runs alone;
    those that fail are logged and counted, and a refused token marks its workspace."""

    sessions: sessionmaker[Session]
    client_for: ClientFor
    now: datetime
    stage: str = "planning"
    count: int = 0
    failed: int = 0
    refused: set[int] = field(default_factory=set)  # workspaces marked during this stage

    def alone(
        self,
        what: str,
        work: Callable[[], T],
        *,
        workspace_id: int | None = None,
        session: Session | None = None,
        reading: Session | None = None,
    ) -> T | None:
        """Run one unit; None when it failed (the next tick tries it again) or its workspace's
        token was refused earlier in this stage.

        A unit that writes in a transaction shared with other units (`session`) runs in a
        savepoint of it. One that only reads in a shared transaction (`reading`) costs no
        savepoint: when it fails, that transaction is rolled back (on PostgreSQL a failed
        statement has aborted it) and the next unit reads in a new one; what was read stays
        usable, reloaded when next touched.
        """
        if workspace_id is not None and workspace_id in self.refused:
            return None
        self.count += 1
        try:
            if session is None:
                return work()
            with session.begin_nested():
                return work()
        except Exception as exc:  # one tenant, one team, must not stop the others
            self.failed += 1
            if reading is not None:
                reading.rollback()
            error = refusal(exc)
            if error is not None and workspace_id is not None:
                error = confirmed(self.client_for, workspace_id, error)
            if error is None or error == REPLACED or workspace_id is None:
                log.exception("%s: %s failed", self.stage, what)
                return None
            self.refused.add(workspace_id)
            log.warning("%s: %s: Slack refused the token (%s)", self.stage, what, error)
            mark_refused(self.sessions, workspace_id=workspace_id, error=error, now=self.now)
            return None

    def __str__(self) -> str:
        """What the tick's report adds to the stage's: nothing when every unit passed."""
        if not self.failed:
            return ""
        return f" ({self.failed} of {self.count} unit(s) failed, logged)"
