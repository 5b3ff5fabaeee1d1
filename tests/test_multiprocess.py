"""Several gunicorn worker processes: whole calls over HTTP, a killed worker, pushes across workers.

Consecutive requests of a test would all be taken by the same idle worker, so
the tests steer them: after each event the worker that served it is paused
(SIGSTOP) until the next event has been served by another one. Every event of
a call thus lands on a different worker process than the one before it, just
as behind a load balancer on a busy day.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_websocket import Client, ConnectionClosed

from flask_aiflow.calls.redis_store import RedisStore

from .helpers import SECRET, assert_next_answers, event, wait_until
from .server import Server, serve

pytestmark = pytest.mark.server

APP = "tests.apps.scale_app:app"
WARNING = "keeps call state in memory, per process"

#: One whole call: silence escalation, caller turns (one barging in), a
#: farewell with its hang-up delivered after the speech ends.
CALL: list[tuple[str, dict[str, Any]]] = [
    ("session_start", {}),
    ("assistant_speak", {"text": "Welcome. Say something."}),
    ("assistant_speech_ended", {}),
    ("user_input_timeout", {}),
    ("user_input_timeout", {}),
    ("user_speak", {"text": "one"}),
    ("assistant_speak", {"text": "Turn 1"}),
    ("user_speak", {"text": "two", "barged_in": True}),
    ("assistant_speech_ended", {}),
    ("user_input_timeout", {}),
    ("user_input_timeout", {}),
    ("user_speak", {"text": "three"}),
    ("user_input_timeout", {}),
    ("user_input_timeout", {}),
    ("user_input_timeout", {}),
    ("assistant_speak", {"text": "I hear nothing. Goodbye."}),
    ("assistant_speech_ended", {}),
    ("session_end", {}),
]


class Rotation:
    """Pauses the worker that served the last request, so the next one goes elsewhere."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.paused: int | None = None
        self.pids: list[int] = []

    def served(self, pid: int) -> None:
        self.pids.append(pid)
        self.resume()
        if len(self.server.worker_pids()) > 1:
            os.kill(pid, signal.SIGSTOP)
            self.paused = pid

    def resume(self) -> None:
        if self.paused is not None:
            try:
                os.kill(self.paused, signal.SIGCONT)
            except ProcessLookupError:
                pass
            self.paused = None


def post(url: str, data: Any) -> requests.Response:
    return requests.post(f"{url}/webhook", json=data, headers={"X-API-TOKEN": SECRET}, timeout=10)


def play(server: Server, session_id: str, steps: list[tuple[str, dict[str, Any]]], rotation: Rotation) -> list[Any]:
    """Send each event of ``steps``; returns (status, action without its session id) per event."""
    answers = []
    try:
        for type_, fields in steps:
            response = post(server.url, event(type_, session_id, **fields))
            rotation.served(int(response.headers["X-Worker-Pid"]))
            action = response.json() if response.status_code == 200 else None
            if action is not None:
                assert action.pop("session_id") == session_id
            answers.append((response.status_code, action))
    finally:
        rotation.resume()
    return answers


@pytest.fixture(scope="module")
def reference(tmp_path_factory: Any) -> list[Any]:
    """The call as one process with the in-memory store plays it."""
    log = tmp_path_factory.mktemp("one") / "gunicorn.log"
    with serve(APP, workers=1, log_path=log) as server:
        answers = play(server, "the-call", CALL, Rotation(server))
        log_text = server.log()
    assert WARNING not in log_text
    return answers


@pytest.fixture(scope="module")
def redis_workers(any_redis_url: str, tmp_path_factory: Any) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("redis") / "gunicorn.log"
    env = {"AIFLOW_STATE_STORE": any_redis_url, "AIFLOW_REDIS_PREFIX": "multi:"}
    with serve(APP, workers=4, env=env, log_path=log) as server:
        server.wait_for_workers(4)
        yield server


def test_the_reference_call_is_what_the_skills_say(reference: list[Any]) -> None:
    texts = [action["text"] if action and action["type"] == "speak" else (action or {}).get("type") for _, action in reference]
    # The transcript holds what the app said (its speak answers) and what the
    # caller said; an assistant_speak adds a turn only for speech not recorded
    # from an answer (here "Turn 1", whose text differs from the answer's).
    assert texts == [
        "Welcome. Say something.",
        None,
        None,
        "Are you still there? (1 of 3)",
        "Are you still there? (2 of 3)",
        "Turn 1: you said one. 4 turns so far.",
        None,
        "Turn 2: you said two. 7 turns so far.",
        None,
        "Are you still there? (1 of 3)",
        "Are you still there? (2 of 3)",
        "Turn 3: you said three. 11 turns so far.",
        "Are you still there? (1 of 3)",
        "Are you still there? (2 of 3)",
        "I hear nothing. Goodbye.",
        None,
        "hangup",
        None,
    ]


def test_four_workers_with_redis_play_the_call_exactly_as_one_process(
    redis_workers: Server, reference: list[Any]
) -> None:
    rotation = Rotation(redis_workers)
    assert play(redis_workers, "the-call", CALL, rotation) == reference
    assert all(first != second for first, second in zip(rotation.pids, rotation.pids[1:]))
    assert len(set(rotation.pids)) >= 2
    assert WARNING not in redis_workers.log()
    live = requests.get(f"{redis_workers.url}/test/live", timeout=5).json()
    assert "the-call" not in [call["id"] for call in live]  # session_end removed it


def test_a_worker_killed_mid_call_loses_nothing(redis_workers: Server, reference: list[Any]) -> None:
    rotation = Rotation(redis_workers)
    half = len(CALL) // 2
    first = play(redis_workers, "killed", CALL[:half], rotation)
    victim = rotation.pids[-1]
    assert victim in redis_workers.worker_pids()
    os.kill(victim, signal.SIGKILL)
    live = requests.get(f"{redis_workers.url}/test/live", timeout=5).json()
    [call] = [call for call in live if call["id"] == "killed"]
    assert (call["floor_holder"], call["transport"]) == ("counter", "webhook")
    rest = play(redis_workers, "killed", CALL[half:], rotation)
    assert victim not in rotation.pids[half:]
    assert first + rest == reference
    redis_workers.wait_for_workers(4)  # gunicorn replaces the dead worker


def test_the_memory_store_under_four_workers_is_warned_about_and_loses_state(
    tmp_path: Path, reference: list[Any]
) -> None:
    log = tmp_path / "gunicorn.log"
    with serve(APP, workers=4, log_path=log) as server:
        server.wait_for_workers(4)
        answers = play(server, "the-call", CALL, Rotation(server))
        pids = server.worker_pids()
        warnings = server.wait_for_log(WARNING, count=4)
    assert len(warnings) == 4  # one per worker
    assert "4 worker processes (gunicorn --workers)" in warnings[0]
    assert answers != reference  # and rightly so: the call forgot itself between workers
    assert len(pids) == 4


def test_the_warning_also_comes_with_preload(tmp_path: Path) -> None:
    """With --preload the app is loaded once, in the arbiter, before the workers fork."""
    with serve(APP, workers=2, extra_args=["--preload"], log_path=tmp_path / "gunicorn.log") as server:
        warnings = server.wait_for_log(WARNING)
    assert len(warnings) == 1 and "2 worker processes (gunicorn --workers)" in warnings[0]


class TestPushAcrossWorkers:
    def test_an_action_pushed_from_another_worker_reaches_the_socket(self, redis_workers: Server) -> None:
        ws = self.connect(redis_workers)
        try:
            ws.send(json.dumps(event("session_start", "pushed")))
            assert json.loads(ws.receive(timeout=5))["text"] == "Welcome. Say something."
            holder = requests.get(f"{redis_workers.url}/test/holder/pushed", timeout=5).json()["pid"]
            assert holder in redis_workers.worker_pids()

            # pause the holder while another worker takes the push request; the
            # holder delivers it once it runs again, within the push timeout
            served_by, result = self.push_from_another_worker(redis_workers, holder, "pushed")
            assert served_by != holder
            assert result == (200, {"delivered": True})
            assert json.loads(ws.receive(timeout=5)) == {"type": "barge_in", "session_id": "pushed"}

            # the call goes on on the same connection
            ws.send(json.dumps(event("user_speak", "pushed", text="hello")))
            assert json.loads(ws.receive(timeout=5))["text"].startswith("Turn 1: you said hello.")

            ws.send(json.dumps(event("session_end", "pushed")))
            # nothing is sent for session_end: the next message answers the next call's start
            assert_next_answers(ws, event("session_start", "pushed-next"))
            ws.send(json.dumps(event("session_end", "pushed-next")))
            response = requests.post(f"{redis_workers.url}/test/send/pushed", json={"type": "barge_in"}, timeout=10)
            assert response.status_code == 404 and response.json()["error"] == "not_connected"
        finally:
            ws.close()

    def test_a_closed_connection_is_not_connected_from_any_worker(self, redis_workers: Server) -> None:
        ws = self.connect(redis_workers)
        ws.send(json.dumps(event("session_start", "dropped")))
        ws.receive(timeout=5)
        holder = requests.get(f"{redis_workers.url}/test/holder/dropped", timeout=5).json()["pid"]
        ws.close()  # no session_end: the connection just went away
        for _ in range(5):  # a push racing the close may still get through; then it must not
            served_by, (status, body) = self.push_from_another_worker(redis_workers, holder, "dropped")
            if status == 404:
                break
        assert served_by != holder
        assert (status, body["error"]) == (404, "not_connected")
        assert body["reason"] == "the process that held its WebSocket no longer holds it"

    def test_a_holder_that_died_is_not_connected(self, redis_workers: Server) -> None:
        ws = self.connect(redis_workers)
        try:
            ws.send(json.dumps(event("session_start", "orphan")))
            ws.receive(timeout=5)
            holder = requests.get(f"{redis_workers.url}/test/holder/orphan", timeout=5).json()["pid"]
            os.kill(holder, signal.SIGKILL)
            outcomes = []
            for _ in range(10):  # until Redis has seen the dead holder's subscription go
                response = requests.post(f"{redis_workers.url}/test/send/orphan", json={"type": "hangup"}, timeout=10)
                outcomes.append((response.status_code, response.json()))
                if response.status_code == 404:
                    break
            # before that, a push is published but never acknowledged: not delivered
            assert all(outcome == (200, {"delivered": False}) for outcome in outcomes[:-1])
            assert outcomes[-1] == (
                404,
                {"error": "not_connected", "reason": "the process that held its WebSocket no longer holds it"},
            )
        finally:
            with contextlib.suppress(ConnectionClosed):
                ws.close()
        redis_workers.wait_for_workers(4)

    def test_a_webhook_call_is_not_connected(self, redis_workers: Server) -> None:
        post(redis_workers.url, event("session_start", "hooked"))
        response = requests.post(f"{redis_workers.url}/test/send/hooked", json={"type": "barge_in"}, timeout=10)
        assert response.status_code == 404
        assert response.json()["reason"] == "no open WebSocket is known for it"

    @staticmethod
    def connect(server: Server) -> Client:
        return Client.connect(server.url.replace("http://", "ws://") + "/ws", headers={"X-API-TOKEN": SECRET})

    @staticmethod
    def push_from_another_worker(server: Server, holder: int, session_id: str) -> tuple[int, Any]:
        """POST a barge_in to /test/send while the holder is paused, so another worker must take it.

        The holder resumes once that worker has forwarded the push to it: the
        forward is a PUBLISH on the holder's Redis channel, which the test
        watches (the holder itself cannot publish while it is stopped).
        """
        results: list[requests.Response] = []

        def push() -> None:
            results.append(requests.post(f"{server.url}/test/send/{session_id}", json={"type": "barge_in"}, timeout=10))

        node = requests.get(f"{server.url}/test/holder/{session_id}", timeout=5).json()["node"]
        # the app's own store and relay, so the watch is what the workers use
        # (plain pub/sub on one Redis, sharded pub/sub on a cluster)
        store = RedisStore.from_url(server.env["AIFLOW_STATE_STORE"], prefix=server.env["AIFLOW_REDIS_PREFIX"])
        relay = store.relay()
        watcher = store.client.pubsub()
        if relay.sharded:
            watcher.ssubscribe(relay.channel(node))
        else:
            watcher.subscribe(relay.channel(node))

        def next_message_is(kind: str) -> bool:
            if relay.sharded:
                message = watcher.get_sharded_message(timeout=0.05)
            else:
                message = watcher.get_message(timeout=0.05)
            return message is not None and message["type"] in (kind, "s" + kind)

        sender = threading.Thread(target=push)
        try:
            wait_until(lambda: next_message_is("subscribe"), "Redis did not confirm the test's subscription")
            os.kill(holder, signal.SIGSTOP)
            try:
                sender.start()
                wait_until(
                    lambda: next_message_is("message") or not sender.is_alive(),
                    f"no other worker took the push for {session_id} while its holder {holder} was paused",
                )
            finally:
                os.kill(holder, signal.SIGCONT)
        finally:
            watcher.close()
            store.close()
        sender.join(timeout=15)
        [response] = results
        return int(response.headers["X-Worker-Pid"]), (response.status_code, response.json())
