"""The in-process tier itself (tests/inprocess.py): it checks signatures as the server does,
keeps the log the anonymity tests read, and lets no listener outlive its test."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse

from hypothesis import example, given, settings
from hypothesis import strategies as st
from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher
from sqlalchemy import func, select

from bot.demo.slack import sign
from bot.runtime.app import _BodyMatcher, _may_hold_nul, _strip_nul
from storage.models import SlackUser
from tests.conftest import EMPLOYEE, SECRET_KEY, SIGNING_SECRET
from tests.inprocess import app_settings, running_app

BODY = "command=%2Fsymmetry&text=help&user_id=UEMPLO01&team_id=T0SYMMETRY"


class TestRequestVerification:
    def test_forged_signature_is_rejected(self, platform, db):
        """A request signed with the wrong secret gets 401 in process too, and changes nothing."""
        response = platform.post_raw(BODY, sign("not-the-secret", BODY))
        assert response.status == 401
        with db.sessions() as session:
            assert session.scalar(select(func.count()).select_from(SlackUser)) == 0

    def test_stale_timestamp_is_rejected(self, platform):
        """A correctly signed request older than 5 minutes gets 401 in process too."""
        stale = int(time.time()) - 6 * 60
        assert platform.post_raw(BODY, sign(SIGNING_SECRET, BODY, stale)).status == 401


class TestLog:
    def test_the_log_holds_what_the_app_logs(self, app, platform, slack):
        """What the app logs while a test runs is in its log file (a retried event here)."""
        event = {"type": "app_home_opened", "user": EMPLOYEE, "tab": "home"}
        assert platform.event(event, event_id="Ev0LOGGED1").status == 200
        slack.wait_for("views.publish")
        assert platform.event(event, event_id="Ev0LOGGED1", retry_num=1).status == 200
        assert "event Ev0LOGGED1 already processed" in app.log_path.read_text()


class TestListenersFinish:
    def test_work_after_the_ack_ends_before_the_app_does(self, db, slack, tmp_path):
        """Leaving the in-process app waits for listeners still working after their ack, so
        that none of a test's work reaches the next test's database or simulated Slack."""
        settings = app_settings(
            db.url, slack, slack_signing_secret=SIGNING_SECRET, secret_key=SECRET_KEY
        )
        slack.delay = 0.5  # each Slack call (users.info, then the answer) takes half a second
        with running_app(
            settings, db.sessions, db.engine, slack, log_path=tmp_path / "app.log"
        ) as under_test:
            assert under_test.platform.command(EMPLOYEE, "/symmetry", "help").status == 200
            assert slack.calls_to("response_url") == []  # acked; the answer is on its way
        assert len(slack.calls_to("response_url")) == 1


class TestAfterAck:
    def test_listeners_past_their_ack_take_turns_at_the_database(self):
        """`places` turns at once; a third waits until one is given back; a thread already
        holding one goes on inside it (a session opened within another) without waiting for
        itself."""
        from bot.runtime.app import AfterAck

        turns = AfterAck(2)
        inside = threading.Event()
        leave = threading.Event()

        def hold() -> None:
            with turns.turn(), turns.turn():  # nested: no second place taken
                inside.set()
                leave.wait(10)

        holders = [threading.Thread(target=hold) for _ in range(2)]
        for thread in holders:
            inside.clear()
            thread.start()
            assert inside.wait(5)
        third = threading.Event()

        def wait_turn() -> None:
            with turns.turn():
                third.set()

        waiter = threading.Thread(target=wait_turn)
        waiter.start()
        assert not third.wait(0.2)  # both places taken
        leave.set()
        assert third.wait(5)  # one given back: the third gets it
        for thread in [*holders, waiter]:
            thread.join(5)

    def test_only_work_after_the_ack_and_outside_the_requests_thread_waits(self):
        """The ack's `gate`: nothing to wait for before the answer (the ack is waiting for that
        work) nor in the request's thread; a turn for a listener that has answered."""
        from bot.runtime.app import AfterAck, KeptAck

        turns = AfterAck(1)
        ack = KeptAck(timeout=0.01, after_ack=turns)
        seen: dict[str, object] = {}

        def listener() -> None:
            seen["before"] = ack.gate()
            ack()
            seen["after"] = ack.gate()

        thread = threading.Thread(target=listener)
        thread.start()
        thread.join(5)
        assert not isinstance(seen["before"], type(turns.turn()))
        assert isinstance(seen["after"], type(turns.turn()))
        assert not isinstance(ack.gate(), type(turns.turn()))  # the request's own thread

    def test_a_listeners_database_work_after_its_ack_takes_a_turn(self, app, platform, slack):
        """Wired through the request (`prepare` sets storage.db.GATE, the listener's context
        copies it): a first contact's `/symmetry help` acks, then reads the person's profile
        and caches it, and those sessions take turns."""
        from bot.runtime.app import AfterAck

        turns: list[str] = []
        taken = AfterAck.turn

        def spied(self):  # type: ignore[no-untyped-def]
            turns.append(threading.current_thread().name)
            return taken(self)

        AfterAck.turn = spied  # type: ignore[method-assign]
        try:
            assert platform.command(EMPLOYEE, "/symmetry", "help").status == 200
            slack.wait_for("response_url")
        finally:
            AfterAck.turn = taken  # type: ignore[method-assign]
        assert turns and all(name.startswith("listener") for name in turns), turns


class TestKeptAck:
    def test_an_answer_given_stays_given(self):
        """Bolt's runner sets a failed listener's ack back to None even when it had answered
        (then waits 3 s and answers 404): the ack the app gives keeps its first answer."""
        from bot.runtime.app import KeptAck

        ack = KeptAck(timeout=0.01)
        assert ack.response is None  # after its timeout: nobody answered
        ack()
        given = ack.response
        assert given is not None and given.status == 200
        ack.response = None  # what Bolt does when the listener raises after acknowledging
        assert ack.response is given

    def test_the_request_thread_gets_the_answer_as_soon_as_it_is_given(self):
        """The request's thread (where Bolt's runner polls the ack) waits for the answer rather
        than sleeping 10 ms between looks; the listener's thread never waits on a read."""
        from bot.runtime.app import KeptAck

        ack = KeptAck(timeout=30.0)
        in_listener: list[object] = []

        def listener() -> None:
            in_listener.append(ack.response)  # before answering: does not wait for itself
            time.sleep(0.05)
            ack(text="done")

        started = time.monotonic()
        threading.Thread(target=listener).start()
        given = ack.response  # waits for the listener's answer, not for 30 s
        waited = time.monotonic() - started
        assert in_listener == [None]
        assert given is not None and given.status == 200 and "done" in given.body
        assert 0.04 <= waited < 10.0

    def test_a_busy_server_leaves_the_ack_to_bolts_poll(self):
        """With `BUSY` Slack requests in flight, a read from the request's thread does not
        wait (Bolt's runner sleeps out its 10 ms tick instead); once they are fewer, it waits
        for the answer again."""
        from bot.runtime.app import BUSY, IN_FLIGHT, KeptAck

        ack = KeptAck(timeout=30.0)
        busy = [IN_FLIGHT for _ in range(BUSY)]
        for request in busy:
            request.__enter__()
        try:
            started = time.monotonic()
            assert ack.response is None  # not the 30 s of its timeout
            assert time.monotonic() - started < 5.0
        finally:
            for request in busy:
                request.__exit__(None, None, None)
        assert IN_FLIGHT.count == 0
        threading.Timer(0.05, ack).start()
        answered = ack.response  # not busy: waits for the answer
        assert answered is not None and answered.status == 200

    def test_a_listener_in_the_requests_thread_is_not_waited_for(self):
        """Under Bolt's process_before_response the listener runs in the request's thread:
        its ack is read there afterwards, and an unanswered read must not wait."""
        from bot.runtime.app import KeptAck

        ack = KeptAck(timeout=30.0, hand_over=False)
        started = time.monotonic()
        assert ack.response is None
        assert time.monotonic() - started < 5.0


class TestListenerMatching:
    def test_listeners_match_on_the_body_alone_as_bolt_would(self, app):
        """Each listener's matchers are given the body directly (`_match_by_body`: Bolt's own
        build every listener argument for each listener tried), and answer as Bolt's own: the
        same listener takes a command, a survey tap, a form and an event."""
        listeners = app.app._listeners
        assert listeners and all(
            any(isinstance(m, _BodyMatcher) for m in listener.matchers) for listener in listeners
        )
        assert not [m for li in listeners for m in li.matchers if type(m) is BuiltinListenerMatcher]

        def form(payload: dict) -> str:
            return "payload=" + urllib.parse.quote(json.dumps(payload))

        team, user = {"id": "T0SIM0001"}, {"id": EMPLOYEE}
        command = {"command": "/symmetry", "text": "help", "team_id": "T0SIM0001"}
        bodies = {
            "symmetry_command": urllib.parse.urlencode({**command, "user_id": EMPLOYEE}),
            "answer_click": form(
                {"type": "block_actions", "team": team, "user": user,
                 "actions": [{"action_id": "pulse_answer:3", "block_id": "q", "value": "x"}]}
            ),
            "submit_report": form(
                {"type": "view_submission", "team": team, "user": user,
                 "view": {"id": "V1", "type": "modal", "callback_id": "irritant_report",
                          "state": {"values": {}}}}
            ),
            "home_opened": json.dumps(
                {"type": "event_callback", "team_id": "T0SIM0001",
                 "event": {"type": "app_home_opened", "user": EMPLOYEE, "tab": "home"}}
            ),
        }  # fmt: skip
        for expected, body in bodies.items():
            request = BoltRequest(body=body)
            response = BoltResponse(status=200)
            ours = [listener.matches(req=request, resp=response) for listener in listeners]
            bolts = [
                all(
                    BuiltinListenerMatcher(func=m.func).matches(request, response)
                    if isinstance(m, _BodyMatcher)
                    else m.matches(request, response)
                    for m in listener.matchers
                )
                for listener in listeners
            ]
            assert ours == bolts, expected
            assert listeners[ours.index(True)].ack_function.__name__ == expected


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


@settings(max_examples=300, deadline=None)
@example(text="a\x00b", shape="command")
@example(text="a\x00b", shape="payload")
@example(text="a\x00b", shape="event")
@example(text="a\x00b", shape="event (ensure_ascii=False)")
@given(
    text=st.text(),
    shape=st.sampled_from(["command", "payload", "event", "event (ensure_ascii=False)"]),
)
def test_a_body_that_reads_as_holding_a_nul_is_always_walked(text, shape):
    """`prepare` strips NUL characters only from bodies whose text as received could hold one
    (`_may_hold_nul`): whatever the text and however Slack encodes it (a form field, a form's
    JSON payload, a JSON event), a body that Bolt reads as holding a NUL is walked."""
    if shape == "command":
        raw = urllib.parse.urlencode({"command": "/irritant", "text": text})
    elif shape == "payload":
        payload = {"type": "view_submission", "view": {"state": {"values": {"d": text}}}}
        raw = urllib.parse.urlencode({"payload": json.dumps(payload)})
    else:
        event = {"type": "event_callback", "event": {"type": "message", "text": text}}
        raw = json.dumps(event, ensure_ascii=shape == "event")
    kind = "application/json" if shape.startswith("event") else "application/x-www-form-urlencoded"
    body = BoltRequest(body=raw, headers={"content-type": [kind]}).body
    if any("\x00" in s for s in _strings(body)):
        assert _may_hold_nul(raw)
    assert not any("\x00" in s for s in _strings(_strip_nul(body)))
