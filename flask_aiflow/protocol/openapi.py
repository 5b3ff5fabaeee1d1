"""JSON Schemas of the events and actions, and the OpenAPI 3.1 description of the webhook.

The schemas are built from the same constants the validators in
:mod:`flask_aiflow.protocol.events` and :mod:`flask_aiflow.protocol.actions` use (event types,
directions, barge-in strategies and ranges, the E.164 length), and the test
suite checks that the two agree. Three entry points, each returning plain
JSON-ready dicts (JSON Schema 2020-12, the dialect of OpenAPI 3.1):

- :func:`event_schemas`: one schema per event type the service sends;
- :func:`action_schemas`: one schema per action type an app may answer with;
- :func:`openapi_document`: the webhook as OpenAPI 3.1 (events as request
  bodies, actions as responses, every status code, the ``X-API-TOKEN``
  scheme), served at ``AIFLOW_OPENAPI_PATH``.

What a schema cannot say and the validators check besides: an ``audio``
clip must decode to a 16 kHz mono 16-bit PCM WAV; a JSON body may nest at
most ``AIFLOW_MAX_JSON_DEPTH`` levels and be at most
``AIFLOW_MAX_EVENT_BYTES`` long; integer options are JSON integers (``5``,
not ``5.0``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from flask_aiflow.protocol.actions import ALLOW_AFTER_MS_RANGE, BARGE_IN_STRATEGIES, E164_DIGITS, MINIMUM_CHARACTERS_RANGE
from flask_aiflow.protocol.events import _DIRECTIONS, _OPTIONAL_SESSION_FIELDS, EVENT_TYPES

__all__ = [
    "E164_PATTERN",
    "JSON_SCHEMA_DIALECT",
    "action_schemas",
    "error_schema",
    "event_schemas",
    "openapi_document",
    "shared_schemas",
    "unknown_event_schema",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

Schema = dict[str, Any]
_Ref = Callable[[str, Schema], Schema]

#: Characters Python's ``str.isspace`` counts as whitespace. Texts and names
#: in actions must contain something else; spelt out because regex dialects
#: disagree on what ``\s`` covers.
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _character_class(chars: str, *, negate: bool = False) -> str:
    """A regex character class of ``chars``, runs written as ranges, everything escaped."""
    codes = sorted({ord(char) for char in chars})
    parts = []
    start = previous = codes[0]
    for code in [*codes[1:], None]:
        if code is not None and code == previous + 1:
            previous = code
            continue
        parts.append(f"\\u{start:04x}" if start == previous else f"\\u{start:04x}-\\u{previous:04x}")
        if code is not None:
            start = previous = code
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


#: A string with at least one character that is not whitespace.
_NOT_BLANK_PATTERN = _character_class(_WHITESPACE, negate=True)
# "(?!\n)$" is the end of the string in every regex dialect: Python's "$" alone
# also matches before a final line break, ECMA-262's does not.
_END = r"(?!\n)$"
E164_PATTERN = rf"^\+[1-9][0-9]{{{E164_DIGITS[0] - 1},{E164_DIGITS[1] - 1}}}{_END}"
_BASE64_PATTERN = rf"^(?:[A-Za-z0-9+/]{{4}})*(?:[A-Za-z0-9+/]{{2}}==|[A-Za-z0-9+/]{{3}}=|[A-Za-z0-9+/]{{4}}){_END}"


def _refs(prefix: str | None) -> _Ref:
    """How a shared part is written: inline (``prefix`` None) or as ``{"$ref": prefix + name}``."""
    if prefix is None:
        return lambda name, schema: copy.deepcopy(schema)
    return lambda name, schema: {"$ref": prefix + name}


# -- events ---------------------------------------------------------------------


def _session_schema() -> Schema:
    properties: Schema = {
        "id": {"type": "string", "minLength": 1, "description": "Unique session (call) identifier, a UUID."},
    }
    for name in _OPTIONAL_SESSION_FIELDS:
        properties[name] = {"type": ["string", "null"]}
    properties["direction"] = {"enum": [*sorted(_DIRECTIONS), None]}
    return {
        "title": "Session",
        "description": "The call an event belongs to. Only id is guaranteed; unknown fields are allowed.",
        "type": "object",
        "required": ["id"],
        "properties": properties,
    }


_EVENT_DOCS = {
    "session_start": "A call begins; the place to greet the caller.",
    "user_speak": "The caller said something (after speech-to-text); barged_in when they interrupted.",
    "user_barge_in": "Deprecated by the service: a user_speak that interrupted the assistant.",
    "assistant_speak": "The assistant started speaking (may be omitted for some TTS models).",
    "assistant_speech_ended": "The assistant finished speaking; the user-input timeout starts now.",
    "user_input_timeout": "The caller said nothing within user_input_timeout_seconds.",
    "session_end": "The call ended; no action may be returned.",
}

_MS = {"type": "number", "minimum": 0}
_OPTIONAL_STRING = {"type": ["string", "null"]}


def _event_fields(event_type: str) -> tuple[Schema, list[str]]:
    if event_type == "user_speak":
        return {"text": {"type": "string"}, "barged_in": {"type": ["boolean", "null"]}}, ["text"]
    if event_type == "user_barge_in":
        return {"text": {"type": "string"}}, ["text"]
    if event_type == "assistant_speak":
        fields = {
            "text": _OPTIONAL_STRING,
            "ssml": _OPTIONAL_STRING,
            "duration_ms": {**_MS, "description": "Duration of the speech in milliseconds."},
            "speech_started_at": {**_MS, "description": "Unix time in milliseconds when the speech started."},
        }
        return fields, ["duration_ms", "speech_started_at"]
    return {}, []


def _event_type_names() -> list[str]:
    """The wire types the parser accepts: the six events plus the deprecated user_barge_in."""
    names = list(EVENT_TYPES)
    names.insert(names.index("user_speak") + 1, "user_barge_in")
    return names


def _event_schema(event_type: str, ref: _Ref) -> Schema:
    fields, required = _event_fields(event_type)
    schema: Schema = {
        "title": event_type,
        "description": _EVENT_DOCS[event_type] + " Unknown fields are allowed.",
        "type": "object",
        "required": ["type", *required, "session"],
        "properties": {
            "type": {"const": event_type},
            **copy.deepcopy(fields),
            "session": ref("Session", _session_schema()),
        },
    }
    if event_type == "user_barge_in":
        schema["deprecated"] = True
    return schema


def shared_schemas() -> dict[str, Schema]:
    """The parts events and actions share: ``Session``, ``TTS``, ``BargeInConfig``."""
    return {"Session": _session_schema(), "TTS": _tts_schema(), "BargeInConfig": _barge_in_schema()}


def event_schemas(*, refs: str | None = None) -> dict[str, Schema]:
    """One JSON Schema per event type, keyed by the ``type`` value.

    Matches :func:`flask_aiflow.protocol.events.parse_event`: an object the schema of
    its ``type`` accepts parses, any other raises ``InvalidEventError``
    (before the limits on size and nesting, which no schema states).

    :param refs: None for self-contained schemas; else the shared parts
        (:func:`shared_schemas`) are ``{"$ref": refs + name}``, e.g.
        ``refs="#/$defs/"`` for a document that holds them in ``$defs``.
    """
    ref = _refs(refs)
    return {name: _event_schema(name, ref) for name in _event_type_names()}


def unknown_event_schema() -> Schema:
    """An event of a type this library does not know: accepted and ignored (204)."""
    return {
        "title": "unknown event",
        "description": "An event type added by the service later; answered 204 and otherwise ignored.",
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string", "not": {"enum": _event_type_names()}}},
    }


# -- actions --------------------------------------------------------------------


def _not_blank(description: str = "") -> Schema:
    schema: Schema = {"type": "string", "pattern": _NOT_BLANK_PATTERN}
    if description:
        schema["description"] = description
    return schema


def _tts_schema() -> Schema:
    return {
        "title": "TTS",
        "description": "Text-to-speech provider settings.",
        "oneOf": [
            {
                "title": "azure",
                "type": "object",
                "required": ["provider"],
                "properties": {
                    "provider": {"const": "azure"},
                    "language": _not_blank("e.g. de-DE"),
                    "voice": _not_blank("e.g. de-DE-KatjaNeural"),
                },
                "additionalProperties": False,
            },
            {
                "title": "eleven_labs",
                "type": "object",
                "required": ["provider"],
                "properties": {
                    "provider": {"const": "eleven_labs"},
                    "voice": _not_blank("an ElevenLabs voice ID"),
                },
                "additionalProperties": False,
            },
        ],
    }


def _barge_in_schema() -> Schema:
    minimum_characters = {
        "type": "integer",
        "minimum": MINIMUM_CHARACTERS_RANGE[0],
        "maximum": MINIMUM_CHARACTERS_RANGE[1],
    }
    allow_after_ms = {"type": "integer", "minimum": ALLOW_AFTER_MS_RANGE[0], "maximum": ALLOW_AFTER_MS_RANGE[1]}
    branches = []
    for strategy in BARGE_IN_STRATEGIES:
        properties: Schema = {"strategy": {"const": strategy}}
        if strategy == "minimum_characters":
            properties["minimum_characters"] = dict(minimum_characters)
        if strategy != "none":
            properties["allow_after_ms"] = dict(allow_after_ms)
        branches.append(
            {
                "title": strategy,
                "type": "object",
                "required": ["strategy"],
                "properties": properties,
                "additionalProperties": False,
            }
        )
    return {
        "title": "BargeInConfig",
        "description": (
            "How the caller may interrupt: minimum_characters only with that strategy, "
            "allow_after_ms with every strategy but none."
        ),
        "oneOf": branches,
    }


def _session_id(required: bool) -> Schema:
    description = "The session.id of the event being answered."
    if not required:
        description += " Optional in what a skill returns; the dispatcher fills it in."
    return {"type": "string", "minLength": 1, "description": description}


def _action_schema(action_type: str, ref: _Ref, session_id_required: bool) -> Schema:
    properties: Schema = {"type": {"const": action_type}, "session_id": _session_id(session_id_required)}
    required = ["type", "session_id"] if session_id_required else ["type"]
    extra: Schema = {}
    if action_type == "speak":
        properties.update(
            text=_not_blank("Plain text to speak."),
            ssml=_not_blank("SSML to speak, instead of text."),
            tts=ref("TTS", _tts_schema()),
            barge_in=ref("BargeInConfig", _barge_in_schema()),
            user_input_timeout_seconds={
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "Send user_input_timeout when the caller stays silent this long after the speech.",
            },
        )
        extra["oneOf"] = [{"required": ["text"]}, {"required": ["ssml"]}]
        description = "Speak text or SSML (exactly one of them)."
    elif action_type == "audio":
        properties.update(
            audio={
                "type": "string",
                "pattern": _BASE64_PATTERN,
                "contentEncoding": "base64",
                "contentMediaType": "audio/wav",
                "description": "Standard base64 (no line breaks) of a 16 kHz mono 16-bit PCM WAV file.",
            },
            barge_in=ref("BargeInConfig", _barge_in_schema()),
        )
        required.append("audio")
        description = "Play a pre-recorded WAV clip."
    elif action_type == "transfer":
        e164 = {"type": "string", "pattern": E164_PATTERN, "description": "E.164, e.g. +4921155555555."}
        properties.update(
            target_phone_number=dict(e164),
            caller_id_name=_not_blank("Caller ID name shown to the transfer target."),
            caller_id_number=dict(e164),
        )
        required += ["target_phone_number", "caller_id_name", "caller_id_number"]
        description = "Transfer the call to another number."
    elif action_type == "hangup":
        description = "End the call."
    else:
        description = "Interrupt the current playback now (manual barge-in)."
    return {
        "title": action_type,
        "description": description,
        "type": "object",
        "required": required,
        "properties": properties,
        **extra,
        "additionalProperties": False,
    }


def _action_type_names() -> list[str]:
    from flask_aiflow.protocol.actions import ACTION_TYPES

    return list(ACTION_TYPES)


def action_schemas(*, session_id_required: bool = True, refs: str | None = None) -> dict[str, Schema]:
    """One JSON Schema per action type, keyed by the ``type`` value.

    :param session_id_required: True for actions as sent on the wire; False
        for what a skill may return as a dict (the dispatcher adds the
        ``session_id``). ``action_from_dict`` also reads a JSON null as an
        absent field; the schemas describe the null-free wire form.
    :param refs: as for :func:`event_schemas`.
    """
    ref = _refs(refs)
    return {name: _action_schema(name, ref, session_id_required) for name in _action_type_names()}


def error_schema() -> Schema:
    """The JSON body of every 4xx (and 5xx) answer of the routes."""
    return {
        "title": "Error",
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "A stable code, e.g. invalid_event, unauthorized."},
            "message": {"type": "string", "description": "What is wrong, for a person."},
            "field": {"type": "string", "description": "The offending field (session.id), or body."},
        },
        "additionalProperties": False,
    }


# -- the OpenAPI document -------------------------------------------------------------


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def openapi_document(
    *,
    webhook_path: str = "/webhook",
    max_event_bytes: int = 64 * 1024,
    auth_failure_limit: int | None = 10,
    title: str = "sipgate AI Flow webhook (flask-aiflow)",
    version: str | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 description of the webhook at ``webhook_path``."""
    if version is None:
        from flask_aiflow import __version__ as version
    components: dict[str, Schema] = {**shared_schemas(), "Error": error_schema()}
    ref = _refs("#/components/schemas/")
    event_refs = []
    for name in _event_type_names():
        key = _camel(name) + "Event"
        components[key] = _event_schema(name, ref)
        event_refs.append({"$ref": f"#/components/schemas/{key}"})
    components["UnknownEvent"] = unknown_event_schema()
    action_refs = []
    action_mapping = {}
    for name in _action_type_names():
        key = _camel(name) + "Action"
        components[key] = _action_schema(name, ref, True)
        action_refs.append({"$ref": f"#/components/schemas/{key}"})
        action_mapping[name] = f"#/components/schemas/{key}"

    def error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
        response: dict[str, Any] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        if headers:
            response["headers"] = headers
        return response

    limit_text = (
        f"More than {auth_failure_limit} authentication failures from one client within the window: "
        "further failures are answered 429 until Retry-After has passed. A valid token is never refused."
        if auth_failure_limit
        else "Not sent: the limit is switched off (AIFLOW_AUTH_FAILURE_LIMIT = None)."
    )
    responses = {
        "200": {
            "description": "The action to perform, for the event's session.",
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": action_refs,
                        "discriminator": {"propertyName": "type", "mapping": action_mapping},
                    }
                }
            },
        },
        "204": {"description": "No action (always for session_end and for unknown event types)."},
        "400": error("The body is not a valid event (invalid JSON, wrong or missing field); field names it."),
        "401": error("X-API-TOKEN is missing or wrong."),
        "405": error("Only POST is allowed.", {"Allow": {"schema": {"type": "string"}}}),
        "413": error(f"The body is larger than {max_event_bytes} bytes (AIFLOW_MAX_EVENT_BYTES)."),
        "415": error("The Content-Type is not application/json (or another application/*+json)."),
        "429": error(
            limit_text,
            {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer", "minimum": 1}}},
        ),
        "503": error(
            "AIFLOW_SHARED_SECRET is not configured on the server, or (error busy, with Retry-After) "
            "another event of the same call held its lock for longer than AIFLOW_LOCK_WAIT, or (error "
            "store_unavailable, with Retry-After) the call state store cannot be reached.",
            {"Retry-After": {"description": "Seconds to wait (busy and store_unavailable).", "schema": {"type": "integer", "minimum": 1}}},
        ),
    }
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": title,
            "version": version,
            "description": (
                "The application side of the sipgate AI Flow API: the service POSTs one event per "
                "thing that happens on a call and performs the action in the answer. The same "
                "events and actions travel as WebSocket text messages on the WebSocket route."
            ),
        },
        "paths": {
            webhook_path: {
                "post": {
                    "operationId": "handleEvent",
                    "summary": "Handle one call event",
                    "security": [{"apiToken": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [*event_refs, {"$ref": "#/components/schemas/UnknownEvent"}],
                                },
                            }
                        },
                    },
                    "responses": responses,
                }
            }
        },
        "components": {
            "schemas": components,
            "securitySchemes": {
                "apiToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-API-TOKEN",
                    "description": "The shared secret configured in AI Flow (AIFLOW_SHARED_SECRET).",
                }
            },
        },
    }
