"""JSON Schemas (draft 2020-12) of the AI Flow events and actions.

Written from the same rules that :mod:`flask_aiflow.events` and
:mod:`flask_aiflow.actions` enforce (ranges, enums, the E.164 pattern,
``text`` XOR ``ssml``), reusing their constants where they exist; the test
suite checks both agree on valid and invalid examples. What a schema cannot
express is said in the ``description``: an ``audio`` clip must also *be* a
16 kHz mono 16-bit PCM WAV file, which only :class:`~flask_aiflow.Audio`
checks.

Events are what the service sends (extra fields are tolerated); actions are
what the app sends back (no unknown fields; flask-aiflow always sets
``session_id``).
"""

from __future__ import annotations

import copy
from typing import Any

from .actions import ACTION_TYPES, BARGE_IN_STRATEGIES
from .events import EVENT_TYPES

DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: ``+``, a country code not starting with 0, 2 to 15 digits in all.
E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"
#: Standard base64 with padding only at the end.
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
#: A string with more than whitespace in it.
TEXT_PATTERN = r"\S"

MINIMUM_CHARACTERS_RANGE = (1, 100)
ALLOW_AFTER_MS_RANGE = (0, 10000)

_TEXT = {"type": "string", "minLength": 1, "pattern": TEXT_PATTERN}
_E164 = {"type": "string", "pattern": E164_PATTERN, "description": "E.164, e.g. +4921155555555"}
_OPTIONAL_STR = {"type": ["string", "null"]}
_MS = {"type": "number", "minimum": 0}


def _shared_defs() -> dict[str, Any]:
    low_chars, high_chars = MINIMUM_CHARACTERS_RANGE
    low_ms, high_ms = ALLOW_AFTER_MS_RANGE
    allow_after = {"type": "integer", "minimum": low_ms, "maximum": high_ms, "description": "protection period in ms (default 0)"}
    return {
        "Session": {
            "type": "object",
            "description": "The call an event belongs to; only id is guaranteed.",
            "required": ["id"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "account_id": _OPTIONAL_STR,
                "phone_number": _OPTIONAL_STR,
                "direction": {"enum": ["inbound", "outbound", None]},
                "from_phone_number": _OPTIONAL_STR,
                "to_phone_number": _OPTIONAL_STR,
            },
        },
        "TTS": {
            "description": "Text-to-speech provider settings.",
            "oneOf": [
                {
                    "type": "object",
                    "required": ["provider"],
                    "properties": {"provider": {"const": "azure"}, "language": _TEXT, "voice": _TEXT},
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "required": ["provider"],
                    "properties": {"provider": {"const": "eleven_labs"}, "voice": _TEXT},
                    "additionalProperties": False,
                },
            ],
        },
        "BargeInConfig": {
            "description": f"How the caller may interrupt; strategies: {', '.join(BARGE_IN_STRATEGIES)}.",
            "oneOf": [
                {
                    "type": "object",
                    "required": ["strategy"],
                    "properties": {"strategy": {"const": "none"}},
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "required": ["strategy"],
                    "properties": {"strategy": {"const": "manual"}, "allow_after_ms": allow_after},
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "required": ["strategy"],
                    "properties": {
                        "strategy": {"const": "minimum_characters"},
                        "minimum_characters": {
                            "type": "integer",
                            "minimum": low_chars,
                            "maximum": high_chars,
                            "description": "characters the caller must say (default 3)",
                        },
                        "allow_after_ms": allow_after,
                    },
                    "additionalProperties": False,
                },
            ],
        },
    }


def _event(name: str, description: str, properties: dict[str, Any] | None = None, required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "title": name,
        "description": description,
        "type": "object",
        "required": ["type", *required, "session"],
        "properties": {"type": {"const": name}, **(properties or {}), "session": {"$ref": "#/$defs/Session"}},
    }


def _action(name: str, description: str, properties: dict[str, Any] | None = None, required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "title": name,
        "description": description,
        "type": "object",
        "required": ["type", "session_id", *required],
        "properties": {
            "type": {"const": name},
            "session_id": {"type": "string", "minLength": 1},
            **(properties or {}),
        },
        "additionalProperties": False,
    }


def _event_schemas() -> dict[str, dict[str, Any]]:
    user_speak = {"text": {"type": "string"}, "barged_in": {"type": ["boolean", "null"]}}
    return {
        "session_start": _event("session_start", "A call begins."),
        "user_speak": _event("user_speak", "The caller said something (after speech-to-text).", user_speak, ("text",)),
        "user_barge_in": {
            **_event("user_barge_in", "Deprecated: a user_speak that interrupted the assistant.", user_speak, ("text",)),
            "deprecated": True,
        },
        "assistant_speak": _event(
            "assistant_speak",
            "The assistant started speaking.",
            {"text": _OPTIONAL_STR, "ssml": _OPTIONAL_STR, "duration_ms": _MS, "speech_started_at": _MS},
            ("duration_ms", "speech_started_at"),
        ),
        "assistant_speech_ended": _event("assistant_speech_ended", "The assistant finished speaking."),
        "user_input_timeout": _event("user_input_timeout", "The caller said nothing within user_input_timeout_seconds."),
        "session_end": _event("session_end", "The call ended; no action may be returned."),
    }


def _action_schemas() -> dict[str, dict[str, Any]]:
    speak = _action(
        "speak",
        "Say text or SSML (exactly one of them).",
        {
            "text": _TEXT,
            "ssml": _TEXT,
            "tts": {"$ref": "#/$defs/TTS"},
            "barge_in": {"$ref": "#/$defs/BargeInConfig"},
            "user_input_timeout_seconds": {"type": "number", "exclusiveMinimum": 0},
        },
    )
    speak["oneOf"] = [{"required": ["text"], "not": {"required": ["ssml"]}}, {"required": ["ssml"], "not": {"required": ["text"]}}]
    return {
        "speak": speak,
        "audio": _action(
            "audio",
            "Play a clip: base64 of a 16 kHz mono 16-bit PCM WAV file (the format is checked by "
            "flask_aiflow.Audio, not by this schema).",
            {
                "audio": {
                    "type": "string",
                    "minLength": 4,
                    "pattern": BASE64_PATTERN,
                    "contentEncoding": "base64",
                    "contentMediaType": "audio/wav",
                },
                "barge_in": {"$ref": "#/$defs/BargeInConfig"},
            },
            ("audio",),
        ),
        "transfer": _action(
            "transfer",
            "Transfer the call.",
            {"target_phone_number": _E164, "caller_id_name": _TEXT, "caller_id_number": _E164},
            ("target_phone_number", "caller_id_name", "caller_id_number"),
        ),
        "hangup": _action("hangup", "End the call."),
        "barge_in": _action("barge_in", "Interrupt the current playback (manual barge-in)."),
    }


def _check_coverage(events: dict[str, Any], actions: dict[str, Any]) -> None:
    missing = (set(EVENT_TYPES) - set(events)) | (set(ACTION_TYPES) - set(actions))
    if missing:  # a new event or action type without a schema is a bug here
        raise RuntimeError(f"no JSON Schema for {sorted(missing)}")


def schema_names() -> dict[str, list[str]]:
    """The event and action type names that have a schema."""
    return {"events": sorted(_event_schemas()), "actions": sorted(_action_schemas())}


def schema_for(name: str) -> dict[str, Any]:
    """The standalone schema of one event or action type, by its wire name.

    :raises KeyError: no event or action type has that name.
    """
    events, actions = _event_schemas(), _action_schemas()
    body = events.get(name) or actions.get(name)
    if body is None:
        raise KeyError(name)
    return {"$schema": DIALECT, "$id": f"urn:aiflow:{name}", **copy.deepcopy(body), "$defs": _shared_defs()}


def all_schemas() -> dict[str, Any]:
    """One schema document: every event and action in ``$defs``, any of them valid at the top."""
    events, actions = _event_schemas(), _action_schemas()
    _check_coverage(events, actions)
    defs = {**_shared_defs(), **{f"event_{k}": v for k, v in events.items()}, **{f"action_{k}": v for k, v in actions.items()}}
    return {
        "$schema": DIALECT,
        "$id": "urn:aiflow:messages",
        "title": "sipgate AI Flow events and actions",
        "description": "Events are sent by the AI Flow service; actions are the app's answers.",
        "oneOf": [{"$ref": f"#/$defs/event_{k}"} for k in events] + [{"$ref": f"#/$defs/action_{k}"} for k in actions],
        "$defs": defs,
    }


__all__ = ["DIALECT", "E164_PATTERN", "all_schemas", "schema_for", "schema_names"]
