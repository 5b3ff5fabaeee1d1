"""Error messages that name the field and say what was expected and what was found.

msgspec reports a wrong value as ``Expected `str`, got `int` - at `$.session.id```.
The protocol's errors say the same in the project's words and with the value
itself (``session.id: expected a non-empty string, got 42 (number)``), so one
log line tells an integrator what to fix. What is *expected* is read from the
declaration of the field (its type and :class:`msgspec.Meta` constraints),
so the wording cannot drift from the rule; a declaration may name its rule in
words through ``Meta(extra={"expected": ...})`` (every failure) or
``Meta(extra={"pattern_means": ...})`` (a failed pattern only).
"""

import json
import re
from collections.abc import Mapping
from typing import Any

import msgspec
from msgspec import inspect

__all__ = ["MISSING", "describe", "expected", "json_type", "quote", "split_location", "type_at", "value_at"]

Path = tuple[str | int, ...]

#: What :func:`value_at` returns where the decoded JSON has no value.
MISSING: Any = object()


def quote(text: str, limit: int = 40, *, ascii_only: bool = True) -> str:
    """A string as a JSON literal for messages, shortened; ASCII-only by default (safe to log)."""
    return json.dumps(text if len(text) <= limit else text[: limit - 3] + "...", ensure_ascii=ascii_only)


def describe(value: Any, *, ascii_only: bool = True) -> str:
    """Name a value for an error message: a short literal plus its JSON type.

    What the service sent is quoted ASCII-only (it may be hostile and is
    logged); a value from the app's own configuration may keep its letters.
    """
    if value is None:
        return "null"
    if value is True or value is False:
        return f"{'true' if value else 'false'} (boolean)"
    if isinstance(value, str):
        return f"{quote(value, ascii_only=ascii_only)} (string)"
    if isinstance(value, (int, float)):
        text = repr(value)
        if len(text) > 40:
            text = text[:37] + "..."
        return f"{text} (number)"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return f"a {type(value).__name__} (not a JSON value)"


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value ("object", "array", ...)."""
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


# -- where: msgspec's "- at `$.a.b[0]`" ----------------------------------------------

_LOCATION = re.compile(r"^(.*) - at `\$(.*)`$", re.DOTALL)
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")


def split_location(message: str) -> tuple[str, Path]:
    """msgspec's message without its location, and the location as a path."""
    match = _LOCATION.match(message)
    if match is None:
        return message, ()
    path: list[str | int] = []
    for segment in _SEGMENT.finditer(match.group(2)):
        name, index = segment.groups()
        if name is not None:
            path.append(name)
        elif index is not None:
            path.append(int(index))
    return match.group(1), tuple(path)


def value_at(data: Any, path: Path) -> Any:
    """The value at ``path`` in decoded JSON, or a private marker when there is none."""
    for key in path:
        present = (isinstance(data, Mapping) and isinstance(key, str) and key in data) or (
            isinstance(data, list) and isinstance(key, int) and key < len(data)
        )
        if not present:
            return MISSING
        data = data[key]
    return data


def type_at(root: inspect.Type, path: Path) -> inspect.Type | None:
    """The declared type of the field at ``path`` below a struct type, or None."""
    current: inspect.Type | None = root
    for key in path:
        current = _struct_of(current)
        if current is None or not isinstance(key, str):
            return None
        fields = {field.encode_name: field.type for field in current.fields}
        current = fields.get(key)
    return current


def _struct_of(type_: inspect.Type | None) -> inspect.StructType | None:
    if isinstance(type_, inspect.Metadata):
        type_ = type_.type
    if isinstance(type_, inspect.StructType):
        return type_
    if isinstance(type_, inspect.UnionType):
        structs = [t for t in type_.types if isinstance(t, inspect.StructType)]
        return structs[0] if len(structs) == 1 else None
    return None


# -- what: the declared rule in words --------------------------------------------------------


def expected(type_: inspect.Type | None, failure: str = "") -> str:
    """The declared rule of a field in words, e.g. ``"an integer from 1 to 100"``.

    :param failure: msgspec's message, which says which constraint failed
        when a type has several (a non-empty string that is more than blanks).
    """
    extra: dict[str, Any] = {}
    while isinstance(type_, inspect.Metadata):
        extra = {**(type_.extra or {}), **extra}
        type_ = type_.type
    if "expected" in extra:
        return str(extra["expected"])
    if isinstance(type_, inspect.UnionType):
        members = [t for t in type_.types if not isinstance(t, inspect.NoneType)]
        if len(members) == 1:
            return expected(members[0], failure)
        return " or ".join(dict.fromkeys(expected(member, failure) for member in members))
    if isinstance(type_, inspect.StrType):
        if "regex" in failure and type_.pattern is not None:
            return str(extra.get("pattern_means", f"a string matching {type_.pattern!r}"))
        if "length" in failure and type_.min_length == 1:
            return "a non-empty string"
        return "a string"
    if isinstance(type_, inspect.LiteralType):
        names = [json.dumps(value) for value in type_.values]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    if isinstance(type_, inspect.BoolType):
        return "a boolean"
    if isinstance(type_, inspect.IntType):
        return _number("an integer", type_)
    if isinstance(type_, inspect.FloatType):
        return _number("a number", type_)
    if isinstance(type_, (inspect.StructType, inspect.DictType)):
        return "an object"
    return "a different value"


def _number(kind: str, type_: inspect.IntType | inspect.FloatType) -> str:
    if type_.ge is not None and type_.le is not None:
        return f"{kind} from {type_.ge:g} to {type_.le:g}"
    if type_.ge is not None:
        return f"{kind} >= {type_.ge:g}"
    if type_.gt is not None:
        return f"{kind} > {type_.gt:g}"
    return kind


def is_constraint_failure(failure: str) -> bool:
    """True when msgspec's message is about a wrong value rather than a missing or unknown field."""
    return failure.startswith(("Expected `", "Invalid enum value", "Invalid value"))


def type_info(type_: Any) -> inspect.Type:
    """msgspec's description of a declared type (cached by msgspec itself per type)."""
    return msgspec.inspect.type_info(type_)
