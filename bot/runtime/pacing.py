"""Pacing Slack calls at the rate Slack allows, learned from its 429 answers.

One `Pacer` is shared by a deliverer's send threads (and, in `symmetry clock`, by its
ticks). Per (workspace, method), a *lane*, it hands out evenly spaced slots: a call waits for
its slot, so sends flow at the lane's rate instead of bursting into a 429 and pausing.

The rate is learned, additive increase and multiplicative decrease:

* A lane starts with no rate (`start=None`): calls go as fast as the threads make them,
  which Slack's special tier for `chat.postMessage` tolerates as a burst, until the first
  429 says where the limit is.
* On a 429, the lane's rate becomes what demonstrably passed in the last second (the
  calls Slack answered, a 500 included: a failed call used its slot; calls still in flight
  are not counted), or its rate if lower, times `MARGIN`. The calls already sent at the old
  rate count once: they make one decrease, not one each. Fewer than `SAMPLE` answers
  measure nothing (a lone 429 on a quiet lane, another process using the limit): the rate,
  if known, is then cut by `DECREASE`, and an unknown one stays unknown.
* While the lane is busy (its slots nearly all taken), each answered call adds
  `INCREASE / rate`, so the rate grows by about `INCREASE` calls a second per second: the
  pacer finds out when Slack allows more, and a 429 sets it back. For `HOLD` seconds after
  a decrease it does not grow: the rate was just measured, and probing at once would make
  a 429 every second or two at low rates.

A refused call is not counted in the lane's last second, as Slack does not count it in its
window (nor the simulator, `bot.demo.slack`): after the 429s that end a first burst, the
lane waits for the calls that passed to age out, not for those refused too. A call that
passed is counted from when its answer came, not from its slot: Slack counted it when it
arrived, which in a burst (32 threads queueing for the interpreter) can come well after the
slot, and never after the answer. The first 429 of a burst measures the answers of the last
second; calls sent before the refused one but still in flight then add to the rate as they
come back, since they passed in that same second. The window's bound is the limit so
measured (the rate over `MARGIN`): the rate keeps under it by spacing the calls, and the
bound only holds back the calls after a burst, until the burst's calls age out.

Retry-After is honoured for the call Slack refused: that thread waits it out before it asks
for a slot again. The lane as a whole is slowed by the decrease and, as it never lets more
than its rate into any one-second window, it also waits for the calls of the last second to
age out: a sliding window at Slack's side then has room when the next call arrives. Stopping
the whole lane for a one-second Retry-After would waste a second of Slack's allowance (a
fifth of a 1,000-message fan-out at 200/s) for nothing the slower pace does not already do.
Should a call sent at the decreased rate be refused within Retry-After of the decrease,
the decrease was not enough: the rate becomes what passed *since* the decrease, per second,
times `MARGIN` (after a token bucket's burst, the last second still holds calls its stock
let through, which Slack will not allow again), or is cut by `DECREASE` when that is too
little to measure; at the `STRIKES`-th such cut in a row, or whenever Slack asks for more
than a second, the whole lane waits Retry-After.

Several processes (workers) each run their own pacer. Each learns from the calls Slack
answered *it*, so after a 429 each slows to its own share, and the sum converges on the
limit as with any AIMD.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

WINDOW = 1.0  # seconds: Slack's limits for posting are per second
MARGIN = 0.99  # pace a little under what passed, so a sliding window never fills
DECREASE = 0.85  # the decrease when too few answers measure the limit
INCREASE = 1.0  # calls/s gained per second of busy sending (additive increase)
MIN_RATE = 0.5  # never slower than a call every two seconds
MAX_RATE = 1000.0
BUSY = 0.8  # a lane is busy when this share of its rate was reserved in the last window
STRIKES = 3  # the third harder cut in a row makes the whole lane wait Retry-After
SAMPLE = 5  # fewer answers than this say nothing of the limit
MIN_SPAN = 0.25  # seconds: the shortest stretch of answers worth a measure
HOLD = 5.0  # seconds after a decrease before the rate grows again (it was just measured)


@dataclass
class _Lane:
    """The pacing state of one (workspace, method)."""

    rate: float | None
    next_at: float = 0.0  # the earliest free slot
    until: float = 0.0  # the whole lane waits until then (a repeated 429)
    decreased_at: float = -math.inf  # when the rate was last decreased
    decreases: int = 0  # how many times: a slot handed out before the last one is old news
    strikes: int = 0  # decreases in a row, each within Retry-After of the one before
    # A measured decrease counts the answers of the last second; calls still in flight then,
    # sent before the refused one, passed too when answered later: each adds to the rate.
    late_before: float = -math.inf  # slots up to then, sent before the decrease
    measured: bool = False  # the rate was set by a measure (not by a plain cut)
    sent: deque[float] = field(default_factory=deque)  # slots handed out, in order
    answered: deque[float] = field(default_factory=deque)  # when answers other than 429 came


class Pacer:
    """Spaces calls per key at a rate learned from 429s; see the module docstring.

    `clock` and `sleep` are injectable (tests pass a fake clock whose sleep advances it)."""

    def __init__(
        self,
        *,
        start: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.start = start
        self._clock = clock
        self._sleep = sleep
        self._lanes: dict[Hashable, _Lane] = {}
        self._lock = threading.Lock()
        self._local = threading.local()  # per thread: its last slot's rate, its Retry-After

    def rate(self, key: Hashable) -> float | None:
        """The lane's learned rate in calls per second (None: not limited yet)."""
        with self._lock:
            lane = self._lanes.get(key)
            return lane.rate if lane else self.start

    def wait(self, key: Hashable) -> float:
        """Sleep until this thread's next call for `key` may go; return that slot's time."""
        refused = self._mine("not_before").pop(key, None)
        if refused is not None and refused > self._clock():
            self._sleep(refused - self._clock())  # Retry-After, for the call Slack refused
        with self._lock:
            lane = self._lane(key)
            now = self._clock()
            at = max(now, lane.next_at, lane.until)
            _forget(lane.sent, before=at - WINDOW)
            if lane.rate is not None:
                # No more than the limit in any one second (the rate keeps `MARGIN` under it
                # by spacing the calls; this bound holds back the calls after a burst).
                allowed = max(1, math.floor(lane.rate / MARGIN))
                if len(lane.sent) >= allowed:
                    at = max(at, lane.sent[-allowed] + WINDOW)
                lane.next_at = at + 1.0 / lane.rate
            lane.sent.append(at)
            self._mine("slot")[key] = lane.decreases
            self._mine("slot_at")[key] = at
        if at > now:
            self._sleep(at - now)
        return at

    def succeeded(self, key: Hashable) -> None:
        """Slack answered a call for `key` with anything but a 429 (a 500 too: the call passed
        the limit). While the lane is busy, its rate grows a little."""
        slot_at = self._mine("slot_at").pop(key, None)
        epoch = self._mine("slot").get(key)
        with self._lock:
            lane = self._lane(key)
            now = self._clock()
            _answered_at(lane.sent, slot_at, now)
            if (
                lane.rate is not None
                and epoch == lane.decreases - 1
                and slot_at is not None
                and slot_at <= lane.late_before
            ):
                lane.rate = min(MAX_RATE, lane.rate + MARGIN)  # passed in the measured second
            lane.answered.append(now)
            _forget(lane.answered, before=now - WINDOW)
            if lane.rate is None:
                return
            if now - lane.decreased_at < HOLD:
                return
            if len(lane.sent) >= BUSY * lane.rate:  # the slots of about the last second
                lane.rate = min(MAX_RATE, lane.rate + INCREASE / lane.rate)

    def pause(self, key: Hashable, seconds: float) -> None:
        """Slack answered 429 with `Retry-After: seconds` to this thread's call for `key`."""
        now = self._clock()
        self._mine("not_before")[key] = now + seconds
        slot_at = self._mine("slot_at").pop(key, None)
        with self._lock:
            lane = self._lane(key)
            # A refused call took no room in Slack's window: the slot it had is free again
            # (else, after a burst's 429s, the lane would wait for refused calls to age out).
            with contextlib.suppress(ValueError):
                lane.sent.remove(slot_at)
            if self._mine("slot").get(key, lane.decreases) < lane.decreases:
                return  # sent at the old rate: that 429 was counted already
            _forget(lane.answered, before=now - WINDOW)
            since = now - lane.decreased_at
            if since < max(seconds, WINDOW):
                # Refused although sent at the decreased rate. What passed since that
                # decrease is the measure: the last second still holds the calls of a
                # burst (a token bucket's stock) that Slack will not allow again.
                lane.strikes += 1
                answers = [at for at in lane.answered if at > lane.decreased_at]
                if not answers and lane.measured:
                    # Nothing has passed since the rate was measured: Slack's window, by its
                    # clock, may still hold calls of the measured second (they reached it
                    # later than the lane saw them answered). The rate stands, once: this
                    # thread waits Retry-After, and a next refusal cuts as usual.
                    lane.measured = False
                    self._hold(lane, now, seconds)
                    return
                span = now - answers[0] if answers else 0.0  # sending again since then
                counted = len(answers) if span >= MIN_SPAN else 0  # else too short a time
                passed = counted / max(span, MIN_SPAN)
            else:
                lane.strikes = 0
                counted = passed = len(lane.answered)  # what passed in the last second
            lane.late_before = -math.inf
            lane.measured = counted >= SAMPLE
            if lane.measured:
                if lane.strikes == 0 and slot_at is not None and passed < (lane.rate or math.inf):
                    lane.late_before = slot_at  # calls in flight before it count when answered
                measured = min(passed, lane.rate if lane.rate is not None else math.inf)
                lane.rate = max(MIN_RATE, measured * MARGIN)
            elif lane.rate is not None:  # too few answers to measure: a plain decrease
                lane.rate = max(MIN_RATE, lane.rate * DECREASE)
            self._hold(lane, now, seconds)

    @staticmethod
    def _hold(lane: _Lane, now: float, seconds: float) -> None:
        """End a 429's decision: the calls sent before it are old news (their 429s count no
        more), and the whole lane waits Retry-After when Slack asks for a longer stop than its
        per-second window or after STRIKES refusals in a row."""
        if seconds > WINDOW or lane.strikes >= STRIKES:
            lane.until = max(lane.until, now + seconds)
        lane.decreased_at = now
        lane.decreases += 1

    def _lane(self, key: Hashable) -> _Lane:
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(rate=self.start)
        return lane

    def _mine(self, name: str) -> dict[Hashable, Any]:
        found = getattr(self._local, name, None)
        if found is None:
            found = {}
            setattr(self._local, name, found)
        return found


def _answered_at(sent: deque[float], slot_at: float | None, now: float) -> None:
    """Count an answered call in the lane's window from when its answer came, not from its
    slot: Slack counted it on arrival, somewhere between the two, and in a burst (threads
    queueing for the interpreter) arrival can be a good part of a second after the slot. The
    answer's time is the safe end: the call leaves Slack's window no later than it leaves
    the lane's."""
    if slot_at is None:
        return
    try:
        sent.remove(slot_at)
    except ValueError:
        return  # forgotten already: older than the window
    at = len(sent)
    while at and sent[at - 1] > now:  # slots handed out for later stay after it
        at -= 1
    sent.insert(at, now)


def _forget(times: deque[float], *, before: float) -> None:
    """Drop the times at or before `before` (the deque is in order)."""
    while times and times[0] <= before:
        times.popleft()
