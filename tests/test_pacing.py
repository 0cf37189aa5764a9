"""The pacer: evenly spaced slots per (workspace, method), a rate learned from 429s.

Deterministic: the pacer's clock is a fake whose sleep advances it."""

from __future__ import annotations

import itertools
import math
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.demo.slack.webapi import _Bucket, _Window
from bot.runtime import pacing
from bot.runtime.pacing import Pacer

KEY = (1, "chat.postMessage")


class FakeClock:
    """Monotonic time that only moves when someone sleeps (or `advance` is called)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds

    advance = sleep


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def sends(pacer: Pacer, clock: FakeClock, count: int, *, key=KEY) -> list[float]:
    """The instants of `count` calls, each made as soon as its slot comes and answered."""
    times = []
    for _ in range(count):
        pacer.wait(key)
        times.append(clock.now)
        pacer.succeeded(key)
    return times


class Caller:
    """One send thread of a deliverer: the pacer keeps a thread's slot per thread, so calls in
    flight at once are made by callers of their own (run one after the other, in order)."""

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        self._thread = ThreadPoolExecutor(max_workers=1)

    def wait(self) -> None:
        self._thread.submit(self.pacer.wait, KEY).result()

    def succeeded(self) -> None:
        self._thread.submit(self.pacer.succeeded, KEY).result()

    def pause(self, seconds: float = 1.0) -> None:
        self._thread.submit(self.pacer.pause, KEY, seconds).result()


class TestSpacing:
    def test_unknown_lane_is_not_held(self, clock):
        """Before any 429 calls go at once: Slack tolerates a burst, and it says the limit."""
        pacer = Pacer(clock=clock, sleep=clock.sleep)
        assert sends(pacer, clock, 10) == [100.0] * 10
        assert pacer.rate(KEY) is None

    def test_calls_are_spaced_at_the_rate(self, clock):
        """With a rate of 10/s, consecutive calls are 0.1 s apart, not in a burst."""
        pacer = Pacer(start=10.0, clock=clock, sleep=clock.sleep)
        times = sends(pacer, clock, 5)
        gaps = [round(b - a, 6) for a, b in itertools.pairwise(times)]
        assert all(0.09 <= gap <= 0.1 for gap in gaps), gaps

    def test_lanes_are_independent(self, clock):
        """Another workspace's lane has its own slots."""
        pacer = Pacer(start=1.0, clock=clock, sleep=clock.sleep)
        pacer.wait(KEY)
        pacer.wait((2, "chat.postMessage"))
        assert clock.now == 100.0


class TestLearning:
    def test_a_429_sets_the_rate_to_what_passed(self, clock):
        """After a burst, the first 429 sets the rate just under the calls answered in the
        last second, and the lane then paces instead of bursting again."""
        pacer = Pacer(clock=clock, sleep=clock.sleep)
        for _ in range(50):  # 50 calls over half a second pass
            pacer.wait(KEY)
            pacer.succeeded(KEY)
            clock.advance(0.01)
        pacer.wait(KEY)
        pacer.pause(KEY, 1.0)  # the 51st is refused
        assert pacer.rate(KEY) == pytest.approx(50 * pacing.MARGIN, abs=1.0)
        # The window of the last second is full: the next call waits for its oldest to age
        # out, then calls are spaced at the learned rate.
        times = sends(pacer, clock, 3)
        assert times[0] >= 101.0
        assert times[2] - times[1] == pytest.approx(1 / pacer.rate(KEY), rel=0.05)

    def test_refused_call_waits_retry_after(self, clock):
        """The thread whose call got a 429 waits Retry-After before its next slot."""
        pacer = Pacer(start=100.0, clock=clock, sleep=clock.sleep)
        pacer.wait(KEY)
        pacer.pause(KEY, 2.0)
        pacer.wait(KEY)
        assert clock.now >= 102.0

    def test_a_refused_call_leaves_its_slot_free(self, clock):
        """Slack does not count a refused call in its window: neither does the lane, so after
        a burst's 429s the next calls wait for the calls that passed to age out, not for the
        refused ones too."""
        pacer = Pacer(start=10.0, clock=clock, sleep=clock.sleep)
        sends(pacer, clock, 9)  # 100.0 .. 100.8, answered
        pacer.wait(KEY)  # 100.9, refused
        pacer.pause(KEY, 1.0)
        rate = pacer.rate(KEY)
        assert rate is not None and math.floor(rate) == 8  # 9 passed, times MARGIN
        pacer._mine("not_before").clear()  # another thread's call comes next
        pacer.wait(KEY)
        # 9 passed in that second: the limit. The 9th most recent call that passed was the
        # one at 100.0: room at 101.0. Counting the refused call too, the lane would wait
        # until 101.1.
        assert clock.now == pytest.approx(101.0)

    def test_an_answered_call_counts_from_its_answer(self, clock):
        """Slack counts a call when it arrives, which in a burst can be well after its slot:
        the lane counts it from its answer, the latest it can have arrived."""
        pacer = Pacer(start=2.0, clock=clock, sleep=clock.sleep)  # the limit: 2 a second
        pacer.wait(KEY)  # slot 100.0
        clock.advance(0.3)
        pacer.succeeded(KEY)  # answered at 100.3
        pacer.wait(KEY)  # 100.5, the rate's spacing
        pacer.succeeded(KEY)
        pacer.wait(KEY)
        # The slot of the first call would have allowed 101.0; its answer came at 100.3.
        assert clock.now == pytest.approx(101.3)

    def test_calls_in_flight_at_the_first_429_count_when_answered(self, clock):
        """The first 429 of a burst measures what was answered in the last second; the calls
        sent before the refused one and answered after it passed in that second too."""
        pacer = Pacer(clock=clock, sleep=clock.sleep)
        callers = [Caller(pacer) for _ in range(12)]
        for caller in callers[:8]:  # answered before the 429
            caller.wait()
            caller.succeeded()
        for caller in callers[8:11]:  # in flight when the 429 comes
            caller.wait()
        refused = callers[11]
        refused.wait()
        refused.pause()
        assert pacer.rate(KEY) == pytest.approx(8 * pacing.MARGIN)
        later = Caller(pacer)
        later.wait()  # sent at the new rate: not part of the measured second
        for caller in (*callers[8:11], later):
            caller.succeeded()
        assert pacer.rate(KEY) == pytest.approx(11 * pacing.MARGIN)

    def test_a_lone_429_teaches_no_tiny_rate(self, clock):
        """A 429 with almost nothing answered in the last second (another process used the
        limit, a stray refusal) leaves an unknown rate unknown and cuts a known one by
        DECREASE, not to the two calls that passed."""
        pacer = Pacer(clock=clock, sleep=clock.sleep)
        sends(pacer, clock, 2)
        pacer.wait(KEY)
        pacer.pause(KEY, 1.0)
        assert pacer.rate(KEY) is None
        known = Pacer(start=50.0, clock=clock, sleep=clock.sleep)
        clock.advance(10.0)
        sends(known, clock, 2)
        known.wait(KEY)
        known.pause(KEY, 1.0)
        assert known.rate(KEY) == pytest.approx(50.0 * pacing.DECREASE)

    def test_429s_of_one_burst_decrease_once(self, clock):
        """Calls sent at the old rate that come back 429 count once, not once each."""
        pacer = Pacer(start=40.0, clock=clock, sleep=clock.sleep)
        sends(pacer, clock, 40)
        before = pacer.rate(KEY)
        pacer.pause(KEY, 1.0)
        after = pacer.rate(KEY)
        assert after <= before * pacing.MARGIN + 1e-9
        for _ in range(5):  # the same threads' earlier calls, refused too
            pacer.pause(KEY, 1.0)
        assert pacer.rate(KEY) == after

    def test_repeated_429s_cut_harder_then_hold_the_lane(self, clock):
        """A call refused although sent at the decreased rate, other calls passing meanwhile
        (a token bucket whose stock the measure counted), cuts the rate by DECREASE; at the
        STRIKES-th decrease in a row the whole lane waits Retry-After."""
        pacer = Pacer(start=40.0, clock=clock, sleep=clock.sleep)
        sends(pacer, clock, 40)
        pacer.pause(KEY, 1.0)
        rates = [pacer.rate(KEY)]
        lane = pacer._lanes[KEY]
        for strike in range(1, pacing.STRIKES + 1):
            clock.advance(0.1)
            lane.answered.append(clock.now)  # another thread's call passed meanwhile
            pacer._mine("slot")[KEY] = lane.decreases  # a call sent at the decreased rate
            pacer.pause(KEY, 1.0)
            rates.append(pacer.rate(KEY))
            assert rates[-1] <= rates[-2] * pacing.DECREASE + 1e-9
            held = lane.until > clock.now
            assert held == (strike == pacing.STRIKES)  # until then the lane goes on, slower
        refused_at = clock.now
        pacer._mine("not_before").clear()  # another thread's call comes next
        pacer.wait(KEY)
        assert clock.now >= refused_at + 1.0

    def test_a_refusal_with_nothing_passed_since_the_measure_keeps_the_rate(self, clock):
        """Refused right after a measured decrease, nothing answered since: a sliding window
        that, by Slack's clock, still holds the measured second's calls. The rate just
        measured stands, once; the next such refusal cuts by DECREASE."""
        pacer = Pacer(clock=clock, sleep=clock.sleep)
        for _ in range(50):  # a burst: 50 pass over half a second
            sends(pacer, clock, 1)
            clock.advance(0.01)
        pacer.wait(KEY)
        pacer.pause(KEY, 1.0)  # the 51st is refused: measured
        measured = pacer.rate(KEY)
        assert measured == pytest.approx(50 * pacing.MARGIN)
        pacer._mine("not_before").clear()  # other threads send next
        pacer.wait(KEY)  # once the first call of the burst has left the lane's window
        assert clock.now == pytest.approx(101.0)
        pacer.pause(KEY, 1.0)  # refused again, nothing answered since
        assert pacer.rate(KEY) == measured
        assert pacer._lanes[KEY].until <= clock.now  # the lane goes on
        pacer._mine("not_before").clear()
        pacer.wait(KEY)
        pacer.pause(KEY, 1.0)
        assert pacer.rate(KEY) == pytest.approx(measured * pacing.DECREASE)

    def test_a_429_soon_after_a_cut_cuts_by_decrease(self, clock):
        """Refused again a moment after a cut, with calls answered meanwhile: too short a
        time to measure a rate, so a plain DECREASE, never the minimum rate."""
        pacer = Pacer(start=200.0, clock=clock, sleep=clock.sleep)
        sends(pacer, clock, 200)
        pacer.pause(KEY, 1.0)
        first = pacer.rate(KEY)
        pacer._mine("not_before").clear()  # other threads send next
        sends(pacer, clock, 10)  # answered within 0.25 s
        pacer.pause(KEY, 1.0)
        assert pacer.rate(KEY) == pytest.approx(first * pacing.DECREASE)

    def test_long_retry_after_holds_the_lane(self, clock):
        """A Retry-After longer than a second (a tier's minute window) stops the whole lane."""
        pacer = Pacer(start=10.0, clock=clock, sleep=clock.sleep)
        pacer.wait(KEY)
        pacer.pause(KEY, 30.0)
        pacer._mine("not_before").clear()  # another thread
        pacer.wait(KEY)
        assert clock.now >= 130.0

    def test_additive_increase_while_busy(self, clock):
        """A busy lane's rate grows by about INCREASE calls/s every second."""
        pacer = Pacer(start=20.0, clock=clock, sleep=clock.sleep)
        started = clock.now
        sends(pacer, clock, 200)
        elapsed = clock.now - started
        gained = pacer.rate(KEY) - 20.0
        assert gained == pytest.approx(pacing.INCREASE * elapsed, rel=0.25)

    def test_no_increase_just_after_a_decrease(self, clock):
        """For HOLD seconds after a 429 the measured rate is kept, then it grows again."""
        pacer = Pacer(start=20.0, clock=clock, sleep=clock.sleep)
        sends(pacer, clock, 20)
        pacer.pause(KEY, 1.0)
        learned = pacer.rate(KEY)
        clock.advance(1.0)
        sends(pacer, clock, int(learned * (pacing.HOLD - 1.5)))
        assert pacer.rate(KEY) == learned
        sends(pacer, clock, int(learned * 3))
        assert pacer.rate(KEY) > learned

    def test_idle_lane_does_not_grow(self, clock):
        """Calls far apart (the lane is not the limit) teach nothing about a higher rate."""
        pacer = Pacer(start=20.0, clock=clock, sleep=clock.sleep)
        for _ in range(20):
            sends(pacer, clock, 1)
            clock.advance(1.0)
        assert pacer.rate(KEY) == 20.0

    @pytest.mark.parametrize(
        ("shape", "processes"), [("window", 1), ("window", 2), ("bucket", 1), ("bucket", 2)]
    )
    def test_pacers_sharing_a_limit_converge(self, clock, shape, processes):
        """One or two processes, each with its own pacer, against a sliding window or a full
        token bucket of 30/s: after five seconds their sum is near the limit and 429s have
        become rare; a process alone never stopped its lane."""
        if shape == "window":
            limiter = _Window(limit=30, span=1.0, times=deque())
        else:
            limiter = _Bucket(rate=30.0, capacity=30.0, tokens=30.0, updated=clock.now)
        pacers = [Pacer(clock=clock, sleep=lambda _s: None) for _ in range(processes)]
        refused_late = passed_late = 0
        # Interleave the processes by slot time: each asks for its next slot and the
        # earliest one goes first (sleep is a no-op; the clock is moved to the slot).
        pending = {i: pacer.wait(KEY) for i, pacer in enumerate(pacers)}
        while clock.now < 110.0:
            i = min(pending, key=pending.get)
            clock.now = max(clock.now, pending[i])
            if limiter.take(clock.now) is None:
                pacers[i].succeeded(KEY)
                passed_late += clock.now > 105.0
            else:
                pacers[i].pause(KEY, 1.0)
                refused_late += clock.now > 105.0
                pacers[i]._mine("not_before").pop(KEY)  # modelled: the call waits, others go
            pending[i] = pacers[i].wait(KEY)
        rate = passed_late / 5.0
        ceiling = 30 if shape == "window" else 30 + 30 / 5.0  # a bucket's stock on top
        assert 30 * 0.85 <= rate <= ceiling
        assert refused_late <= passed_late * 0.05
        if processes == 1:  # alone, the lane learns without ever stopping
            assert pacers[0]._lanes[KEY].until <= 101.5
