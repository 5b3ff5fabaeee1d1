"""Configuration models: a skill's settings declared as msgspec structs.

A skill declares the shape of its ``AIFLOW_<NAME>`` mapping once, as
:class:`msgspec.Struct` classes with constraints in the annotations
(:data:`NonEmptyStr`, :data:`PhoneNumber`, ``Annotated[int, Meta(ge=1)]``).
:func:`convert` checks a configured value against the model and returns the
typed struct; a mistake becomes a :class:`~flask_aiflow.SkillConfigError`
naming the exact place in the Flask config, e.g.
``AIFLOW_MENU["options"][2]["keywords"][0]: expected a string, got 3 (number)``.
:func:`config_schema` gives the JSON Schema of the same model.

msgspec reports a wrong value inside a mapping with user-chosen keys as
``$.lines[...]``; :func:`convert` finds the key itself, by walking the model's
types alongside the value, so the message names it.

The shared pieces of a voice assistant's configuration are here too:
:class:`VoiceKeys` (``tts``, ``barge_in``, ``user_input_timeout_seconds``),
:class:`SpeakConfig`, :class:`TransferConfig` and :class:`ClipConfig`;
:mod:`flask_aiflow.skills.config` turns them into actions with the core's
own checks.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Collection, Mapping
from typing import Annotated, Any, Literal, TypeVar, Union

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from flask_aiflow.protocol import messages
from flask_aiflow.skills.registry import SkillConfigError

if typing.TYPE_CHECKING:
    from flask_aiflow.skills.config import KeyPath

__all__ = [
    "UNSET",
    "ClipConfig",
    "ConfigModel",
    "NonEmptyStr",
    "PhoneNumber",
    "Priority",
    "Seconds",
    "SpeakConfig",
    "SpeakSetting",
    "SpeechConfig",
    "SpeechSetting",
    "TransferConfig",
    "UnsetType",
    "VoiceKeys",
    "config_schema",
    "convert",
    "describe",
]

M = TypeVar("M")

_NOT_BLANK = r"\S"
# "(?!\n)$" is the end of the string for Python's re and for ECMA-262 alike.
_E164 = r"^\+[1-9][0-9]{1,14}(?!\n)$"

#: A string with more than whitespace in it.
NonEmptyStr = Annotated[str, Meta(pattern=_NOT_BLANK)]
#: A phone number in E.164 format: ``+4921155555555``.
PhoneNumber = Annotated[str, Meta(pattern=_E164, examples=["+4921155555555"])]
#: A skill priority (see :mod:`flask_aiflow.skills.candidates`).
Priority = Annotated[int, Meta(ge=0)]
#: A positive number of seconds.
Seconds = Annotated[float, Meta(gt=0)]

#: How the error messages name a pattern a string failed.
_PATTERN_NAMES = {
    _NOT_BLANK: "a non-empty string",
    _E164: "a phone number in E.164 format like +4921155555555 ('+', country code, number; digits only)",
}


class ConfigModel(Struct, forbid_unknown_fields=True):
    """Base of configuration structs: an unknown key is a mistake, not ignored."""


class VoiceKeys(ConfigModel):
    """How the assistant speaks: defaults a configuration level hands down.

    ``tts`` and ``barge_in`` take the wire form of the protocol (checked by
    the core); None keeps the default of the level above.
    """

    tts: dict[str, Any] | None = None
    barge_in: dict[str, Any] | None = None
    user_input_timeout_seconds: Seconds | None = None


class SpeechConfig(ConfigModel):
    """Speech as a mapping: exactly one of ``text`` / ``ssml``; ``tts`` and ``barge_in`` override defaults.

    For last words (a farewell), which arm no input timeout.
    """

    text: NonEmptyStr | UnsetType = UNSET
    ssml: NonEmptyStr | UnsetType = UNSET
    tts: dict[str, Any] | None | UnsetType = UNSET
    barge_in: dict[str, Any] | None | UnsetType = UNSET


class SpeakConfig(SpeechConfig):
    """A speak setting as a mapping: :class:`SpeechConfig` and ``user_input_timeout_seconds``."""

    user_input_timeout_seconds: Seconds | None | UnsetType = UNSET


# The short forms are plain strings: the core's check of the text names the
# key ``text`` in its message, as the mapping form does.

#: A speak setting: its text, or a mapping.
SpeakSetting = Union[str, SpeakConfig]  # noqa: UP007 - a runtime alias msgspec reads
#: Last words: their text, or a mapping without an input timeout.
SpeechSetting = Union[str, SpeechConfig]  # noqa: UP007 - a runtime alias msgspec reads


class TransferConfig(ConfigModel):
    """A transfer target; ``caller_id_number`` defaults to ``target``.

    ``caller_id_name`` defaults to what the skill says (a menu option's
    name); ``announce`` is spoken before the transfer.
    """

    target: PhoneNumber
    caller_id_name: NonEmptyStr | UnsetType = UNSET
    caller_id_number: PhoneNumber | UnsetType = UNSET
    announce: SpeakSetting | None = None


class ClipConfig(ConfigModel):
    """An audio clip: a WAV ``file`` (relative to the app) or its ``base64``, exactly one."""

    file: NonEmptyStr | UnsetType = UNSET
    base64: NonEmptyStr | UnsetType = UNSET
    barge_in: dict[str, Any] | None = None


def config_schema(model: Any, key: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of configuration ``key`` declared by ``model``."""
    schema = msgspec.json.schema(model)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"urn:aiflow:config:{key}", "title": key, **schema}


# -- conversion with errors that name the key ----------------------------------------


def convert(value: Any, model: type[M] | Any, path: KeyPath) -> M:
    """``value`` as an instance of ``model``; a mismatch raises ``SkillConfigError`` at its key path.

    Conversion is strict: ``"3"`` is no number and ``1`` is no ``true``.
    """
    try:
        return msgspec.convert(value, model, strict=True)
    except msgspec.ValidationError as exc:
        raise _translate(str(exc), value, model, path) from None


_WHERE = re.compile(r"^(?P<message>.*) - at (?P<key>`key` in )?`(?P<where>\$[^`]*)`$", re.DOTALL)
_STEP = re.compile(r"\.(?P<field>[A-Za-z_][A-Za-z0-9_]*)|\[(?P<index>\d+)\]|\[(?P<any>\.\.\.)\]")


def _translate(message: str, value: Any, model: Any, path: KeyPath) -> SkillConfigError:
    match = _WHERE.match(message)
    where, at_key = ("$", False) if match is None else (match["where"], bool(match["key"]))
    if match is not None:
        message = match["message"]
    raw, kind = value, model
    for step in _STEP.finditer(where):
        if step["field"] is not None:
            name = step["field"]
            raw = raw.get(name) if isinstance(raw, Mapping) else None
            kind = _field_type(kind, name)
            path = path / name
        elif step["index"] is not None:
            index = int(step["index"])
            raw = raw[index] if isinstance(raw, list | tuple) and index < len(raw) else None
            kind = _item_type(kind)
            path = path / index
        else:  # a value in a mapping with free keys: the first one the model refuses
            key_type, value_type = _dict_types(kind)
            key = _first_failing(raw, value_type, keys=False)
            raw = raw.get(key) if isinstance(raw, Mapping) else None
            kind = value_type
            path = path / _key_part(key)
    if at_key:
        key_type, _ = _dict_types(kind)
        key = _first_failing(raw, key_type, keys=True)
        raw, kind, path = key, key_type, path / _key_part(key)
    found = re.match(r"Object missing required field `(?P<name>[^`]+)`", message)
    if found:
        return (path / found["name"]).error("missing")
    found = re.match(r"Object contains unknown field `(?P<name>[^`]+)`", message)
    if found:
        struct = _struct_of(kind)
        allowed = [field.encode_name for field in msgspec.structs.fields(struct)] if struct else []
        return (path / found["name"]).error("unknown key" + _suggest(found["name"], allowed))
    return path.error(_reason(message, raw, kind))


def _reason(message: str, raw: Any, kind: Any) -> str:
    got = describe(raw)
    found = re.match(r"Expected `(?P<types>[^`]+)`, got `[^`]+`$", message)
    if found:
        names = dict(_TYPE_NAMES)
        if _members(_item_type(kind)) == [str]:
            names["array"] = "a list of strings"
        expected = " or ".join(names.get(name, name) for name in found["types"].split(" | "))
        return f"expected {expected}, got {got}"
    found = re.match(r"Expected `(?P<type>int|float)` (?P<op>>=|>|<=|<) (?P<bound>\S+)$", message)
    if found:
        bound = found["bound"]
        try:
            bound = f"{float(bound):g}"
        except ValueError:
            pass
        return f"expected {_TYPE_NAMES[found['type']]} {found['op']} {bound}, got {got}"
    found = re.match(r"Expected `str` matching regex '(?P<pattern>.*)'$", message, re.DOTALL)
    if found:
        pattern = found["pattern"].encode().decode("unicode_escape")
        return f"expected {_PATTERN_NAMES.get(pattern, 'a string matching ' + found['pattern'])}, got {got}"
    if re.match(r"Expected `(array|object)` of length >= 1$", message):
        return f"expected at least one entry, got {'an empty list' if isinstance(raw, list | tuple) else got}"
    if message.startswith("Invalid enum value"):
        choices = _literal_choices(kind)
        if choices:
            return f"expected one of {', '.join(map(repr, choices))}, got {raw!r}"
    return message[:1].lower() + message[1:]


_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "null": "null",
    "array": "a list",
    "object": "a mapping",
}


def _suggest(key: str, allowed: Collection[str]) -> str:
    if not allowed:
        return ""
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (allowed: {', '.join(allowed)})"


def _key_part(key: Any) -> str | int:
    return key if isinstance(key, str | int) else repr(key)


def _first_failing(raw: Any, kind: Any, *, keys: bool) -> Any:
    """The first key of mapping ``raw`` (or its value, for ``keys=False``) that ``kind`` refuses."""
    if not isinstance(raw, Mapping):
        return "..."
    for key, item in raw.items():
        try:
            msgspec.convert(key if keys else item, kind, strict=True)
        except msgspec.ValidationError:
            return key
    return "..."


# -- walking a model's types alongside a value -----------------------------------------


def _members(kind: Any) -> list[Any]:
    """The alternatives of a type, without ``Annotated`` wrappers."""
    while typing.get_origin(kind) is Annotated:
        kind = typing.get_args(kind)[0]
    if typing.get_origin(kind) in (Union, types.UnionType):
        return [member for arg in typing.get_args(kind) for member in _members(arg)]
    return [kind]


def _struct_of(kind: Any) -> type[Struct] | None:
    for member in _members(kind):
        if isinstance(member, type) and issubclass(member, Struct):
            return member
    return None


def _field_type(kind: Any, name: str) -> Any:
    struct = _struct_of(kind)
    if struct is not None:
        for field in msgspec.structs.fields(struct):
            if field.encode_name == name:
                return field.type
    return Any


def _item_type(kind: Any) -> Any:
    for member in _members(kind):
        if typing.get_origin(member) in (list, tuple, frozenset, set):
            return typing.get_args(member)[0]
    return Any


def _dict_types(kind: Any) -> tuple[Any, Any]:
    for member in _members(kind):
        if typing.get_origin(member) in (dict, Mapping):
            key, value = typing.get_args(member)
            return key, value
    return Any, Any


def _literal_choices(kind: Any) -> tuple[Any, ...]:
    for member in _members(kind):
        if typing.get_origin(member) is Literal:
            return typing.get_args(member)
    return ()


def describe(value: Any) -> str:
    """Name a configured value for an error message: a short literal and its JSON type."""
    return messages.describe(value, ascii_only=False)
