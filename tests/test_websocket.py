"""The WebSocket loop, as a plain function of a ws-like object."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from simple_websocket import ConnectionClosed

from flask_aiflow import signals
from flask_aiflow.web.routes import serve_websocket

from .helpers import event, make_app


class ScriptedSocket:
    """A ws-like object that plays a list of messages, then closes."""

    def __init__(self, messages: list[Any]) -> None:
        self.incoming = deque(messages)
        self.sent: list[Any] = []

    def receive(self, timeout: float | None = None) -> Any:
        if not self.incoming:
            raise ConnectionClosed()
        return self.incoming.popleft()

    def send(self, data: Any) -> None:
        self.sent.append(json.loads(data))


def play(app: Any, messages: list[Any]) -> list[Any]:
    ws = ScriptedSocket(messages)
    with app.test_request_context("/ws"):
        try:
            serve_websocket(ws, app.extensions["aiflow"])
        except ConnectionClosed:
            pass
    return ws.sent


def test_each_event_gets_its_action_and_silence_sends_nothing(app: Any) -> None:
    sent = play(
        app,
        [
            json.dumps(event("session_start", "w1")),
            json.dumps(event("assistant_speech_ended", "w1")),
            json.dumps(event("user_speak", "w1", text="hi")),
            json.dumps(event("session_end", "w1")),
        ],
    )
    assert sent == [
        {"type": "speak", "session_id": "w1", "text": "Welcome to the echo line."},
        {"type": "speak", "session_id": "w1", "text": "You said: hi"},
    ]


def test_bad_messages_are_skipped_and_the_call_goes_on(app: Any) -> None:
    rejected: list[Any] = []
    with signals.event_rejected.connected_to(lambda sender, **kw: rejected.append(kw["status"]), app):
        sent = play(
            app,
            [
                b"\x00\x01binary",
                "not json",
                json.dumps([1, 2]),
                "[" * 5000,
                json.dumps({"type": "user_speak", "session": {"id": "w2"}}),
                json.dumps(event("user_speak", "w2", text="x" * 70_000)),
                json.dumps(event("user_speak", "w2", text="still there?")),
            ],
        )
    assert sent == [{"type": "speak", "session_id": "w2", "text": "You said: still there?"}]
    assert rejected == [400, 400, 400, 400, 400, 413]


def test_unknown_event_type_is_ignored(app: Any) -> None:
    sent = play(app, [json.dumps(event("dtmf", "w3")), json.dumps(event("user_speak", "w3", text="ok"))])
    assert sent == [{"type": "speak", "session_id": "w3", "text": "You said: ok"}]


def test_websocket_handshake_requires_the_token() -> None:
    app = make_app()
    client = app.test_client()
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}
    response = client.get("/ws", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    response = client.get("/ws", headers={**headers, "X-API-TOKEN": "wrong"})
    assert response.status_code == 401
