"""The HTTP side: a WSGI application (Slack requests, OAuth routes, health check) and the
production server that runs it (gunicorn, threaded, graceful on SIGTERM).
"""

from __future__ import annotations

import contextvars
import gc
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from sqlalchemy import Engine

from bot.runtime import GC_THRESHOLDS, logs
from bot.runtime.app import IN_FLIGHT
from storage.db import ping

log = logging.getLogger(__name__)

# Request threads per worker process. Each request holds one until its ack is written; the
# listener pool (bot.runtime.app.LISTENER_THREADS) is four times as large, so that listeners
# still at work after their ack do not hold every listener thread.
SERVER_THREADS = 64
MAX_BODY = 1_000_000  # Slack's payloads are far smaller; refuse anything bigger unread

REQUEST_ID = "symmetry.request_id"  # the request's id, in the WSGI environ
LISTENER = "symmetry.listener"  # what a Slack request is for: (kind, listener)
UNKNOWN = ("unknown", "")
STATUS = "symmetry.status"  # the status it was answered with
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(
    app: App,
    engine: Engine,
    *,
    warm: Callable[[], None] | None = None,
    metrics_token: str | None = None,
) -> WSGIApp:
    """Route `/healthz` to a readiness check, `/metrics` (with `metrics_token` only) to the
    Prometheus metrics, and everything else to Bolt.

    With `warm`, it runs in a thread of its own and `/healthz` answers 503 until it is done,
    so that a platform sends traffic only to a warm process; Slack requests that come before
    are served all the same (they do their own first-use work, as without a warm-up).

    Each request gets a random id (`X-Request-Id`), on every line logged for it
    (bot/runtime/logs.py); each Slack request's time to its acknowledgement is measured, by
    listener (bot/runtime/metrics.py).
    """
    slack = _SlackRequests(app, path="/slack/events")
    warmed = threading.Event()
    if warm is None:
        warmed.set()
    else:
        threading.Thread(target=_warm, args=(warm, warmed), name="warm-up", daemon=True).start()
    # Imported here, in the worker: `serve` sets PROMETHEUS_MULTIPROC_DIR before it is.
    from bot.runtime import metrics

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = logs.new_id()
        environ[REQUEST_ID] = request_id
        token = logs.request_id.set(request_id)

        def respond(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            environ[STATUS] = status
            return start_response(status, [*headers, ("X-Request-Id", request_id)], *exc_info)

        try:
            path = environ.get("PATH_INFO", "")
            method = environ.get("REQUEST_METHOD", "GET")
            if method == "POST" and path == "/slack/events":
                length = _content_length(environ)
                if length is None:
                    return _json(respond, "411 Length Required", {"error": "length required"})
                if length > MAX_BODY:
                    return _json(respond, "413 Content Too Large", {"error": "too large"})
                with IN_FLIGHT:  # how busy the acks are (bot.runtime.app.KeptAck)
                    # In a context of its own: what the request sets there (the database
                    # gate of its ack, storage.db.GATE) goes with it.
                    body = contextvars.copy_context().run(slack, environ, respond)
                if str(environ.get(STATUS, "")).startswith("2"):
                    kind, listener = environ.get(LISTENER, UNKNOWN)
                    metrics.acknowledged(kind, listener, time.perf_counter() - started)
                return body
            if path == "/healthz" and method in ("GET", "HEAD"):
                return _health(respond, engine, warmed)
            if path == "/metrics" and metrics_token and method in ("GET", "HEAD"):
                return _metrics(environ, respond, engine, metrics_token)
            return slack(environ, respond)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            # A body Bolt cannot parse (after its signature check passed) is the client's fault.
            log.warning("malformed Slack request: %s", type(exc).__name__)
            return _json(respond, "400 Bad Request", {"error": "malformed request"})
        finally:
            logs.request_id.reset(token)

    return application


class _SlackRequests(SlackRequestHandler):
    """Bolt's WSGI adapter, which also names what each Slack request is for, for the ack
    metrics, from the body as Bolt reads it (`LISTENER` in the environ): the body is read
    once. A body that is JSON but not an object (a list, a number) is refused: Bolt reads it
    as an object and fails, before any signature check, with an AttributeError."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        try:
            bolt_request = BoltRequest(
                body=request.get_body(),
                query=request.query_string,
                headers=request.get_headers(),
            )
        except AttributeError:
            log.warning("malformed Slack request: not a JSON object")
            return BoltResponse(status=400, body={"error": "malformed request"})
        request.environ[LISTENER] = _listener_of(bolt_request.body)
        return self.app.dispatch(bolt_request)


def _listener_of(body: dict) -> tuple[str, str]:
    """What a request is for, as (kind, listener): ("command", "/irritant"), ("action",
    "pulse_answer"), ("view", "irritant_report"), ("event", "app_home_opened")…; no user's
    id, and an action id's variable part (after a colon) left out."""
    command = body.get("command")
    if isinstance(command, str):
        return "command", command
    kind = str(body.get("type") or "unknown")
    if kind == "event_callback":
        event = body.get("event")
        return "event", str(event.get("type") if isinstance(event, dict) else "")
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        return "view", str(view.get("callback_id") if isinstance(view, dict) else "")
    if kind in ("block_actions", "block_suggestion"):
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else body
        action = first.get("action_id") if isinstance(first, dict) else ""
        return "action", str(action or "").split(":", 1)[0]
    return kind, str(body.get("callback_id") or "")


def _health(respond: Callable[..., Any], engine: Engine, warmed: threading.Event) -> list[bytes]:
    if not warmed.is_set():
        return _json(respond, "503 Service Unavailable", {"status": "starting"})
    healthy = ping(engine)
    return _json(
        respond,
        "200 OK" if healthy else "503 Service Unavailable",
        {"status": "ok" if healthy else "unavailable"},
    )


def _metrics(
    environ: dict[str, Any], respond: Callable[..., Any], engine: Engine, token: str
) -> list[bytes]:
    """The Prometheus metrics, for a bearer of `token` (compared in constant time)."""
    from bot.runtime import metrics

    given = str(environ.get("HTTP_AUTHORIZATION") or "")
    scheme, _, credentials = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        credentials.strip().encode(), token.encode()
    ):
        body = b'{"error": "unauthorized"}'
        respond(
            "401 Unauthorized",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("WWW-Authenticate", 'Bearer realm="metrics"'),
            ],
        )
        return [body]
    body = metrics.exposition(engine)
    respond("200 OK", [("Content-Type", metrics.CONTENT_TYPE), ("Content-Length", str(len(body)))])
    return [body]


def _warm(warm: Callable[[], None], warmed: threading.Event) -> None:
    try:
        warm()
        # What the warm-up loaded lives as long as the worker, like what `load` froze.
        gc.freeze()
    except Exception:  # a failed warm-up leaves the work to the first requests: still serve
        log.exception("warm-up failed")
    finally:
        warmed.set()


def _content_length(environ: dict[str, Any]) -> int | None:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def _json(start_response: Callable[..., Any], status: str, payload: dict) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


class GunicornLogger(Logger):  # type: ignore[misc]
    """gunicorn's error and access logs through the root logger's handler, so that they are
    written as every other line (JSON off a terminal, with the request id, redacted:
    bot/runtime/logs.py). An access line names the method, the path without its query
    string (an OAuth redirect's code stays out), the status and the time taken."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in [h for h in logger.handlers if getattr(h, "_gunicorn", False)]:
                logger.removeHandler(handler)
            logger.propagate = True

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        status = str(resp.status).split(None, 1)[0]
        seconds = request_time.total_seconds()
        token = logs.request_id.set(environ.get(REQUEST_ID))
        try:
            self.access_log.info(
                "%s %s %s %.3f s",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                status,
                seconds,
                extra={"status": int(status) if status.isdigit() else status, "seconds": seconds},
            )
        finally:
            logs.request_id.reset(token)


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn configured in code: threaded workers, `$PORT`, graceful stop on SIGTERM.

    The application is built in each worker after the fork (`load`), so no database
    connection or thread pool crosses a fork.
    """

    def __init__(self, build: Callable[[], WSGIApp], *, port: int, workers: int = 1):
        self._build = build
        self._options = {
            "bind": f"0.0.0.0:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": SERVER_THREADS,
            "backlog": 2048,
            "timeout": 60,
            "graceful_timeout": 25,  # platforms send SIGKILL 30 s after SIGTERM
            "keepalive": 5,
            "accesslog": "-",
            "errorlog": "-",
            "logger_class": GunicornLogger,
            "loglevel": "info",
            "limit_request_line": 8190,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn 25.1+ opens a control socket at one path per user: several servers on
            # one machine would fight over it, and nothing here uses it.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> WSGIApp:
        application = self._build()
        # Everything loaded so far lives as long as the worker: keep it out of the garbage
        # collector's full passes, which otherwise stall every request in flight. (No pass
        # first: loading leaves next to no garbage, and a pass over it all takes 60-75 ms.)
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        return application
