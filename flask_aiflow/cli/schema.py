"""JSON Schemas (draft 2020-12) of the AI Flow events and actions, for ``flask aiflow schema``.

A view over :mod:`flask_aiflow.protocol.openapi`, which generates the schemas
with msgspec from the structs of :mod:`flask_aiflow.protocol.events` and
:mod:`flask_aiflow.protocol.actions` (types, ranges, enums, the E.164 pattern)
and adds what an annotation cannot say (``text`` xor ``ssml``, ``text`` or
``transcript``); the test suite checks that schemas and validators agree.
What a schema cannot express is said in the ``description``: an ``audio``
clip must also *be* a 16 kHz mono 16-bit PCM WAV file, which only
:class:`~flask_aiflow.Audio` checks.

Events are what the service sends (extra fields are tolerated); actions are
what the app sends back (no unknown fields; flask-aiflow always sets
``session_id``).
"""

from __future__ import annotations

from typing import Any

from flask_aiflow.protocol.openapi import (
    E164_PATTERN,
    JSON_SCHEMA_DIALECT,
    action_schemas,
    event_schemas,
    shared_schemas,
)

DIALECT = JSON_SCHEMA_DIALECT


def schema_names() -> dict[str, list[str]]:
    """The event and action type names that have a schema."""
    return {"events": sorted(event_schemas()), "actions": sorted(action_schemas())}


def schema_for(name: str) -> dict[str, Any]:
    """The standalone schema of one event or action type, by its wire name.

    :raises KeyError: no event or action type has that name.
    """
    body = event_schemas().get(name) or action_schemas().get(name)
    if body is None:
        raise KeyError(name)
    return {"$schema": DIALECT, "$id": f"urn:aiflow:{name}", **body}


def all_schemas() -> dict[str, Any]:
    """One schema document: every event and action in ``$defs``, any of them valid at the top."""
    events, actions = event_schemas(refs="#/$defs/"), action_schemas(refs="#/$defs/")
    messages = {**{f"event_{k}": v for k, v in events.items()}, **{f"action_{k}": v for k, v in actions.items()}}
    return {
        "$schema": DIALECT,
        "$id": "urn:aiflow:messages",
        "title": "sipgate AI Flow events and actions",
        "description": "Events are sent by the AI Flow service; actions are the app's answers.",
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in messages],
        "$defs": {**shared_schemas(), **messages},
    }


__all__ = ["DIALECT", "E164_PATTERN", "all_schemas", "schema_for", "schema_names"]
