"""How close does the outbox come to Slack's rate limit when it welcomes a crowd?

Welcomes N people (default 1,000) through a fake Slack (`bot.demo.slack.SlackSim`) that
allows R `chat.postMessage` calls per second and fails a fraction of the calls (default 5 %)
with HTTP 500. Two limiter shapes, both answering 429 with `Retry-After` beyond R:

* `bucket`: a token bucket of R tokens, full at the start (a burst of R passes);
* `window`: a sliding one-second window of R calls, as Slack counts (no burst beyond R).

The real product does the work, in a separate process: one tick at Tuesday 10:00 (Paris)
plans the N welcomes (the team's N members are written to the database like the tests'
`crowd`, their profiles not cached yet: planning fetches them with `users.list`) and
delivers them (`Deliverer`, 32 threads, paced by `bot.runtime.pacing`, 5xx retries); should
retries still be queued when it exits, further ticks run.

The time is measured from the start of planning to the arrival at the simulator of the
request that completed the N-th distinct successful welcome, and compared with the floor:

    ratio = (planning + delivery) / (N / R)

Where planning starts (`--start`):

* `clock` (default): a process that has already started (imports, database engine, Slack
  clients, as `symmetry clock` has before its tick) is told to tick; the measure starts as
  it calls `clock.tick`, the clock's own planning;
* `tick`: the spawn of `python -m bot tick` (interpreter start-up and imports included, as
  a cron job running `symmetry tick` pays them).

lost = N - distinct recipients with a successful post; duplicated = successful posts -
distinct recipients. Targets: ratio <= 1.15, nothing lost, nothing duplicated, for every
shape and R.

    python bench/fanout.py                                # R = 50, 200; both shapes; SQLite
    python bench/fanout.py --database postgres            # on PostgreSQL (see --database-url)
    python bench/fanout.py --shapes window --rates 200 --timeline
    python bench/fanout.py --start tick                   # from the spawn of `symmetry tick`

Exit status 0 when every target is met, 1 otherwise. See bench/README.md ("fanout").
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/fanout.py` from anywhere
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bot.demo.harness import fresh_database, server_env  # noqa: E402
from bot.demo.slack import Call, SimUser, SlackSim, _Reply  # noqa: E402
from bot.runtime.config import Settings  # noqa: E402
from storage import outbox, queries  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.models import Membership, OutboxMessage, Team  # noqa: E402

RATIO_TARGET = 1.15
TUESDAY = "2026-01-20T10:00:00+01:00"  # working hours: planned welcomes are due at once
POST = "chat.postMessage"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/symmetry_bench"
TICK_TIMEOUT = 900.0


# --------------------------------------------------------------------------- the fake Slack


class FanoutSim(SlackSim):
    """The simulator, also remembering the HTTP status of every answer it gave."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._status: dict[int, int] = {}  # id(call.params) -> HTTP status

    def _serve(
        self, method: str, params: dict[str, Any], token: str | None, *, api: bool = True
    ) -> _Reply:
        reply = super()._serve(method, params, token, api=api)
        with self._cond:  # the recorded Call keeps `params` alive: its id stays unique
            self._status[id(params)] = reply.status
        return reply

    def status(self, call: Call) -> int:
        with self._cond:
            return self._status.get(id(call.params), 0)

    def forget(self) -> None:
        with self._cond:
            self._calls.clear()
            self._status.clear()


# --------------------------------------------------------------------------- database


def database_of(backend: str, url: str | None, workdir: Path) -> str:
    """The URL of an empty, migrated database."""
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'symmetry.db'}"
    else:
        url = Settings(DATABASE_URL=url or DEFAULT_PG_URL).database_url
    fresh_database(url)
    return url


def crowd(url: str, sim: SlackSim, size: int) -> list[str]:
    """A team of `size` simulated people, all due a welcome (as in tests/test_clock_e2e.py)."""
    members = [f"UCROWD{i:05d}" for i in range(size)]
    for user_id in members:
        sim.add_user(SimUser(user_id, user_id.lower(), f"Person {user_id}", tz="Europe/Paris"))
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        workspace = queries.get_or_create_workspace(session, slack_team_id=sim.team_id)
        team = Team(
            workspace_id=workspace.id,
            name="Crowd",
            channel_id="CCROWD01",
            timezone="Europe/Paris",
            locale="en",
        )
        if hasattr(Team, "survey_enabled"):  # a pulse survey would share the rate limit
            team.survey_enabled = False
        team.memberships = [Membership(user_id=user_id) for user_id in members]
        session.add(team)
    engine.dispose()
    return members


def outbox_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return outbox.counts(session)
    finally:
        engine.dispose()


def kinds(url: str) -> Counter[str]:
    """Outbox messages by kind: only welcomes may be sent, or the measure is not theirs."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(
                select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind)
            ).all()
        return Counter({kind: count for kind, count in rows})
    finally:
        engine.dispose()


def attempts_histogram(url: str) -> Counter[int]:
    """Sent messages by number of counted failed attempts before success."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(
                select(OutboxMessage.attempts, func.count())
                .where(OutboxMessage.state == outbox.SENT)
                .group_by(OutboxMessage.attempts)
            ).all()
        return Counter({attempts: count for attempts, count in rows})
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- processes


@dataclass
class Run:
    """One `symmetry` process: when it started (wall clock, like the sim's Call.at) and ended."""

    args: list[str]
    started: float
    ended: float
    returncode: int
    stdout: str
    stderr: str
    cpu: float = 0.0  # user + system CPU seconds of the process

    @property
    def wall(self) -> float:
        return self.ended - self.started


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def symmetry(args: list[str], env: dict[str, str], cwd: Path) -> Run:
    started = time.time()
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TICK_TIMEOUT,
    )
    return Run(
        args,
        started,
        time.time(),
        result.returncode,
        result.stdout,
        result.stderr,
        cpu_seconds(resource.RUSAGE_CHILDREN) - cpu,
    )


def warm_tick(env: dict[str, str], cwd: Path, now: str) -> subprocess.Popen[str]:
    """A process ready to tick, as `symmetry clock` is between ticks (see `child`)."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", now],
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        raise RuntimeError(f"the ticking process did not start: {line}{process.stderr.read()}")
    return process


def child(now: str) -> int:
    """`--child NOW`: start as `symmetry clock` does (settings, migrated engine, Slack
    clients, the clock's imports), say `ready`, wait for a line, then tick once at NOW."""
    from bot.runtime import clock
    from bot.runtime.clients import workspace_clients
    from bot.runtime.config import load_settings, policy_of
    from bot.runtime.operations import migrated_engine, parse_instant

    settings = load_settings()
    engine = migrated_engine(settings)
    sessions = make_session_factory(engine)
    client_for = workspace_clients(settings, sessions, engine, retries=False)
    policy = policy_of(settings)
    timings: list[str] = []
    if clock.plan.__defaults__ == (clock.STAGES,):  # each stage's time, where plan allows it
        clock.plan.__defaults__ = (tuple(timed(stage, timings) for stage in clock.STAGES),)
    if hasattr(clock, "settle"):  # as `symmetry clock` does before its first tick
        clock.settle()
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.time()
    report = clock.tick(policy, sessions, client_for, now=parse_instant(now))
    print(f"started {started!r}")
    print(f"stages {'; '.join(timings)}")
    print(f"symmetry: tick at {now}: {report}", flush=True)
    return 0


def timed(stage: Any, timings: list[str]) -> Any:
    """`stage` (a `bot.runtime.clock.Stage`), noting its wall time in `timings`."""

    def run(context: Any) -> object:
        began = time.perf_counter()
        try:
            return stage.run(context)
        finally:
            timings.append(f"{stage.name} {time.perf_counter() - began:.3f} s")

    return type(stage)(stage.name, run)


def shifted(iso: str, seconds: float) -> str:
    return (datetime.fromisoformat(iso) + timedelta(seconds=seconds)).isoformat()


# --------------------------------------------------------------------------- one rate


@dataclass
class Result:
    shape: str
    rate: float
    people: int
    start: str = "clock"
    plan_calls: Counter[str] = field(default_factory=Counter)
    delivery: float = float("nan")  # start of planning -> N-th distinct success
    startup: float = float("nan")  # start of planning -> first chat.postMessage
    posting: float = float("nan")  # first chat.postMessage -> N-th distinct success
    ticks: list[Run] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    successes: int = 0
    calls: int = 0
    status: Counter[int] = field(default_factory=Counter)
    outbox: dict[str, int] = field(default_factory=dict)
    attempts: Counter[int] = field(default_factory=Counter)
    analysis: list[str] = field(default_factory=list)
    timeline: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after delivery
    sim_cpu: float = 0.0  # CPU seconds of this process (the fake Slack) during delivery

    @property
    def floor(self) -> float:
        return self.people / self.rate

    @property
    def ratio(self) -> float:
        return self.delivery / self.floor

    @property
    def passed(self) -> bool:
        return (
            not self.errors
            and self.ratio <= RATIO_TARGET
            and self.lost == 0
            and self.duplicated == 0
        )


def run_rate(shape: str, rate: float, args: argparse.Namespace) -> Result:
    result = Result(shape=shape, rate=rate, people=args.people, start=args.start)
    with tempfile.TemporaryDirectory(prefix="fanout-") as tmp, FanoutSim() as sim:
        workdir = Path(tmp)
        url = database_of(args.database, args.database_url, workdir)
        members = crowd(url, sim, args.people)
        env = server_env(url, sim)
        warm = warm_tick(env, workdir, TUESDAY) if args.start == "clock" else None

        # The fake Slack runs in this process: a full pass of this process's garbage
        # collector (0.1 s here, with the setup's objects) would stop Slack's side in the
        # middle of the fan-out, which real Slack does not do. It is off while measuring.
        gc.collect()
        gc.freeze()
        gc.disable()
        # The limits start now (a bucket is full: a burst of R is allowed).
        sim.forget()
        sim.rate_limit(POST, rate, shape=shape)
        sim.fail_ratio(POST, args.fail_ratio, status=500, seed=args.seed)
        load = os.getloadavg()[0]
        own_cpu = cpu_seconds(resource.RUSAGE_SELF)
        origin = time.time()
        now = TUESDAY
        try:
            while True:
                if warm is not None:
                    run = finish_warm(warm, origin)
                    origin = float(run.stdout.split("started ", 1)[1].split()[0])
                    warm = None
                else:
                    run = symmetry(["tick", "--now", now], env, workdir)
                result.ticks.append(run)
                if run.returncode != 0:
                    result.errors.append(f"tick exited {run.returncode}: {run.stderr[-2000:]}")
                    break
                counts = outbox_counts(url)
                if not counts[outbox.QUEUED] and not counts[outbox.SENDING]:
                    break
                if time.time() - origin > TICK_TIMEOUT:
                    result.errors.append(f"gave up with {counts}")
                    break
                # Retries left for later: tick again at the instant the product believes it is.
                now = shifted(TUESDAY, time.time() - origin)
        finally:
            gc.enable()
        result.sim_cpu = cpu_seconds(resource.RUSAGE_SELF) - own_cpu
        result.load = (load, os.getloadavg()[0])
        result.plan_calls = Counter(c.method for c in sim.calls if c.method != POST)
        result.outbox = outbox_counts(url)
        others = {k: n for k, n in kinds(url).items() if k != "welcome"}
        if others:
            result.errors.append(f"messages other than welcomes were queued: {others}")
        result.attempts = attempts_histogram(url)
        measure(result, sim, members, origin)
    return result


def finish_warm(process: subprocess.Popen[str], started: float) -> Run:
    """Tell the warm process to tick, and wait for it to end."""
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    stdout, stderr = process.communicate("go\n", timeout=TICK_TIMEOUT)
    return Run(
        ["tick (warm)"],
        started,
        time.time(),
        process.returncode,
        stdout,
        stderr,
        cpu_seconds(resource.RUSAGE_CHILDREN) - cpu,
    )


def measure(result: Result, sim: FanoutSim, members: list[str], origin: float) -> None:
    """Lost, duplicated, the delivery time and the evidence behind it, from the sim's record."""
    posts = [Post(c.at, str(c.params.get("channel")), sim.status(c)) for c in sim.calls_to(POST)]
    posts.sort(key=lambda p: p.at)
    result.calls = len(posts)
    result.status = Counter(p.status for p in posts)
    expected = set(members)
    ok = [p for p in posts if p.status == 200]
    result.successes = len(ok)
    delivered = Counter(p.recipient for p in ok)
    strangers = set(delivered) - expected
    if strangers:
        result.errors.append(f"posts to unexpected recipients: {sorted(strangers)[:5]}")
    result.lost = len(expected - set(delivered))
    result.duplicated = sum(delivered.values()) - len(delivered)
    if not ok:
        return
    seen: set[str] = set()
    complete_at = ok[-1].at
    for post in ok:  # the moment the N-th distinct person got their welcome
        seen.add(post.recipient)
        if len(seen) == len(expected):
            complete_at = post.at
            break
    result.delivery = complete_at - origin
    result.startup = posts[0].at - origin
    result.posting = complete_at - posts[0].at
    analyse(result, posts, origin, complete_at)


@dataclass(frozen=True)
class Post:
    at: float  # arrival at the sim, time.time()
    recipient: str
    status: int  # 200, 429 or 500


def analyse(result: Result, posts: list[Post], origin: float, end: float) -> None:
    """Where the time went: start-up, steady-state rate, pauses, the tail of retries."""
    rate = result.rate
    start = posts[0].at
    until_end = [p for p in posts if p.at <= end]

    # Silences: stretches with no chat.postMessage reaching the sim at all.
    times = [p.at for p in until_end]
    gaps = [(b - a, a) for a, b in itertools.pairwise(times) if b - a >= 0.1]
    gap_total = sum(g for g, _ in gaps)

    # The first pass (every recipient's first try) and the tail of retries after it.
    first_try: dict[str, float] = {}
    for post in posts:
        first_try.setdefault(post.recipient, post.at)
    first_pass_end = max(first_try.values())
    tokens = sum(1 for p in until_end if p.status != 429)  # 500s take a slot too
    burst = rate if result.shape == "bucket" else 0.0  # a full bucket's free calls
    ideal = max(0.0, (tokens - burst) / rate)
    tail = [p for p in until_end if p.at > first_pass_end]
    since = "spawn" if result.start == "tick" else "clock.tick"
    result.analysis = [
        f"planning ({since} -> first post)     {result.startup:7.2f} s",
        f"posting (first post -> N-th success)    {result.posting:7.2f} s",
        f"  slot-taking calls (200 + 500)         {tokens:7d}  -> ideal {ideal:.2f} s at "
        f"{rate:g}/s" + (f" after the initial burst of {rate:g}" if burst else ""),
        f"  first pass ends (last 1st try) at    +{first_pass_end - origin:7.2f} s",
        f"  tail after it ({len(tail)} calls, "
        f"{sum(p.status == 200 for p in tail)} ok)  {end - first_pass_end:7.2f} s",
        f"  silences >= 0.1 s at the sim          {len(gaps):7d}, {gap_total:.2f} s in all"
        + (f" (longest {max(gaps)[0]:.2f} s)" if gaps else ""),
    ]
    # The critical path: every try of the person whose welcome completed the fan-out.
    last = next(p for p in reversed(until_end) if p.status == 200)
    tries = [p for p in posts if p.recipient == last.recipient and p.at <= end]
    result.analysis.append(
        f"  last welcome ({last.recipient}) tries   "
        + ", ".join(f"+{p.at - origin:.2f} s {p.status}" for p in tries)
    )
    if gaps:
        longest = sorted(sorted(gaps, reverse=True)[:8], key=lambda g: g[1])
        result.analysis.append(
            "  longest silences (at +s: length)      "
            + ", ".join(f"{a - origin:.2f}: {g:.2f}" for g, a in longest)
        )
    # Per-second timeline from the first post.
    seconds = int(end - start) + 1
    per = [Counter() for _ in range(seconds)]
    for post in until_end:
        per[min(seconds - 1, int(post.at - start))][post.status] += 1
    result.timeline = [
        f"    +{i:3d}s  ok {c[200]:4d}  429 {c[429]:4d}  500 {c[500]:3d}  "
        + "#" * round(40 * c[200] / (2 * rate))
        for i, c in enumerate(per)
    ]


# --------------------------------------------------------------------------- report


def report(result: Result, args: argparse.Namespace, *, timeline: bool) -> None:
    verdict = "PASS" if result.passed else "FAIL"
    print(
        f"\n== {result.shape}, R = {result.rate:g} chat.postMessage/s, N = {result.people}: "
        f"{verdict}"
    )
    for error in result.errors:
        print(f"  ERROR: {error}")
    calls = ", ".join(f"{n} {m}" for m, n in sorted(result.plan_calls.items()))
    print(f"  other Slack calls: {calls}")
    since = "the spawn of `symmetry tick`" if result.start == "tick" else "the clock's tick"
    print(
        f"  planning + delivery ({since} -> the N-th distinct successful post reaches "
        f"the sim)  {result.delivery:7.2f} s"
    )
    print(f"  floor N/R                                {result.floor:7.2f} s")
    print(
        f"  ratio                                    {result.ratio:7.3f}"
        f"  (target <= {RATIO_TARGET})"
    )
    print(f"  lost {result.lost}, duplicated {result.duplicated} (targets 0, 0)")
    print(
        f"  chat.postMessage calls {result.calls}: {result.status[200]} ok, "
        f"{result.status[429]} x 429, {result.status[500]} x 500"
    )
    ticks = ", ".join(f"{run.wall:.2f} s wall, {run.cpu:.2f} s CPU" for run in result.ticks)
    print(f"  ticks: {len(result.ticks)} ({ticks}; whole processes)")
    print(
        f"  fake Slack CPU during delivery {result.sim_cpu:.2f} s; load average "
        f"{result.load[0]:.2f} before, {result.load[1]:.2f} after (2 cores: > 2 is contention)"
    )
    for run in result.ticks:
        for line in run.stdout.splitlines():
            if "tick at" in line:
                print(f"    {line.strip()}")
    print(f"  outbox after: {result.outbox}")
    attempts = ", ".join(f"{k}: {v}" for k, v in sorted(result.attempts.items()))
    print(f"  sent messages by failed attempts before success: {attempts}")
    for run in result.ticks:
        for line in run.stdout.splitlines():
            if line.startswith("stages "):
                print(f"  planning stages (wall): {line.removeprefix('stages ')}")
    for line in result.analysis:
        print(f"  {line}")
    if timeline:
        print("  timeline (seconds after the first post):")
        for line in result.timeline:
            print(line)


def wait_for_load(limit: float, *, patience: float = 600.0) -> None:
    """Wait for other work on the machine to calm down: the measure is of wall time."""
    deadline = time.monotonic() + patience
    while os.getloadavg()[0] > limit and time.monotonic() < deadline:
        time.sleep(5)
    if os.getloadavg()[0] > limit:
        print(f"  (load average still {os.getloadavg()[0]:.2f} > {limit:g}: measuring anyway)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="50,200", help="R values, comma-separated")
    parser.add_argument("--shapes", default="bucket,window", help="limiter shapes, comma-separated")
    parser.add_argument("--people", type=int, default=1000, help="N (default 1000)")
    parser.add_argument("--fail-ratio", type=float, default=0.05, help="500 answers (0.05)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the 500s")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--database-url",
        help=f"PostgreSQL URL; its schema public is dropped and recreated (default "
        f"{DEFAULT_PG_URL}, created when missing)",
    )
    parser.add_argument(
        "--start",
        choices=("clock", "tick"),
        default="clock",
        help="measure from the clock's tick (a started process) or from the spawn of "
        "`symmetry tick` (default clock)",
    )
    parser.add_argument("--timeline", action="store_true", help="print a per-second timeline")
    parser.add_argument("--child", metavar="NOW", help=argparse.SUPPRESS)
    parser.add_argument(
        "--max-load",
        type=float,
        help="before each R, wait (up to 10 min) for the 1-minute load average to fall to this",
    )
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    shapes = [shape.strip() for shape in args.shapes.split(",") if shape.strip()]
    print(
        f"fanout: N={args.people}, R in {rates}, limiter {'/'.join(shapes)}, "
        f"{args.fail_ratio:.0%} of posts answered 500, {args.database}, measured from "
        f"{'the spawn of symmetry tick' if args.start == 'tick' else 'the clock tick'}; "
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs "
        f"({cpu_model()}), load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    results = []
    for shape in shapes:
        for rate in rates:
            if args.max_load is not None:
                wait_for_load(args.max_load)
            result = run_rate(shape, rate, args)
            report(result, args, timeline=args.timeline)
            results.append(result)
    print(
        f"\n  shape   R      planning+delivery   floor N/R   ratio (target <= {RATIO_TARGET})"
        "   lost  dup   429s  500s  verdict"
    )
    for r in results:
        print(
            f"  {r.shape:<7} {r.rate:<6g} {r.delivery:13.2f} s {r.floor:11.1f} s "
            f"{r.ratio:7.3f} (<= {RATIO_TARGET})      {r.lost:6d} {r.duplicated:4d} "
            f"{r.status[429]:6d} {r.status[500]:5d}  {'PASS' if r.passed else 'FAIL'}"
        )
    return 0 if all(r.passed for r in results) else 1


def cpu_model() -> str:
    """The processor's name, where Linux says it (/proc/cpuinfo)."""
    info = Path("/proc/cpuinfo")
    names = [line for line in info.read_text().splitlines() if line.startswith("model name")]
    return names[0].split(":", 1)[1].strip() if names else platform.processor() or "unknown"


if __name__ == "__main__":
    sys.exit(main())
