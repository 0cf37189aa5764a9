"""Warming a server up before it says it is ready (`/healthz` answers 503 until then).

A fresh process met its first burst of requests with everything still to do: each of about
20 concurrent commands made its own `auth.test` (Bolt authorizes lazily and keeps the first
answer, but every request that arrives before it comes makes one too), then compiled the
templates it rendered, read a language catalog, opened a database connection and compiled
its SQL, while Slack waited for the ack. `warm_up` does all that once, before the platform
routes traffic to the process.
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime

from babel.dates import format_date
from slack_bolt import App
from slack_bolt.middleware.authorization import SingleTeamAuthorization
from slack_sdk.errors import SlackClientError
from sqlalchemy import Engine

from bot.runtime.usage import plain_help
from bot.shared.blocks import environment
from bot.shared.i18n import LOCALES, translations
from storage import irritants, queries
from storage.db import POOL_SIZE, read_connection

log = logging.getLogger(__name__)

# Connections opened before serving: one per command of a first burst (Slack retries a
# command it saw no ack for within 3 s, so bursts come from people, not from retries).
WARM_CONNECTIONS = min(16, POOL_SIZE)
_SOME_INSTANT = datetime(2026, 1, 1, tzinfo=UTC)  # any instant: only the SQL is compiled


def warm_up(app: App, engine: Engine) -> None:
    """Do once what the first requests would each do: compile every template and read every
    catalog, open the pool's connections and compile the SQL run before an acknowledgement
    or a modal, and authorize the app with Slack (single workspace). A part that fails is
    logged and left to the first request that needs it."""
    started = time.monotonic()
    _texts()
    try:
        _database(engine)
    except Exception as exc:  # /healthz pings the database itself: it says 503 when down
        log.warning("warm-up: database not ready (%s)", type(exc).__name__)
    _authorize(app)
    log.info("warm-up done in %.2f s", time.monotonic() - started)


def _texts() -> None:
    for locale in LOCALES:
        translations(locale)
        env = environment(locale)
        for name in env.list_templates(filter_func=lambda name: name.endswith(".j2")):
            env.get_template(name)
        plain_help(locale)  # the plain help is rendered and encoded once per locale
        format_date(date(2026, 1, 1), locale=locale)  # Babel loads a locale's data once


def _database(engine: Engine) -> None:
    with ExitStack() as opened:
        connections = [
            opened.enter_context(read_connection(engine)) for _ in range(WARM_CONNECTIONS)
        ]
        connection = connections[0]
        irritants.report_choices(connection, workspace_id=0, user_id="", since=_SOME_INSTANT)
        queries.language_facts(connection, workspace_id=0, user_id="")  # a first contact's


def _authorize(app: App) -> None:
    """Single-workspace mode: one `auth.test`, whose answer Bolt then uses for every request
    (Bolt's own place for it; it offers no public way to fill it). Multi-workspace mode keeps
    each token's answer after its first request (see `create_app`)."""
    for middleware in app._middleware_list:
        if isinstance(middleware, SingleTeamAuthorization) and not middleware.auth_test_result:
            try:
                middleware.auth_test_result = app.client.auth_test()
            except SlackClientError as exc:
                log.warning("warm-up: auth.test failed (%s); authorizing lazily", exc)
