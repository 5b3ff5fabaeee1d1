"""Slow work behind real servers: gunicorn over HTTP and WebSocket, and two workers sharing Redis.

The work waits for a gate file the test opens (tests/skills/orders.py); the
test then waits, bounded, until the call's record shows the answer, read
through the app's ``/test/deferred/<id>`` route.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from flask_aiflow.config import DEFAULTS
from flask_aiflow.testing import CallSimulator

from .helpers import SECRET, event
from .server import Server, serve
from .skills import orders

pytestmark = pytest.mark.server

APP = "tests.apps.deferred_app:app"
APOLOGY = DEFAULTS["AIFLOW_DEFERRED_APOLOGY"]


def pending(url: str, session_id: str) -> Any:
    return requests.get(f"{url}/test/deferred/{session_id}", timeout=10).json()


def wait_until(check: Any, what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def answer_ready(url: str, session_id: str) -> bool:
    entry = pending(url, session_id)
    return entry is None or bool(entry["queue"])


@pytest.fixture(scope="module")
def gate_dir(tmp_path_factory: Any) -> Path:
    return Path(tmp_path_factory.mktemp("gates"))


@pytest.fixture(scope="module")
def server(gate_dir: Path, tmp_path_factory: Any) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("deferred") / "gunicorn.log"
    with serve(APP, env={"AIFLOW_TEST_GATE_DIR": str(gate_dir)}, log_path=log) as running:
        yield running


def test_over_http_the_answer_follows_the_filler_once(server: Server, gate_dir: Path) -> None:
    call = CallSimulator(server.url, secret=SECRET).start_call()
    turn = call.say("where is my order")
    assert turn.spoken == [orders.FILLER]
    (gate_dir / call.session_id).write_text("ok")
    wait_until(lambda: answer_ready(server.url, call.session_id), "the answer")
    assert call.silence().spoken == [orders.ANSWER]
    call.silence()
    call.hang_up()
    spoken = [text for turn in call.turns for text in turn.spoken]
    assert spoken.count(orders.ANSWER) == 1
    assert spoken.count(orders.FILLER) == 1


def test_over_websocket_the_answer_is_pushed_once(server: Server, gate_dir: Path) -> None:
    call = CallSimulator(server.url, secret=SECRET, transport="websocket").start_call()
    assert call.say("where is my order").spoken == [orders.FILLER]
    call.speech_ends()
    (gate_dir / call.session_id).write_text("ok")
    assert call.wait_for_push().spoken == [orders.ANSWER]
    call.speech_ends()
    call.hang_up()
    spoken = [text for turn in call.turns for text in turn.spoken]
    assert spoken.count(orders.ANSWER) == 1


def test_over_http_a_newer_turn_drops_the_late_answer(server: Server, gate_dir: Path) -> None:
    call = CallSimulator(server.url, secret=SECRET).start_call()
    call.say("where is my order")
    assert call.say("hello").spoken == ["You said: hello"]
    assert pending(server.url, call.session_id) is None
    (gate_dir / call.session_id).write_text("ok")
    call.silence()
    call.hang_up()
    assert orders.ANSWER not in [text for turn in call.turns for text in turn.spoken]


# -- two workers, one Redis -----------------------------------------------------------------


def post(url: str, data: Any) -> requests.Response:
    return requests.post(f"{url}/webhook", json=data, headers={"X-API-TOKEN": SECRET}, timeout=10)


@pytest.fixture(scope="module")
def redis_workers(redis_url: str, gate_dir: Path, tmp_path_factory: Any) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("redis") / "gunicorn.log"
    env = {
        "AIFLOW_STATE_STORE": redis_url,
        "AIFLOW_REDIS_PREFIX": "deferred:",
        "AIFLOW_TEST_GATE_DIR": str(gate_dir),
        "AIFLOW_TEST_HURRY_DEADLINE": "1.5",
    }
    with serve(APP, workers=2, env=env, log_path=log) as running:
        running.wait_for_workers(2)
        yield running


def speak_filler(url: str, session_id: str, text: str) -> int:
    """Start the call and ask; returns the pid of the worker that started the work."""
    assert post(url, event("session_start", session_id)).status_code in (200, 204)
    response = post(url, event("user_speak", session_id, text=text))
    assert response.json()["text"] == orders.FILLER
    return int(response.headers["X-Worker-Pid"])


def test_work_started_by_one_worker_is_delivered_by_the_other(redis_workers: Server, gate_dir: Path) -> None:
    session_id = f"redis-{uuid.uuid4().hex[:8]}"
    starter = speak_filler(redis_workers.url, session_id, "where is my order")
    (gate_dir / session_id).write_text("ok")
    wait_until(lambda: answer_ready(redis_workers.url, session_id), "the answer in the record")
    os.kill(starter, signal.SIGSTOP)  # the next events must land on the other worker
    try:
        post(redis_workers.url, event("assistant_speak", session_id, text=orders.FILLER))
        response = post(redis_workers.url, event("assistant_speech_ended", session_id))
    finally:
        os.kill(starter, signal.SIGCONT)
    assert int(response.headers["X-Worker-Pid"]) != starter
    assert response.json()["text"] == orders.ANSWER
    assert pending(redis_workers.url, session_id) is None


def test_when_the_worker_running_the_work_dies_the_deadline_still_applies(redis_workers: Server, gate_dir: Path) -> None:
    session_id = f"dies-{uuid.uuid4().hex[:8]}"
    starter = speak_filler(redis_workers.url, session_id, "order in a hurry")
    os.kill(starter, signal.SIGKILL)  # the gate stays closed: nobody will ever answer
    entry = pending(redis_workers.url, session_id)
    assert entry is not None and not entry["finished"]
    wait_until(lambda: time.time() > entry["deadline_at"], "the deadline")
    assert not pending(redis_workers.url, session_id)["finished"]  # no clock wrote the apology
    post(redis_workers.url, event("assistant_speak", session_id, text=orders.FILLER))
    ended = post(redis_workers.url, event("assistant_speech_ended", session_id))
    assert int(ended.headers["X-Worker-Pid"]) != starter
    if ended.status_code == 204:  # the poll armed on the filler comes next
        ended = post(redis_workers.url, event("user_input_timeout", session_id))
    assert ended.json()["text"] == APOLOGY
    redis_workers.wait_for_workers(2)
