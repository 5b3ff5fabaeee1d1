"""The production configurations in examples/deploy/: graceful shutdown with an event in flight.

Each test starts the real server with the shipped configuration, sends an
event that a test skill holds in hand, sends SIGTERM to the server while that
event is being handled, and checks that the event still gets its answer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_websocket import Client, ConnectionClosed

from .helpers import SECRET, event
from .server import ROOT, free_port, wait_until_up

pytestmark = pytest.mark.server

DEPLOY = ROOT / "examples" / "deploy"
APP = "tests.apps.slow_app:app"


@contextmanager
def serve(command: Sequence[str], port: int, log: Path, markers: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AIFLOW_APP": APP, "WEB_CONCURRENCY": "1",
           "AIFLOW_TEST_MARKER_DIR": str(markers)}
    with open(log, "wb") as out:
        process = subprocess.Popen(list(command), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            wait_until_up(f"http://127.0.0.1:{port}", process)
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def gunicorn_command(port: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}"]


def granian_command(port: int) -> list[str]:
    return [sys.executable, str(DEPLOY / "granian_webhook.py")]


def wait_for(path: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"the skill never started handling the event ({path.name})")
        time.sleep(0.01)


def post_in_background(url: str, data: dict[str, Any]) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def post() -> None:
        try:
            # Connection: close, so no idle keep-alive connection makes the server wait after the answer.
            headers = {"X-API-TOKEN": SECRET, "Connection": "close"}
            result["response"] = requests.post(url, json=data, headers=headers, timeout=30)
        except requests.RequestException as exc:
            result["error"] = exc

    thread = threading.Thread(target=post)
    thread.start()
    return thread, result


def stopped_cleanly(process: subprocess.Popen[bytes], log: Path) -> str:
    """Wait for the server to exit by itself; return its log."""
    process.wait(timeout=60)
    return log.read_text(errors="replace")


class TestGunicornConfig:
    def test_a_webhook_event_in_flight_gets_its_answer(self, tmp_path: Path) -> None:
        port, log = free_port(), tmp_path / "server.log"
        with serve(gunicorn_command(port), port, log, tmp_path) as process:
            thread, result = post_in_background(f"http://127.0.0.1:{port}/webhook",
                                                event("user_speak", "hook-1", text="slow"))
            wait_for(tmp_path / "hook-1")
            process.send_signal(signal.SIGTERM)
            thread.join(timeout=40)
            assert "error" not in result, result
            assert result["response"].status_code == 200
            assert result["response"].json() == {"type": "speak", "session_id": "hook-1",
                                                 "text": "finished after shutdown began"}
            output = stopped_cleanly(process, log)
        assert process.returncode == 0
        assert "graceful timeout" not in output.lower()

    def test_a_websocket_call_answers_its_event_then_closes_with_going_away(self, tmp_path: Path) -> None:
        port, log = free_port(), tmp_path / "server.log"
        with serve(gunicorn_command(port), port, log, tmp_path) as process:
            ws = Client.connect(f"ws://127.0.0.1:{port}/ws", headers={"X-API-TOKEN": SECRET})
            idle = Client.connect(f"ws://127.0.0.1:{port}/ws", headers={"X-API-TOKEN": SECRET})
            try:
                ws.send(json.dumps(event("user_speak", "ws-1", text="hello")))
                assert json.loads(ws.receive(timeout=10))["text"] == "You said: hello"
                ws.send(json.dumps(event("user_speak", "ws-1", text="slow")))
                wait_for(tmp_path / "ws-1")
                process.send_signal(signal.SIGTERM)
                answer = ws.receive(timeout=30)
                assert json.loads(answer) == {"type": "speak", "session_id": "ws-1",
                                              "text": "finished after shutdown began"}
                for client in (ws, idle):  # the busy call and an idle one both close with 1001
                    with pytest.raises(ConnectionClosed):
                        client.receive(timeout=30)
                    assert client.close_reason == 1001
            finally:
                for client in (ws, idle):
                    if client.connected:
                        client.close()
            output = stopped_cleanly(process, log)
        assert process.returncode == 0
        assert "graceful timeout" not in output.lower()


def test_granian_webhook_config_answers_the_event_in_flight(tmp_path: Path, monkeypatch: Any) -> None:
    port, log = free_port(), tmp_path / "server.log"
    monkeypatch.setenv("AIFLOW_PORT", str(port))
    with serve(granian_command(port), port, log, tmp_path) as process:
        thread, result = post_in_background(f"http://127.0.0.1:{port}/webhook",
                                            event("user_speak", "granian-1", text="sleep"))
        wait_for(tmp_path / "granian-1")
        process.send_signal(signal.SIGTERM)
        thread.join(timeout=40)
        assert "error" not in result, result
        assert result["response"].status_code == 200
        assert result["response"].json()["text"] == "finished"
        stopped_cleanly(process, log)
    assert process.returncode == 0
