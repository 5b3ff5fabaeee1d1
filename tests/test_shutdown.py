"""Graceful shutdown: a WebSocket call finishes its event in hand, then closes with 1001."""

from __future__ import annotations

import json
import os
import signal
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from simple_websocket import ConnectionClosed

from flask_aiflow.web import shutdown
from flask_aiflow.web.routes import serve_websocket

from .helpers import event, make_app, make_skill


@pytest.fixture(autouse=True)
def fresh_process_state() -> Iterator[None]:
    shutdown.reset()
    yield
    shutdown.reset()


class RecordingSocket:
    """A ws-like object: plays queued messages, records answers and how it was closed."""

    def __init__(self, messages: list[str]) -> None:
        self.incoming = deque(messages)
        self.sent: list[Any] = []
        self.closed_with: tuple[int | None, str | None] | None = None
        self.timeouts: list[float | None] = []

    def receive(self, timeout: float | None = None) -> str | None:
        self.timeouts.append(timeout)
        if not self.incoming:
            raise ConnectionClosed()
        return self.incoming.popleft()

    def send(self, data: str) -> None:
        self.sent.append(json.loads(data))

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        self.closed_with = (reason, message)


def serve(app: Any, ws: RecordingSocket) -> None:
    with app.test_request_context("/ws"):
        try:
            serve_websocket(ws, app.extensions["aiflow"])
        except ConnectionClosed:
            pass


def test_the_event_in_hand_is_answered_then_the_call_closes_with_going_away() -> None:
    def stop_mid_event(event: Any, call: Any) -> str:
        shutdown.begin_shutdown()  # SIGTERM arrives while this event is handled
        return f"answered: {event.text}"

    app = make_app(make_skill("slow", user_speak=stop_mid_event))
    ws = RecordingSocket([
        json.dumps(event("user_speak", "c1", text="first")),
        json.dumps(event("user_speak", "c1", text="never read")),
    ])
    serve(app, ws)
    assert ws.sent == [{"type": "speak", "session_id": "c1", "text": "answered: first"}]
    assert ws.closed_with is not None and ws.closed_with[0] == shutdown.GOING_AWAY == 1001
    assert len(ws.incoming) == 1  # the next event was left for the platform to retry elsewhere


def test_an_idle_call_closes_without_reading_more() -> None:
    app = make_app(make_skill("echo", user_speak=lambda event, call: "hi"))
    ws = RecordingSocket([json.dumps(event("user_speak", "c2"))])
    shutdown.begin_shutdown()
    serve(app, ws)
    assert ws.sent == [] and ws.closed_with is not None and ws.closed_with[0] == 1001


def test_the_loop_waits_with_a_timeout_so_it_notices_a_shutdown() -> None:
    app = make_app(make_skill("echo", user_speak=lambda event, call: "hi"))
    ws = RecordingSocket([json.dumps(event("user_speak", "c3"))])
    serve(app, ws)  # ends when the scripted peer closes
    assert ws.sent == [{"type": "speak", "session_id": "c3", "text": "hi"}]
    assert all(timeout == shutdown.POLL_SECONDS for timeout in ws.timeouts)
    assert ws.closed_with is None  # the peer closed; nothing to send


def test_sigterm_hook_begins_the_shutdown_and_chains_the_previous_handler() -> None:
    seen: list[int] = []
    original = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        shutdown.install_sigterm_hook()
        assert not shutdown.shutting_down()
        os.kill(os.getpid(), signal.SIGTERM)
        assert shutdown.shutting_down()
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, original)
