"""Prometheus metrics, served by `symmetry serve` at `GET /metrics` (bearer
`SYMMETRY_METRICS_TOKEN`).

- `symmetry_ack_seconds{kind, listener}`: how long the web process took to acknowledge each
  Slack request, per listener (the command, the action or view's id, the event type; never a
  user's id). Labels are capped (`MAX_LISTENERS`): a flood of made-up ids cannot grow them.
- `symmetry_outbox_messages{state}`: the outbox's messages by state, counted on each scrape by
  one grouped query; it shows what the clock and workers do, wherever they run.
- `symmetry_delivery_outcomes_total{outcome}`, `symmetry_slack_rate_limited_total`: what the
  deliverers did (sent, retried, dead…) and Slack's 429 answers, each a pause.
- `symmetry_tick_stage_seconds{stage}`: how long each stage of a tick took.

Counters and histograms are per process. Under gunicorn with several workers they are shared
through prometheus-client's multiprocess mode: `symmetry serve` points
`PROMETHEUS_MULTIPROC_DIR` at a fresh directory unless it is set. A clock or worker on the same
machine given the same directory shows in the web's `/metrics` too; on another machine (a
Procfile platform's dynos) its delivery and tick figures are in its JSON log lines, and the
outbox figures, read from the database, cover them.

`PROMETHEUS_MULTIPROC_DIR` is read when prometheus-client is imported: set it before
importing this module.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from storage import outbox

log = logging.getLogger(__name__)

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
MAX_LISTENERS = 200  # distinct (kind, listener) pairs; beyond, "other"
OTHER = "other"

REGISTRY = CollectorRegistry(auto_describe=True)
ACK_SECONDS = Histogram(
    "symmetry_ack_seconds",
    "Time from a Slack request's arrival to its acknowledgement, by listener.",
    ("kind", "listener"),
    # Slack's limit is 3 s; the buckets are finest where an ack should be.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
    registry=REGISTRY,
)
DELIVERY_OUTCOMES = Counter(
    "symmetry_delivery_outcomes",
    "What delivering outbox messages did, by outcome (sent, retried, dead, held…).",
    ("outcome",),
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "symmetry_slack_rate_limited",
    "Slack's 429 answers to deliveries: each pauses its workspace and method for Retry-After.",
    registry=REGISTRY,
)
TICK_STAGE_SECONDS = Histogram(
    "symmetry_tick_stage_seconds",
    "How long each stage of a clock tick took (planning stages, then delivery).",
    ("stage",),
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0),
    registry=REGISTRY,
)

# (kind, listener) -> its histogram: `labels()` takes a lock and checks its labels on every
# call, and this runs once per acknowledgement.
_seen: dict[tuple[str, str], Any] = {}
_seen_lock = threading.Lock()


def acknowledged(kind: str, listener: str, seconds: float) -> None:
    """Record one acknowledgement's latency."""
    histogram = _seen.get((kind, listener))
    if histogram is None:
        with _seen_lock:
            # Beyond the cap, a new listener counts as "other" and is not remembered.
            key = (kind, listener) if len(_seen) < MAX_LISTENERS else (kind, OTHER)
            histogram = _seen.setdefault(key, ACK_SECONDS.labels(*key))
    histogram.observe(seconds)


def delivered(outcome: str) -> None:
    """Count one delivery outcome (a `Report` field); a 429 answer is counted apart."""
    if outcome == "rate_limited":
        RATE_LIMITED.inc()
    else:
        DELIVERY_OUTCOMES.labels(outcome).inc()


def stage_took(stage: str, seconds: float) -> None:
    TICK_STAGE_SECONDS.labels(stage).observe(seconds)


class OutboxDepth:
    """`symmetry_outbox_messages{state}`, read from the database at each scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "symmetry_outbox_messages", "Outbox messages by state.", labels=("state",)
        )
        try:
            with Session(self.engine) as session:
                counts = outbox.counts(session)
        except SQLAlchemyError as exc:  # the rest of the metrics still count: serve them
            log.warning("metrics: the outbox could not be counted (%s)", type(exc).__name__)
            return
        for state, count in counts.items():
            family.add_metric((state,), count)
        yield family


def exposition(engine: Engine) -> bytes:
    """The metrics, in Prometheus's text format: this process's (or, in multiprocess mode,
    every process's that shares the directory) and the outbox's."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_DIR):
        MultiProcessCollector(registry)
    else:
        registry.register(_Own())
    registry.register(OutboxDepth(engine))
    return generate_latest(registry)


class _Own:
    """This process's metrics, as one collector of a scrape's registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
