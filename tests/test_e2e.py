"""Both transports end to end: gunicorn serving, real HTTP and WebSocket clients."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from simple_websocket import Client

from .helpers import SECRET, assert_next_answers, event
from .server import gunicorn

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with gunicorn("tests.apps.e2e_app:app") as url:
        yield url


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/ws"


def post(base: str, data: Any, token: str = SECRET, **kwargs: Any) -> requests.Response:
    return requests.post(f"{base}/webhook", json=data, headers={"X-API-TOKEN": token}, timeout=5, **kwargs)


class TestWebhook:
    def test_a_whole_call(self, base_url: str) -> None:
        start = post(base_url, event("session_start", "e1"))
        assert start.status_code == 200
        assert start.json() == {"type": "speak", "session_id": "e1", "text": "Welcome to the echo line."}
        assert post(base_url, event("assistant_speak", "e1")).status_code == 204
        assert post(base_url, event("assistant_speech_ended", "e1")).status_code == 204
        answer = post(base_url, event("user_speak", "e1", text="hello there"))
        assert answer.json()["text"] == "You said: hello there"
        assert post(base_url, event("session_end", "e1")).status_code == 204

    def test_a_crashing_skill_does_not_fail_the_call(self, base_url: str) -> None:
        # the broken skill (priority 90) raises on session_start and user_speak
        assert post(base_url, event("session_start", "e2")).json()["text"] == "Welcome to the echo line."
        assert post(base_url, event("user_speak", "e2", text="crash")).json()["text"] == "You said: crash"

    def test_auth_and_hostile_input_over_real_http(self, base_url: str) -> None:
        assert post(base_url, event("session_start", "e3"), token="nope").status_code == 401
        headers = {"X-API-TOKEN": SECRET, "Content-Type": "application/json"}
        bad = requests.post(f"{base_url}/webhook", data=b"\xff{", headers=headers, timeout=5)
        assert bad.status_code == 400 and bad.json()["field"] == "body"
        big = requests.post(f"{base_url}/webhook", data=b"{" + b" " * 5000 + b"}", headers=headers, timeout=5)
        assert big.status_code == 413
        assert requests.get(f"{base_url}/webhook", timeout=5).status_code == 405
        text = requests.post(f"{base_url}/webhook", data="{}", headers={"X-API-TOKEN": SECRET, "Content-Type": "text/plain"}, timeout=5)
        assert text.status_code == 415

    def test_chunked_oversize_body_is_413(self, base_url: str) -> None:
        def chunks() -> Iterator[bytes]:
            for _ in range(10):
                yield b" " * 1000

        response = requests.post(
            f"{base_url}/webhook",
            data=chunks(),
            headers={"X-API-TOKEN": SECRET, "Content-Type": "application/json"},
            timeout=5,
        )
        assert response.status_code == 413

    def test_health(self, base_url: str) -> None:
        assert requests.get(f"{base_url}/health", timeout=5).json()["status"] == "ok"


class TestWebSocket:
    def connect(self, base_url: str, token: str = SECRET) -> Client:
        return Client.connect(ws_url(base_url), headers={"X-API-TOKEN": token})

    def test_a_whole_call_on_one_connection(self, base_url: str) -> None:
        ws = self.connect(base_url)
        try:
            ws.send(json.dumps(event("session_start", "w1")))
            assert json.loads(ws.receive(timeout=5)) == {
                "type": "speak",
                "session_id": "w1",
                "text": "Welcome to the echo line.",
            }
            ws.send(json.dumps(event("assistant_speech_ended", "w1")))
            ws.send(json.dumps(event("user_speak", "w1", text="one")))
            assert json.loads(ws.receive(timeout=5))["text"] == "You said: one"
            ws.send(json.dumps(event("user_speak", "w1", text="two")))
            assert json.loads(ws.receive(timeout=5))["text"] == "You said: two"
            ws.send(json.dumps(event("session_end", "w1")))
            # nothing is sent for session_end: the next message answers the next call's start
            assert assert_next_answers(ws, event("session_start", "w1-next"))["text"] == "Welcome to the echo line."
        finally:
            ws.close()

    def test_hostile_messages_do_not_drop_the_call(self, base_url: str) -> None:
        ws = self.connect(base_url)
        try:
            for bad in (b"\x00binary", "nope", "[" * 100, json.dumps({"type": "user_speak"}), "x" * 5000):
                ws.send(bad)
            # nothing is sent for them: the next message answers the next event
            assert assert_next_answers(ws, event("user_speak", "w2", text="still here"))["text"] == "You said: still here"
        finally:
            ws.close()

    @pytest.mark.parametrize("token", [None, "wrong"])
    def test_handshake_without_the_token_is_refused_with_401(self, base_url: str, token: str | None) -> None:
        # A raw socket, so the refusal itself (no 101 Switching Protocols) is visible.
        host, port = base_url.removeprefix("http://").split(":")
        header = f"X-API-TOKEN: {token}\r\n".encode() if token else b""
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(
                b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + header + b"\r\n"
            )
            assert sock.recv(100).startswith(b"HTTP/1.1 401")

    def test_two_calls_on_two_connections_at_once(self, base_url: str) -> None:
        first, second = self.connect(base_url), self.connect(base_url)
        try:
            for ws, sid in ((first, "c1"), (second, "c2")):
                ws.send(json.dumps(event("session_start", sid)))
                ws.receive(timeout=5)
            first.send(json.dumps(event("user_speak", "c1", text="from one")))
            second.send(json.dumps(event("user_speak", "c2", text="from two")))
            assert json.loads(second.receive(timeout=5)) == {"type": "speak", "session_id": "c2", "text": "You said: from two"}
            assert json.loads(first.receive(timeout=5)) == {"type": "speak", "session_id": "c1", "text": "You said: from one"}
        finally:
            first.close()
            second.close()
