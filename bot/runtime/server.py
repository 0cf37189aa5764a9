"""The HTTP side: a WSGI application (Slack requests, OAuth routes, health check) and the
production server that runs it (gunicorn, threaded, graceful on SIGTERM).
"""

from __future__ import annotations

import gc
import io
import json
import logging
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine

from storage.db import ping

log = logging.getLogger(__name__)

# Request threads per worker process. Each request holds one until its ack is written; the
# listener pool (bot.runtime.app.LISTENER_THREADS) is sized to match.
SERVER_THREADS = 64
MAX_BODY = 1_000_000  # Slack's payloads are far smaller; refuse anything bigger unread

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(app: App, engine: Engine, *, warm: Callable[[], None] | None = None) -> WSGIApp:
    """Route `/healthz` to a readiness check and everything else to Bolt.

    With `warm`, it runs in a thread of its own and `/healthz` answers 503 until it is done,
    so that a platform sends traffic only to a warm process; Slack requests that come before
    are served all the same (they do their own first-use work, as without a warm-up).
    """
    slack = SlackRequestHandler(app, path="/slack/events")
    warmed = threading.Event()
    if warm is None:
        warmed.set()
    else:
        threading.Thread(target=_warm, args=(warm, warmed), name="warm-up", daemon=True).start()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            if not warmed.is_set():
                return _json(start_response, "503 Service Unavailable", {"status": "starting"})
            healthy = ping(engine)
            return _json(
                start_response,
                "200 OK" if healthy else "503 Service Unavailable",
                {"status": "ok" if healthy else "unavailable"},
            )
        if method == "POST" and path == "/slack/events":
            length = _content_length(environ)
            if length is None:
                return _json(start_response, "411 Length Required", {"error": "length required"})
            if length > MAX_BODY:
                return _json(start_response, "413 Content Too Large", {"error": "too large"})
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            if not _shaped_like_slack(body, environ.get("CONTENT_TYPE") or ""):
                log.warning("malformed Slack request: not a JSON object")
                return _json(start_response, "400 Bad Request", {"error": "malformed request"})
        try:
            return slack(environ, start_response)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            # A body Bolt cannot parse (after its signature check passed) is the client's fault.
            log.warning("malformed Slack request: %s", type(exc).__name__)
            return _json(start_response, "400 Bad Request", {"error": "malformed request"})

    return application


def _warm(warm: Callable[[], None], warmed: threading.Event) -> None:
    try:
        warm()
        # What the warm-up loaded lives as long as the worker, like what `load` froze.
        gc.collect()
        gc.freeze()
    except Exception:  # a failed warm-up leaves the work to the first requests: still serve
        log.exception("warm-up failed")
    finally:
        warmed.set()


def _shaped_like_slack(body: bytes, content_type: str) -> bool:
    """Whether a body is what Slack sends: a JSON object, or a form whose `payload` (when
    there is one) is a JSON object. Bolt reads any other JSON (a list, a number) as an object
    while building the request, before any listener, and failed with a 500."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            return isinstance(json.loads(text or "{}"), dict)
        payloads = urllib.parse.parse_qs(text).get("payload")
        return payloads is None or all(isinstance(json.loads(p), dict) for p in payloads)
    except ValueError:  # not UTF-8, not JSON: Bolt's own error handling answers it
        return True


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
            "accesslog": None,
            "errorlog": "-",
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
        # collector's full passes, which otherwise stall every request in flight.
        gc.collect()
        gc.freeze()
        return application
