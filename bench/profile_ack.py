"""Where does `symmetry serve` spend its time acknowledging `/symmetry help`?

Runs the real product (or the bare Bolt app of `bench/bare_bolt.py`) in a wrapper process
that instruments it from the outside (no product file is changed, no product setting added),
drives it with the same signed commands and client code as `bench/ack.py`, then prints:

* CPU time per request: the request thread (gunicorn + Bolt) and the listener thread;
* for ours, the listener's phases: `services.workspace_id`, the database sessions (inside
  `actors.resolve`), `help.plain_help` (or, for `/irritant`, `reporting.modal` and the
  `views.open` call), the rest (`ack()` itself, Bolt's argument building);
* SQL statements per command, database connections opened, pool checkouts;
* garbage-collector pauses (count and duration, per generation);
* with `--cprofile`, the cProfile of the listener and of the request thread (cumulative
  top 30 each).

    python bench/profile_ack.py                   # ours, 20 clients, 2000 commands
    python bench/profile_ack.py --server bare     # the same for the bare Bolt app
    python bench/profile_ack.py --cprofile        # + cProfile of the listener
    python bench/profile_ack.py --command irritant  # `/irritant`: ack, then views.open

Instrumentation costs time itself: use `bench/ack.py` for latency figures, this for shares.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import gc
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STATS_PATH = "/_bench/profile"


# --------------------------------------------------------------------------- in the server


class Recorder:
    """Per-process counters, filled by the instrumentation and read over HTTP."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # the GC callback may fire while it is held
        self.totals: dict[str, float] = defaultdict(float)
        self.local = threading.local()
        self.gc_started: dict[int, float] = {}
        self.gc_pauses: dict[int, list[float]] = defaultdict(list)
        self.cprofile = bool(os.environ.get("BENCH_CPROFILE"))
        self.profiles: dict[str, list[cProfile.Profile]] = defaultdict(list)

    def add(self, **values: float) -> None:
        with self.lock:
            for key, value in values.items():
                self.totals[key] += value

    def thread_profile(self, part: str) -> cProfile.Profile | None:
        """This thread's profiler for `part` ("listener", "request thread"), one per thread,
        merged by part when read."""
        if not self.cprofile:
            return None
        prof = getattr(self.local, part, None)
        if prof is None:
            prof = cProfile.Profile()
            setattr(self.local, part, prof)
            with self.lock:
                self.profiles[part].append(prof)
        return prof

    def sql_count(self) -> int:
        return getattr(self.local, "sql", 0)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.add(
                **{
                    f"{name}.wall": time.perf_counter() - wall,
                    f"{name}.cpu": time.thread_time() - cpu,
                    f"{name}.calls": 1,
                }
            )

    def timed(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.phase(name):
                return func(*args, **kwargs)

        return wrapper

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        ident = threading.get_ident()
        if phase == "start":
            self.gc_started[ident] = now
        elif ident in self.gc_started:
            pause = now - self.gc_started.pop(ident)
            with self.lock:
                self.gc_pauses[info["generation"]].append(pause)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            data: dict[str, Any] = {"totals": dict(self.totals)}
            data["gc"] = {str(gen): list(p) for gen, p in self.gc_pauses.items()}
            data["cprofile"] = {}
            for part, profiles in self.profiles.items():
                out = io.StringIO()
                merged = pstats.Stats(stream=out)
                for prof in profiles:
                    prof.create_stats()
                    if prof.stats:  # type: ignore[attr-defined]
                        merged.add(prof)
                merged.strip_dirs().sort_stats("cumulative").print_stats(30)
                data["cprofile"][part] = out.getvalue()
        return data

    def reset(self) -> None:
        with self.lock:
            self.totals.clear()
            self.gc_pauses.clear()
            for profiles in self.profiles.values():
                for prof in profiles:
                    prof.clear()


def instrument(recorder: Recorder, server: str) -> None:
    """Patch the modules in this process (before the app is built) to feed `recorder`."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    @event.listens_for(Engine, "before_cursor_execute")
    def _count_sql(*_args: Any) -> None:
        recorder.local.sql = recorder.sql_count() + 1

    @event.listens_for(Pool, "connect")
    def _count_connect(*_args: Any) -> None:
        recorder.add(db_connects=1)

    @event.listens_for(Pool, "checkout")
    def _count_checkout(*_args: Any) -> None:
        recorder.add(db_checkouts=1)

    gc.callbacks.append(recorder.on_gc)

    def wrap_listener(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def listener(*args: Any, **kwargs: Any) -> Any:
            before = recorder.sql_count()
            prof = recorder.thread_profile("listener")
            with recorder.phase("listener"):
                if prof is not None:
                    prof.enable()
                try:
                    return func(*args, **kwargs)
                finally:
                    if prof is not None:
                        prof.disable()
                    recorder.add(sql=recorder.sql_count() - before)

        return listener

    if server == "ours":
        from slack_sdk import WebClient

        import bot.runtime.services
        import bot.runtime.usage
        import bot.teams.actors
        import bot.teams.directory
        import handlers.irritants
        import handlers.symmetry
        from bot.irritants import reporting

        handlers.symmetry.symmetry_command = wrap_listener(handlers.symmetry.symmetry_command)
        handlers.irritants.irritant_command = wrap_listener(handlers.irritants.irritant_command)
        reporting.modal = recorder.timed("reporting.modal", reporting.modal)
        WebClient.views_open = recorder.timed("views.open", WebClient.views_open)  # type: ignore[method-assign]
        bot.runtime.services.Services.workspace_id = recorder.timed(  # type: ignore[method-assign]
            "workspace_id", bot.runtime.services.Services.workspace_id
        )
        scope = bot.runtime.services.session_scope

        @functools.wraps(scope)
        def session_scope(*args: Any, **kwargs: Any) -> Any:
            @contextlib.contextmanager
            def timed_scope() -> Iterator[Any]:
                with recorder.phase("session (open..commit+close)"), scope(*args, **kwargs) as s:
                    yield s

            return timed_scope()

        for module in (bot.runtime.services, bot.teams.directory, bot.teams.actors):
            module.session_scope = session_scope  # type: ignore[attr-defined]
        bot.teams.actors.resolve = recorder.timed("actors.resolve", bot.teams.actors.resolve)
        bot.runtime.usage.plain_help = recorder.timed(
            "help.plain_help", bot.runtime.usage.plain_help
        )
    else:
        import bench.bare_bolt as bare

        original = bare.create_app

        def create_app(**kwargs: Any) -> Any:
            app = original(**kwargs)
            for listener in app._listeners:
                listener.ack_function = wrap_listener(listener.ack_function)
            return app

        bare.create_app = create_app


def wrap_wsgi(app: Callable[..., Any], recorder: Recorder) -> Callable[..., Any]:
    """Time each request on its thread; answer GET/DELETE /_bench/profile with the stats."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == STATS_PATH:
            if environ.get("REQUEST_METHOD") == "DELETE":
                recorder.reset()
                body = b"{}"
            else:
                body = json.dumps(recorder.snapshot()).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        prof = recorder.thread_profile("request thread")
        with recorder.phase("request thread"):
            if prof is not None:
                prof.enable()
            try:
                return list(app(environ, start_response))
            finally:
                if prof is not None:
                    prof.disable()

    return application


def serve(server: str, port: int) -> int:
    """Run the product (`symmetry serve`) or the bare app, instrumented."""
    recorder = Recorder()
    instrument(recorder, server)
    if server == "ours":
        import bot.runtime.server
        from bot.runtime.cli import main

        original = bot.runtime.server.wsgi_app
        bot.runtime.server.wsgi_app = lambda *a, **k: wrap_wsgi(original(*a, **k), recorder)
        return main(["serve"])
    import bench.bare_bolt as bare

    build = bare.build_wsgi
    bare.build_wsgi = lambda **k: wrap_wsgi(build(**k), recorder)
    return bare.main(["--port", str(port)])


# --------------------------------------------------------------------------- the driver


def fetch(port: int, method: str = "GET") -> dict[str, Any]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, STATS_PATH)
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data


def report(data: dict[str, Any], requests: int, wall: float) -> None:
    totals = data["totals"]
    per = totals.get("request thread.calls", 0) or 1
    print(f"{requests} commands in {wall:.2f} s ({requests / wall:.0f}/s)\n")
    print(f"  {'per command':<34}{'calls':>7}{'wall us':>10}{'CPU us':>10}")
    names = sorted({key.rsplit(".", 1)[0] for key in totals if key.endswith(".calls")})
    order = ["request thread", "listener", "workspace_id", "session (open..commit+close)"]
    names = [n for n in order if n in names] + [n for n in names if n not in order]
    for name in names:
        calls = totals[f"{name}.calls"] / per
        wall_us = totals[f"{name}.wall"] / per * 1e6
        cpu_us = totals[f"{name}.cpu"] / per * 1e6
        print(f"  {name:<34}{calls:>7.2f}{wall_us:>10.0f}{cpu_us:>10.0f}")
    print(
        f"\n  SQL statements per command {totals.get('sql', 0) / per:.2f}; "
        f"DB connections opened {totals.get('db_connects', 0):.0f}; "
        f"pool checkouts per command {totals.get('db_checkouts', 0) / per:.2f}"
    )
    for gen, pauses in sorted(data["gc"].items()):
        pauses_ms = sorted(p * 1000 for p in pauses)
        if pauses_ms:
            print(
                f"  GC generation {gen}: {len(pauses_ms)} pauses, total "
                f"{sum(pauses_ms):.1f} ms, max {pauses_ms[-1]:.1f} ms"
            )
    for part, text in data.get("cprofile", {}).items():
        print(f"\n{part} cProfile (all calls merged):")
        print(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/profile_ack.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("mode", nargs="?", default="run", choices=("run", "serve"))
    parser.add_argument("--server", choices=("ours", "bare"), default="ours")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--cprofile", action="store_true", help="cProfile every listener call")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--database-url", default=None, help="see bench/ack.py --help")
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument(
        "--command", choices=("help", "irritant"), default="help", help="the command sent"
    )
    args = parser.parse_args(argv)
    if args.mode == "serve":
        return serve(args.server, args.port)

    from bench import ack
    from bot.demo.harness import free_port, server_env
    from bot.demo.slack import SimUser, SlackSim

    workdir = Path(tempfile.mkdtemp(prefix="symmetry-profile-"))
    database_url = ack.prepare_database(args, workdir)
    cpus = sorted(os.sched_getaffinity(0))
    pin = not args.no_pin and len(cpus) >= 2
    sim = SlackSim().start()
    users = [
        sim.add_user(SimUser(f"UBENCH{i:03d}", f"user{i}", f"Bench User {i}")) for i in range(20)
    ]
    if args.command == "irritant":
        ack.create_team(database_url, sim, users)
    bench = ack.Bench(ack.build_parser().parse_args([]), sim, users)
    port = free_port()
    argv_ = [sys.executable, str(Path(__file__).resolve()), "serve", "--server", args.server]
    variant = ack.Variant(args.server, args.server, [*argv_, "--port", str(port)], port)
    env = server_env(database_url, sim, port)
    if args.cprofile:
        env["BENCH_CPROFILE"] = "1"
    try:
        ack.start(variant, env, workdir, {cpus[-1]} if pin else None)
        if pin:
            os.sched_setaffinity(0, set(cpus[:-1]))
        sys.setswitchinterval(0.0005)
        sim.delay = args.delay
        bench.first_contact(variant)
        bench.warm(variant, args.concurrency, args.command)
        fetch(port, "DELETE")
        sample = bench.measure(variant, args.requests, args.concurrency, args.command)
        data = fetch(port)
        print(
            f"{variant.label}: {len(sample.errors)} errors, p50 "
            f"{ack.percentile(sample.latencies, 50) * 1000:.1f} ms, p99 "
            f"{ack.percentile(sample.latencies, 99) * 1000:.1f} ms at c={args.concurrency} "
            "(instrumented: slower than bench/ack.py)"
        )
        report(data, len(sample.latencies), sample.wall)
    finally:
        ack.stop(variant)
        sim.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
