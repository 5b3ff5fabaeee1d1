"""The WebSocket loop, as a plain function of a ws-like object."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

import pytest
from simple_websocket import ConnectionClosed

from flask_aiflow import (
    AzureTTS,
    BargeInConfig,
    ElevenLabsTTS,
    audio,
    barge_in,
    hangup,
    signals,
    speak,
    transfer,
)
from flask_aiflow.protocol.actions import Action
from flask_aiflow.web.routes import serve_websocket

from .helpers import SECRET, event, make_app, make_skill, wav_bytes


class ScriptedSocket:
    """A ws-like object that plays a list of messages, then closes."""

    def __init__(self, messages: list[Any]) -> None:
        self.incoming = deque(messages)
        self.sent: list[Any] = []
        self.texts: list[Any] = []  # what was sent, as sent

    def receive(self, timeout: float | None = None) -> Any:
        if not self.incoming:
            raise ConnectionClosed()
        return self.incoming.popleft()

    def send(self, data: Any) -> None:
        self.texts.append(data)
        self.sent.append(json.loads(data))


def play_socket(app: Any, messages: list[Any]) -> ScriptedSocket:
    ws = ScriptedSocket(messages)
    with app.test_request_context("/ws"):
        try:
            serve_websocket(ws, app.extensions["aiflow"])
        except ConnectionClosed:
            pass
    return ws


def play(app: Any, messages: list[Any]) -> list[Any]:
    return play_socket(app, messages).sent


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


#: Every action type, with each kind of option, and text that JSON must escape or may write as UTF-8.
WIRE_ACTIONS = [
    speak('Gr\u00fc\u00df Gott, "Welt" \u2603\n'),
    speak(
        ssml="<speak>Hallo</speak>",
        tts=AzureTTS(language="de-DE", voice="de-DE-KatjaNeural"),
        barge_in=BargeInConfig("minimum_characters", minimum_characters=3),
        user_input_timeout_seconds=2.5,
    ),
    speak("x", tts=ElevenLabsTTS(voice="v1"), barge_in=BargeInConfig("manual", allow_after_ms=100)),
    audio(wav_bytes(), barge_in={"strategy": "none"}),
    hangup(),
    barge_in(),
    transfer("+4921155555555", caller_id_name="Support", caller_id_number="+4921100"),
]


@pytest.mark.parametrize("action", WIRE_ACTIONS, ids=lambda a: a.type)
def test_a_websocket_reply_is_what_the_webhook_answers(action: Action) -> None:
    """Both transports encode with ``encode_action``: the same text, the action's wire form for the call."""
    message = event("user_speak", "w4", text="hi")

    def answers(event: Any, call: Any) -> Action:
        return action

    ws = play_socket(make_app(make_skill("fixed", user_speak=answers)), [json.dumps(message)])
    response = make_app(make_skill("fixed", user_speak=answers)).test_client().post(
        "/webhook", json=message, headers={"X-API-TOKEN": SECRET}
    )
    assert response.status_code == 200
    assert ws.texts == [response.get_data(as_text=True)]
    assert all(isinstance(text, str) for text in ws.texts)  # a text frame, not a binary one
    assert ws.sent == [action.with_session("w4").to_dict()]
