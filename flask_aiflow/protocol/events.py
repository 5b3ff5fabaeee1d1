"""Typed AI Flow events, declared once as msgspec structs and decoded in one step.

The service sends one JSON object per event (HTTP POST body or WebSocket text
message). :func:`load_event` turns such a body into an immutable, typed
:class:`Event`, or raises :class:`InvalidEventError` naming the exact field
that is wrong, so a broken integration is diagnosed from one log line.

The structs below are the only description of an event: msgspec decodes and
validates against them at C speed, :mod:`flask_aiflow.protocol.openapi`
generates the JSON Schemas from them, and the error messages read the
expected values from them (:mod:`flask_aiflow.protocol.messages`).

What an event must carry is only what the pipeline needs: ``type``,
``session.id`` and, in ``user_speak``, the caller's words (``text``, or
``transcript`` as sipgate's n8n integration names it). Everything else is
optional, because a refused event leaves a caller in silence. Unknown extra
fields are tolerated (the service may add some) and stay reachable through
:attr:`Event.raw`.
"""

import json
import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType
from msgspec.structs import force_setattr

from flask_aiflow.protocol import messages

# Short names used across the package (the skills' configuration errors word values the same way).
_describe = messages.describe
_quote = messages.quote
_json_type = messages.json_type

__all__ = [
    "EVENT_TYPES",
    "AssistantSpeak",
    "AssistantSpeechEnded",
    "Direction",
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

#: Longest integer literal :func:`decode_json` accepts. Python refuses to convert
#: more than 4300 digits by default (and the limit is process-wide and tunable),
#: so the decoder enforces its own, explicit bound.
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


# -- declarations -------------------------------------------------------------

SessionId = Annotated[
    str, Meta(min_length=1, description="Unique session (call) identifier, a UUID.", extra={"expected": "a non-empty string"})
]
Direction = Literal["inbound", "outbound"]
#: Milliseconds, kept as sent (an int stays an int).
Milliseconds = Annotated[
    Annotated[int, Meta(ge=0)] | Annotated[float, Meta(ge=0)], Meta(extra={"expected": "a finite number >= 0"})
]


class Session(Struct, frozen=True, omit_defaults=True):
    """The call an event belongs to.

    Only ``id`` is guaranteed: the reference's own examples omit the other
    fields on most events, so they are optional here (JSON null counts as absent).
    """

    id: SessionId
    account_id: str | None = None
    phone_number: str | None = None
    direction: Direction | None = None
    from_phone_number: str | None = None
    to_phone_number: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The wire form, without the fields that are not set."""
        wire: dict[str, Any] = msgspec.to_builtins(self)
        return wire


_NO_RAW: Mapping[str, Any] = MappingProxyType({})


class Event(Struct, frozen=True, omit_defaults=True, tag_field="type", dict=True):
    """Base of all events: the call's session.

    ``dict=True`` gives each event room for :attr:`raw`, which is runtime
    state rather than a field: it takes no part in equality, ``repr`` or
    encoding, so a decoded event equals one built from the same values.
    """

    type: ClassVar[str]

    session: Session

    @property
    def session_id(self) -> str:
        """Shortcut for ``session.id``, the value every action must carry."""
        return self.session.id

    @property
    def raw(self) -> Mapping[str, Any]:
        """A read-only view of the decoded body, unknown fields included (empty for events built in code).

        Decoded on first use from the body :func:`load_event` was given, so
        events whose raw view nobody reads cost nothing extra.

        :raises InvalidEventError: an unknown field holds a number msgspec
            cannot represent (the typed decode skips unknown fields unread).
        """
        state = self.__dict__
        raw = state.get("_raw")
        if raw is None:
            body = state.get("_body")
            if body is None:
                return _NO_RAW
            try:
                raw = MappingProxyType(_PLAIN.decode(body))
            except msgspec.ValidationError as exc:
                raise InvalidEventError("body", f"invalid JSON: {exc}") from None
            force_setattr(self, "_raw", raw)
        return raw

    def to_dict(self) -> dict[str, Any]:
        """The wire form of this event (unset fields omitted), e.g. for a call simulator."""
        wire: dict[str, Any] = msgspec.to_builtins(self)
        return wire


class SessionStart(Event, tag="session_start", frozen=True):
    """A call begins; the place to greet the caller."""

    type: ClassVar[str] = "session_start"


class UserSpeak(Event, tag="user_speak", frozen=True):
    """The caller said something (after speech-to-text).

    ``text`` is what was recognised; the service's n8n integration sends it
    as ``transcript``, which is read as the same field (``text`` wins when a
    body has both). ``barged_in`` is True when the caller interrupted the
    assistant; ``confidence`` is the recogniser's, when it sends one.
    """

    type: ClassVar[str] = "user_speak"

    # UNSET marks words the body did not carry under this name; __post_init__
    # replaces it with ``transcript`` or rejects the event, so ``text`` always
    # holds a str once the event exists.
    text: str = UNSET  # type: ignore[assignment]
    barged_in: bool | None = False
    confidence: float | None = None
    transcript: str | UnsetType = UNSET

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):  # not sent under this name
            if self.transcript is UNSET:
                raise InvalidEventError("text", "missing")
            force_setattr(self, "text", self.transcript)
        if self.transcript is not UNSET:
            force_setattr(self, "transcript", UNSET)  # only another name for text on the wire
        if self.barged_in is None:
            force_setattr(self, "barged_in", False)


class _UserBargeIn(UserSpeak, tag="user_barge_in", frozen=True):
    """The SDK's deprecated ``user_barge_in`` event: a user_speak that interrupted."""


class AssistantSpeak(Event, tag="assistant_speak", frozen=True):
    """The assistant started speaking (may be omitted for some TTS models).

    ``duration_ms`` and ``speech_started_at`` (Unix time in ms) are kept as
    sent, an int or a float; n8n's integration leaves them out.
    """

    type: ClassVar[str] = "assistant_speak"

    duration_ms: Milliseconds | None = None
    speech_started_at: Milliseconds | None = None
    text: str | None = None
    ssml: str | None = None

    def __post_init__(self) -> None:
        for name in ("duration_ms", "speech_started_at"):
            value = getattr(self, name)
            if isinstance(value, float) and not math.isfinite(value):  # only a Python caller can pass these
                raise InvalidEventError(name, f"expected a finite number >= 0, got {_describe(value)}")


class AssistantSpeechEnded(Event, tag="assistant_speech_ended", frozen=True):
    """The assistant finished speaking; the user-input timeout starts now."""

    type: ClassVar[str] = "assistant_speech_ended"


class UserInputTimeout(Event, tag="user_input_timeout", frozen=True):
    """The caller said nothing within ``user_input_timeout_seconds``."""

    type: ClassVar[str] = "user_input_timeout"


class SessionEnd(Event, tag="session_end", frozen=True):
    """The call ended; no action may be returned, cleanup only."""

    type: ClassVar[str] = "session_end"


#: The six event types of the protocol, by their wire name.
EVENT_TYPES: Mapping[str, type[Event]] = MappingProxyType(
    {
        cls.type: cls
        for cls in (SessionStart, UserSpeak, AssistantSpeak, AssistantSpeechEnded, UserInputTimeout, SessionEnd)
    }
)

#: Every ``type`` a body may carry: the six events and the deprecated user_barge_in.
WIRE_EVENTS: Mapping[str, type[Event]] = MappingProxyType(
    {**EVENT_TYPES, "user_barge_in": _UserBargeIn}
)

#: The tagged union msgspec decodes a body into.
WireEvent = (
    SessionStart | UserSpeak | _UserBargeIn | AssistantSpeak | AssistantSpeechEnded | UserInputTimeout | SessionEnd
)

_DECODER = msgspec.json.Decoder(WireEvent)
_PLAIN = msgspec.json.Decoder()


# -- decoding and validating ------------------------------------------------------


def load_event(body: bytes | bytearray | memoryview | str, *, max_depth: int = 32) -> Event:
    """Decode and validate one event body or WebSocket message.

    One msgspec decode into the event its ``type`` names. The body must be
    strict JSON: UTF-8 throughout, no BOM, no NaN or Infinity, nesting at
    most ``max_depth`` deep (checked before parsing), and in the fields the
    event declares no number out of range and no value of a wrong type.
    Unknown fields are skipped unread (their numbers are never converted,
    so they cannot overflow or cost time) until :attr:`Event.raw` is read.

    :raises UnknownEventTypeError: ``type`` names no known event (answer 204).
    :raises InvalidEventError: anything else is wrong; ``field`` says where.
    """
    if not isinstance(body, (bytes, str)):
        if not isinstance(body, (bytearray, memoryview)):
            raise InvalidEventError("body", f"expected bytes or str, got {type(body).__name__}")
        body = bytes(body)
    if _nesting_exceeds(body, max_depth):
        raise InvalidEventError("body", f"JSON nested deeper than {max_depth} levels")
    if isinstance(body, bytes) and not body.isascii():
        _check_utf8(body)  # msgspec skips unknown fields without decoding their strings
    try:
        event = _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        raise _invalid(exc, _decoded(body, max_depth)) from None
    except (msgspec.DecodeError, RecursionError, UnicodeError) as exc:  # UnicodeError: a str with lone surrogates
        raise _undecodable(body, max_depth, exc) from None
    return _finished(event, body=body)


def parse_event(data: Any) -> Event:
    """Validate an already decoded event (a mapping) and return the typed event.

    :raises UnknownEventTypeError: ``type`` is a string naming no known event
        (checked before the session, as the fields of an unknown type are unknown).
    :raises InvalidEventError: anything else is wrong; ``field`` says where.
    """
    if not isinstance(data, Mapping):
        raise InvalidEventError("body", f"expected a JSON object, got {_json_type(data)}")
    plain = data if type(data) is dict else dict(data)
    try:
        event = msgspec.convert({"event": plain}, _Envelope).event
    except msgspec.ValidationError as exc:
        if not isinstance(exc.__cause__, InvalidEventError):
            exc = msgspec.ValidationError(str(exc).replace(" - at `$.event", " - at `$", 1))
        raise _invalid(exc, plain) from None
    return _finished(event, raw=MappingProxyType(plain))


class _Envelope(Struct):
    """Holds the union for :func:`msgspec.convert`, which caches what it learns about a struct, not a union."""

    event: WireEvent


def _finished(event: Event, *, body: bytes | str | None = None, raw: Mapping[str, Any] | None = None) -> Event:
    if type(event) is _UserBargeIn:
        event = UserSpeak(session=event.session, text=event.text, barged_in=True, confidence=event.confidence)
    if body is not None:
        force_setattr(event, "_body", body)  # for the raw view, decoded when first read
    if raw is not None:
        force_setattr(event, "_raw", raw)
    return event


def _check_utf8(body: bytes) -> None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEventError("body", f"not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start})") from None


def _decoded(body: bytes | str, max_depth: int) -> Any:
    """The body as plain JSON, to name the offending value in an error (an error path only)."""
    try:
        return decode_json(body, max_depth=max_depth)
    except InvalidEventError:
        return None


def _invalid(exc: msgspec.ValidationError, data: Any) -> InvalidEventError:
    """Our error for msgspec's, in the project's words and with the offending value.

    :param data: the body as plain JSON, where the offending value is looked up.
    """
    if isinstance(exc.__cause__, InvalidEventError):  # raised by a __post_init__
        return exc.__cause__
    failure, path = messages.split_location(str(exc))
    if not path and not isinstance(data, dict):
        return InvalidEventError("body", f"expected a JSON object, got {_json_type(data)}")
    if failure.startswith("Object missing required field"):
        return InvalidEventError(_dotted((*path, failure.split("`")[1])), "missing")
    value = messages.value_at(data, path)
    if path == ("type",):
        if isinstance(value, str):
            return UnknownEventTypeError(value)
        return InvalidEventError("type", f"expected a string, got {_describe(value)}")
    event_type = data.get("type") if isinstance(data, dict) else None
    event_class = WIRE_EVENTS.get(event_type) if isinstance(event_type, str) else None
    if messages.is_constraint_failure(failure) and event_class is not None and value is not messages.MISSING:
        declared = messages.type_at(messages.type_info(event_class), path)
        return InvalidEventError(_dotted(path), f"expected {messages.expected(declared, failure)}, got {_describe(value)}")
    return InvalidEventError(_dotted(path) or "body", failure[:1].lower() + failure[1:])


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(key) for key in path)


def _undecodable(body: bytes | str, max_depth: int, exc: Exception) -> InvalidEventError:
    """The precise error for a body that is no strict JSON (line, column, what is wrong)."""
    try:
        decode_json(body, max_depth=max_depth)
    except InvalidEventError as precise:
        return precise
    return InvalidEventError("body", f"invalid JSON: {exc}")  # msgspec is the stricter one here


# -- strict JSON ------------------------------------------------------------------

#: Brackets outside strings, or a whole string literal (skipped). The closing
#: quote is optional so an unterminated string ends the scan instead of failing it.
_STRUCTURE = r'([\[{])|([\]}])|"[^"\\]*(?:\\.[^"\\]*)*"?'
_STRUCTURE_TEXT = re.compile(_STRUCTURE, re.DOTALL)
_STRUCTURE_BYTES = re.compile(_STRUCTURE.encode(), re.DOTALL)


def _nesting_exceeds(text: str | bytes, max_depth: int) -> bool:
    """True when arrays/objects nest deeper than ``max_depth`` (brackets in strings ignored).

    Counting brackets is a C-speed pre-check: a body with at most
    ``max_depth`` opening brackets cannot nest deeper, which is every
    ordinary event. Only other bodies are scanned, stopping at the first
    level too deep, so 100000 ``[`` cost microseconds and never recurse.
    """
    if isinstance(text, str):
        if text.count("[") + text.count("{") <= max_depth:
            return False
        groups = (match.lastindex for match in _STRUCTURE_TEXT.finditer(text))
    else:
        if text.count(b"[") + text.count(b"{") <= max_depth:
            return False
        groups = (match.lastindex for match in _STRUCTURE_BYTES.finditer(text))
    depth = 0
    for group in groups:
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


#: The standard library's decoder, made strict (``json.loads`` with options would build a new one per call).
_STRICT_JSON = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_parse_int, parse_float=_parse_float)


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


def decode_json(body: bytes | bytearray | memoryview | str, *, max_depth: int = 32) -> Any:
    """Strictly decode JSON with the standard library, with messages that say where it breaks.

    :func:`load_event` does not need it for a valid body; it explains why a
    body failed (line and column, the literal that is not JSON).

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
        return _STRICT_JSON.decode(text)
    except json.JSONDecodeError as exc:
        raise InvalidEventError(
            "body", f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except InvalidEventError:
        raise
    except (ValueError, RecursionError) as exc:  # belt and braces: nothing else may escape
        raise InvalidEventError("body", f"invalid JSON: {exc}") from None


