"""How fast does `symmetry serve` acknowledge a slash command, next to a bare Bolt app?

Measures, from 1 and 20 concurrent clients,

* `/symmetry help`: the time from the signed command to its HTTP response (the ack carries
  the help);
* `/irritant` (from members of a team): the time to the HTTP ack, and the time from the
  command to the `views.open` call that opens the report modal reaching the fake Slack
  (Slack's trigger_id dies 3 s after the command),

against

* **ours**: the real product, `python -m bot serve` (gunicorn gthread, 64 threads), and
* **bare**: `bench/bare_bolt.py`, a minimal Bolt app served the same way whose listeners do the
  least: ack with the same static help blocks; ack then `views.open` a fixed modal of the same
  size (a listener pool of ours' size: 256 threads),

both wired to the same fake Slack (`bot.demo.slack.SlackSim`) answering every Web API call in
200 ms. The two servers run side by side and are measured in alternation (ours, bare, then
bare, ours, ... for several rounds at each concurrency), after a warm-up, with the same client
code (one keep-alive HTTP connection per client thread, requests signed before the round).

Then, for the cold start, fresh processes of both, alternated: once a process is ready (ours:
`/healthz` 200, i.e. warm; bare Bolt: any HTTP answer), 20 clients send it 40 `/irritant` at
once; the slowest of those first acks is compared.

    python bench/ack.py                       # c=1 and c=20, 5 rounds, cold start: PASS/FAIL
    python bench/ack.py --no-pin              # the same, servers and clients on every CPU
    python bench/ack.py --commands irritant   # only /irritant (and its cold start)
    python bench/ack.py --also 50 --untuned   # + c=50 and Bolt's default 5-thread pool (info)
    python bench/ack.py --self                # ours against ours: the figures' own spread

Targets, at every judged concurrency and for each command: p50(ours)/p50(bare) <= 1.2 and
p99(ours)/p99(bare) <= 1.3 for the ack, no error (a 200 carrying the help; an empty 200 and
the report modal opened for `/irritant`), and for `/irritant` a command -> views.open p99
under 2 s; cold start: the median over rounds of each one's slowest first ack,
ours/bare <= 1.5. Pinned (default) and `--no-pin` runs are judged alike. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import itertools
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/ack.py` from anywhere
    sys.path.insert(0, str(ROOT))


from bot.demo.harness import (  # noqa: E402
    SIGNING_SECRET,
    ServerError,
    ServerProcess,
    free_port,
    fresh_database,
    server_env,
    start_server,
)
from bot.demo.slack import SimUser, SlackSim, sign  # noqa: E402
from bot.runtime.config import Settings  # noqa: E402
from storage import queries  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.models import Membership, Team, TeamManager  # noqa: E402

P50_TARGET = 1.2
P99_TARGET = 1.3
OPEN_TARGET = 2.0  # seconds from /irritant to views.open (a trigger_id dies after 3 s)
COLD_TARGET = 1.5  # slowest of a fresh process's first acks, ours/bare
COLD_ACKS = 40  # the first acks of a fresh process: two from each of 20 clients
COMMANDS = ("help", "irritant")
PATH = "/slack/events"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/symmetry_ack_bench"
TIMEZONES = ("Europe/London", "America/New_York", "Europe/Paris", "Asia/Tokyo", "UTC")


# --------------------------------------------------------------------------- servers


@dataclass
class Variant:
    """One server under test."""

    key: str
    label: str
    argv: list[str]
    port: int = 0
    server: ServerProcess | None = None
    product: bool = False  # `symmetry serve`: PORT from the environment, ready on /healthz 200

    def instance(self) -> Variant:
        """The same server's set-up, not started, for a fresh process (the cold start's)."""
        return Variant(self.key, self.label, list(self.argv), product=self.product)

    def cpu_seconds(self, *, arbiter: bool = False) -> float:
        """CPU time (user + system) used so far by the server's worker processes."""
        if self.server is None:
            return 0.0
        total = process_cpu(self.server.pid) if arbiter else 0.0
        for task in Path(f"/proc/{self.server.pid}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            total += sum(process_cpu(int(child)) for child in children)
        return total


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used by one process, 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> str:
    """The CPU model and the load average, for the report's set-up line."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = next(
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    return f"{os.cpu_count()} CPUs ({model}), load average {os.getloadavg()[0]:.2f} at start"


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (steal included), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu(variants: list[Variant]) -> float:
    """CPU seconds used by this benchmark: its own process and every server it started."""
    times = os.times()
    return times.user + times.system + sum(v.cpu_seconds(arbiter=True) for v in variants)


def start(
    variant: Variant, env: dict[str, str], logdir: Path, cpus: set[int] | None, log: str = ""
) -> None:
    """Start a server process (pinned to `cpus`, when given) and wait until it is ready: ours
    answers /healthz 200 once warm; bare Bolt has no /healthz, any HTTP answer will do."""
    argv = variant.argv if variant.product else [*variant.argv, "--port", str(variant.port)]
    try:
        variant.server = start_server(
            env,
            logdir,
            variant.port,
            argv=argv,
            log_path=logdir / f"{log or variant.key}.log",
            timeout=60,
            healthy=variant.product,
            cpus=cpus,
        )
    except ServerError as exc:
        raise RuntimeError(f"{variant.label}: {exc}") from exc


def stop(variant: Variant) -> None:
    if variant.server is not None:
        variant.server.stop()


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Request:
    body: bytes
    headers: dict[str, str]
    trigger_id: str = ""


def command(
    sim: SlackSim,
    user: SimUser,
    seq: Callable[[], int],
    name: str = "/symmetry",
    text: str = "help",
) -> Request:
    """A signed slash command (default `/symmetry help`), with the fields Slack sends (as
    SlackClientSim.command)."""
    trigger_id = f"{seq()}.{seq()}.bench"
    fields = {
        "token": "sim-verification-token",
        "team_id": sim.team_id,
        "team_domain": sim.team_domain,
        "channel_id": "C0GENERAL",
        "channel_name": "general",
        "user_id": user.id,
        "user_name": user.name,
        "command": name,
        "text": text,
        "api_app_id": sim.app_id,
        "is_enterprise_install": "false",
        "response_url": sim.response_url(f"bench-{seq()}"),
        "trigger_id": trigger_id,
    }
    body = urllib.parse.urlencode(fields).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        **sign(SIGNING_SECRET, body),
    }
    return Request(body, headers, trigger_id)


def is_empty_ack(status: int, data: bytes) -> str | None:
    """None when the response is an empty 200 (a bare `ack()`), else what is wrong."""
    if status != 200:
        return f"HTTP {status}"
    return None if not data.strip() else f"not an empty ack: {data[:80]!r}"


def is_help(status: int, data: bytes) -> str | None:
    """None when the response is a 200 carrying the help blocks, else what is wrong."""
    if status != 200:
        return f"HTTP {status}"
    try:
        payload = json.loads(data)
        header = payload["blocks"][0]["text"]["text"]
    except (ValueError, KeyError, IndexError, TypeError):
        return f"not the help message: {data[:80]!r}"
    return None if "Symmetry" in header else f"unexpected header {header!r}"


@dataclass
class Sample:
    """What one round gave: latencies (seconds) and errors."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    slack_calls: int = 0
    cpu: float = 0.0  # server CPU seconds used during the round
    sent: list[tuple[str, float]] = field(default_factory=list)  # (trigger_id, time.time())
    opens: list[float] = field(default_factory=list)  # command -> views.open, seconds


def lanes_of(requests: list[Request], concurrency: int) -> list[list[Request]]:
    """What each client sends: requests i, i+c, i+2c, ..."""
    return [requests[i::concurrency] for i in range(concurrency)]


def run_round(
    port: int,
    requests: list[Request],
    concurrency: int,
    check: Callable[[int, bytes], str | None] | None = is_help,
    *,
    lanes: list[list[Request]] | None = None,
) -> Sample:
    """Send `requests` from `concurrency` client threads (closed loop, keep-alive each).

    Client i sends `lanes[i]` in order (default: requests i, i+c, i+2c, ...).
    """
    lanes = lanes if lanes is not None else lanes_of(requests, concurrency)
    concurrency = len(lanes)
    sample = Sample()
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency + 1)

    def client(mine: list[Request]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies, errors, sent = [], [], []
        try:
            conn.connect()
        except OSError:
            pass  # counted as errors below: each request tries to connect again
        finally:
            barrier.wait()
        for req in mine:
            sent.append((req.trigger_id, time.time()))
            started = time.perf_counter()
            try:
                conn.request("POST", PATH, req.body, req.headers)
                resp = conn.getresponse()
                data = resp.read()
                elapsed = time.perf_counter() - started
                problem = check(resp.status, data) if check else None
            except (OSError, http.client.HTTPException) as exc:
                elapsed, problem = time.perf_counter() - started, type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            latencies.append(elapsed)
            if problem:
                errors.append(problem)
        conn.close()
        with lock:
            sample.latencies.extend(latencies)
            sample.errors.extend(errors)
            sample.sent.extend(sent)

    threads = [threading.Thread(target=client, args=(lane,), daemon=True) for lane in lanes]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    sample.wall = time.perf_counter() - started
    return sample


def percentile(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile (pct in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --------------------------------------------------------------------------- the benchmark


class Bench:
    def __init__(self, args: argparse.Namespace, sim: SlackSim, users: list[SimUser]):
        self.args = args
        self.sim = sim
        self.users = users
        counter = itertools.count(1)
        self.seq = lambda: next(counter)

    def requests(self, n: int, kind: str = "help") -> list[Request]:
        """n signed commands; client i sends requests i, i+c, ... (users rotate)."""
        name, text = ("/symmetry", "help") if kind == "help" else ("/irritant", "")
        return [
            command(self.sim, self.users[i % len(self.users)], self.seq, name, text)
            for i in range(n)
        ]

    def first_contact(self, variant: Variant) -> None:
        """Each simulated user's first command.

        Ours answers someone it has never met with an empty ack, then asks Slack for their
        profile (users.info) and sends the help to the response_url: wait for those, so that
        from now on the help comes in the ack.
        """
        before = len(self.sim.calls_to("response_url"))
        empty = []

        def check(status: int, data: bytes) -> str | None:
            if not data.strip():
                empty.append(1)
            return None if status == 200 else f"HTTP {status}"

        sample = run_round(variant.port, self.requests(len(self.users)), len(self.users), check)
        if sample.errors:
            raise RuntimeError(f"{variant.label}: first contact failed: {sample.errors[:3]}")
        if empty:  # only ours answers someone new with an empty ack
            self.sim.wait_for("response_url", count=before + len(empty), timeout=30)

    def settle(self, timeout: float = 120) -> None:
        """Wait until the fake Slack has had no call for a while (background work done)."""
        quiet = max(0.3, 2 * self.sim.delay + 0.1)
        deadline = time.monotonic() + timeout
        count = len(self.sim.calls)
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = len(self.sim.calls)
            if now == count:
                return
            count = now

    def warm(self, variant: Variant, concurrency: int, kind: str = "help") -> None:
        """Discarded load at the highest concurrency: caches, pools, threads all warmed."""
        if variant.key == "untuned":
            sample = self.measure(variant, 2 * concurrency, concurrency)
        elif kind == "irritant":
            n = max(self.args.warmup // 4, concurrency * 5)
            sample = self.measure(variant, n, concurrency, kind)
        else:
            n = max(self.args.warmup, concurrency * 5)
            sample = self.measure(variant, n, concurrency)
        if sample.errors:
            raise RuntimeError(f"{variant.label}: warm-up errors: {sample.errors[:3]}")

    def measure(self, variant: Variant, n: int, concurrency: int, kind: str = "help") -> Sample:
        requests = self.requests(n, kind)
        calls_before = len(self.sim.calls)
        cpu_before = variant.cpu_seconds()
        gc.collect()
        gc.disable()  # no collector pause in the clients while they time requests
        try:
            check = is_help if kind == "help" else is_empty_ack
            sample = run_round(variant.port, requests, concurrency, check)
        finally:
            gc.enable()
        if kind == "irritant":
            # The listener opens the modal after its ack: wait for every views.open (this also
            # keeps a round's tail out of the next one), and count the CPU it took.
            self.collect_opens(variant, sample, calls_before)
        sample.cpu = variant.cpu_seconds() - cpu_before
        sample.slack_calls = len(self.sim.calls) - calls_before
        if variant.key == "untuned":
            # Let its listener pool drain (work after ack) so it does not load the next round.
            self.settle()
            sample.slack_calls = len(self.sim.calls) - calls_before
        return sample

    def collect_opens(
        self, variant: Variant, sample: Sample, calls_before: int, timeout: float = 30
    ) -> None:
        """Match each command's trigger_id to the views.open the fake Slack received.

        `Call.at` is when the call reached the fake Slack (before its 200 ms answer), in the
        same clock as the send times recorded by the clients.
        """
        sent = dict(sample.sent)
        deadline = time.monotonic() + timeout
        while True:
            opens = {
                call.params.get("trigger_id"): call
                for call in self.sim.calls[calls_before:]
                if call.method == "views.open" and call.params.get("trigger_id") in sent
            }
            if len(opens) >= len(sent) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for trigger_id, at in sent.items():
            call = opens.get(trigger_id)
            if call is None:
                sample.errors.append("no views.open")
                continue
            sample.opens.append(call.at - at)
            view = call.params.get("view") or {}
            blocks = {b.get("block_id") for b in view.get("blocks", []) if isinstance(b, dict)}
            if call.failed:
                sample.errors.append("views.open failed")
            elif view.get("callback_id") != "irritant_report" or "team" not in blocks:
                sample.errors.append("not the report modal")


# --------------------------------------------------------------------------- cold start


@dataclass
class Cold:
    """One fresh process's first burst: how long until it was ready, its slowest ack, and the
    auth.test calls made once it said it was ready."""

    ready: float
    slowest: float
    auth_tests: int
    errors: list[str]


def cold_round(
    bench: Bench, variant: Variant, env: dict[str, str], workdir: Path, cpus: set[int] | None
) -> Cold:
    """Start a fresh server, wait until it is ready (ours: /healthz 200; bare Bolt, which has
    none: any HTTP answer), then send `COLD_ACKS` /irritant from `--users` clients at once."""
    started = time.monotonic()
    start(variant, env, workdir, cpus, log=f"cold-{variant.key}")
    try:
        ready = time.monotonic() - started
        calls_before = len(bench.sim.calls)
        requests = bench.requests(COLD_ACKS, "irritant")
        sample = run_round(variant.port, requests, len(bench.users), is_empty_ack)
        bench.collect_opens(variant, sample, calls_before)
        auth_tests = sum(1 for call in bench.sim.calls[calls_before:] if call.method == "auth.test")
        return Cold(ready, max(sample.latencies), auth_tests, sample.errors)
    finally:
        stop(variant)


def cold_start(
    bench: Bench,
    variants: list[Variant],
    database_url: str,
    workdir: Path,
    cpus: set[int] | None,
    rounds: int,
) -> bool:
    """Fresh processes of ours and bare, alternated; judged on the median of each one's slowest
    first ack. True when it meets the target."""
    results: dict[str, list[Cold]] = {variant.key: [] for variant in variants}
    for rnd in range(rounds):
        for variant in variants if rnd % 2 == 0 else list(reversed(variants)):
            fresh = variant.instance()
            fresh.port = free_port()
            env = server_env(database_url, bench.sim, fresh.port)
            results[fresh.key].append(cold_round(bench, fresh, env, workdir, cpus))
    print(
        f"cold start: a fresh process, once ready, gets {COLD_ACKS} /irritant from "
        f"{len(bench.users)} clients at once; {rounds} alternated rounds"
    )
    print(
        f"  {'server':<24}{'ready s':>8}{'errors':>7}{'auth.test':>10}"
        f"{'slowest ack ms (median)':>25}  per round"
    )
    medians = {}
    errors = 0
    for variant in variants:
        colds = results[variant.key]
        slowest = sorted(c.slowest * 1000 for c in colds)
        medians[variant.key] = percentile(slowest, 50)
        errors += sum(len(c.errors) for c in colds)
        print(
            f"  {variant.label:<24}{percentile([c.ready for c in colds], 50):>8.2f}"
            f"{sum(len(c.errors) for c in colds):>7}{sum(c.auth_tests for c in colds):>10}"
            f"{medians[variant.key]:>25.1f}  " + " ".join(f"{c.slowest * 1000:.0f}" for c in colds)
        )
    ratio = medians["ours"] / medians["bare"]
    ok = ratio <= COLD_TARGET and errors == 0
    print(
        f"  ours/bare slowest first ack: x{ratio:.2f} (target <= {COLD_TARGET}), errors "
        f"{errors}  -> {'PASS' if ok else 'FAIL'}\n"
    )
    return ok


def requests_for(args: argparse.Namespace, concurrency: int, variant: Variant) -> int:
    n = args.requests or (100 if concurrency == 1 else max(500, 25 * concurrency))
    if variant.key == "untuned" and args.after_ack_calls:
        n = min(n, max(2 * concurrency, 20))  # 25 commands/s at most: keep the run short
    return n


def parse_levels(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_commands(text: str) -> list[str]:
    kinds = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [kind for kind in kinds if kind not in COMMANDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(COMMANDS)}")
    return [kind for kind in COMMANDS if kind in kinds]


def create_team(database_url: str, sim: SlackSim, users: list[SimUser]) -> None:
    """Make every simulated user a member of one team, directly in the database (as
    tests/irritant_helpers.py `big_team` does), so that `/irritant` opens the report modal."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            workspace = queries.get_or_create_workspace(session, slack_team_id=sim.team_id)
            team = Team(
                workspace_id=workspace.id,
                name="Bench team",
                channel_id="CBENCH001",
                timezone="Europe/London",
                locale="en",
            )
            team.memberships = [Membership(user_id=user.id) for user in users]
            team.managers = [TeamManager(user_id=users[0].id)]
            session.add(team)
    finally:
        engine.dispose()


def prepare_database(args: argparse.Namespace, workdir: Path) -> str:
    """A fresh, migrated database for the product; returns its URL."""
    if args.database == "sqlite" and not args.database_url:
        url = f"sqlite:///{workdir / 'symmetry.db'}"
    else:
        url = Settings(DATABASE_URL=args.database_url or DEFAULT_PG_URL).database_url
    fresh_database(url)
    return url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/ack.py", description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--requests",
        type=int,
        default=0,
        help="requests per round per concurrency (default: 100 at c=1, 500 at c=20)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="alternated rounds (default 5: a round's p50 at c=20 moves by a Bolt poll tick)",
    )
    parser.add_argument(
        "--self",
        action="store_true",
        help="measure ours against a second `symmetry serve` (A/A, printed as bare): the "
        "spread of the figures when there is no difference to find; its verdicts judge nothing",
    )
    parser.add_argument(
        "--delay", type=float, default=0.2, help="fake Slack seconds per Web API call (default 0.2)"
    )
    parser.add_argument(
        "--concurrency", type=parse_levels, default=[1, 20], help="judged levels (default 1,20)"
    )
    parser.add_argument(
        "--also", type=parse_levels, default=[], help="extra levels, reported but not judged"
    )
    parser.add_argument(
        "--untuned",
        action="store_true",
        help="also run bare Bolt with Bolt's default 5-thread listener pool (info only)",
    )
    parser.add_argument(
        "--after-ack-calls",
        type=int,
        default=1,
        help="Slack calls the untuned app's listener makes after its ack (default 1)",
    )
    parser.add_argument("--users", type=int, default=20, help="simulated users (default 20)")
    parser.add_argument(
        "--commands",
        type=parse_commands,
        default=list(COMMANDS),
        help="commands to measure, among help (/symmetry help) and irritant (/irritant, "
        "ack and views.open); default help,irritant",
    )
    parser.add_argument(
        "--warmup", type=int, default=1000, help="warm-up requests per server (default 1000)"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="ours' database: a fresh SQLite file (default, the product's default) or "
        "PostgreSQL (see --database-url)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help=f"PostgreSQL database, emptied and migrated (default {DEFAULT_PG_URL})",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin the servers to CPU 1 and the clients and fake Slack to CPU 0",
    )
    parser.add_argument(
        "--cold",
        type=int,
        default=3,
        help="cold-start rounds: fresh processes of each server, alternated (default 3; 0: none)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="print the log directory")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    judged = args.concurrency
    levels = judged + [c for c in args.also if c not in judged]

    cpus = sorted(os.sched_getaffinity(0))
    pin = not args.no_pin and len(cpus) >= 2
    server_cpus = {cpus[-1]} if pin else None
    client_cpus = set(cpus[:-1]) if pin else None
    # Client threads hand the GIL to each other quickly, so a response is timed when it lands.
    sys.setswitchinterval(0.0005)

    workdir = Path(tempfile.mkdtemp(prefix="symmetry-bench-"))
    database_url = prepare_database(args, workdir)

    ours = Variant("ours", "symmetry serve", [sys.executable, "-m", "bot", "serve"], product=True)
    variants = [
        ours,
        Variant("bare", "symmetry serve (again)", list(ours.argv), product=True)
        if args.self
        else Variant("bare", "bare Bolt", [sys.executable, str(ROOT / "bench" / "bare_bolt.py")]),
    ]
    if args.untuned:
        variants.append(
            Variant(
                "untuned",
                f"Bolt defaults: 5 threads, +{args.after_ack_calls} call",
                [
                    sys.executable,
                    str(ROOT / "bench" / "bare_bolt.py"),
                    "--untuned",
                    "--after-ack-calls",
                    str(args.after_ack_calls),
                ],
            )
        )

    sim = SlackSim(delay=0.0)
    sim.start()
    users = [
        sim.add_user(SimUser(f"UBENCH{i:03d}", f"user{i}", f"Bench User {i}", tz=TIMEZONES[i % 5]))
        for i in range(args.users)
    ]
    if "irritant" in args.commands:
        create_team(database_url, sim, users)
    bench = Bench(args, sim, users)
    started = time.monotonic()
    try:
        for variant in variants:
            variant.port = free_port()
            start(variant, server_env(database_url, sim, variant.port), workdir, server_cpus)
        if client_cpus:
            os.sched_setaffinity(0, client_cpus)
        sim.delay = args.delay

        names = {"help": "`/symmetry help`", "irritant": "`/irritant` (+ views.open)"}
        print(
            f"ack latency of signed {' and '.join(names[k] for k in args.commands)} "
            f"(request sent -> response read), fake Slack {args.delay * 1000:.0f} ms per Web "
            "API call"
        )
        print(
            f"{machine()}, Python {platform.python_version()}; "
            + (
                f"servers pinned to CPU {sorted(server_cpus)}, clients and fake Slack to "
                f"CPU {sorted(client_cpus)}"
                if pin
                else "no CPU pinning"
            )
            + f"; {args.users} users, {args.rounds} alternated rounds, database "
            + ("SQLite" if database_url.startswith("sqlite") else database_url.split(":", 1)[0])
        )
        for variant in variants:
            bench.first_contact(variant)
            if "help" in args.commands:
                bench.warm(variant, max(levels))
            if "irritant" in args.commands and variant.key != "untuned":
                bench.warm(variant, max(levels), "irritant")
        bench.settle()
        print(f"warm-up done in {time.monotonic() - started:.1f} s\n")

        results: dict[tuple[str, str, int], list[Sample]] = {}
        busy, own, clock = machine_busy(), own_cpu(variants), time.monotonic()
        for concurrency in levels:
            for kind in args.commands:
                # The untuned app is only about /symmetry help (see --untuned).
                measured = [v for v in variants if kind == "help" or v.key != "untuned"]
                for rnd in range(args.rounds):
                    order = measured if rnd % 2 == 0 else list(reversed(measured))
                    for variant in order:
                        n = requests_for(args, concurrency, variant)
                        sample = bench.measure(variant, n, concurrency, kind)
                        results.setdefault((kind, variant.key, concurrency), []).append(sample)
        foreign = (machine_busy() - busy - (own_cpu(variants) - own)) / (time.monotonic() - clock)
        ok = True
        if "help" in args.commands:
            ok = report(variants, levels, judged, results) and ok
        if "irritant" in args.commands:
            measured = [v for v in variants if v.key != "untuned"]
            ok = report_irritant(measured, levels, judged, results) and ok
        if args.cold and "irritant" in args.commands:
            bench.settle()
            measured = [v for v in variants if v.key != "untuned"]
            ok = cold_start(bench, measured, database_url, workdir, server_cpus, args.cold) and ok
        print("RESULT: " + ("PASS" if ok else "FAIL"))
        print(
            f"\nother processes kept {max(foreign, 0):.2f} of {len(cpus)} CPUs busy during the "
            "measurement"
            + (" (a busy machine: p99 figures are noisy, run again)" if foreign > 0.25 else "")
        )
        print(f"total time {time.monotonic() - started:.1f} s")
        return 0 if ok else 1
    finally:
        for variant in variants:
            stop(variant)
        sim.stop()
        if args.keep_logs:
            print(f"server logs in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def summary(samples: list[Sample]) -> dict[str, float]:
    """Latency percentiles (ms), throughput and server CPU per request of a variant's rounds."""
    latencies = [x for s in samples for x in s.latencies]
    opens = [x for s in samples for x in s.opens]
    return {
        "n": len(latencies),
        "p50": percentile(latencies, 50) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "max": max(latencies) * 1000,
        "rate": len(latencies) / sum(s.wall for s in samples),
        "cpu": sum(s.cpu for s in samples) / len(latencies) * 1000,
        "open50": percentile(opens, 50) * 1000,
        "open99": percentile(opens, 99) * 1000,
        "openmax": max(opens, default=float("nan")) * 1000,
    }


def report(
    variants: list[Variant],
    levels: list[int],
    judged: list[int],
    results: dict[tuple[str, str, int], list[Sample]],
) -> bool:
    """`/symmetry help`: one table per concurrency; True when every judged level passes."""
    all_ok = True
    for concurrency in levels:
        is_judged = concurrency in judged
        print(
            f"/symmetry help, concurrency {concurrency}"
            + ("" if is_judged else " (info, not judged)")
        )
        print(
            f"  {'server':<36}{'n':>6}{'errors':>7}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}"
            f"{'req/s':>7}{'CPU ms/req':>11}  p50 per round"
        )
        stats: dict[str, tuple[float, float, int]] = {}
        for variant in variants:
            samples = results[("help", variant.key, concurrency)]
            row = summary(samples)
            errors = [e for s in samples for e in s.errors]
            rounds = " ".join(f"{percentile(s.latencies, 50) * 1000:.1f}" for s in samples)
            slack = sum(s.slack_calls for s in samples)
            print(
                f"  {variant.label:<36}{row['n']:>6}{len(errors):>7}{row['p50']:>8.1f}"
                f"{row['p99']:>8.1f}{row['max']:>8.1f}{row['rate']:>7.0f}{row['cpu']:>11.2f}"
                f"  {rounds}" + (f"  [{slack} Slack calls]" if slack else "")
            )
            if errors:
                print(f"    errors: {sorted(set(errors))[:5]}")
            stats[variant.key] = (row["p50"], row["p99"], len(errors))
        p50, p99, errors = stats["ours"]
        bare = stats["bare"]
        p50_ratio, p99_ratio = p50 / bare[0], p99 / bare[1]
        errors += bare[2]
        ok = p50_ratio <= P50_TARGET and p99_ratio <= P99_TARGET and errors == 0
        verdict = ("PASS" if ok else "FAIL") if is_judged else "info"
        print(
            f"  ours/bare: p50 x{p50_ratio:.2f} (target <= {P50_TARGET}), p99 x{p99_ratio:.2f} "
            f"(target <= {P99_TARGET}), errors {errors}  -> {verdict}"
        )
        if is_judged:
            all_ok = all_ok and ok
        print()
    return all_ok


def report_irritant(
    variants: list[Variant],
    levels: list[int],
    judged: list[int],
    results: dict[tuple[str, str, int], list[Sample]],
) -> bool:
    """`/irritant`: the ack and the views.open, per concurrency; True when every judged level
    meets the targets."""
    all_ok = True
    for concurrency in levels:
        is_judged = concurrency in judged
        print(
            f"/irritant, concurrency {concurrency}" + ("" if is_judged else " (info, not judged)")
        )
        print(
            f"  {'':<24}{'':>6}{'':>7}{'ack (HTTP response)':^24}{'':>6}{'':>11}"
            f"{'command -> views.open':^24}"
        )
        print(
            f"  {'server':<24}{'n':>6}{'errors':>7}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}"
            f"{'req/s':>6}{'CPU ms/req':>11}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}"
            "  ack p50 per round"
        )
        stats: dict[str, dict[str, float]] = {}
        for variant in variants:
            samples = results[("irritant", variant.key, concurrency)]
            row = summary(samples)
            errors = [e for s in samples for e in s.errors]
            rounds = " ".join(f"{percentile(s.latencies, 50) * 1000:.1f}" for s in samples)
            print(
                f"  {variant.label:<24}{row['n']:>6}{len(errors):>7}{row['p50']:>8.1f}"
                f"{row['p99']:>8.1f}{row['max']:>8.1f}{row['rate']:>6.0f}{row['cpu']:>11.2f}"
                f"{row['open50']:>8.1f}{row['open99']:>8.1f}{row['openmax']:>8.1f}  {rounds}"
            )
            if errors:
                print(f"    errors: {sorted(set(errors))[:5]}")
            stats[variant.key] = {**row, "errors": len(errors)}
        ours, bare = stats["ours"], stats["bare"]
        p50_ratio, p99_ratio = ours["p50"] / bare["p50"], ours["p99"] / bare["p99"]
        errors = int(ours["errors"] + bare["errors"])
        opens_ok = ours["open99"] < OPEN_TARGET * 1000
        ok = p50_ratio <= P50_TARGET and p99_ratio <= P99_TARGET and errors == 0 and opens_ok
        verdict = ("PASS" if ok else "FAIL") if is_judged else "info"
        print(
            f"  ours/bare ack: p50 x{p50_ratio:.2f} (target <= {P50_TARGET}), p99 "
            f"x{p99_ratio:.2f} (target <= {P99_TARGET}); ours command -> views.open p99 "
            f"{ours['open99']:.0f} ms (target < {OPEN_TARGET * 1000:.0f}); errors {errors}  "
            f"-> {verdict}"
        )
        if is_judged:
            all_ok = all_ok and ok
        print()
    return all_ok


if __name__ == "__main__":
    sys.exit(main())
