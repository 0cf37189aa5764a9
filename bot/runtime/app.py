"""The composition root: builds the Bolt app from Settings and a session factory.

Only this module knows every piece. Listeners read their dependencies from `context`
(`context["services"]`), put there by a middleware; nothing is global.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.context.ack import Ack
from slack_bolt.listener_matcher import ListenerMatcher
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher
from slack_bolt.middleware import Middleware
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import handlers
from bot.runtime import logs, workspaces
from bot.runtime.clients import (
    installation_store,
    slack_client,
    workspace_clients,
)
from bot.runtime.config import Settings, policy_of
from bot.runtime.manifest import BOT_SCOPES
from bot.runtime.services import Services, utcnow
from bot.runtime.transport import KeptAliveClient
from bot.teams.directory import Directory
from storage import queries
from storage.db import AFTER_ACK, GATE, make_session_factory, session_scope

log = logging.getLogger(__name__)

# Threads that run listeners. A request's listener holds one until its ack, and most keep it
# after, waiting on Slack (`views.open` after `/irritant`: 200 ms, seconds when Slack is slow).
# A pool only as large as the server's request threads (64; Bolt's default is 5) fills with
# listeners past their ack under a burst, and new acks queue behind their Slack calls: 64
# threads and a 1 s `views.open` cap a process at 64 commands a second. With 256, 192 more
# listeners can wait on Slack after their ack before acks queue again (the pool is shared:
# past that, they wait as before). Threads start only when needed, then stay, idle and off
# the CPU; the database work of listeners past their ack takes turns (`AfterAck`).
LISTENER_THREADS = 256
ACK_TIMEOUT = 3.0  # seconds Bolt waits for a listener's ack (its listeners' default)
# Slack requests in flight from which an ack is left to Bolt's 10 ms poll (see `KeptAck`).
BUSY = 8
# Events that say the bot is leaving a workspace: they do not reinstate it.
LEAVING_EVENTS = ("app_uninstalled", "tokens_revoked", "team_access_revoked")
APP_NAME = os.path.basename(__file__)  # "app.py": what Bolt named the app when left to itself


def oauth_settings(settings: Settings, engine: Engine) -> OAuthSettings:
    """Multi-workspace mode: installations and OAuth states kept in our database."""
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    assert settings.slack_client_id and settings.slack_client_secret
    sessions = make_session_factory(engine)

    def installed(args: SuccessArgs) -> BoltResponse:
        """The OAuth install succeeded: the workspace it names is recorded with its Grid
        organisation, and active (see `workspaces.installed`)."""
        installation = args.installation
        with session_scope(sessions) as session:
            workspaces.installed(
                session,
                slack_team_id=installation.team_id,
                team_name=installation.team_name,
                enterprise_id=installation.enterprise_id,
                is_enterprise_install=bool(installation.is_enterprise_install),
            )
        return args.default.success(args)

    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=installation_store(settings, engine),
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine),
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
        callback_options=CallbackOptions(success=installed, failure=_install_failed),
    )


def _install_failed(args: FailureArgs) -> BoltResponse:
    """Bolt's own failure page (CallbackOptions takes both handlers)."""
    return args.default.failure(args)


def create_app(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    engine: Engine | None = None,
    now: Callable[[], datetime] = utcnow,
) -> App:
    """Build the Bolt app and register every feature's listeners."""
    multi = settings.multi_workspace
    oauth = oauth_settings(settings, engine) if multi and engine is not None else None
    policy = policy_of(settings)
    engine = engine if engine is not None else sessions.kw["bind"]
    services = Services(
        settings=settings,
        policy=policy,
        sessions=sessions,
        directory=Directory(
            sessions,
            # Listeners must not sleep out a Retry-After (acks are due within 3 s).
            workspace_clients(settings, sessions, engine, wait_on_rate_limit=False, rotate=False),
            admins=policy.admins,
        ),
        now=now,
        installation_store=oauth.installation_store if oauth else None,
    )
    app = App(
        # The name Bolt gives its loggers; without one it takes this file's name from
        # inspect.stack(), which reads the source of every frame: tens of milliseconds when
        # the stack is deep (an app built per test). The same name, given.
        name=APP_NAME,
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=bool(settings.slack_signing_secret),
        client=slack_client(
            settings, None if multi else settings.slack_bot_token, wait_on_rate_limit=False
        ),
        oauth_settings=oauth,
        token_verification_enabled=False,  # no Slack call at start: the first request authorizes
        # A ContextPool: a listener's log lines keep its request's id (bot/runtime/logs.py).
        listener_executor=logs.ContextPool(
            max_workers=LISTENER_THREADS, thread_name_prefix="listener"
        ),
        process_before_response=False,
    )

    after_ack = AfterAck(AFTER_ACK)

    def prepare(
        body: dict, raw: str, context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        """Every request: services into the context; its ack, whose `gate` the request's
        database work (its listener's included) goes through; each event_id handled once
        (Slack redelivers events it thinks we missed); a workspace that had removed the app
        and is talking to us again is reinstated; NUL characters leave every text. One
        middleware: each costs on every ack."""
        context["services"] = services
        # Bolt makes a plain WebClient for each request (its listener's `client`): the same
        # client, its calls over kept-alive connections (bot/runtime/transport.py). Its class
        # only changes (a subclass with no state of its own): made again, it would cost every
        # request, most of which call Slack at most once.
        client = context.get("client")
        if type(client) is WebClient:
            client.__class__ = KeptAliveClient
        ack = KeptAck(hand_over=not app.process_before_response, after_ack=after_ack)
        context["ack"] = ack
        # Left set: Bolt starts the listener after the middleware has returned, in a copy of
        # this context. The server runs each request in a context of its own (bot.runtime.
        # server, operations.socket), so the request's thread does not keep it.
        GATE.set(ack.gate)
        if _may_hold_nul(raw):
            _strip_nul(body)
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            with services.session() as session:
                first = queries.claim_event(session, event_id=event_id)
            if not first:
                log.info("event %s already processed; retry ignored", event_id)
                return BoltResponse(status=200, body="")
        event = body.get("event") or {}
        _workspace_of_org_event(body, context)
        if context.team_id and event.get("type") not in LEAVING_EVENTS:
            workspace_id = services.workspace_of_request(
                context.team_id,
                enterprise_id=context.enterprise_id,
                is_enterprise_install=bool(context.is_enterprise_install),
            )
            if services.back_from_uninstall(workspace_id):
                with services.session() as session:
                    workspaces.reinstalled(session, slack_team_id=context.team_id)
        return next()

    def on_error(error: Exception, body: dict) -> None:
        """The one place listener errors land: logged without user text, event released."""
        event_id = body.get("event_id") if isinstance(body, dict) else None
        log.error(
            "listener failed: %s (%s)", type(error).__name__, _request_kind(body), exc_info=error
        )
        if event_id:
            with services.session() as session:
                queries.release_event(session, event_id=event_id)

    app.use(_Direct(prepare))
    app.error(on_error)
    handlers.register(app)
    _match_by_body(app)
    if oauth is not None:
        # Bolt otherwise asks Slack (`auth.test`) before every request of an installed
        # workspace, on the ack's path; kept per token, a reinstall's new token is asked once.
        oauth.authorize.cache_enabled = True  # type: ignore[attr-defined]
    return app


class InFlight:
    """How many Slack requests the server is handling now (`bot.runtime.server` counts them
    with `with IN_FLIGHT:`); none over Socket Mode."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self.count += 1

    def __exit__(self, *_exc: object) -> None:
        with self._lock:
            self.count -= 1


IN_FLIGHT = InFlight()


class AfterAck:
    """Turns at the database for listeners past their ack: `places` of them at once, so that
    the rest of the connections stay free for the work an ack waits for (a view submission's
    write, a first contact's read). A thread already holding a turn (a session opened inside
    another) goes on without taking a second: it would wait for itself."""

    def __init__(self, places: int) -> None:
        self._places = threading.BoundedSemaphore(places)
        self._held = threading.local()

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        depth = getattr(self._held, "depth", 0)
        with contextlib.nullcontext() if depth else self._places:
            self._held.depth = depth + 1
            try:
                yield
            finally:
                self._held.depth = depth


class KeptAck(Ack):
    """Bolt's `ack`, whose answer, once given, stays given, and is handed over as soon as it
    is given.

    When a listener acknowledges and then fails (a Slack call after the ack answers an
    error), Bolt's thread runner sets the ack's response back to None; if its wait loop had not
    yet seen the ack, it waits out its 3 seconds and answers 404 "unhandled request", which
    Slack shows the person as a failure although the listener had answered. The failure is
    still logged by `on_error`; the answer given stands.

    Bolt's runner waits for the answer in the request's thread by reading `response` every
    10 ms, sleeping in between: an ack waited 5 ms on average for nothing, and 20 requests in
    flight woke 2,000 times a second to look. Read from the thread that made it (the
    request's: `prepare` runs there, and the runner waits there), `response` waits for the
    answer instead, up to `timeout` (Bolt's ack timeout) from its making; from any other
    thread (the listener's) it never waits. The signal is a bare lock, held until the
    answer is given: one wake-up, where an Event's condition takes several lock round trips,
    each a wait for the GIL under load.

    Unless the server is busy (`BUSY` Slack requests in flight, `IN_FLIGHT`): then the ack
    is left to Bolt's poll, as interrupts are coalesced under load. Handed over at once,
    every request in flight competes for the GIL at every moment, in no order, and the
    slowest acks come later (bench/ack.py at 20 clients, CPUs shared: p99 1.0-1.35x bare
    Bolt's, against 0.95-1.1x with the poll); sleeping out the poll's tick, part of them
    wait off the CPU, and the rest are served closer to their order. Alone or nearly, an
    ack is 10 ms sooner."""

    def __init__(
        self,
        timeout: float = ACK_TIMEOUT,
        *,
        hand_over: bool = True,
        after_ack: AfterAck | None = None,
    ) -> None:
        self._kept: BoltResponse | None = None
        self._after_ack = after_ack
        self._pending = threading.Lock()
        self._pending.acquire()  # released once, by the first answer
        # `hand_over=False` when the listener runs in the request's thread (Bolt's
        # process_before_response): nobody else would answer while it waited.
        self._waiter = threading.get_ident() if hand_over else None
        self._until = time.monotonic() + timeout
        super().__init__()

    @property  # type: ignore[override]
    def response(self) -> BoltResponse | None:
        if self._kept is None and threading.get_ident() == self._waiter and IN_FLIGHT.count < BUSY:
            left = self._until - time.monotonic()
            if left > 0 and self._pending.acquire(timeout=left):
                self._pending.release()  # later reads go straight through
        return self._kept

    def gate(self) -> contextlib.AbstractContextManager[object]:
        """The request's turn at the database (`storage.db.GATE`): once the ack is given,
        work outside the request's thread (its listener's) waits for an `AfterAck` turn;
        before it, the ack is waiting for that work, and it goes first."""
        if self._after_ack is None or self._kept is None or threading.get_ident() == self._waiter:
            return contextlib.nullcontext()
        return self._after_ack.turn()

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is None:
            return  # an answer given stays given
        first, self._kept = self._kept is None, value
        if first:
            with contextlib.suppress(RuntimeError):  # two first answers at once: released
                self._pending.release()


class _Direct(Middleware):
    """A middleware called with the request's body (read, and as received) and context
    directly: Bolt builds every possible listener argument (about 15 payload look-ups) for a
    plain function's middleware, on every request, before it can ack."""

    def __init__(
        self, func: Callable[[dict, str, BoltContext, Callable[[], BoltResponse]], Any]
    ) -> None:
        self._func = func

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        return self._func(req.body, req.raw_body, req.context, next)


class _BodyMatcher(ListenerMatcher):
    """One of Bolt's own matchers (a command's name, an action's or a view's id, an event's
    type: a function of the body), called with the body directly."""

    def __init__(self, func: Callable[[dict], bool]):
        self.func = func

    def matches(self, req: BoltRequest, resp: BoltResponse) -> bool:
        return self.func(req.body)


def _match_by_body(app: App) -> None:
    """Bolt tries the listeners in turn until one matches, and its matchers build every
    possible listener argument (about 25, with their payload look-ups) for each one tried,
    about 8 us each: a survey tap, whose listener is the 21st, spent 150 us there before its
    ack. Its matchers only read the body: they are given it directly. (Bolt's listeners are
    `app._listeners`, not a public name: tests/test_inprocess.py::TestListenerMatching fails
    if a Bolt release changes them.)"""
    for listener in app._listeners:
        listener.matchers = [
            _BodyMatcher(matcher.func)
            if type(matcher) is BuiltinListenerMatcher and list(matcher.arg_names) == ["body"]
            else matcher
            for matcher in listener.matchers
        ]


def _workspace_of_org_event(body: dict, context: BoltContext) -> None:
    """An event sent to an org-wide installation names no workspace where Bolt looks first
    (its `authorizations` carry the organisation's `team_id`: null): the workspace it happened
    in is the envelope's `team_id` (or `context_team_id`)."""
    if context.team_id is None and body.get("type") == "event_callback":
        team_id = body.get("team_id") or body.get("context_team_id")
        if isinstance(team_id, str) and team_id:
            context["team_id"] = team_id


def _may_hold_nul(raw: str) -> bool:
    """Whether a body as received can hold a NUL character once read: as itself,
    percent-encoded (a form's "%00") or as a JSON escape ("\\u0000", percent-encoded in a
    form's payload or not). Looking for them costs microseconds where walking every string
    of a survey tap's payload (its whole message) cost a quarter of a millisecond. A body
    that came read (Socket Mode's) is walked."""
    return not raw or "\x00" in raw or "%00" in raw or "u0000" in raw


def _strip_nul(value: object) -> object:
    """Remove NUL characters from every string of a request body, in place: PostgreSQL refuses
    them in text (a report typed with one was lost with a 500), and no person means one.
    Strings are tested in the loop, not in a call each: this runs before every ack."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                if "\x00" in item:
                    value[key] = item.replace("\x00", "")
            elif isinstance(item, dict | list):
                _strip_nul(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                if "\x00" in item:
                    value[index] = item.replace("\x00", "")
            elif isinstance(item, dict | list):
                _strip_nul(item)
    return value


def _request_kind(body: dict) -> str:
    """A log-safe description of a request: its type and identifiers, never user text."""
    if not isinstance(body, dict):
        return "unknown"
    if "command" in body:
        return f"command {body['command']}"
    if body.get("type") == "event_callback":
        return f"event {body.get('event', {}).get('type')} {body.get('event_id')}"
    return str(body.get("type", "unknown"))
