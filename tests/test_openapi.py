"""The JSON Schemas agree with the validators, and the served OpenAPI document with the live app."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from flask_aiflow.protocol import actions
from flask_aiflow.protocol.actions import (
    BARGE_IN_STRATEGIES,
    InvalidActionError,
    action_from_dict,
    audio,
    barge_in,
    hangup,
    speak,
    transfer,
)
from flask_aiflow.protocol.events import (
    EVENT_TYPES,
    InvalidEventError,
    UnknownEventTypeError,
    parse_event,
)
from flask_aiflow.protocol.openapi import (
    action_schemas,
    error_schema,
    event_schemas,
    openapi_document,
    unknown_event_schema,
)

from .apps.openapi_app import tiny_wav
from .helpers import SECRET, event, examples, make_app
from .server import gunicorn
from .test_fuzz import event_like

EVENTS = {name: Draft202012Validator(schema) for name, schema in event_schemas().items()}
UNKNOWN = Draft202012Validator(unknown_event_schema())
ACTIONS = {name: Draft202012Validator(schema) for name, schema in action_schemas().items()}
SKILL_ACTIONS = {
    name: Draft202012Validator(schema) for name, schema in action_schemas(session_id_required=False).items()
}


def valid_event(value: Any) -> bool:
    return any(validator.is_valid(value) for validator in EVENTS.values())


def valid_action(value: Any, validators: dict[str, Draft202012Validator] = ACTIONS) -> bool:
    return any(validator.is_valid(value) for validator in validators.values())


# -- the schemas themselves ---------------------------------------------------------------------


def test_every_schema_is_a_valid_json_schema() -> None:
    for schema in [*event_schemas().values(), *action_schemas().values(), unknown_event_schema(), error_schema()]:
        Draft202012Validator.check_schema(schema)


def test_there_is_a_schema_for_every_event_and_action_type() -> None:
    assert set(event_schemas()) == {*EVENT_TYPES, "user_barge_in"}
    assert set(action_schemas()) == set(actions.ACTION_TYPES)


def test_action_schemas_allow_exactly_the_keys_action_from_dict_allows() -> None:
    for name, (allowed, required) in actions._SCHEMAS.items():
        schema = action_schemas(session_id_required=False)[name]
        assert set(schema["properties"]) == set(allowed)
        assert set(schema["required"]) == {"type", *required}


# -- events: the schema accepts exactly what the parser accepts -------------------------------------


@given(event_like)
@settings(max_examples=examples(300))
def test_event_schemas_agree_with_the_parser(value: dict[str, Any]) -> None:
    try:
        parse_event(value)
    except UnknownEventTypeError:
        assert UNKNOWN.is_valid(value) and not valid_event(value)
        return
    except InvalidEventError:
        assert not valid_event(value) and not UNKNOWN.is_valid(value)
        return
    assert valid_event(value)
    assert not UNKNOWN.is_valid(value)


@pytest.mark.parametrize("type_", [*EVENT_TYPES, "user_barge_in"])
def test_wire_examples_validate(type_: str) -> None:
    data = event(type_, "550e8400-e29b-41d4-a716-446655440000")
    assert EVENTS[type_].is_valid(data)
    parsed = parse_event(data)
    assert EVENTS[parsed.type].is_valid(parsed.to_dict())


# -- actions: every action the library can produce validates --------------------------------------

e164 = st.from_regex(r"\+[1-9][0-9]{1,14}", fullmatch=True)
words = st.text(min_size=1, max_size=20).filter(lambda text: not text.isspace())
barge_ins = st.one_of(
    st.builds(lambda: {"strategy": "none"}),
    st.fixed_dictionaries({"strategy": st.just("manual")}, optional={"allow_after_ms": st.integers(0, 10000)}),
    st.fixed_dictionaries(
        {"strategy": st.just("minimum_characters")},
        optional={"minimum_characters": st.integers(1, 100), "allow_after_ms": st.integers(0, 10000)},
    ),
)
tts = st.one_of(
    st.fixed_dictionaries({"provider": st.just("azure")}, optional={"language": words, "voice": words}),
    st.fixed_dictionaries({"provider": st.just("eleven_labs")}, optional={"voice": words}),
)
WAV = tiny_wav()
built_actions = st.one_of(
    st.builds(
        speak,
        words,
        tts=st.none() | tts,
        barge_in=st.none() | barge_ins,
        user_input_timeout_seconds=st.none() | st.integers(1, 60) | st.floats(0.01, 600),
    ),
    st.builds(lambda ssml, t: speak(ssml=ssml, tts=t), words, st.none() | tts),
    st.builds(lambda b: audio(WAV, barge_in=b), st.none() | barge_ins),
    st.builds(lambda target, name, number: transfer(target, caller_id_name=name, caller_id_number=number), e164, words, e164),
    st.builds(hangup),
    st.builds(barge_in),
)


@given(built_actions, st.text(min_size=1, max_size=36))
def test_every_built_action_validates_against_its_schema(action: Any, session_id: str) -> None:
    wire = action.with_session(session_id).to_dict()
    ACTIONS[wire["type"]].validate(wire)
    assert SKILL_ACTIONS[wire["type"]].is_valid(action.to_dict())


def _valid_audio() -> str:
    return base64.b64encode(WAV).decode()


#: Values for action fields: right and wrong ones, never null (null means absent to
#: action_from_dict) and never integral floats (5.0 is a JSON Schema integer, not a Python int).
field_values = st.one_of(
    st.integers(-5, 10005),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    st.booleans(),
    st.sampled_from(["", " ", "\t\u3000", "hi", "+4930123456", "+04930", "+4930\n", "(030) 123", "+1234567890123456",
                     *BARGE_IN_STRATEGIES, "azure", "eleven_labs", "AAAA", "AAA=", "A===", "UklG\n", _valid_audio()]),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=1),
)
nested = st.fixed_dictionaries(
    {},
    optional={
        "strategy": field_values, "minimum_characters": field_values, "allow_after_ms": field_values,
        "provider": field_values, "language": field_values, "voice": field_values, "other": field_values,
    },
)
action_like = st.fixed_dictionaries(
    {"type": st.sampled_from(list(actions.ACTION_TYPES)) | st.text(max_size=6)},
    optional={
        "session_id": field_values, "text": field_values, "ssml": field_values, "tts": nested | field_values,
        "barge_in": nested | field_values, "user_input_timeout_seconds": field_values, "audio": field_values,
        "target_phone_number": field_values, "caller_id_name": field_values, "caller_id_number": field_values,
        "extra": field_values,
    },
)


def _base64_but_not_wav(value: dict[str, Any]) -> bool:
    """Valid base64 that is not a WAV: the one thing the schema cannot check."""
    clip = value.get("audio")
    return value.get("type") == "audio" and isinstance(clip, str) and clip != _valid_audio() and clip in ("AAAA", "AAA=")


@given(action_like)
@settings(max_examples=examples(300))
def test_action_schemas_agree_with_action_from_dict(value: dict[str, Any]) -> None:
    try:
        action_from_dict(value)
    except InvalidActionError:
        accepted = False
    else:
        accepted = True
    if _base64_but_not_wav(value):
        assert not accepted
        return
    assert accepted == valid_action(value, SKILL_ACTIONS), value


# -- the served document ----------------------------------------------------------------------------


def test_document_is_served_without_a_token() -> None:
    app = make_app()
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    operation = document["paths"]["/webhook"]["post"]
    assert set(operation["responses"]) >= {"200", "204", "400", "401", "405", "413", "415", "429"}
    assert document["components"]["securitySchemes"]["apiToken"] == {
        "type": "apiKey", "in": "header", "name": "X-API-TOKEN",
        "description": document["components"]["securitySchemes"]["apiToken"]["description"],
    }
    assert operation["security"] == [{"apiToken": []}]


def test_document_follows_the_configuration() -> None:
    app = make_app(AIFLOW_WEBHOOK_PATH="/ai/events", AIFLOW_OPENAPI_PATH="/ai/openapi.json", AIFLOW_MAX_EVENT_BYTES=1000)
    document = app.test_client().get("/ai/openapi.json").get_json()
    assert list(document["paths"]) == ["/ai/events"]
    assert "1000 bytes" in document["paths"]["/ai/events"]["post"]["responses"]["413"]["description"]


def test_document_can_be_switched_off() -> None:
    assert make_app(AIFLOW_OPENAPI_PATH=None).test_client().get("/openapi.json").status_code == 404


def test_document_resolves_to_the_same_schemas() -> None:
    """The document's components (with $refs) validate the same way as the standalone schemas."""
    document = openapi_document()
    body = document["paths"]["/webhook"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    resolver_root = {**body, "components": document["components"]}
    validator = Draft202012Validator(resolver_root)
    good = event("user_speak", "s")
    assert validator.is_valid(good)
    assert validator.is_valid({"type": "dtmf"})
    assert not validator.is_valid({**good, "session": {"id": ""}})
    answer = document["paths"]["/webhook"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    actions_validator = Draft202012Validator({**answer, "components": document["components"]})
    assert actions_validator.is_valid(speak("hi").with_session("s").to_dict())
    assert not actions_validator.is_valid({"type": "speak", "session_id": "s", "text": "hi", "ssml": "<speak/>"})
    assert not actions_validator.is_valid(json.loads('{"type":"transfer","session_id":"s","target_phone_number":"+0301",'
                                                     '"caller_id_name":"x","caller_id_number":"+4930123"}'))


# -- schemathesis against the live app ----------------------------------------------------------------


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    with gunicorn("tests.apps.openapi_app:app") as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(live_url: str) -> Any:
    import schemathesis  # here, not at the top: only this server test needs it, and it takes a while to import

    return schemathesis.openapi.from_url(f"{live_url}/openapi.json")


@pytest.mark.server
@pytest.mark.parametrize("mode", ["positive", "negative"])
@settings(max_examples=150)
@given(data=st.data())
def test_live_webhook_conforms_to_its_description(api_schema: Any, live_url: str, mode: str, data: Any) -> None:
    """Generated events (valid ones, and invalid ones in negative mode) against gunicorn.

    Checks: no 5xx, documented status codes and headers, the response
    bodies valid against their schemas, a missing token refused.
    """
    from schemathesis import GenerationMode

    case = data.draw(api_schema.as_strategy(generation_mode=GenerationMode(mode)))
    case.call_and_validate(base_url=live_url, headers={"X-API-TOKEN": SECRET})


def test_every_answer_of_the_built_in_paths_validates() -> None:
    """Builders, plain strings with the default voice, dicts, the fallback: every answer the webhook sends."""
    from .apps.openapi_app import EveryAction

    app = make_app(
        EveryAction(),
        AIFLOW_DEFAULT_TTS={"provider": "azure", "language": "de-DE", "voice": "de-DE-KatjaNeural"},
        AIFLOW_DEFAULT_BARGE_IN={"strategy": "minimum_characters", "minimum_characters": 5},
        AIFLOW_FALLBACK={"type": "hangup"},
    )
    client = app.test_client()
    answers = [client.post("/webhook", json=event("session_start", "b1"), headers={"X-API-TOKEN": SECRET})]
    for text in ("transfer me", "bye", "play it", "stop", "hello", "   "):
        answers.append(client.post("/webhook", json=event("user_speak", "b1", text=text), headers={"X-API-TOKEN": SECRET}))
    answers.append(client.post("/webhook", json=event("user_input_timeout", "b1"), headers={"X-API-TOKEN": SECRET}))
    bodies = [answer.get_json() for answer in answers]
    assert [body["type"] for body in bodies] == [
        "speak", "transfer", "hangup", "audio", "barge_in", "speak", "hangup", "speak"
    ]
    for body in bodies:
        ACTIONS[body["type"]].validate(body)


def test_every_answer_of_the_built_in_skills_validates(tmp_path: Any) -> None:
    """greeting (open and closed, with its hang-up), audio (clips on events) and goodbye (with its hang-up)."""
    from datetime import datetime

    (tmp_path / "notice.wav").write_bytes(tiny_wav())
    clock = {"now": datetime(2025, 6, 2, 10, 0, tzinfo=UTC)}  # a Monday
    app = make_app(
        AIFLOW_LOAD_ENTRY_POINTS=True,
        AIFLOW_SKILLS=["greeting", "audio", "goodbye"],
        AIFLOW_GREETING={
            "text": "Welcome!",
            "tts": {"provider": "azure", "language": "en-US", "voice": "en-US-JennyNeural"},
            "barge_in": {"strategy": "minimum_characters", "minimum_characters": 3, "allow_after_ms": 200},
            "user_input_timeout_seconds": 8,
            "time_zone": "UTC",
            "hours": {"mon-fri": "09:00-17:00"},
            "closed": {"ssml": "<speak>We are closed.</speak>", "then_hangup": True},
            "clock": lambda: clock["now"],
        },
        AIFLOW_AUDIO={"folder": str(tmp_path), "clips": {"notice": "notice.wav"},
                      "play_on": {"user_input_timeout": "notice"}},
        AIFLOW_GOODBYE={"farewell": {"text": "Bye!", "tts": {"provider": "eleven_labs", "voice": "v1"}}},
    )
    client = app.test_client()

    def send(type_: str, session_id: str, **fields: Any) -> Any:
        response = client.post("/webhook", json=event(type_, session_id, **fields), headers={"X-API-TOKEN": SECRET})
        assert response.status_code in (200, 204)
        return response.get_json() if response.status_code == 200 else None

    answers = [
        send("session_start", "open"),
        send("user_input_timeout", "open"),
        send("user_speak", "open", text="OK, bye!"),
        send("assistant_speech_ended", "open"),
    ]
    clock["now"] = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)  # a Sunday: closed
    answers += [send("session_start", "closed"), send("assistant_speech_ended", "closed")]
    assert [answer["type"] for answer in answers] == ["speak", "audio", "speak", "hangup", "speak", "hangup"]
    for answer in answers:
        ACTIONS[answer["type"]].validate(answer)
