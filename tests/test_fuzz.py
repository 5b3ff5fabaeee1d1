"""Property-based tests: no input makes the parser, the webhook or the WebSocket handler fail badly.

The parser may only ever raise ``InvalidEventError``; the routes answer every
request with a 2xx or a 4xx carrying a JSON error body, never a 5xx or a
traceback; the WebSocket handler never raises and answers with an action or
nothing.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flask_aiflow.protocol.actions import action_from_dict
from flask_aiflow.protocol.events import (
    EVENT_TYPES,
    Event,
    InvalidEventError,
    decode_json,
    load_event,
    parse_event,
)
from flask_aiflow.web.routes import handle_ws_message

from .helpers import SECRET, make_app, make_skill

# -- strategies ------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)

#: The wire types, some near misses, and anything.
event_types = st.sampled_from([*EVENT_TYPES, "user_barge_in", "USER_SPEAK", "user_speak ", ""]) | st.text(max_size=12)

#: Values for fields the parser looks at: right and wrong types.
field_values = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["inbound", "outbound", "+4930123456", "550e8400-e29b-41d4-a716-446655440000"])
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=4), st.integers(), max_size=2)
)

sessions = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=8) | field_values,
        "account_id": field_values,
        "phone_number": field_values,
        "direction": field_values,
        "from_phone_number": field_values,
        "to_phone_number": field_values,
        "extra": json_values,
    },
)

#: Objects shaped like events, so that the parser gets past its first checks.
event_like = st.fixed_dictionaries(
    {"type": event_types},
    optional={
        "session": sessions | field_values,
        "text": field_values,
        "ssml": field_values,
        "barged_in": field_values,
        "duration_ms": field_values,
        "speech_started_at": field_values,
        "unknown": json_values,
    },
)

any_event_value = event_like | json_values


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


#: Bodies: valid JSON of anything, event-shaped JSON, mangled JSON, and plain bytes.
bodies = (
    any_event_value.map(_json_bytes)
    | st.binary(max_size=200)
    | st.tuples(any_event_value.map(_json_bytes), st.integers(0, 60)).map(lambda t: t[0][: t[1]])
    | st.sampled_from(
        [b"", b"   ", b"[" * 5000, b'{"a":' * 40 + b"1" + b"}" * 40, b"1" * 5000, b"1e999", b"NaN", b"\xef\xbb\xbf{}",
         b'"\\ud800"', b"\xff\xfe{\x00}\x00", b'{"type":"user_speak","text":"\\u0000","session":{"id":"x"}}']
    )
)

# -- the parser -------------------------------------------------------------------------------


@given(any_event_value)
def test_parse_event_returns_an_event_or_raises_invalid_event_error(value: Any) -> None:
    try:
        event = parse_event(value)
    except InvalidEventError as exc:
        assert str(exc)
        return
    assert isinstance(event, Event)
    assert event.type == (value["type"] if value["type"] != "user_barge_in" else "user_speak")
    assert event.session.id == value["session"]["id"]


@given(bodies)
@example(b"\x00")
def test_decode_json_returns_a_value_or_raises_invalid_event_error(body: bytes) -> None:
    try:
        value = decode_json(body)
    except InvalidEventError as exc:
        assert exc.field == "body"
        return
    # what decodes is plain, finite JSON
    assert json.loads(json.dumps(value, allow_nan=False)) == value or _has_nan_free_floats(value)


def _has_nan_free_floats(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_has_nan_free_floats(v) for v in value)
    if isinstance(value, dict):
        return all(_has_nan_free_floats(v) for v in value.values())
    return True


@given(bodies | st.text(max_size=100))
def test_load_event_returns_an_event_or_raises_invalid_event_error(body: bytes | str) -> None:
    try:
        event = load_event(body)
    except InvalidEventError:
        return
    assert isinstance(event, Event)
    assert load_event(json.dumps(event.to_dict())) == event  # what parses round-trips


# -- the webhook ----------------------------------------------------------------------------------


def _echo_skill() -> Any:
    def user_speak(event: Any, call: Any) -> Any:
        call.state["n"] = call.state.get("n", 0) + 1
        return f"You said: {event.text}" if event.text.strip() else None

    return make_skill("echo", user_speak=user_speak, session_start=lambda call: "Hello")


# one app for all examples: hypothesis runs many examples per test function
WEBHOOK_APP = make_app(_echo_skill(), AIFLOW_MAX_EVENT_BYTES=4096, AIFLOW_AUTH_FAILURE_LIMIT=None)

#: Anything a header value can carry (no line breaks: those end the header).
header_text = st.text(st.characters(exclude_characters="\r\n", exclude_categories=["Cs"]), max_size=40)

tokens = st.one_of(st.just(SECRET), st.none(), header_text, st.just(SECRET + " "), st.just(SECRET.upper()))
content_types = st.one_of(
    st.just("application/json"),
    st.sampled_from(
        ["application/json; charset=utf-8", "application/cloudevents+json", "text/plain", "application/x-www-form-urlencoded",
         "multipart/form-data; boundary=x", "application/json; charset=latin-1", "", "application/", "*/*"]
    ),
    st.none(),
    header_text,
)
methods = st.sampled_from(["POST"] * 6 + ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])


def _check_response(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.data[:300])
    if response.request.method == "HEAD":
        assert response.data == b""
    elif response.status_code >= 400:
        body = response.get_json()
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)
    elif response.status_code == 200 and response.request.method != "OPTIONS":
        action = response.get_json()
        action_from_dict(action)  # every answer is a valid action
        assert action["session_id"]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(method=methods, body=bodies, token=tokens, content_type=content_types)
def test_webhook_never_answers_5xx(method: str, body: bytes, token: str | None, content_type: str | None) -> None:
    headers = {}
    if token is not None:
        headers["X-API-TOKEN"] = token
    client = WEBHOOK_APP.test_client()
    response = client.open("/webhook", method=method, data=body, headers=headers, content_type=content_type)
    _check_response(response)


@given(
    body=bodies,
    declared=st.one_of(
        st.integers(min_value=0, max_value=10_000_000).map(str),
        st.sampled_from(["", "-1", "abc", "1e3", " 12", "0x10", "99999999999999999999999"]),
    ),
)
def test_webhook_survives_a_content_length_that_does_not_match_the_body(body: bytes, declared: str) -> None:
    client = WEBHOOK_APP.test_client()
    response = client.post(
        "/webhook",
        data=body,
        headers={"X-API-TOKEN": SECRET},
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": declared},
    )
    _check_response(response)


@given(
    extra=st.dictionaries(
        st.sampled_from(["X-API-TOKEN", "Content-Type", "Content-Encoding", "Transfer-Encoding", "X-Forwarded-For", "Accept", "X-Other"]),
        header_text,
        max_size=4,
    ),
    body=bodies,
)
def test_webhook_survives_any_header_values(extra: dict[str, str], body: bytes) -> None:
    client = WEBHOOK_APP.test_client()
    headers = {"X-API-TOKEN": SECRET, "Content-Type": "application/json", **extra}
    response = client.post("/webhook", data=body, headers=headers)
    _check_response(response)


# -- the WebSocket message handler ------------------------------------------------------------------


@given(st.one_of(bodies, bodies.map(lambda b: b.decode("utf-8", "surrogateescape")), st.text(max_size=200)))
def test_websocket_message_handler_never_raises(message: bytes | str) -> None:
    state = WEBHOOK_APP.extensions["aiflow"]
    with WEBHOOK_APP.app_context():
        reply = handle_ws_message(state, message)
    if reply is not None:
        action = json.loads(reply)
        action_from_dict(action)
        assert isinstance(message, str) and action["session_id"] == json.loads(message)["session"]["id"]
