"""Typed AI Flow events and the strict parsing that produces them.

The service sends one JSON object per event (HTTP POST body or WebSocket text
message). Everything here turns such a body into an immutable, typed
:class:`Event`, or raises :class:`InvalidEventError` naming the exact field
that is wrong, so a broken integration is diagnosed from one log line.

Unknown extra fields are tolerated (the service may add some) and stay
reachable through :attr:`Event.raw`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

__all__ = [
    "EVENT_TYPES",
    "AssistantSpeak",
    "AssistantSpeechEnded",
    "Event",
    "InvalidEventError",
    "Session",
    "SessionEnd",
    "SessionStart",
    "UnknownEventTypeError",
    "UserInputTimeout",
    "UserSpeak",
    "decode_json",
    "load_event",
    "parse_event",
]

#: Sentinel for "key not present", distinct from an explicit JSON null.
_MISSING: Any = object()

#: Longest integer literal accepted in a body. Python refuses to convert more
#: than 4300 digits by default (and the limit is process-wide and tunable), so
#: the decoder enforces its own, explicit bound.
MAX_INT_DIGITS = 4300


# -- errors -------------------------------------------------------------------


class InvalidEventError(ValueError):
    """An event body that is not a valid AI Flow event.

    :param field: dotted path of the offending field (``"session.id"``), or
        ``"body"`` for problems with the body as a whole, or None.
    :param reason: what was expected and what was found.
    """

    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(reason if field is None else f"{field}: {reason}")


class UnknownEventTypeError(InvalidEventError):
    """A well-formed event whose ``type`` this library does not know.

    Kept distinct because the right answer is to ignore the event (204): the
    service may introduce new event types at any time.
    """

    def __init__(self, event_type: str) -> None:
        self.event_type = event_type
        known = ", ".join(EVENT_TYPES)
        super().__init__("type", f"unknown event type {_quote(event_type)}; known types: {known}")


def _quote(text: str, limit: int = 40) -> str:
    """A string as a JSON literal for messages, shortened and ASCII-only (safe to log)."""
    return json.dumps(text if len(text) <= limit else text[: limit - 3] + "...")


def _describe(value: Any) -> str:
    """Name a decoded JSON value for an error message: a short literal plus its JSON type."""
    if value is None:
        return "null"
    if value is True or value is False:
        return f"{'true' if value else 'false'} (boolean)"
    if isinstance(value, str):
        return f"{_quote(value)} (string)"
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


def _json_type(value: Any) -> str:
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


# -- session ------------------------------------------------------------------

_DIRECTIONS = frozenset({"inbound", "outbound"})
_OPTIONAL_SESSION_FIELDS = ("account_id", "phone_number", "from_phone_number", "to_phone_number")
_STR_OR_NONE = frozenset({str, type(None)})


@dataclass(frozen=True, slots=True)
class Session:
    """The call an event belongs to.

    Only ``id`` is guaranteed: the reference's own examples omit the other
    fields on most events, so they are optional here.
    """

    id: str
    account_id: str | None = None
    phone_number: str | None = None
    direction: str | None = None
    from_phone_number: str | None = None
    to_phone_number: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The wire form, without the fields that are not set."""
        out: dict[str, Any] = {"id": self.id}
        for name in ("account_id", "phone_number", "direction", "from_phone_number", "to_phone_number"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def _parse_session(data: Mapping[str, Any]) -> Session:
    session = data.get("session", _MISSING)
    if session is _MISSING:
        raise InvalidEventError("session", "missing")
    if type(session) is not dict and not isinstance(session, Mapping):
        raise InvalidEventError("session", f"expected an object, got {_describe(session)}")
    sid = session.get("id", _MISSING)
    if sid is _MISSING:
        raise InvalidEventError("session.id", "missing")
    if type(sid) is not str or not sid:
        raise InvalidEventError("session.id", f"expected a non-empty string, got {_describe(sid)}")
    get = session.get
    values: tuple[str | None, ...] = (
        get("account_id"), get("phone_number"), get("from_phone_number"), get("to_phone_number")
    )
    if not _STR_OR_NONE.issuperset(map(type, values)):  # rare: normalise a str subclass, or raise
        values = tuple(_optional_str(session, name, "session.") for name in _OPTIONAL_SESSION_FIELDS)
    direction = session.get("direction")
    if direction is not None and (type(direction) is not str or direction not in _DIRECTIONS):
        raise InvalidEventError(
            "session.direction", f'expected "inbound" or "outbound", got {_describe(direction)}'
        )
    key = (sid, values[0], values[1], direction, values[2], values[3])
    cached = _SESSIONS.get(key)
    if cached is None:
        if len(_SESSIONS) >= _SESSIONS_KEPT:
            _SESSIONS.clear()
        cached = _SESSIONS[key] = Session(*key)
    return cached


#: Sessions parsed lately, by their field values in field order. Every event of
#: a call carries the same session, and a Session is immutable, so one object
#: serves them all instead of being built again per event.
_SESSIONS: dict[tuple[str | None, ...], Session] = {}
#: Bound on :data:`_SESSIONS`; it is emptied when full (a lookup is only a shortcut).
_SESSIONS_KEPT = 1024


# -- field helpers ------------------------------------------------------------


def _optional_str(data: Mapping[str, Any], key: str, prefix: str = "") -> str | None:
    """A string field that may be absent; JSON null counts as absent."""
    value = data.get(key)
    if value is None or type(value) is str:
        return value
    if isinstance(value, str):  # a str subclass: normalise to a plain str
        return str(value)
    raise InvalidEventError(prefix + key, f"expected a string, got {_describe(value)}")


def _required_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, _MISSING)
    if type(value) is str:
        return value
    if value is _MISSING:
        raise InvalidEventError(key, "missing")
    if isinstance(value, str):
        return str(value)
    raise InvalidEventError(key, f"expected a string, got {_describe(value)}")


def _required_ms(data: Mapping[str, Any], key: str) -> float:
    """A required millisecond value: a finite JSON number >= 0 (booleans are not numbers)."""
    value = data.get(key, _MISSING)
    if value is _MISSING:
        raise InvalidEventError(key, "missing")
    kind = type(value)
    if (kind is int or kind is float) and value >= 0 and (kind is int or math.isfinite(value)):
        return value  # type: ignore[no-any-return]
    raise InvalidEventError(key, f"expected a finite number >= 0, got {_describe(value)}")


def _optional_bool(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if value is None:
        return False
    if value is True or value is False:
        return value
    raise InvalidEventError(key, f"expected a boolean, got {_describe(value)}")


# -- events -------------------------------------------------------------------

_EMPTY_RAW: Mapping[str, Any] = MappingProxyType({})


def _empty_raw() -> Mapping[str, Any]:
    return _EMPTY_RAW


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all events: the call's session plus the decoded original.

    ``raw`` is a read-only view of the object the event was parsed from (an
    empty mapping for events built in code). It does not take part in
    equality, so a parsed event equals one built from the same values.
    """

    type: ClassVar[str]

    session: Session
    raw: Mapping[str, Any] = field(
        default_factory=_empty_raw, compare=False, repr=False, kw_only=True
    )

    @property
    def session_id(self) -> str:
        """Shortcut for ``session.id``, the value every action must carry."""
        return self.session.id

    def to_dict(self) -> dict[str, Any]:
        """The wire form of this event (unset fields omitted), e.g. for a call simulator."""
        out: dict[str, Any] = {"type": self.type}
        self._add_fields(out)
        out["session"] = self.session.to_dict()
        return out

    def _add_fields(self, out: dict[str, Any]) -> None:
        """Add the type-specific fields to ``out``; events without any add nothing."""


@dataclass(frozen=True, slots=True)
class SessionStart(Event):
    """A call begins; the place to greet the caller."""

    type: ClassVar[str] = "session_start"


@dataclass(frozen=True, slots=True)
class UserSpeak(Event):
    """The caller said something (after speech-to-text).

    ``barged_in`` is True when the caller interrupted the assistant.
    """

    type: ClassVar[str] = "user_speak"

    text: str
    barged_in: bool = False

    def _add_fields(self, out: dict[str, Any]) -> None:
        out["text"] = self.text
        if self.barged_in:
            out["barged_in"] = True


@dataclass(frozen=True, slots=True)
class AssistantSpeak(Event):
    """The assistant started speaking (may be omitted for some TTS models).

    ``duration_ms`` and ``speech_started_at`` (Unix time in ms) are kept as
    sent: an int or a float.
    """

    type: ClassVar[str] = "assistant_speak"

    duration_ms: float
    speech_started_at: float
    text: str | None = None
    ssml: str | None = None

    def _add_fields(self, out: dict[str, Any]) -> None:
        if self.text is not None:
            out["text"] = self.text
        if self.ssml is not None:
            out["ssml"] = self.ssml
        out["duration_ms"] = self.duration_ms
        out["speech_started_at"] = self.speech_started_at


@dataclass(frozen=True, slots=True)
class AssistantSpeechEnded(Event):
    """The assistant finished speaking; the user-input timeout starts now."""

    type: ClassVar[str] = "assistant_speech_ended"


@dataclass(frozen=True, slots=True)
class UserInputTimeout(Event):
    """The caller said nothing within ``user_input_timeout_seconds``."""

    type: ClassVar[str] = "user_input_timeout"


@dataclass(frozen=True, slots=True)
class SessionEnd(Event):
    """The call ended; no action may be returned, cleanup only."""

    type: ClassVar[str] = "session_end"


#: The six event types of the protocol, by their wire name.
EVENT_TYPES: Mapping[str, type[Event]] = MappingProxyType(
    {
        cls.type: cls
        for cls in (
            SessionStart,
            UserSpeak,
            AssistantSpeak,
            AssistantSpeechEnded,
            UserInputTimeout,
            SessionEnd,
        )
    }
)


# -- parsing ------------------------------------------------------------------

_Parser = Callable[[Mapping[str, Any], Session, Mapping[str, Any]], Event]


def _parse_user_speak(data: Mapping[str, Any], session: Session, raw: Mapping[str, Any]) -> Event:
    return UserSpeak(session, _required_str(data, "text"), _optional_bool(data, "barged_in"), raw=raw)


def _parse_user_barge_in(data: Mapping[str, Any], session: Session, raw: Mapping[str, Any]) -> Event:
    """The SDK's deprecated ``user_barge_in`` event: a user_speak that interrupted."""
    return UserSpeak(session, _required_str(data, "text"), True, raw=raw)


def _parse_assistant_speak(data: Mapping[str, Any], session: Session, raw: Mapping[str, Any]) -> Event:
    return AssistantSpeak(
        session,
        _required_ms(data, "duration_ms"),
        _required_ms(data, "speech_started_at"),
        _optional_str(data, "text"),
        _optional_str(data, "ssml"),
        raw=raw,
    )


def _session_only(cls: type[Event]) -> _Parser:
    def parse(data: Mapping[str, Any], session: Session, raw: Mapping[str, Any]) -> Event:
        return cls(session, raw=raw)

    return parse


_PARSERS: dict[str, _Parser] = {
    "session_start": _session_only(SessionStart),
    "user_speak": _parse_user_speak,
    "user_barge_in": _parse_user_barge_in,
    "assistant_speak": _parse_assistant_speak,
    "assistant_speech_ended": _session_only(AssistantSpeechEnded),
    "user_input_timeout": _session_only(UserInputTimeout),
    "session_end": _session_only(SessionEnd),
}


def parse_event(data: Any) -> Event:
    """Validate a decoded JSON value and return the typed event.

    :raises UnknownEventTypeError: ``type`` is a string naming no known event
        (checked before the session, as the fields of an unknown type are unknown).
    :raises InvalidEventError: anything else is wrong; ``field`` says where.
    """
    if type(data) is not dict and not isinstance(data, Mapping):  # the exact-type test skips the slow ABC check
        raise InvalidEventError("body", f"expected a JSON object, got {_json_type(data)}")
    event_type = data.get("type", _MISSING)
    if type(event_type) is not str:
        if event_type is _MISSING:
            raise InvalidEventError("type", "missing")
        raise InvalidEventError("type", f"expected a string, got {_describe(event_type)}")
    parser = _PARSERS.get(event_type)
    if parser is None:
        raise UnknownEventTypeError(event_type)
    raw = data if type(data) is MappingProxyType else MappingProxyType(data)
    return parser(data, _parse_session(data), raw)


# -- decoding -----------------------------------------------------------------

#: Brackets outside strings, or a whole string literal (skipped). The closing
#: quote is optional so an unterminated string ends the scan instead of failing it.
_STRUCTURE = re.compile(r'([\[{])|([\]}])|"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)


def _nesting_exceeds(text: str, max_depth: int) -> bool:
    """True when arrays/objects nest deeper than ``max_depth`` (brackets in strings ignored).

    Counting brackets is a C-speed pre-check: a body with at most
    ``max_depth`` opening brackets cannot nest deeper, which is every
    ordinary event. Only other bodies are scanned, stopping at the first
    level too deep, so 100000 ``[`` cost microseconds and never recurse.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return False
    depth = 0
    for match in _STRUCTURE.finditer(text):
        group = match.lastindex
        if group == 1:
            depth += 1
            if depth > max_depth:
                return True
        elif group == 2:
            depth -= 1
    return False


def _reject_constant(name: str) -> Any:
    raise InvalidEventError("body", f"invalid JSON: {name} is not a JSON number")


def _parse_int(literal: str) -> int:
    digits = len(literal) - (literal[0] == "-")
    if digits > MAX_INT_DIGITS:
        raise InvalidEventError(
            "body", f"invalid JSON: an integer with {digits} digits is too large (limit {MAX_INT_DIGITS})"
        )
    return int(literal)


def _parse_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        shown = literal if len(literal) <= 40 else literal[:37] + "..."
        raise InvalidEventError("body", f"invalid JSON: the number {shown} is out of range")
    return value


#: What JSON counts as whitespace (RFC 8259); str.isspace() accepts more.
_JSON_WHITESPACE = " \t\n\r"

#: One strict decoder for all bodies (``json.loads`` with options would build a new one per call).
_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, parse_int=_parse_int, parse_float=_parse_float
)


def _to_text(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            return bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start]
            raise InvalidEventError(
                "body", f"not valid UTF-8 (byte 0x{bad:02x} at offset {exc.start})"
            ) from None
    raise InvalidEventError("body", f"expected bytes or str, got {type(body).__name__}")


def decode_json(body: bytes | bytearray | str, *, max_depth: int = 32) -> Any:
    """Strictly decode one event body or WebSocket message.

    Stricter than :func:`json.loads`: UTF-8 only (no UTF-16/32 sniffing),
    no ``NaN``/``Infinity`` literals or numbers that overflow to infinity, no
    integer literals over :data:`MAX_INT_DIGITS` digits, and no nesting
    deeper than ``max_depth`` (checked before parsing, so hostile input
    cannot exhaust the stack).

    :raises InvalidEventError: with ``field="body"``, for any bad input.
    """
    text = _to_text(body)
    if not text or text.isspace():
        raise InvalidEventError("body", "empty; expected a JSON object")
    if _nesting_exceeds(text, max_depth):
        raise InvalidEventError("body", f"JSON nested deeper than {max_depth} levels")
    try:
        if text[0] == "{":
            # The usual body: an object with nothing around it. raw_decode skips the
            # two whitespace scans of decode(); anything else after the object takes
            # the full decode, which applies the same rules and gives its messages.
            value, end = _DECODER.raw_decode(text)
            if end == len(text) or not text[end:].strip(_JSON_WHITESPACE):
                return value
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise InvalidEventError(
            "body", f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except InvalidEventError:
        raise
    except (ValueError, RecursionError) as exc:  # belt and braces: nothing else may escape
        raise InvalidEventError("body", f"invalid JSON: {exc}") from None


def load_event(body: bytes | bytearray | str, *, max_depth: int = 32) -> Event:
    """Decode and validate one event body: :func:`decode_json` then :func:`parse_event`."""
    return parse_event(decode_json(body, max_depth=max_depth))
