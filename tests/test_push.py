"""``send(session_id, action)``: pushing actions into a live call's WebSocket, in one process.

Across worker processes (Redis pub/sub) see tests/test_multiprocess.py.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from simple_websocket import Client, ConnectionClosed

from flask_aiflow import CallNotConnected, InvalidActionError, barge_in, send, speak
from flask_aiflow.web.routes import serve_websocket

from .helpers import SECRET, event, make_app, wait_until
from .server import Server, serve


class QueueSocket:
    """A ws-like object fed from a queue; records what is sent and catches overlapping sends."""

    def __init__(self) -> None:
        self.incoming: queue.Queue[Any] = queue.Queue()
        self.sent: list[dict[str, Any]] = []
        self.overlaps = 0
        self._sending = False
        self.got = threading.Condition()

    def receive(self, timeout: float | None = None) -> Any:
        message = self.incoming.get()
        if message is None:
            raise ConnectionClosed()
        return message

    def send(self, data: str) -> None:
        if self._sending:
            self.overlaps += 1
        self._sending = True
        time.sleep(0.0005)  # a send that takes a moment, as on a real socket
        self._sending = False
        with self.got:
            self.sent.append(json.loads(data))
            self.got.notify_all()

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        with self.got:
            assert self.got.wait_for(lambda: len(self.sent) >= count, timeout=10)
        return self.sent


@pytest.fixture
def live() -> Iterator[tuple[Any, QueueSocket]]:
    """An app (memory store) whose WebSocket loop runs in a thread, fed by a QueueSocket."""
    app = make_app(AIFLOW_FALLBACK=None, AIFLOW_DEFAULT_TTS={"provider": "azure", "language": "de-DE", "voice": "de-DE-KatjaNeural"})
    ws = QueueSocket()

    def loop() -> None:
        with app.test_request_context("/ws"):
            try:
                serve_websocket(ws, app.extensions["aiflow"])
            except ConnectionClosed:
                pass

    thread = threading.Thread(target=loop)
    thread.start()
    yield app, ws
    ws.incoming.put(None)
    thread.join(timeout=10)


def start_call(ws: QueueSocket, session_id: str) -> None:
    ws.incoming.put(json.dumps(event("session_start", session_id)))
    ws.incoming.put(json.dumps(event("assistant_speak", session_id)))  # answered with nothing


def registered(app: Any, session_id: str) -> bool:
    wait_until(lambda: app.extensions["aiflow"].hub.holds(session_id), f"the call {session_id} was never registered")
    return True


class TestInOneProcess:
    def test_send_from_a_background_thread_reaches_the_socket(self, live: tuple[Any, QueueSocket]) -> None:
        app, ws = live
        start_call(ws, "c1")
        assert registered(app, "c1")
        results: list[bool] = []

        def dashboard() -> None:
            with app.app_context():
                results.append(send("c1", barge_in()))
                results.append(app.extensions["aiflow"].extension.send("c1", "Please hold."))

        thread = threading.Thread(target=dashboard)
        thread.start()
        thread.join()
        assert results == [True, True]
        assert ws.wait_for(2) == [
            {"type": "barge_in", "session_id": "c1"},
            {
                "type": "speak",
                "session_id": "c1",
                "text": "Please hold.",
                "tts": {"provider": "azure", "language": "de-DE", "voice": "de-DE-KatjaNeural"},
            },
        ]

    def test_sends_from_many_threads_never_interleave(self, live: tuple[Any, QueueSocket]) -> None:
        app, ws = live
        start_call(ws, "c1")
        assert registered(app, "c1")

        def push(number: int) -> None:
            with app.app_context():
                for index in range(10):
                    assert send("c1", speak(f"{number}-{index}"))

        threads = [threading.Thread(target=push, args=(number,)) for number in range(4)]
        for thread in threads:
            thread.start()
        for _ in range(10):  # the loop's own replies compete for the socket too
            ws.incoming.put(json.dumps(event("user_input_timeout", "c1")))
        for thread in threads:
            thread.join()
        assert len(ws.wait_for(40)) == 40
        assert ws.overlaps == 0
        assert sorted(a["text"] for a in ws.sent) == sorted(f"{n}-{i}" for n in range(4) for i in range(10))

    def test_a_call_that_ended_or_never_connected_is_an_error(self, live: tuple[Any, QueueSocket]) -> None:
        app, ws = live
        with app.app_context():
            with pytest.raises(CallNotConnected, match="'nobody' is not connected") as caught:
                send("nobody", barge_in())
            assert caught.value.session_id == "nobody"
            start_call(ws, "c1")
            assert registered(app, "c1")
            ws.incoming.put(json.dumps(event("session_end", "c1")))
            wait_until(lambda: not app.extensions["aiflow"].hub.holds("c1"), "the ended call is still registered")
            with pytest.raises(CallNotConnected):
                send("c1", barge_in())

    def test_a_webhook_call_is_not_connected(self) -> None:
        app = make_app()
        app.test_client().post("/webhook", json=event("session_start", "w1"), headers={"X-API-TOKEN": SECRET})
        with app.app_context(), pytest.raises(CallNotConnected, match="no open WebSocket"):
            send("w1", barge_in())

    @pytest.mark.parametrize(
        ("action", "error"),
        [
            ({"type": "speak"}, InvalidActionError),
            ({"type": "barge_in", "session_id": "someone-else"}, ValueError),
            (42, TypeError),
        ],
    )
    def test_bad_actions_are_refused_before_anything_is_sent(self, action: Any, error: type[Exception]) -> None:
        app = make_app()
        with app.app_context(), pytest.raises(error):
            send("c1", action)

    def test_send_outside_an_app_context_says_so(self) -> None:
        with pytest.raises(RuntimeError, match="application context"):
            send("c1", barge_in())


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: Any) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("push") / "gunicorn.log"
    with serve("tests.apps.scale_app:app", workers=1, log_path=log) as server:
        yield server


@pytest.mark.server
class TestOverRealSockets:
    def test_a_route_pushes_into_a_websocket_call(self, one_worker: Server) -> None:
        ws = Client.connect(one_worker.url.replace("http://", "ws://") + "/ws", headers={"X-API-TOKEN": SECRET})
        try:
            ws.send(json.dumps(event("session_start", "live-1")))
            assert json.loads(ws.receive(timeout=5))["text"] == "Welcome. Say something."
            response = requests.post(f"{one_worker.url}/test/send/live-1", json={"type": "barge_in"}, timeout=10)
            assert response.json() == {"delivered": True}
            assert json.loads(ws.receive(timeout=5)) == {"type": "barge_in", "session_id": "live-1"}
            [call] = [c for c in requests.get(f"{one_worker.url}/test/live", timeout=5).json() if c["id"] == "live-1"]
            assert (call["transport"], call["floor_holder"], call["last_event"]) == ("websocket", "counter", "session_start")
        finally:
            ws.close()
        missing = requests.post(f"{one_worker.url}/test/send/nobody", json={"type": "barge_in"}, timeout=10)
        assert missing.status_code == 404 and missing.json()["error"] == "not_connected"


class TestWorkerWarning:
    def test_web_concurrency_above_one_with_the_memory_store_warns(self, monkeypatch: Any, caplog: Any) -> None:
        monkeypatch.setenv("WEB_CONCURRENCY", "3")
        with caplog.at_level(logging.WARNING, "flask_aiflow"):
            make_app()
        [warning] = [r.getMessage() for r in caplog.records if "worker processes" in r.getMessage()]
        assert "3 worker processes (WEB_CONCURRENCY)" in warning and "AIFLOW_STATE_STORE" in warning

    @pytest.mark.parametrize("value", ["1", "", "lots"])
    def test_one_or_an_unknown_number_of_workers_does_not_warn(self, monkeypatch: Any, caplog: Any, value: str) -> None:
        monkeypatch.setenv("WEB_CONCURRENCY", value)
        with caplog.at_level(logging.WARNING, "flask_aiflow"):
            make_app()
        assert not [r for r in caplog.records if "worker processes" in r.getMessage()]

    def test_a_shared_store_does_not_warn(self, monkeypatch: Any, caplog: Any, redis_url: str, redis_prefix: str) -> None:
        monkeypatch.setenv("WEB_CONCURRENCY", "4")
        with caplog.at_level(logging.WARNING, "flask_aiflow"):
            make_app(AIFLOW_STATE_STORE=redis_url, AIFLOW_REDIS_PREFIX=redis_prefix)
        assert not [r for r in caplog.records if "worker processes" in r.getMessage()]
