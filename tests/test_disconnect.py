"""A WebSocket that closes without session_end: the call is ended after a grace period, exactly once.

In process (memory store) the rules are checked one by one; with two gunicorn
workers sharing Redis, two connections of one call close at the same moment
on different workers and only one of them ends the call.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from simple_websocket import Client

from flask_aiflow import get_state, hookimpl, signals
from flask_aiflow.calls.disconnect import CLAIM, DISCONNECTED, end_if_abandoned, watch
from flask_aiflow.calls.redis_store import RedisStore
from flask_aiflow.testing import CallSimulator, make_test_app
from flask_aiflow.testing.transports import InProcessWebSocket

from .helpers import SECRET, event
from .server import Server, serve
from .skills import echo

WAIT = 20.0  # seconds: the most any test waits for a cleanup that must come


class Ends:
    """Remembers every session_end it is given."""

    AIFLOW_NAME = "ends"

    def __init__(self) -> None:
        self.events: list[Any] = []

    @hookimpl
    def aiflow_session_end(self, event: Any) -> None:
        self.events.append(event)


class Endings:
    """Collects the app's call_ended signals; ``wait`` blocks (with a deadline) until one came."""

    def __init__(self, app: Any) -> None:
        self.reasons: list[tuple[str, str]] = []
        self.came = threading.Event()
        signals.call_ended.connect(self.receive, app, weak=False)
        self.app = app

    def receive(self, sender: Any, event: Any, session: Any, reason: str, **extra: Any) -> None:
        self.reasons.append((session.id, reason))
        self.came.set()

    def wait(self) -> None:
        assert self.came.wait(WAIT), "the call was not ended"

    def close(self) -> None:
        signals.call_ended.disconnect(self.receive, self.app)


@pytest.fixture
def ends() -> Ends:
    return Ends()


def app_with(ends: Ends, grace: float | None) -> Any:
    return make_test_app(echo, ends, AIFLOW_DISCONNECT_GRACE=grace)


class TestInProcess:
    def test_a_call_left_open_is_ended_after_the_grace_period(self, ends: Ends) -> None:
        app = app_with(ends, 0.05)
        endings = Endings(app)
        try:
            call = CallSimulator(app, transport="websocket").start_call()
            call.say("hello")
            assert [c.id for c in get_state(app).live_calls()] == [call.session_id]
            call.close()  # the connection drops: no session_end
            endings.wait()
        finally:
            endings.close()
        assert endings.reasons == [(call.session_id, DISCONNECTED)]
        assert [e.type for e in ends.events] == ["session_end"]
        assert ends.events[0].session.id == call.session_id
        assert get_state(app).live_calls() == []
        assert get_state(app).store.load(call.session_id) is None
        assert get_state(app).transcript(call.session_id) == []

    def test_a_session_end_reports_its_own_reason(self, ends: Ends) -> None:
        app = app_with(ends, 0.05)
        endings = Endings(app)
        try:
            call = CallSimulator(app, transport="websocket").start_call()
            call.hang_up()
        finally:
            endings.close()
        assert endings.reasons == [(call.session_id, "session_end")]

    def test_nothing_is_watched_without_a_grace_period_or_a_record(self, ends: Ends) -> None:
        app = app_with(ends, None)
        with app.app_context():
            assert watch(get_state(app), ["anything"]) == []
        app = app_with(ends, 5)
        with app.app_context():
            assert watch(get_state(app), ["never-started"]) == []

    def test_a_call_is_ended_once(self, ends: Ends) -> None:
        app = app_with(ends, None)
        client = app.test_client()
        client.post("/webhook", json=event("session_start", "c1"), headers={"X-API-TOKEN": app.config["AIFLOW_SHARED_SECRET"]})
        state = get_state(app)
        seen = state.store.load_record("c1").meta["last_event_at"]  # type: ignore[union-attr]
        with app.app_context():
            assert end_if_abandoned(state, "c1", seen) is True
            assert end_if_abandoned(state, "c1", seen) is False  # it has ended
        assert [e.type for e in ends.events] == ["session_end"]
        assert state.store.load("c1") is None

    def test_a_call_that_came_back_is_left_alone(self, ends: Ends) -> None:
        app = app_with(ends, None)
        headers = {"X-API-TOKEN": app.config["AIFLOW_SHARED_SECRET"]}
        client = app.test_client()
        client.post("/webhook", json=event("session_start", "c1"), headers=headers)
        state = get_state(app)
        seen = state.store.load_record("c1").meta["last_event_at"]  # type: ignore[union-attr]
        time.sleep(0.01)  # so that the next event's time differs from the first one's
        client.post("/webhook", json=event("user_speak", "c1", text="I am back"), headers=headers)
        with app.app_context():
            assert end_if_abandoned(state, "c1", seen) is False
        assert ends.events == [] and state.store.load("c1") is not None

    def test_a_claimed_call_is_left_to_its_claimant(self, ends: Ends) -> None:
        app = app_with(ends, None)
        client = app.test_client()
        client.post("/webhook", json=event("session_start", "c1"), headers={"X-API-TOKEN": app.config["AIFLOW_SHARED_SECRET"]})
        state = get_state(app)
        with state.store.transaction("c1") as txn:
            record = txn.load()
            assert record is not None
            record.meta[CLAIM] = DISCONNECTED
            txn.save(record, 60)
        with app.app_context():
            assert end_if_abandoned(state, "c1", record.meta["last_event_at"]) is False
        assert ends.events == []

    def test_a_new_connection_in_this_process_keeps_the_call(self, ends: Ends) -> None:
        app = app_with(ends, None)
        channel = InProcessWebSocket(app, app.config["AIFLOW_SHARED_SECRET"])
        try:
            channel.send(event("session_start", "c1"))
            state = get_state(app)
            seen = state.store.load_record("c1").meta["last_event_at"]  # type: ignore[union-attr]
            with app.app_context():
                assert end_if_abandoned(state, "c1", seen) is False
        finally:
            channel.close()
        assert ends.events == []


# -- two workers, one Redis ---------------------------------------------------------------


@pytest.fixture(scope="module")
def workers(redis_url: str, tmp_path_factory: Any) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("disconnect")
    notes = folder / "notes.txt"
    notes.touch()
    env = {
        "AIFLOW_STATE_STORE": redis_url,
        "AIFLOW_REDIS_PREFIX": "disconnect:",
        "AIFLOW_DISCONNECT_GRACE": "2",
        "DISCONNECT_LOG": str(notes),
    }
    with serve("tests.apps.disconnect_app:app", workers=2, env=env, log_path=folder / "gunicorn.log") as server:
        server.wait_for_workers(2)
        yield server, notes


def connect(server: Server) -> Any:
    return Client.connect(server.url.replace("http://", "ws://") + "/ws", headers={"X-API-TOKEN": SECRET})


def exchange(ws: Any, data: dict[str, Any]) -> str:
    import json

    ws.send(json.dumps(data))
    reply = ws.receive(timeout=WAIT)
    assert reply is not None, f"no answer to {data['type']}"
    return str(reply)


@contextmanager
def store(redis_url: str) -> Iterator[RedisStore]:
    """The workers' store, as they see it."""
    opened = RedisStore.from_url(redis_url, prefix="disconnect:", lock_ttl=10, lock_wait=5)
    try:
        yield opened
    finally:
        opened.close()


def holder(redis_url: str, session_id: str) -> int:
    """The pid of the worker whose WebSocket carried the call's latest event (from its record)."""
    with store(redis_url) as calls:
        record = calls.load_record(session_id)
    assert record is not None
    return int(record.meta["node"].split(":")[1])


def lines(notes: Path, session_id: str) -> list[list[str]]:
    return [line.split() for line in notes.read_text().splitlines() if f" {session_id} " in line]


def wait_for_lines(notes: Path, session_id: str, count: int) -> list[list[str]]:
    deadline = time.monotonic() + WAIT
    while len(found := lines(notes, session_id)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_two_connections_of_a_call_close_on_two_workers_and_it_ends_once(
    workers: tuple[Server, Path], redis_url: str
) -> None:
    server, notes = workers
    sid = "two-workers"
    first = connect(server)
    assert "Hello" in exchange(first, event("session_start", sid))
    first_pid = holder(redis_url, sid)
    os.kill(first_pid, signal.SIGSTOP)  # so that the second connection goes to the other worker
    try:
        second = connect(server)
        assert "You said again" in exchange(second, event("user_speak", sid, text="again"))
    finally:
        os.kill(first_pid, signal.SIGCONT)
    second_pid = holder(redis_url, sid)
    assert second_pid != first_pid
    first.close()
    second.close()  # both workers now wait out the grace period

    ended = server.wait_for_log(f"call {sid}: ended after its WebSocket closed without session_end")
    left = server.wait_for_log(f"call {sid}: not ended after its WebSocket closed")
    assert len(ended) == 1 and len(left) == 1, server.log()
    assert ended[0].split()[0] == str(second_pid)  # the worker that held the call last ended it
    assert left[0].split()[0] == str(first_pid)
    # the first worker left it alone for one of the reasons that mean "the other one has it":
    # it came back elsewhere, the other worker's claim was there first, or the call was gone
    assert any(reason in left[0] for reason in ("another process", "another closed connection", "ended meanwhile"))

    found = wait_for_lines(notes, sid, 2)
    assert sorted(line[0] for line in found) == ["call_ended", "session_end"], found
    assert [line[2] for line in found if line[0] == "call_ended"] == [DISCONNECTED]
    assert [line[2] for line in found if line[0] == "session_end"] == ["user_speak"]  # it saw the call's state
    with store(redis_url) as calls:
        assert calls.load(sid) is None and calls.transcript(sid) == []


def test_a_call_that_comes_back_on_another_worker_is_not_ended(workers: tuple[Server, Path], redis_url: str) -> None:
    server, notes = workers
    sid = "comes-back"
    first = connect(server)
    exchange(first, event("session_start", sid))
    first_pid = holder(redis_url, sid)
    first.close()  # the grace period (2 s) starts
    os.kill(first_pid, signal.SIGSTOP)
    try:
        second = connect(server)  # the service reconnects, to the other worker
    finally:
        os.kill(first_pid, signal.SIGCONT)
    assert "You said back" in exchange(second, event("user_speak", sid, text="back"))
    verdict = server.wait_for_log(f"call {sid}: not ended after its WebSocket closed")
    assert verdict and "it came back on a connection to another process" in verdict[0], server.log()
    assert lines(notes, sid) == []
    exchange(second, event("user_speak", sid, text="still here"))
    second.send('{"type":"session_end","session":{"id":"%s"}}' % sid)
    found = wait_for_lines(notes, sid, 2)
    assert sorted((line[0], line[2]) for line in found) == [("call_ended", "session_end"), ("session_end", "user_speak")]
    second.close()
