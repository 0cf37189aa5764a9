"""Slack Web API clients: one for a token, and the client of each workspace, for the processes
that talk to Slack without serving it (`clock`, `tick`, `worker`) as well as for the web app.
Nothing here needs Bolt: a tick starts without loading the web framework.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.runtime import rotation, workspaces
from bot.runtime.config import Settings
from bot.runtime.transport import KeptAliveClient
from storage.db import session_scope
from storage.models import Workspace

CLIENT_TTL = 300.0  # seconds a workspace's client (or its absence) is trusted


def slack_client(
    settings: Settings,
    token: str | None = None,
    *,
    retries: bool = True,
    wait_on_rate_limit: bool = True,
) -> WebClient:
    """A Web API client pointed at SLACK_API_URL, its calls over kept-alive connections
    (bot/runtime/transport.py).

    With `retries`, dropped connections are retried, and rate limits too unless
    `wait_on_rate_limit` is off (listeners: some of their calls come before an acknowledgement
    due within 3 s, so they must not sleep out a Retry-After). The outbox asks for no retries
    at all: it schedules its own.
    """
    handlers: list = []
    if retries:
        handlers.append(ConnectionErrorRetryHandler(max_retry_count=2))
        if wait_on_rate_limit:
            handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return KeptAliveClient(
        token=token, base_url=settings.slack_api_url, timeout=15, retry_handlers=handlers
    )


def workspace_clients(
    settings: Settings,
    sessions: sessionmaker[Session],
    engine: Engine,
    *,
    retries: bool = True,
    wait_on_rate_limit: bool = True,
    rotate: bool = True,
) -> Callable[[int], WebClient | None]:
    """A function giving the Slack client of a workspace (by database ID), or None when the
    bot is no longer installed there. Clients are made once per workspace and reused. In
    multi-workspace mode, with `rotate`, a rotating token that expires within two hours is
    refreshed first (bot/runtime/rotation.py); a client is never kept past its token's refresh
    time. The web process passes `rotate=False`: Bolt refreshes the token of each request's
    workspace before its listener runs, and two refreshes of one token race (Slack revokes a
    refresh token once used)."""
    store = installation_store(settings, engine) if settings.multi_workspace else None
    rotator = (
        rotation.rotator(
            settings.slack_client_id or "",
            settings.slack_client_secret or "",
            slack_client(settings),
        )
        if store is not None and rotate
        else None
    )
    # Kept a few minutes only: a long-running clock sees reinstalls and new tokens.
    clients: dict[int, tuple[WebClient | None, float]] = {}
    lock = threading.Lock()
    # One look-up (and refresh) per workspace at a time: a fan-out's threads all ask at once.
    fetching: dict[int, threading.Lock] = {}

    def cached(workspace_id: int) -> tuple[WebClient | None, float] | None:
        with lock:
            found = clients.get(workspace_id)
        return found if found is not None and found[1] > time.monotonic() else None

    def client_for(workspace_id: int) -> WebClient | None:
        hit = cached(workspace_id)
        if hit is None:
            with lock:
                fetch = fetching.setdefault(workspace_id, threading.Lock())
            with fetch:
                hit = cached(workspace_id) or fetch_client(workspace_id)
        return hit[0]

    def fetch_client(workspace_id: int) -> tuple[WebClient | None, float]:
        with session_scope(sessions) as session:
            workspace = session.get(Workspace, workspace_id)
            slack_team_id = workspace.slack_team_id if workspace else None
            installed = workspace is not None and workspace.uninstalled_at is None
            enterprise_id = workspace.enterprise_id if workspace else None
            org_wide = bool(workspace and workspace.is_enterprise_install)
        token = settings.slack_bot_token
        bot = None
        if store is not None and slack_team_id:
            # A Grid workspace's token is stored under its organisation too, and an org-wide
            # install's under the organisation alone.
            bot = workspaces.find_bot(
                store,
                slack_team_id=slack_team_id,
                enterprise_id=enterprise_id,
                is_enterprise_install=org_wide,
            )
            if bot is not None and rotator is not None and installed:
                bot = rotation.fresh_bot(store, rotator, bot)
            token = bot.bot_token if bot else None
        client = (
            slack_client(settings, token, retries=retries, wait_on_rate_limit=wait_on_rate_limit)
            if installed and token
            else None
        )
        made = (client, time.monotonic() + rotation.trusted_for(bot, CLIENT_TTL))
        with lock:
            clients[workspace_id] = made
        return made

    def forget(workspace_id: int) -> None:
        """Drop a workspace's cached client (Slack refused its token): the next one is made
        from the token stored then (bot.shared.tenants)."""
        with lock:
            clients.pop(workspace_id, None)

    client_for.forget = forget  # type: ignore[attr-defined]
    return client_for


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    """Multi-workspace mode: the bot tokens of the installations, kept in our database."""
    assert settings.slack_client_id
    return SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)
