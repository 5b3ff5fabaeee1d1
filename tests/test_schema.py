"""The JSON Schemas agree with the validators they describe."""

from __future__ import annotations

import base64
import copy
import functools
import io
import wave
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from flask_aiflow import InvalidActionError, InvalidEventError, parse_event
from flask_aiflow.cli.schema import all_schemas, schema_for, schema_names
from flask_aiflow.protocol.actions import ACTION_TYPES, action_from_dict
from flask_aiflow.protocol.events import EVENT_TYPES

from .helpers import event


@functools.cache
def validator(name: str) -> Draft202012Validator:
    """One validator per schema: ``schema_for`` builds every schema afresh, and the tests ask ~100 times."""
    return Draft202012Validator(schema_for(name))


def schema_accepts(name: str, data: Any) -> bool:
    return validator(name).is_valid(data)


def code_accepts_action(data: Any) -> bool:
    try:
        action_from_dict(data)
    except InvalidActionError:
        return False
    return True


def code_accepts_event(data: Any) -> bool:
    try:
        parse_event(data)
    except InvalidEventError:
        return False
    return True


def test_every_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(all_schemas())
    for names in schema_names().values():
        for name in names:
            Draft202012Validator.check_schema(schema_for(name))


def test_every_event_and_action_type_has_a_schema() -> None:
    names = schema_names()
    assert set(EVENT_TYPES) <= set(names["events"])
    assert set(ACTION_TYPES) == set(names["actions"])


def test_the_combined_document_accepts_events_and_actions() -> None:
    validator = Draft202012Validator(all_schemas())
    assert validator.is_valid(event("user_speak", "s1"))
    assert validator.is_valid({"type": "hangup", "session_id": "s1"})
    assert not validator.is_valid({"type": "dtmf", "session_id": "s1"})


# -- actions ---------------------------------------------------------------------------


def wav_base64() -> str:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x00" * 160)
    return base64.b64encode(buffer.getvalue()).decode()


S = {"session_id": "s1"}

VALID_ACTIONS = [
    {"type": "speak", **S, "text": "Hello"},
    {"type": "speak", **S, "ssml": "<speak>Hi</speak>"},
    {"type": "speak", **S, "text": "Hi", "tts": {"provider": "azure", "language": "de-DE", "voice": "de-DE-KatjaNeural"}},
    {"type": "speak", **S, "text": "Hi", "tts": {"provider": "eleven_labs"}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "none"}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "manual", "allow_after_ms": 10000}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "minimum_characters", "minimum_characters": 1}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "minimum_characters", "minimum_characters": 100, "allow_after_ms": 0}},
    {"type": "speak", **S, "text": "Hi", "user_input_timeout_seconds": 0.5},
    # what the reference's TypeScript types allow (issue 10)
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "none", "allow_after_ms": 5}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "manual", "minimum_characters": 5}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "minimum_characters", "minimum_characters": 3.0}},
    {"type": "audio", **S, "audio": wav_base64(), "barge_in": {"strategy": "none"}},
    {"type": "transfer", **S, "target_phone_number": "+4921155555555", "caller_id_name": "Sales", "caller_id_number": "+12"},
    {"type": "hangup", **S},
    {"type": "barge_in", **S},
]

INVALID_ACTIONS = [
    {"type": "speak", **S},  # neither text nor ssml
    {"type": "speak", **S, "text": "Hi", "ssml": "<speak>Hi</speak>"},  # both
    {"type": "speak", **S, "text": ""},
    {"type": "speak", **S, "text": "   "},
    {"type": "speak", **S, "text": "Hi", "volume": 3},  # unknown key
    {"type": "speak", **S, "text": "Hi", "tts": {"provider": "polly"}},
    {"type": "speak", **S, "text": "Hi", "tts": {"provider": "eleven_labs", "language": "de-DE"}},
    {"type": "speak", **S, "text": "Hi", "tts": {"provider": "azure", "voice": ""}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "sometimes"}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "none", "allow_after_ms": 10001}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "manual", "minimum_characters": 101}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "minimum_characters", "minimum_characters": 3.5}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "minimum_characters", "minimum_characters": 0}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "minimum_characters", "minimum_characters": 101}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "minimum_characters", "minimum_characters": True}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "minimum_characters", "allow_after_ms": -1}},
    {"type": "speak", **S, "text": "Hi", "barge_in": {"strategy": "minimum_characters", "allow_after_ms": 10001}},
    {"type": "speak", **S, "text": "Hi", "user_input_timeout_seconds": 0},
    {"type": "speak", **S, "text": "Hi", "user_input_timeout_seconds": -2},
    {"type": "speak", **S, "text": "Hi", "user_input_timeout_seconds": True},
    {"type": "speak", **S, "text": "Hi", "user_input_timeout_seconds": "5"},
    {"type": "speak", "session_id": "", "text": "Hi"},
    {"type": "audio", **S, "audio": "not base64!"},
    {"type": "audio", **S, "audio": "UklGR"},  # truncated
    {"type": "audio", **S},
    {"type": "transfer", **S, "target_phone_number": "(123) 456-7890", "caller_id_name": "x", "caller_id_number": "+4930123"},
    {"type": "transfer", **S, "target_phone_number": "+0123456", "caller_id_name": "x", "caller_id_number": "+4930123"},
    {"type": "transfer", **S, "target_phone_number": "+1234567890123456", "caller_id_name": "x", "caller_id_number": "+4930123"},
    {"type": "transfer", **S, "target_phone_number": "+4930123", "caller_id_name": "", "caller_id_number": "+4930123"},
    {"type": "transfer", **S, "target_phone_number": "+4930123", "caller_id_name": "x"},
    {"type": "hangup", **S, "reason": "bye"},
    {"type": "barge_in", **S, "text": "x"},
]


@pytest.mark.parametrize("data", VALID_ACTIONS, ids=lambda d: d["type"])
def test_valid_actions_pass_both(data: dict[str, Any]) -> None:
    assert code_accepts_action(data)
    assert schema_accepts(data["type"], data)


@pytest.mark.parametrize("data", INVALID_ACTIONS, ids=lambda d: d["type"])
def test_invalid_actions_fail_both(data: dict[str, Any]) -> None:
    assert not code_accepts_action(data)
    assert not schema_accepts(data["type"], data)


def test_actions_flask_aiflow_sends_match_their_schema() -> None:
    for data in VALID_ACTIONS:
        wire = action_from_dict(data).to_dict()
        assert schema_accepts(wire["type"], wire), wire


def test_the_schema_requires_session_id_which_skills_may_leave_out() -> None:
    """A documented difference: skills' dicts get the session bound by the dispatcher."""
    data = {"type": "hangup"}
    assert code_accepts_action(data) and not schema_accepts("hangup", data)


# -- events ----------------------------------------------------------------------------


def test_every_valid_event_passes_both() -> None:
    for name in EVENT_TYPES:
        data = event(name, "s1")
        assert code_accepts_event(data), name
        assert schema_accepts(name, data), name
    minimal = {"type": "session_end", "session": {"id": "s1"}}
    assert code_accepts_event(minimal) and schema_accepts("session_end", minimal)
    extra = {**event("user_speak", "s1"), "language": "de-DE"}  # unknown fields are tolerated
    assert code_accepts_event(extra) and schema_accepts("user_speak", extra)


#: What sipgate's n8n integration sends (issue 10): transcript, confidence, no timing.
N8N_EVENTS = [
    {"type": "user_speak", "transcript": "Hallo", "confidence": 0.92, "session": {"id": "s1"}},
    {"type": "user_speak", "text": "Hallo", "confidence": 1, "session": {"id": "s1"}},
    {"type": "assistant_speak", "text": "Willkommen", "session": {"id": "s1"}},
]


@pytest.mark.parametrize("data", N8N_EVENTS, ids=lambda d: d["type"])
def test_n8n_events_pass_both(data: dict[str, Any]) -> None:
    assert code_accepts_event(data)
    assert schema_accepts(data["type"], data)


def broken(name: str, change: Any) -> dict[str, Any]:
    data = copy.deepcopy(event(name, "s1"))
    change(data)
    return data


INVALID_EVENTS = [
    ("session_start", lambda d: d.pop("session")),
    ("session_start", lambda d: d["session"].pop("id")),
    ("session_start", lambda d: d["session"].update(id="")),
    ("session_start", lambda d: d["session"].update(id=7)),
    ("session_start", lambda d: d["session"].update(direction="sideways")),
    ("session_start", lambda d: d["session"].update(from_phone_number=49)),
    ("user_speak", lambda d: d.pop("text")),
    ("user_speak", lambda d: d.update(text=None)),
    ("user_speak", lambda d: d.update(barged_in="yes")),
    ("user_speak", lambda d: d.update(text=None, transcript="hi")),
    ("user_speak", lambda d: (d.pop("text"), d.update(transcript=5))),
    ("user_speak", lambda d: d.update(confidence="high")),
    ("assistant_speak", lambda d: d.update(duration_ms=-1)),
    ("assistant_speak", lambda d: d.update(duration_ms=True)),
    ("assistant_speak", lambda d: d.update(speech_started_at="now")),
    ("assistant_speak", lambda d: d.update(text=5)),
]


@pytest.mark.parametrize(("name", "change"), INVALID_EVENTS)
def test_invalid_events_fail_both(name: str, change: Any) -> None:
    data = broken(name, change)
    assert not code_accepts_event(data)
    assert not schema_accepts(name, data)
