"""The clock: work the bot does on its own initiative, computed from the database and `now`.

`tick(now)` plans what is due at that instant (welcomes, and later surveys, reminders,
walks and digests) into the outbox, then delivers what is due. `symmetry tick` runs it once;
`symmetry clock` runs it every minute with APScheduler, while it holds the clock's lock
(bot/runtime/leader.py: on PostgreSQL a second clock stands by and takes over). Nothing is kept
in memory between ticks, so a restart, a missed hour or a second clock changes nothing.
"""

from __future__ import annotations

import contextvars
import gc
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.digests import schedule as digests
from bot.irritants import notify
from bot.pulse import schedule
from bot.runtime import logs, metrics, retention
from bot.runtime.delivery import Deliverer, Report
from bot.runtime.leader import Leadership
from bot.runtime.pacing import Pacer
from bot.runtime.services import utcnow
from bot.shared.policy import Policy
from bot.shared.tenants import Units
from bot.teams import welcome
from bot.teams.directory import ClientFor, Directory
from bot.walks import schedule as walks
from storage import irritants as irritant_store
from storage import queries
from storage.db import session_scope

log = logging.getLogger(__name__)

# Slack retries an event for about an hour; a day of claims is ample to de-duplicate them.
EVENT_CLAIM_TTL = timedelta(days=1)
# A tick also waits for quick retries (a 5xx answered again half a second later).
RETRY_WAIT = timedelta(seconds=15)
# How often a standing-by clock tries the lock, and the holder checks it still has it.
STANDBY_POLL = 15.0
# While a tick plans, its delivery looks for due work this often, and when a stage ends.
DELIVERY_POLL = 0.1
TOTAL = "total"  # a whole tick (planning and delivery), timed as its stages are


@cache
def settle() -> None:
    """Keep what the process loaded to start (modules, mappers, clients) out of the garbage
    collector's full passes: it lives as long as the process. Without this, a full pass in
    the middle of a fan-out scanned all of it and stopped every send thread for about 0.1 s.
    `symmetry clock`, `tick` and `worker` call it once started, before any work (once per
    process: a second call does nothing). No pass first: at that point one found nothing to
    free and took 60-75 ms, most of an empty tick's own work."""
    gc.freeze()


def running_clock(start: datetime) -> Callable[[], datetime]:
    """A clock that starts at `start` and advances with real time (for `tick --now`)."""
    origin = time.monotonic()
    start = start.astimezone(UTC)
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


@dataclass(frozen=True)
class TickContext:
    """What every stage of a tick works with; `units` counts the failures of the stage that
    runs (each team or workspace is planned alone: bot.shared.tenants); `wake` tells the
    tick's delivery that messages were just committed to the outbox (it also looks on its
    own, and after each stage)."""

    sessions: sessionmaker[Session]
    policy: Policy
    directory: Directory
    now: datetime
    units: Units | None = None
    wake: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class Stage:
    """One kind of work the clock plans: `run` takes the tick's context and returns what it
    did (printed in the tick's report). A stage opens its own transactions, none of them
    across a Slack call."""

    name: str
    run: Callable[[TickContext], object]


def _in_transaction(
    work: Callable[[Session, TickContext], object],
) -> Callable[[TickContext], object]:
    """A stage whose work is one transaction."""

    def run(context: TickContext) -> object:
        with session_scope(context.sessions) as session:
            return work(session, context)

    return run


STAGES: tuple[Stage, ...] = (
    Stage(
        "event claims pruned",
        _in_transaction(lambda s, c: queries.prune_events(s, before=c.now - EVENT_CLAIM_TTL)),
    ),
    Stage(
        "welcomes",
        lambda c: welcome.plan(
            c.sessions, c.policy, c.directory, now=c.now, units=c.units, wake=c.wake
        ),
    ),
    Stage(
        "roundups",
        lambda c: notify.plan_roundups(c.sessions, c.policy, c.directory, now=c.now, units=c.units),
    ),
    Stage("drafts pruned", _in_transaction(lambda s, c: irritant_store.prune_drafts(s, now=c.now))),
    Stage(
        "pulse rounds",
        lambda c: schedule.plan_rounds(c.sessions, c.policy, c.directory, now=c.now, units=c.units),
    ),
    Stage(
        "pulse follow-ups",
        _in_transaction(
            lambda s, c: schedule.remind_and_close(s, c.policy, now=c.now, units=c.units)
        ),
    ),
    Stage(
        "walks", lambda c: walks.plan(c.sessions, c.policy, c.directory, now=c.now, units=c.units)
    ),
    Stage(
        "digests",
        lambda c: digests.plan(c.sessions, c.policy, c.directory, now=c.now, units=c.units),
    ),
    Stage(
        "retention",
        lambda c: retention.run(c.sessions, now=c.now, retention_days=c.policy.retention_days),
    ),
)


def plan(context: TickContext, stages: Sequence[Stage] = STAGES) -> str:
    """Queue everything due at `context.now`; return a one-line report. When each stage
    ends, `context.wake` tells the tick's delivery that what the stage queued can go.

    Each stage runs on its own, and one that fails is logged and left for the next tick: a
    bad row in one team must not stop the clock, or delivery, for everyone. Within a stage,
    each team or workspace is a unit of its own, and the report says how many failed.
    """
    done = []
    took: dict[str, float] = {}
    for stage in stages:
        units = Units(context.sessions, context.directory.client_for, context.now, stage=stage.name)
        started = time.perf_counter()
        try:
            done.append(f"{stage.name}: {stage.run(replace(context, units=units))}{units}")
        except Exception:  # the edge of the process: log it, carry on with the rest
            log.exception("tick: %s failed", stage.name)
            done.append(f"{stage.name}: failed")
        took[stage.name] = time.perf_counter() - started
        metrics.stage_took(stage.name, took[stage.name])
        context.wake()
    rounded = {name: round(seconds, 4) for name, seconds in took.items()}
    log.info("planned in %.3f s", sum(took.values()), extra={"stage_seconds": rounded})
    return "; ".join(done)


def context_for(
    policy: Policy, sessions: sessionmaker[Session], client_for: ClientFor, *, now: datetime
) -> TickContext:
    return TickContext(
        sessions=sessions,
        policy=policy,
        directory=Directory(sessions, client_for, admins=policy.admins),
        now=now,
    )


def tick(
    policy: Policy,
    sessions: sessionmaker[Session],
    client_for: ClientFor,
    *,
    now: datetime,
    pacer: Pacer | None = None,
) -> str:
    """Plan then deliver the work due at `now`; return a one-line report. `pacer` keeps
    the send rates learned by earlier ticks (`symmetry clock` passes one to all its ticks).

    Delivery starts with planning: what an early stage queues (a fan-out of welcomes) goes
    out while the later stages still plan, instead of waiting for all of them. (On SQLite
    each write waits its turn for the database's one writer: `storage.db` makes a savepoint
    take the write lock first, so a stage's read-then-write transaction cannot fail when a
    delivery commits in between.)"""
    deliverer = Deliverer(
        sessions,
        client_for,
        now=running_clock(now),
        resolve=notify.reporter_resolver(policy, sessions),
        pacer=pacer,
    )
    report = Report()
    try:
        with _delivering(deliverer, report) as wake:
            context = context_for(policy, sessions, client_for, now=now)
            planned = plan(replace(context, wake=wake))
        deliverer.run(wait_up_to=RETRY_WAIT, report=report)
    finally:
        deliverer.close()
    return f"{planned}; delivery: {report}"


@contextmanager
def _delivering(deliverer: Deliverer, report: Report) -> Iterator[Callable[[], None]]:
    """Deliver what falls due, in a thread, until the block ends; re-raise its error. The
    block gets a function that wakes the thread at once (a stage has just queued work), else
    it looks again every `DELIVERY_POLL` seconds."""
    done = threading.Event()
    woken = threading.Event()
    failed: list[BaseException] = []

    def deliver() -> None:
        try:
            while not done.is_set():
                woken.clear()
                deliverer.run(report=report)
                woken.wait(DELIVERY_POLL)
        except BaseException as exc:  # handed to the tick's thread below
            failed.append(exc)

    # Its lines carry the tick's request id.
    context = contextvars.copy_context()
    thread = threading.Thread(
        target=context.run, args=(deliver,), name="deliver-while-planning", daemon=True
    )
    thread.start()
    try:
        yield woken.set
    finally:
        done.set()
        woken.set()
        thread.join()
    if failed:
        raise failed[0]


def observed_tick(
    policy: Policy,
    sessions: sessionmaker[Session],
    client_for: ClientFor,
    *,
    now: datetime,
    **options: Any,
) -> str:
    """`tick`, its lines under one request id (`tick-…`), its whole time recorded
    (`symmetry_tick_stage_seconds{stage="total"}` and a log line): what `symmetry tick` and
    each of the clock's ticks run."""
    with logs.requesting("tick-"):
        started = time.perf_counter()
        report = tick(policy, sessions, client_for, now=now, **options)
        took = time.perf_counter() - started
        metrics.stage_took(TOTAL, took)
        log.info("ticked in %.3f s", took, extra={"stage_seconds": {TOTAL: round(took, 4)}})
    return report


def run_forever(
    policy: Policy,
    sessions: sessionmaker[Session],
    client_for: ClientFor,
    *,
    leadership: Leadership,
    now: Callable[[], datetime] = utcnow,
    standby_poll: float = STANDBY_POLL,
    tick_every: float | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Tick at the start of every minute while this process holds the clock's lock, until
    SIGTERM or SIGINT (or `stop`). Without the lock it stands by, trying again every
    `standby_poll` seconds; the holder checks it still holds it as often, and before each
    tick, and stands by when it cannot prove it. `now` is the clock a tick reads (`clock
    --now` starts it at a given instant); `tick_every` seconds replaces the minute (tests)."""
    # Only a running clock schedules: `tick` and `worker` start without APScheduler.
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    stopping = stop or threading.Event()
    scheduler = BackgroundScheduler(timezone="UTC")
    pacer = Pacer()  # Slack's rates, as learned, carried from one tick to the next

    def job() -> None:
        if not leadership.holds():
            log.warning("clock: cannot prove it holds the lock; tick skipped")
            return
        with logs.requesting("tick-"):
            log.info(
                "tick: %s", observed_tick(policy, sessions, client_for, now=now(), pacer=pacer)
            )

    def lead() -> None:
        # One tick at a time; a late tick still runs (the work is computed from `now`).
        scheduler.add_job(
            job,
            IntervalTrigger(seconds=tick_every) if tick_every else CronTrigger(second=0),
            id="tick",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=50,
            next_run_time=utcnow(),
        )

    if stop is None:
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        signal.signal(signal.SIGINT, lambda *_: stopping.set())
    scheduler.start()
    log.info("clock started")
    leading: bool | None = None
    try:
        while not stopping.is_set():
            holds = leadership.acquire()  # keeps it, and checks it, when held
            if holds and not leading:
                log.info("clock: holds the lock; ticking")
                lead()
            elif not holds and leading is not False:
                if leading:
                    scheduler.remove_job("tick")
                log.info("clock: another clock holds the lock; standing by")
            leading = holds
            stopping.wait(standby_poll)
    finally:
        scheduler.shutdown(wait=False)
        leadership.release()
    log.info("clock stopped")


def work_forever(
    policy: Policy,
    sessions: sessionmaker[Session],
    client_for: ClientFor,
    *,
    stop: Callable[[], bool],
    now: Callable[[], datetime] = utcnow,
) -> None:
    """`symmetry worker`: deliver due messages as they become due, until `stop()`; `now` is
    the clock it reads (`worker --now` starts it at a given instant, as `tick --now` does)."""
    deliverer = Deliverer(
        sessions, client_for, now=now, resolve=notify.reporter_resolver(policy, sessions)
    )
    try:
        while not stop():
            with logs.requesting("delivery-"):
                report = deliverer.run()
                if report.sent or report.retried or report.failed or report.dead:
                    log.info("delivery: %s", report)
            time.sleep(1.0)  # idle poll; a busy outbox is drained without pause above
    finally:
        deliverer.close()
