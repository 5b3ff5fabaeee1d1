"""Tests for flask_aiflow.protocol.events: typed events, strict parsing and decoding."""

from __future__ import annotations

import json
import random
from types import MappingProxyType
from typing import Any

import pytest

from flask_aiflow.protocol.events import (
    EVENT_TYPES,
    AssistantSpeak,
    AssistantSpeechEnded,
    Event,
    InvalidEventError,
    Session,
    SessionEnd,
    SessionStart,
    UnknownEventTypeError,
    UserInputTimeout,
    UserSpeak,
    decode_json,
    load_event,
    parse_event,
)

SID = "550e8400-e29b-41d4-a716-446655440000"

FULL_SESSION = {
    "id": SID,
    "account_id": "account-123",
    "phone_number": "+1234567890",
    "direction": "inbound",
    "from_phone_number": "+9876543210",
    "to_phone_number": "+1234567890",
}

SESSION_ONLY_TYPES = ["session_start", "assistant_speech_ended", "user_input_timeout", "session_end"]


def event(type_: str = "session_start", session: Any = None, **fields: Any) -> dict[str, Any]:
    """A wire-form event dict with a minimal session unless one is given."""
    return {"type": type_, "session": {"id": SID} if session is None else session, **fields}


def assistant_speak(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"duration_ms": 2000, "speech_started_at": 1234567890}
    base.update(fields)
    return event("assistant_speak", **base)


def error_of(data: Any) -> InvalidEventError:
    with pytest.raises(InvalidEventError) as info:
        parse_event(data)
    return info.value


# -- error classes --------------------------------------------------------------


def test_error_str_joins_field_and_reason() -> None:
    err = InvalidEventError("session.id", "missing")
    assert (err.field, err.reason, str(err)) == ("session.id", "missing", "session.id: missing")
    assert isinstance(err, ValueError)


def test_error_without_field_is_just_the_reason() -> None:
    err = InvalidEventError(None, "something odd")
    assert err.field is None
    assert str(err) == "something odd"


def test_unknown_event_type_error_is_an_invalid_event_error() -> None:
    err = UnknownEventTypeError("call_parked")
    assert isinstance(err, InvalidEventError)
    assert err.event_type == "call_parked"
    assert err.field == "type"
    assert str(err).startswith('type: unknown event type "call_parked"; known types: session_start, user_speak')
    assert "session_start" in str(err)


# -- the six event types ----------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "cls"),
    [
        ("session_start", SessionStart),
        ("assistant_speech_ended", AssistantSpeechEnded),
        ("user_input_timeout", UserInputTimeout),
        ("session_end", SessionEnd),
    ],
)
def test_session_only_events(type_: str, cls: type[Event]) -> None:
    parsed = parse_event(event(type_, FULL_SESSION))
    assert type(parsed) is cls
    assert parsed.type == type_
    assert parsed.session == Session(**FULL_SESSION)
    assert parsed.session_id == SID


def test_event_types_are_the_six_protocol_types() -> None:
    assert dict(EVENT_TYPES) == {
        "session_start": SessionStart,
        "user_speak": UserSpeak,
        "assistant_speak": AssistantSpeak,
        "assistant_speech_ended": AssistantSpeechEnded,
        "user_input_timeout": UserInputTimeout,
        "session_end": SessionEnd,
    }
    for name, cls in EVENT_TYPES.items():
        assert cls.type == name
    with pytest.raises(TypeError):
        EVENT_TYPES["x"] = SessionStart  # type: ignore[index]


def test_user_speak() -> None:
    parsed = parse_event(event("user_speak", text="Hello, I need help"))
    assert parsed == UserSpeak(session=Session(id=SID), text="Hello, I need help")
    assert isinstance(parsed, UserSpeak)
    assert parsed.barged_in is False


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), (None, False)])
def test_user_speak_barged_in(value: Any, expected: bool) -> None:
    parsed = parse_event(event("user_speak", text="Wait", barged_in=value))
    assert isinstance(parsed, UserSpeak)
    assert parsed.barged_in is expected


def test_user_speak_accepts_empty_text() -> None:
    parsed = parse_event(event("user_speak", text=""))
    assert isinstance(parsed, UserSpeak)
    assert parsed.text == ""


def test_user_speak_transcript_is_text() -> None:
    """sipgate's n8n integration names the caller's words ``transcript`` (issue 10)."""
    parsed = load_event(json.dumps(event("user_speak", transcript="Ich brauche Hilfe", confidence=0.87)))
    assert parsed == UserSpeak(session=Session(id=SID), text="Ich brauche Hilfe", confidence=0.87)
    assert isinstance(parsed, UserSpeak)
    assert parsed.raw["transcript"] == "Ich brauche Hilfe"
    assert parsed.to_dict() == {"type": "user_speak", "text": "Ich brauche Hilfe", "confidence": 0.87,
                                "session": {"id": SID}}


def test_user_speak_text_wins_over_transcript() -> None:
    parsed = parse_event(event("user_speak", text="from text", transcript="from transcript"))
    assert isinstance(parsed, UserSpeak)
    assert parsed.text == "from text"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"transcript": 5}, "transcript: expected a string, got 5 (number)"),
        ({"transcript": None}, "transcript: expected a string, got null"),
        ({"text": "hi", "confidence": "high"}, 'confidence: expected a number, got "high" (string)'),
        ({"text": "hi", "confidence": True}, "confidence: expected a number, got true (boolean)"),
    ],
)
def test_transcript_and_confidence_errors(fields: dict[str, Any], message: str) -> None:
    assert str(error_of(event("user_speak", **fields))) == message


def test_user_speak_confidence_is_optional_and_typed() -> None:
    assert parse_event(event("user_speak", text="hi", confidence=1)) == UserSpeak(
        session=Session(id=SID), text="hi", confidence=1.0
    )
    parsed = parse_event(event("user_speak", text="hi", confidence=None))
    assert isinstance(parsed, UserSpeak) and parsed.confidence is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "text: missing"),
        ({"text": None}, "text: expected a string, got null"),
        ({"text": 42}, "text: expected a string, got 42 (number)"),
        ({"text": True}, "text: expected a string, got true (boolean)"),
        ({"text": ["hi"]}, "text: expected a string, got an array"),
        ({"text": {"a": 1}}, "text: expected a string, got an object"),
        ({"text": "hi", "barged_in": 1}, "barged_in: expected a boolean, got 1 (number)"),
        ({"text": "hi", "barged_in": "true"}, 'barged_in: expected a boolean, got "true" (string)'),
        ({"text": "hi", "barged_in": 0}, "barged_in: expected a boolean, got 0 (number)"),
    ],
)
def test_user_speak_errors(fields: dict[str, Any], message: str) -> None:
    err = error_of(event("user_speak", **fields))
    assert str(err) == message
    assert err.field == message.split(":")[0]


def test_deprecated_user_barge_in_becomes_user_speak_with_barged_in() -> None:
    data = event("user_barge_in", text="Stop")
    parsed = parse_event(data)
    assert parsed == UserSpeak(session=Session(id=SID), text="Stop", barged_in=True)
    assert parsed.type == "user_speak"
    assert parsed.raw["type"] == "user_barge_in"
    assert "user_barge_in" not in EVENT_TYPES


def test_user_barge_in_is_barged_in_even_if_flag_says_otherwise() -> None:
    parsed = parse_event(event("user_barge_in", text="Stop", barged_in=False))
    assert isinstance(parsed, UserSpeak)
    assert parsed.barged_in is True


def test_user_barge_in_requires_text() -> None:
    assert str(error_of(event("user_barge_in"))) == "text: missing"


def test_assistant_speak_minimal() -> None:
    parsed = parse_event(assistant_speak())
    assert parsed == AssistantSpeak(
        session=Session(id=SID), duration_ms=2000, speech_started_at=1234567890
    )
    assert isinstance(parsed, AssistantSpeak)
    assert parsed.text is None and parsed.ssml is None


def test_assistant_speak_full() -> None:
    parsed = parse_event(assistant_speak(text="Hello!", ssml="<speak>Hello!</speak>", duration_ms=12.5))
    assert isinstance(parsed, AssistantSpeak)
    assert (parsed.text, parsed.ssml, parsed.duration_ms) == ("Hello!", "<speak>Hello!</speak>", 12.5)


@pytest.mark.parametrize("value", [0, 0.0, 1, 2000.75, 10**15])
@pytest.mark.parametrize("key", ["duration_ms", "speech_started_at"])
def test_assistant_speak_numbers_accepted(key: str, value: float) -> None:
    parsed = parse_event(assistant_speak(**{key: value}))
    assert getattr(parsed, key) == value
    assert type(getattr(parsed, key)) is type(value)


@pytest.mark.parametrize(
    ("value", "found"),
    [
        (-1, "-1 (number)"),
        (-0.5, "-0.5 (number)"),
        (True, "true (boolean)"),
        (False, "false (boolean)"),
        ("2000", '"2000" (string)'),
        ([1], "an array"),
        (float("nan"), "nan (number)"),
        (float("inf"), "inf (number)"),
    ],
)
@pytest.mark.parametrize("key", ["duration_ms", "speech_started_at"])
def test_assistant_speak_bad_numbers(key: str, value: Any, found: str) -> None:
    err = error_of(assistant_speak(**{key: value}))
    assert err.field == key
    assert str(err) == f"{key}: expected a finite number >= 0, got {found}"


@pytest.mark.parametrize("key", ["duration_ms", "speech_started_at"])
def test_assistant_speak_timing_is_optional(key: str) -> None:
    """sipgate's n8n integration sends assistant_speak without the timing fields (issue 10)."""
    data = assistant_speak()
    del data[key]
    assert getattr(parse_event(data), key) is None
    assert getattr(parse_event(assistant_speak(**{key: None})), key) is None


def test_assistant_speak_with_text_only() -> None:
    parsed = load_event(json.dumps({"type": "assistant_speak", "text": "Hello!", "session": {"id": SID}}))
    assert parsed == AssistantSpeak(session=Session(id=SID), text="Hello!")


@pytest.mark.parametrize("key", ["text", "ssml"])
def test_assistant_speak_optional_strings(key: str) -> None:
    assert getattr(parse_event(assistant_speak(**{key: None})), key) is None
    assert str(error_of(assistant_speak(**{key: 5}))) == f"{key}: expected a string, got 5 (number)"


# -- session --------------------------------------------------------------------


def test_session_minimal() -> None:
    assert parse_event(event()).session == Session(id=SID)


def test_session_full() -> None:
    session = parse_event(event(session=FULL_SESSION)).session
    assert session == Session(
        id=SID,
        account_id="account-123",
        phone_number="+1234567890",
        direction="inbound",
        from_phone_number="+9876543210",
        to_phone_number="+1234567890",
    )


@pytest.mark.parametrize("direction", ["inbound", "outbound", None])
def test_session_direction_accepted(direction: str | None) -> None:
    assert parse_event(event(session={"id": SID, "direction": direction})).session.direction == direction


@pytest.mark.parametrize(
    ("value", "found"),
    [("sideways", '"sideways" (string)'), ("Inbound", '"Inbound" (string)'), ("", '"" (string)'), (1, "1 (number)")],
)
def test_session_direction_rejected(value: Any, found: str) -> None:
    err = error_of(event(session={"id": SID, "direction": value}))
    assert err.field == "session.direction"
    assert str(err) == f'session.direction: expected "inbound" or "outbound", got {found}'


@pytest.mark.parametrize("key", ["account_id", "phone_number", "from_phone_number", "to_phone_number"])
@pytest.mark.parametrize(
    ("value", "found"), [(42, "42 (number)"), (True, "true (boolean)"), ([], "an array"), ({}, "an object")]
)
def test_session_optional_fields_must_be_strings(key: str, value: Any, found: str) -> None:
    err = error_of(event(session={"id": SID, key: value}))
    assert err.field == f"session.{key}"
    assert str(err) == f"session.{key}: expected a string, got {found}"


@pytest.mark.parametrize("key", ["account_id", "phone_number", "from_phone_number", "to_phone_number"])
def test_session_optional_fields_null_is_absent(key: str) -> None:
    assert getattr(parse_event(event(session={"id": SID, key: None})).session, key) is None


@pytest.mark.parametrize(
    ("session", "message"),
    [
        (["id"], "session: expected an object, got an array"),
        ("abc", 'session: expected an object, got "abc" (string)'),
        (7, "session: expected an object, got 7 (number)"),
        ({}, "session.id: missing"),
        ({"id": 42}, "session.id: expected a non-empty string, got 42 (number)"),
        ({"id": ""}, 'session.id: expected a non-empty string, got "" (string)'),
        ({"id": None}, "session.id: expected a non-empty string, got null"),
        ({"id": True}, "session.id: expected a non-empty string, got true (boolean)"),
        ({"id": ["x"]}, "session.id: expected a non-empty string, got an array"),
    ],
)
def test_session_errors(session: Any, message: str) -> None:
    err = error_of({"type": "session_start", "session": session})
    assert str(err) == message
    assert err.field == message.split(":")[0]


def test_session_missing() -> None:
    err = error_of({"type": "session_start"})
    assert (err.field, err.reason) == ("session", "missing")


def test_session_null() -> None:
    assert str(error_of({"type": "session_start", "session": None})) == "session: expected an object, got null"


def test_session_validated_for_every_type() -> None:
    for type_ in [*SESSION_ONLY_TYPES, "user_speak", "assistant_speak", "user_barge_in"]:
        data = {"type": type_, "text": "x", "duration_ms": 1, "speech_started_at": 1}
        assert error_of(data).field == "session"


def test_long_strings_are_shortened_in_messages() -> None:
    err = error_of(event(session={"id": SID, "direction": "x" * 500}))
    assert len(str(err)) < 120
    assert "..." in str(err)


# -- body and type ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "found"),
    [([], "array"), ([{"type": "session_start"}], "array"), ("x", "string"), (1, "number"), (1.5, "number"),
     (None, "null"), (True, "boolean")],
)
def test_body_must_be_an_object(data: Any, found: str) -> None:
    err = error_of(data)
    assert err.field == "body"
    assert str(err) == f"body: expected a JSON object, got {found}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"session": {"id": SID}}, "type: missing"),
        ({"type": None, "session": {"id": SID}}, "type: expected a string, got null"),
        ({"type": 3, "session": {"id": SID}}, "type: expected a string, got 3 (number)"),
        ({"type": ["user_speak"]}, "type: expected a string, got an array"),
    ],
)
def test_type_errors(data: Any, message: str) -> None:
    err = error_of(data)
    assert type(err) is InvalidEventError
    assert str(err) == message


@pytest.mark.parametrize("type_", ["call_parked", "", "USER_SPEAK", "speak"])
def test_unknown_type(type_: str) -> None:
    with pytest.raises(UnknownEventTypeError) as info:
        parse_event({"type": type_, "session": {"id": SID}})
    assert info.value.event_type == type_
    assert info.value.field == "type"


def test_unknown_type_does_not_require_a_session() -> None:
    """A future event type may look different; it is reported as unknown, not invalid."""
    with pytest.raises(UnknownEventTypeError):
        parse_event({"type": "something_new"})


# -- extra fields and raw -----------------------------------------------------------


def test_extra_fields_tolerated_and_reachable_through_raw() -> None:
    data = event(
        "user_speak",
        session={**FULL_SESSION, "region": "eu"},
        text="hi",
        confidence=0.93,
        language="de-DE",
    )
    parsed = parse_event(data)
    assert parsed.raw["confidence"] == 0.93
    assert parsed.raw["language"] == "de-DE"
    assert parsed.raw["session"]["region"] == "eu"
    assert dict(parsed.raw) == data


def test_raw_is_read_only() -> None:
    parsed = parse_event(event())
    assert isinstance(parsed.raw, MappingProxyType)
    with pytest.raises(TypeError):
        parsed.raw["type"] = "x"  # type: ignore[index]


def test_raw_does_not_affect_equality_or_repr() -> None:
    a = parse_event(event("user_speak", text="hi", extra=1))
    b = UserSpeak(session=Session(id=SID), text="hi")
    assert a == b
    assert "raw" not in repr(a)
    assert b.raw == {}


def test_parse_event_accepts_any_mapping() -> None:
    parsed = parse_event(MappingProxyType(event("user_speak", text="hi")))
    assert parsed == UserSpeak(session=Session(id=SID), text="hi")
    assert parse_event(parsed.raw) == parsed


# -- construction, immutability, to_dict ------------------------------------------------


def test_keyword_construction() -> None:
    e = UserSpeak(session=Session(id="x"), text="hi")
    assert (e.session_id, e.text, e.barged_in) == ("x", "hi", False)
    a = AssistantSpeak(session=Session(id="x"), duration_ms=1, speech_started_at=2, text="t")
    assert (a.duration_ms, a.speech_started_at, a.text, a.ssml) == (1, 2, "t", None)


def test_events_are_frozen_and_sessions_slotted() -> None:
    e = UserSpeak(session=Session(id="x"), text="hi")
    with pytest.raises(AttributeError):
        e.text = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        e.session.id = "y"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        e.raw = {}  # type: ignore[misc]
    assert not hasattr(e.session, "__dict__")


def test_events_are_hashable() -> None:
    assert hash(SessionStart(session=Session(id="x"))) == hash(SessionStart(session=Session(id="x")))


def test_session_to_dict_omits_none() -> None:
    assert Session(id="x").to_dict() == {"id": "x"}
    assert Session(**FULL_SESSION).to_dict() == FULL_SESSION


def test_to_dict_wire_form() -> None:
    e = UserSpeak(session=Session(id="x", direction="outbound"), text="hi", barged_in=True)
    d = e.to_dict()
    assert d == {"type": "user_speak", "text": "hi", "barged_in": True, "session": {"id": "x", "direction": "outbound"}}
    assert next(iter(d)) == "type"
    assert json.loads(json.dumps(d)) == d


def test_to_dict_omits_unset_fields() -> None:
    assert UserSpeak(session=Session(id="x"), text="hi").to_dict() == {
        "type": "user_speak",
        "text": "hi",
        "session": {"id": "x"},
    }
    assert AssistantSpeak(session=Session(id="x"), duration_ms=5, speech_started_at=6).to_dict() == {
        "type": "assistant_speak",
        "duration_ms": 5,
        "speech_started_at": 6,
        "session": {"id": "x"},
    }


ROUND_TRIP = [
    SessionStart(session=Session(**FULL_SESSION)),
    SessionStart(session=Session(id="only-id")),
    UserSpeak(session=Session(id="x"), text="hello"),
    UserSpeak(session=Session(id="x", account_id="a"), text="", barged_in=True),
    AssistantSpeak(session=Session(id="x"), duration_ms=2000, speech_started_at=1234567890),
    AssistantSpeak(session=Session(id="x"), duration_ms=1.5, speech_started_at=0, text="t", ssml="<speak/>"),
    AssistantSpeechEnded(session=Session(id="x", direction="inbound")),
    UserInputTimeout(session=Session(**FULL_SESSION)),
    SessionEnd(session=Session(id="x")),
]


@pytest.mark.parametrize("original", ROUND_TRIP, ids=lambda e: e.type)
def test_round_trip(original: Event) -> None:
    assert parse_event(original.to_dict()) == original
    assert load_event(json.dumps(original.to_dict())) == original


def test_every_event_type_has_a_round_trip_case() -> None:
    assert {type(e) for e in ROUND_TRIP} == set(EVENT_TYPES.values())


# -- decode_json ------------------------------------------------------------------------


def decode_error(body: Any, **kwargs: Any) -> InvalidEventError:
    with pytest.raises(InvalidEventError) as info:
        decode_json(body, **kwargs)
    assert info.value.field == "body"
    return info.value


@pytest.mark.parametrize("body", [b'{"a": [1, 2.5, "x", null, true]}', '{"a": [1, 2.5, "x", null, true]}',
                                  bytearray(b'{"a": [1, 2.5, "x", null, true]}')])
def test_decode_json_valid(body: Any) -> None:
    assert decode_json(body) == {"a": [1, 2.5, "x", None, True]}


def test_decode_json_unicode() -> None:
    assert decode_json('{"text": "Grüße 👋"}'.encode()) == {"text": "Grüße 👋"}


def test_decode_json_accepts_non_object_values() -> None:
    """Decoding is separate from validation: parse_event rejects these."""
    assert decode_json(b"[1]") == [1]
    assert decode_json(b" 7 ") == 7


@pytest.mark.parametrize(
    ("body", "offset", "byte"),
    [(b'{"text": "\xff"}', 10, "0xff"), (b"\xc3", 0, "0xc3"), (b'{"a": "\xed\xa0\x80"}', 7, "0xed")],
)
def test_decode_json_invalid_utf8(body: bytes, offset: int, byte: str) -> None:
    err = decode_error(body)
    assert err.reason.startswith("not valid UTF-8")
    assert f"byte {byte} at offset {offset}" in err.reason


def test_decode_json_does_not_sniff_utf16() -> None:
    assert decode_error('{"type": "x"}'.encode("utf-16")).reason.startswith("not valid UTF-8")


def test_decode_json_rejects_bom() -> None:
    assert "invalid JSON" in decode_error(b'\xef\xbb\xbf{"a": 1}').reason


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"a": }', "line 1 column 7"),
        (b'{\n  "a": 1,\n  "b": \n}', "line 4 column 1"),
        (b"{'a': 1}", "line 1 column 2"),
        (b'{"a": 1} x', "line 1 column 10"),
        (b'{"a": 1,}', "line 1 column 9"),
        (b'{"a": "unterminated', "line 1 column 7"),
    ],
)
def test_decode_json_syntax_errors_say_where(body: bytes, where: str) -> None:
    err = decode_error(body)
    assert err.reason.startswith("invalid JSON: ")
    assert where in err.reason


@pytest.mark.parametrize("body", [b"", b"   ", b"\n\t\r ", ""])
def test_decode_json_empty(body: Any) -> None:
    assert decode_error(body).reason == "empty; expected a JSON object"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("template", ["{}", '{{"a": {}}}', '{{"a": [1, {}]}}'])
def test_decode_json_rejects_non_finite_literals(literal: str, template: str) -> None:
    err = decode_error(template.format(literal))
    assert err.reason == f"invalid JSON: {literal} is not a JSON number"


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1" * 400 + ".0"])
def test_decode_json_rejects_floats_that_overflow(literal: str) -> None:
    assert "out of range" in decode_error(f'{{"duration_ms": {literal}}}').reason


@pytest.mark.parametrize("digits", [4301, 5000, 100000])
@pytest.mark.parametrize("sign", ["", "-"])
def test_decode_json_rejects_huge_integers(digits: int, sign: str) -> None:
    err = decode_error('{"n": %s}' % (sign + "9" * digits))
    assert err.reason == f"invalid JSON: an integer with {digits} digits is too large (limit 4300)"


def test_decode_json_accepts_the_largest_integer() -> None:
    assert decode_json('{"n": -%s}' % ("9" * 4300))["n"] == -int("9" * 4300)


def nested(depth: int, kind: str = "array") -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"a":[' * (depth // 2) + "1" + "]}" * (depth // 2)


@pytest.mark.parametrize("kind", ["array", "object", "mixed"])
def test_decode_json_depth_limit(kind: str) -> None:
    decode_json(nested(32, kind))
    err = decode_error(nested(34 if kind == "mixed" else 33, kind))
    assert err.reason == "JSON nested deeper than 32 levels"


def test_decode_json_custom_depth() -> None:
    decode_json(nested(3), max_depth=3)
    decode_error(nested(4), max_depth=3)
    decode_json(nested(200), max_depth=200)


def test_decode_json_many_shallow_brackets_are_fine() -> None:
    body = "[" + ",".join(["[]", "{}"] * 5000) + "]"
    assert len(decode_json(body)) == 10000


@pytest.mark.parametrize(
    "text",
    ["[" * 100, "{" * 100, "]" * 100 + "[" * 100, '\\"' + "[" * 100, "\\\\" + "{" * 50, '[{\\"]'],
)
def test_decode_json_brackets_inside_strings_do_not_count(text: str) -> None:
    body = json.dumps({"type": "user_speak", "text": text, "session": {"id": SID}})
    parsed = load_event(body)
    assert isinstance(parsed, UserSpeak)
    assert parsed.text == json.loads(body)["text"]


def test_decode_json_escaped_quote_does_not_end_a_string() -> None:
    body = '{"a": "x\\"' + "[" * 40 + '"}'
    assert decode_json(body) == {"a": 'x"' + "[" * 40}
    body = '{"a": "x\\\\"' + ", " + '"b":' + "[" * 40 + "]" * 40 + "}"
    decode_error(body)


@pytest.mark.parametrize(
    "body",
    ["[" * 100000, "{" * 100000, '{"a":' * 100000, "[" * 100000 + "]" * 100000, '"' + "[" * 100000],
)
def test_decode_json_deep_nesting_rejected_without_recursion_error(body: str) -> None:
    with pytest.raises(InvalidEventError) as info:
        decode_json(body.encode())
    assert info.value.field == "body"


def test_decode_json_without_a_useful_depth_limit_still_raises_invalid_event_error() -> None:
    """A huge max_depth skips the pre-scan protection, but RecursionError never escapes."""
    with pytest.raises(InvalidEventError):
        decode_json("[" * 200000 + "]" * 200000, max_depth=10**9)


@pytest.mark.parametrize("body", [None, 42, ["{}"], {"type": "x"}])
def test_decode_json_rejects_non_text_input(body: Any) -> None:
    assert decode_error(body).reason.startswith("expected bytes or str")


def test_decode_json_never_raises_anything_else() -> None:
    rng = random.Random(1234)
    alphabet = b'{}[]":,0123456789.eE+-truefalsnNIfiy \\\n\xff\xc3\xa9\x00'
    valid = b'{"type": "user_speak", "text": "hi", "session": {"id": "x"}, "n": [1.5e3, -2]}'
    for _ in range(3000):
        if rng.random() < 0.5:
            body = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        else:
            mutated = bytearray(valid)
            for _ in range(rng.randint(1, 4)):
                mutated[rng.randrange(len(mutated))] = rng.choice(alphabet)
            body = bytes(mutated)
        try:
            load_event(body)
        except InvalidEventError:
            pass


# -- load_event -------------------------------------------------------------------------


def test_load_event_bytes_and_str() -> None:
    body = json.dumps(event("user_speak", text="Hello"))
    assert load_event(body) == load_event(body.encode()) == UserSpeak(session=Session(id=SID), text="Hello")


def test_load_event_reports_decode_and_validation_errors() -> None:
    with pytest.raises(InvalidEventError, match=r"^body: invalid JSON"):
        load_event(b"{")
    with pytest.raises(InvalidEventError, match=r"^session\.id: missing$"):
        load_event(b'{"type": "session_end", "session": {}}')
    with pytest.raises(UnknownEventTypeError):
        load_event(b'{"type": "brand_new", "session": {"id": "x"}}')
    with pytest.raises(InvalidEventError, match="nested deeper than 2 levels"):
        load_event(b'{"type": "session_end", "session": {"id": "x", "a": []}}', max_depth=2)


def test_reference_examples_parse() -> None:
    """The structures shown in the reference's "Event Types" section."""
    examples = [
        {"type": "session_start", "session": FULL_SESSION},
        {"type": "user_speak", "text": "Hello, I need help",
         "session": {"id": SID, "account_id": "account-123", "phone_number": "+1234567890"}},
        {"type": "assistant_speak", "text": "Hello! How can I help?", "duration_ms": 2000,
         "speech_started_at": 1234567890, "session": {"id": SID}},
        {"type": "assistant_speech_ended", "session": {"id": SID}},
        {"type": "user_speak", "text": "Wait", "barged_in": True, "session": {"id": SID}},
        {"type": "user_input_timeout", "session": FULL_SESSION},
        {"type": "session_end", "session": {"id": SID}},
    ]
    for example in examples:
        parsed = load_event(json.dumps(example))
        assert parsed.to_dict() == example


# -- hostile input around the typed decode ------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"type": "session_end", "session": {"id": "x"}, "extra": "\xff"}', "not valid UTF-8"),
        (b'{"type": "session_end", "session": {"id": "x"}, "extra": NaN}', "NaN is not a JSON number"),
        (b'{"type": "session_end", "session": {"id": "x"}, "extra": [-Infinity]}', "Infinity is not a JSON number"),
        (b'\xef\xbb\xbf{"type": "session_end", "session": {"id": "x"}}', "invalid JSON"),
        (b'{"type": "session_end", "session": {"id": "x"}, "extra": ' + b"[" * 40 + b"]" * 40 + b"}", "nested deeper"),
    ],
)
def test_hostile_input_in_unknown_fields_is_rejected(body: bytes, fragment: str) -> None:
    with pytest.raises(InvalidEventError) as info:
        load_event(body)
    assert info.value.field == "body"
    assert fragment in info.value.reason


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "9" * 5000])
@pytest.mark.parametrize("key", ["duration_ms", "speech_started_at"])
def test_numbers_out_of_range_in_declared_fields_are_rejected(key: str, literal: str) -> None:
    body = '{"type": "assistant_speak", "%s": %s, "session": {"id": "x"}}' % (key, literal)  # noqa: UP031
    with pytest.raises(InvalidEventError) as info:
        load_event(body.encode())
    assert info.value.field == key


def test_numbers_in_unknown_fields_are_never_read() -> None:
    """Skipped unread by the typed decode (no overflow, no quadratic int parsing); the raw view refuses them."""
    event_ = load_event(b'{"type": "session_end", "session": {"id": "x"}, "extra": 1e400}')
    assert event_ == SessionEnd(session=Session(id="x"))
    with pytest.raises(InvalidEventError):
        event_.raw  # noqa: B018


def test_raw_is_decoded_from_the_body_on_first_read() -> None:
    parsed = load_event(json.dumps(event("user_speak", text="hi", language="de-DE")).encode())
    assert parsed.raw["language"] == "de-DE"
    assert parsed.raw is parsed.raw
