"""The clock: work the bot does on its own initiative, computed from the database and `now`.

`tick(now)` does everything due at that instant and is idempotent; `symmetry tick` runs it
once and `symmetry clock` runs it every minute with APScheduler. Nothing is kept in memory
between ticks, so a restart or a missed minute changes nothing.
"""

from __future__ import annotations

import logging
import signal
from datetime import datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.services import utcnow
from storage import queries
from storage.db import session_scope

log = logging.getLogger(__name__)

# Slack retries an event for about an hour; a day of claims is ample to de-duplicate them.
EVENT_CLAIM_TTL = timedelta(days=1)


def tick(settings: Settings, sessions: sessionmaker[Session], *, now: datetime) -> str:
    """Run the work due at `now`; return a one-line report."""
    with session_scope(sessions) as session:
        pruned = queries.prune_events(session, before=now - EVENT_CLAIM_TTL)
    return f"{pruned} old event claims pruned"


def run_forever(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Tick at the start of every minute until SIGTERM or SIGINT."""
    scheduler = BlockingScheduler(timezone="UTC")

    def job() -> None:
        log.info("tick: %s", tick(settings, sessions, now=utcnow()))

    # One tick at a time; a late tick still runs (the work is computed from `now`).
    scheduler.add_job(
        job,
        CronTrigger(second=0),
        id="tick",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=50,
        next_run_time=utcnow(),
    )
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    log.info("clock started")
    scheduler.start()
