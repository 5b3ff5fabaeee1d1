"""Typed AI Flow actions: what a skill answers an event with, declared once as msgspec structs.

Every action validates itself when it is built (``__post_init__``), so an
action that exists is one the service accepts; mistakes surface in the
skill that made them, as :class:`InvalidActionError` naming the field,
instead of as a silent failure on the phone. The constraints are the
annotations of the fields (:class:`msgspec.Meta`): msgspec checks a value
against them, :mod:`flask_aiflow.protocol.openapi` turns them into JSON
Schema, and :mod:`flask_aiflow.protocol.messages` words the errors from them.
Rules across fields (``text`` xor ``ssml``, the audio clip's format) live in
the ``__post_init__`` of their struct, once.

What is accepted follows the reference's TypeScript types: ``allow_after_ms``
and ``minimum_characters`` with any barge-in strategy, ``3.0`` where an
integer is declared; the hard rules stay (ranges, required fields, text xor
ssml, the audio format, E.164 phone numbers).

Skill authors mostly use the builders (:func:`speak`, :func:`audio`,
:func:`hangup`, :func:`transfer`, :func:`barge_in`); :func:`action_from_dict`
validates the plain dicts of the reference's examples. Actions are built
without a ``session_id``; :func:`encode_action` writes the call's when the
answer is sent.
"""

import base64
import binascii
import copy
import difflib
import functools
import math
import os
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

import msgspec
from msgspec import Meta, Struct
from msgspec.structs import force_setattr

from flask_aiflow.protocol import messages
from flask_aiflow.protocol.messages import describe as _describe
from flask_aiflow.protocol.messages import quote as _quote
from flask_aiflow.protocol.wav import (
    FFMPEG_HINT,
    REQUIRED,
    NotWavError,
    WavInfo,
    inspect_wav,
    inspect_wav_reader,
)

__all__ = [
    "ACTION_TYPES",
    "TTS",
    "Action",
    "AnyAction",
    "Audio",
    "AzureTTS",
    "BargeIn",
    "BargeInConfig",
    "ElevenLabsTTS",
    "Hangup",
    "InvalidActionError",
    "Speak",
    "Transfer",
    "action_from_dict",
    "audio",
    "barge_in",
    "barge_in_from_dict",
    "encode_action",
    "hangup",
    "speak",
    "transfer",
    "tts_from_dict",
]


class InvalidActionError(ValueError):
    """An action (or a part of one) that the service would not accept.

    :param field: dotted path of the offending field (``"barge_in.strategy"``), or None.
    :param reason: what was expected and what was found.
    """

    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(reason if field is None else f"{field}: {reason}")


# -- the rules of single fields -------------------------------------------------

#: Characters Python's ``str.isspace`` counts as whitespace, spelt out because
#: regex dialects disagree on what ``\s`` covers (the pattern is also JSON Schema's).
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: Some character that is not whitespace (a search, not a full match).
NOT_BLANK_PATTERN = "[^" + "".join(f"\\u{ord(char):04x}" for char in _WHITESPACE) + "]"

#: Digits an E.164 number has after the "+" (inclusive).
E164_DIGITS = (2, 15)
# "(?!\n)$" ends the string in every regex dialect: Python's "$" alone also
# matches before a final line break, ECMA-262's does not.
E164_PATTERN = rf"^\+[1-9][0-9]{{{E164_DIGITS[0] - 1},{E164_DIGITS[1] - 1}}}(?!\n)$"
BASE64_PATTERN = (
    r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})(?!\n)$"
)

BARGE_IN_STRATEGIES = ("none", "manual", "minimum_characters")
#: Inclusive ranges of the barge-in options.
MINIMUM_CHARACTERS_RANGE = (1, 100)
ALLOW_AFTER_MS_RANGE = (0, 10000)

SessionId = Annotated[str, Meta(min_length=1, extra={"expected": "a non-empty string"})]
NotBlank = Annotated[str, Meta(min_length=1, pattern=NOT_BLANK_PATTERN, extra={"pattern_means": "more than whitespace"})]
E164 = Annotated[
    str,
    Meta(
        pattern=E164_PATTERN,
        description="E.164, e.g. +4921155555555.",
        extra={"expected": "a phone number in E.164 format like +4921155555555 ('+', country code, number; digits only)"},
    ),
]
Strategy = Annotated[
    Literal["none", "manual", "minimum_characters"],
    Meta(extra={"expected": '"none", "manual" or "minimum_characters"'}),  # msgspec sorts the values; this is the reference's order
]
MinimumCharacters = Annotated[
    int, Meta(ge=MINIMUM_CHARACTERS_RANGE[0], le=MINIMUM_CHARACTERS_RANGE[1], description="Default 3.")
]
AllowAfterMs = Annotated[
    int, Meta(ge=ALLOW_AFTER_MS_RANGE[0], le=ALLOW_AFTER_MS_RANGE[1], description="Protection period; default 0.")
]
TimeoutSeconds = Annotated[
    float,
    Meta(
        gt=0,
        description="Send user_input_timeout when the caller stays silent this long after the speech.",
        extra={"expected": "a positive number of seconds"},
    ),
]
Base64Wav = Annotated[
    str,
    Meta(
        description="Standard base64 (no line breaks) of a 16 kHz mono 16-bit PCM WAV file.",
        extra_json_schema={"pattern": BASE64_PATTERN, "contentEncoding": "base64", "contentMediaType": "audio/wav"},
        extra={"expected": "a base64 string"},
    ),
]


def _check_fields(struct: Struct, prefix: str = "") -> None:
    """Check every field of ``struct`` against its declaration; nested structs are checked when built.

    msgspec validates only what it decodes, so a struct built in Python is
    checked here, by msgspec, against the same annotations: its values go
    through a twin struct that has the fields but not the ``__post_init__``.
    A float without a fraction stands for an integer where one is declared
    (``3.0``), as in the reference's TypeScript types; it is stored as the int.
    """
    twin, nested = _rules(type(struct))
    for name, classes in nested:
        value = getattr(struct, name)
        if value is not None and not isinstance(value, classes):
            raise InvalidActionError(prefix + name, f"expected {_struct_names(classes)}, got {_describe(value)}")
    # None is left out: optional fields take it as their default, required ones report it.
    values = {name: value for name in twin.__struct_fields__ if (value := getattr(struct, name)) is not None}
    while True:
        try:
            msgspec.convert(values, twin)
            break
        except msgspec.ValidationError as exc:
            failure, path = messages.split_location(str(exc))
            name = failure.split("`")[1] if failure.startswith("Object missing") else str(path[0])
            value = values.get(name)
            if isinstance(value, float) and value.is_integer():
                values[name] = int(value)
                force_setattr(struct, name, int(value))
                continue  # accepted if the int is; else the next round names it
            raise _field_error(prefix + name, _declared(twin, name), failure, value) from None
    for name, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):  # only Python code can pass these
            raise _field_error(prefix + name, _declared(twin, name), "", value)


def _field_error(field: str, declared: Any, failure: str, value: Any) -> InvalidActionError:
    words = messages.expected(messages.type_info(declared), failure)
    return InvalidActionError(field, f"expected {words}, got {_describe(value)}")


def _struct_names(classes: tuple[type, ...]) -> str:
    if len(classes) == 1:
        return f"a {classes[0].__name__} (or a dict given to a builder)"
    return " or ".join(cls.__name__ for cls in classes) + " (or a dict given to a builder)"


def _declared(twin: type[Struct], name: str) -> Any:
    return next(field.type for field in msgspec.structs.fields(twin) if field.name == name)


@functools.cache
def _rules(cls: type[Struct]) -> tuple[type[Struct], tuple[tuple[str, tuple[type, ...]], ...]]:
    """The twin struct that checks the plain fields of ``cls``, and its fields that hold structs.

    msgspec remembers what it learnt about a struct type, so checking values
    through the twin is one cached conversion, not one per field.
    """
    plain: list[tuple[str, Any] | tuple[str, Any, None]] = []
    nested: list[tuple[str, tuple[type, ...]]] = []
    for field in msgspec.structs.fields(cls):
        info = messages.type_info(field.type)
        members = info.types if isinstance(info, msgspec.inspect.UnionType) else (info,)
        classes = tuple(member.cls for member in members if isinstance(member, msgspec.inspect.StructType))
        if classes:
            nested.append((field.name, classes))
        elif any(isinstance(member, msgspec.inspect.NoneType) for member in members):
            plain.append((field.name, field.type, None))
        else:
            plain.append((field.name, field.type))
    return msgspec.defstruct(f"{cls.__name__}Fields", plain, kw_only=True), tuple(nested)


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], what: str, prefix: str = "") -> None:
    """Refuse keys a wire object may not have, suggesting the likely intended one (a typo would be dropped silently)."""
    for key in data:
        if key in allowed:
            continue
        if not isinstance(key, str):
            raise InvalidActionError(prefix.rstrip(".") or None, f"keys must be strings, got {_describe(key)}")
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"
        raise InvalidActionError(prefix + key, f"unknown key for {what}{hint}")


def _expect_object(data: Any, field: str | None) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidActionError(field, f"expected an object, got {_describe(data)}")
    return data


def _check_e164(value: Any, field: str) -> None:
    """``+``, a country code not starting with 0, 2 to 15 digits in all."""
    try:
        msgspec.convert(value, E164)
    except msgspec.ValidationError:
        raise _field_error(field, E164, "", value) from None


# -- TTS ----------------------------------------------------------------------


class _TTSBase(Struct, frozen=True, omit_defaults=True, tag_field="provider"):
    """What both providers share: the wire form, tagged by ``provider``."""

    def __post_init__(self) -> None:
        _check_fields(self, "tts.")

    def to_dict(self) -> dict[str, Any]:
        """The wire form: ``provider`` first, unset fields omitted."""
        wire: dict[str, Any] = msgspec.to_builtins(self)
        return wire


class AzureTTS(_TTSBase, tag="azure", frozen=True):
    """Azure Cognitive Services voice, e.g. ``AzureTTS("de-DE", "de-DE-KatjaNeural")``."""

    provider: ClassVar[str] = "azure"

    language: NotBlank | None = None
    voice: NotBlank | None = None


class ElevenLabsTTS(_TTSBase, tag="eleven_labs", frozen=True):
    """ElevenLabs voice by ID; without one the service uses the first available voice."""

    provider: ClassVar[str] = "eleven_labs"

    voice: NotBlank | None = None


#: The text-to-speech settings of a speak action: one of the two providers.
TTS: TypeAlias = AzureTTS | ElevenLabsTTS

_TTS_CLASSES: dict[str, type[AzureTTS] | type[ElevenLabsTTS]] = {"azure": AzureTTS, "eleven_labs": ElevenLabsTTS}


def tts_from_dict(data: Mapping[str, Any]) -> TTS:
    """Validate a wire-form ``tts`` object (null values count as absent)."""
    data = _expect_object(data, "tts")
    provider = data.get("provider")
    if provider is None:
        raise InvalidActionError("tts.provider", 'missing; expected "azure" or "eleven_labs"')
    cls = _TTS_CLASSES.get(provider) if isinstance(provider, str) else None
    if cls is None:
        raise InvalidActionError("tts.provider", f'expected "azure" or "eleven_labs", got {_describe(provider)}')
    if cls is ElevenLabsTTS and "language" in data:
        raise InvalidActionError("tts.language", "not supported by eleven_labs (the voice ID determines the language)")
    _check_keys(data, ("provider", *cls.__struct_fields__), f"tts provider {provider}", "tts.")
    return cls(**{key: value for key, value in data.items() if key != "provider" and value is not None})


# -- barge-in -----------------------------------------------------------------


def _service_default_strategy() -> Literal["minimum_characters"]:
    return "minimum_characters"


class BargeInConfig(Struct, frozen=True, omit_defaults=True):
    """How the caller may interrupt a speak or audio action.

    ``minimum_characters`` (1..100) and ``allow_after_ms`` (0..10000) are
    accepted with every strategy, as the reference's TypeScript type does;
    the service applies them where they mean something. Unset values take
    the service's defaults (3 characters, 0 ms).
    """

    # A default factory, not a plain default, so that the strategy is always
    # written: the service requires it in every barge_in object.
    strategy: Strategy = msgspec.field(default_factory=_service_default_strategy)
    minimum_characters: MinimumCharacters | None = None
    allow_after_ms: AllowAfterMs | None = None

    def __post_init__(self) -> None:
        _check_fields(self, "barge_in.")

    def to_dict(self) -> dict[str, Any]:
        """The wire form, unset options omitted."""
        wire: dict[str, Any] = msgspec.to_builtins(self)
        return wire


def barge_in_from_dict(data: Mapping[str, Any]) -> BargeInConfig:
    """Validate a wire-form ``barge_in`` object; ``strategy`` is required there."""
    data = _expect_object(data, "barge_in")
    _check_keys(data, BargeInConfig.__struct_fields__, "barge_in", "barge_in.")
    if data.get("strategy") is None:
        raise InvalidActionError("barge_in.strategy", 'missing; expected "none", "manual" or "minimum_characters"')
    return BargeInConfig(**{key: value for key, value in data.items() if value is not None})


def _tts_arg(value: Any) -> TTS | None:
    if value is None or isinstance(value, (AzureTTS, ElevenLabsTTS)):
        return value
    if isinstance(value, Mapping):
        return tts_from_dict(value)
    raise InvalidActionError("tts", f"expected a TTS config or an object, got {_describe(value)}")


def _barge_in_arg(value: Any) -> BargeInConfig | None:
    if value is None or isinstance(value, BargeInConfig):
        return value
    if isinstance(value, Mapping):
        return barge_in_from_dict(value)
    raise InvalidActionError("barge_in", f"expected a BargeInConfig or an object, got {_describe(value)}")


# -- actions ------------------------------------------------------------------


class Action(Struct, frozen=True, kw_only=True, omit_defaults=True, tag_field="type"):
    """Base of all actions.

    ``session_id`` stays None in what skills build; :func:`encode_action`
    writes the call's session when the answer is sent.
    """

    type: ClassVar[str]

    session_id: SessionId | None = None

    def __post_init__(self) -> None:
        if type(self) is Action:
            raise TypeError("Action is abstract; use Speak, Audio, Hangup, Transfer or BargeIn")
        _check_fields(self)

    def to_dict(self) -> dict[str, Any]:
        """The wire JSON object: ``type`` first, unset fields omitted."""
        wire: dict[str, Any] = msgspec.to_builtins(self)
        return wire

    def with_session(self, session_id: str) -> "Action":
        """A copy bound to ``session_id`` (:func:`encode_action` needs none).

        The action was validated when it was built and the session id is the
        only change, so the copy is not validated again (``structs.replace``
        would run ``__post_init__``: the text/SSML rule, the WAV walk).
        """
        _check_session_id(session_id)
        if self.session_id == session_id:
            return self
        bound = copy.copy(self)
        msgspec.structs.force_setattr(bound, "session_id", session_id)
        return bound


def _check_session_id(value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidActionError("session_id", f"expected a non-empty string, got {_describe(value)}")


class Speak(Action, tag="speak", kw_only=True, frozen=True):
    """Say ``text`` or ``ssml`` (exactly one) with text-to-speech.

    ``user_input_timeout_seconds`` makes the service send a
    ``user_input_timeout`` event when the caller stays silent that long after
    the speech ends.
    """

    type: ClassVar[str] = "speak"

    text: NotBlank | None = None
    ssml: NotBlank | None = None
    tts: AzureTTS | ElevenLabsTTS | None = None
    barge_in: BargeInConfig | None = None
    user_input_timeout_seconds: TimeoutSeconds | None = None

    def __post_init__(self) -> None:
        if self.text is None and self.ssml is None:
            raise InvalidActionError("text", "missing; a speak action needs text or ssml")
        if self.text is not None and self.ssml is not None:
            raise InvalidActionError("ssml", "not allowed together with text; give exactly one of them")
        super().__post_init__()


# -- audio --------------------------------------------------------------------

_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BASE64_CHARS = frozenset(_BASE64_ALPHABET.decode("ascii"))


def _first_bad_base64(text: str) -> int:
    """Index of the first character that is neither alphabet nor final padding (error path only)."""
    end = len(text.rstrip("="))
    end = max(end, len(text) - 2)  # at most two padding characters
    for index, char in enumerate(text):
        if char == "=" if index < end else char != "=":
            return index
        if char != "=" and char not in _BASE64_CHARS:
            return index
    return len(text) - 1


def _base64_error(text: str, position: int) -> InvalidActionError:
    char = text[position]
    hint = ""
    if char in "\r\n":
        hint = "; line breaks are not allowed (use base64.b64encode, not encodebytes)"
    elif char in "-_":
        hint = "; this is URL-safe base64, the standard alphabet uses + and /"
    return InvalidActionError(
        "audio", f"is not valid base64: unexpected character {char!r} at position {position}{hint}"
    )


def _check_base64(text: str) -> None:
    """Strict standard base64 (padding only at the end) without decoding it.

    ``bytes.translate`` deletes every alphabet character at C speed; what is
    left must be the padding alone, so megabytes are checked in about a
    millisecond.
    """
    if not text:
        raise InvalidActionError("audio", "expected base64-encoded WAV data, got an empty string")
    if text.startswith("data:"):
        raise InvalidActionError("audio", "is a data: URL; give only the base64 part after 'base64,'")
    if not text.isascii():
        raise _base64_error(text, _first_bad_base64(text))
    raw = text.encode("ascii")
    rest = raw.translate(None, _BASE64_ALPHABET)
    if rest not in (b"", b"=", b"==") or not raw.endswith(rest):
        raise _base64_error(text, _first_bad_base64(text))
    if len(text) % 4:
        raise InvalidActionError(
            "audio", f"is not valid base64: its length {len(text)} is not a multiple of 4 (truncated?)"
        )


def _base64_reader(text: str) -> tuple[Callable[[int, int], bytes], int]:
    """Random access to the bytes encoded by valid base64 ``text``, decoding only what is read."""
    size = len(text) // 4 * 3 - (2 if text.endswith("==") else 1 if text.endswith("=") else 0)

    def read(offset: int, length: int) -> bytes:
        first = offset // 3
        last = min(-(-(offset + length) // 3), len(text) // 4)
        if first >= last:
            return b""
        decoded = binascii.a2b_base64(text[first * 4 : last * 4])
        skip = offset - first * 3
        return decoded[skip : skip + length]

    return read, size


def _audio_format_error(info_or_error: WavInfo | NotWavError, source: str = "") -> InvalidActionError:
    """The error for a clip the service cannot play: what it is, what is needed, how to fix it."""
    if isinstance(info_or_error, NotWavError):
        what = f"is not a WAV file ({info_or_error.description})"
    else:
        what = f"is {info_or_error.describe()}"
    return InvalidActionError(
        "audio", f"{source}{what}; the service plays only {REQUIRED}. Convert it with: {FFMPEG_HINT}"
    )


def _check_wav(info: WavInfo, source: str = "") -> None:
    if not info.is_required_format():
        raise _audio_format_error(info, source)


class Audio(Action, tag="audio", kw_only=True, frozen=True):
    """Play a pre-recorded clip: ``audio`` is base64 of a 16 kHz mono 16-bit PCM WAV.

    Construction checks the base64 and the WAV header; only the chunk
    headers are decoded, so a long clip costs about as little as a short one.
    """

    type: ClassVar[str] = "audio"

    audio: Base64Wav
    barge_in: BargeInConfig | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_base64(self.audio)
        read, size = _base64_reader(self.audio)
        try:
            info = inspect_wav_reader(read, size)
        except NotWavError as exc:
            raise _audio_format_error(exc) from None
        _check_wav(info)

    @classmethod
    def from_base64(cls, data: str, *, barge_in: BargeInConfig | Mapping[str, Any] | None = None) -> "Audio":
        """From base64 text of a WAV file (validated like the constructor)."""
        return cls(audio=data, barge_in=_barge_in_arg(barge_in))

    @classmethod
    def from_wav(
        cls, data: bytes | bytearray | memoryview, *, barge_in: BargeInConfig | Mapping[str, Any] | None = None
    ) -> "Audio":
        """From the bytes of a WAV file; they are checked before being encoded."""
        return cls(audio=_encode_wav(data), barge_in=_barge_in_arg(barge_in))

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, barge_in: BargeInConfig | Mapping[str, Any] | None = None
    ) -> "Audio":
        """From a WAV file on disk; errors name the file.

        The action is cached per path, modification time and barge-in
        settings, so a skill may call this on every event without re-reading
        or re-checking the file.
        """
        config = _barge_in_arg(barge_in)
        source = f"{os.fspath(path)}: "
        try:
            stat = os.stat(path)
            return _audio_file(os.path.abspath(path), stat.st_mtime_ns, stat.st_size, config)
        except OSError as exc:
            hint = ""
            if isinstance(path, str) and path.startswith("UklGR"):
                hint = " (this looks like base64 data: use Audio.from_base64)"
            raise InvalidActionError("audio", f"cannot read {source}{exc.strerror or exc}{hint}") from exc
        except InvalidActionError as exc:
            raise InvalidActionError("audio", source + exc.reason) from None


def _encode_wav(data: bytes | bytearray | memoryview, source: str = "") -> str:
    """Check WAV bytes and return their base64 text."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidActionError("audio", f"expected WAV bytes, got {_describe(data)}")
    try:
        info = inspect_wav(data)
    except NotWavError as exc:
        raise _audio_format_error(exc, source) from None
    _check_wav(info, source)
    return base64.b64encode(data).decode("ascii")


@functools.lru_cache(maxsize=32)
def _audio_file(path: str, mtime_ns: int, size: int, barge_in: BargeInConfig | None) -> Audio:
    """Read, check and encode a WAV file; keyed by mtime and size so edits are seen."""
    with open(path, "rb") as handle:
        return Audio(audio=_encode_wav(handle.read()), barge_in=barge_in)


# -- call control -------------------------------------------------------------


class Hangup(Action, tag="hangup", kw_only=True, frozen=True):
    """End the call."""

    type: ClassVar[str] = "hangup"


class BargeIn(Action, tag="barge_in", kw_only=True, frozen=True):
    """Interrupt the current playback now (for the ``manual`` barge-in strategy)."""

    type: ClassVar[str] = "barge_in"


class Transfer(Action, tag="transfer", kw_only=True, frozen=True):
    """Transfer the call to ``target_phone_number``, showing the given caller ID.

    Both numbers must be E.164 (``+4921155555555``), as the reference's
    quick reference asks.
    """

    type: ClassVar[str] = "transfer"

    target_phone_number: E164
    caller_id_name: NotBlank
    caller_id_number: E164


#: The five action types of the protocol, by their wire name.
ACTION_TYPES: Mapping[str, type[Action]] = MappingProxyType(
    {cls.type: cls for cls in (Speak, Audio, Hangup, Transfer, BargeIn)}
)

#: Any action, as one tagged union (for schemas and decoders).
AnyAction = Speak | Audio | Hangup | Transfer | BargeIn

_ENCODER = msgspec.json.Encoder()


def encode_action(action: Action, session_id: str) -> bytes:
    """The wire JSON of ``action`` for the call ``session_id``, unset fields omitted.

    The session id is written in front of the action's own members, so the
    action is encoded as it is, without a copy bound to the call.
    """
    _check_session_id(session_id)
    if action.session_id is not None:  # built bound to a call already
        return _ENCODER.encode(action.with_session(session_id))
    return b'{"session_id":' + _ENCODER.encode(session_id) + b"," + _ENCODER.encode(action)[1:]


# -- builders -----------------------------------------------------------------


def speak(
    text: str | None = None,
    *,
    ssml: str | None = None,
    tts: TTS | Mapping[str, Any] | None = None,
    barge_in: BargeInConfig | Mapping[str, Any] | None = None,
    user_input_timeout_seconds: float | None = None,
) -> Speak:
    """Say ``text`` (or ``ssml``); ``tts`` and ``barge_in`` may be wire-form dicts."""
    return Speak(
        text=text,
        ssml=ssml,
        tts=_tts_arg(tts),
        barge_in=_barge_in_arg(barge_in),
        user_input_timeout_seconds=user_input_timeout_seconds,
    )


def audio(
    source: bytes | bytearray | str | os.PathLike[str],
    *,
    barge_in: BargeInConfig | Mapping[str, Any] | None = None,
) -> Audio:
    """Play a WAV clip given as bytes or as a file path (use :meth:`Audio.from_base64` for base64)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Audio.from_wav(source, barge_in=barge_in)
    if isinstance(source, (str, os.PathLike)):
        return Audio.from_file(source, barge_in=barge_in)
    raise InvalidActionError("audio", f"expected WAV bytes or a file path, got {_describe(source)}")


def hangup() -> Hangup:
    """End the call."""
    return Hangup()


class _Target:
    """The default of :func:`transfer`'s caller ID fields: the target's number."""

    def __repr__(self) -> str:
        return "TARGET"


TARGET = _Target()


def transfer(
    target_phone_number: str, *, caller_id_name: str | _Target = TARGET, caller_id_number: str | _Target = TARGET
) -> Transfer:
    """Transfer the call; all numbers in E.164 format.

    The service requires both caller ID fields; as in the skills'
    configuration, each defaults to the target's number (a name is only
    shown, never dialled). An explicit ``None`` or blank value is an error.
    """
    return Transfer(
        target_phone_number=target_phone_number,
        caller_id_name=target_phone_number if isinstance(caller_id_name, _Target) else caller_id_name,
        caller_id_number=target_phone_number if isinstance(caller_id_number, _Target) else caller_id_number,
    )


def barge_in() -> BargeIn:
    """Interrupt the current playback (manual barge-in)."""
    return BargeIn()


# -- wire-form dicts ----------------------------------------------------------


def _keys(cls: type[Action]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The allowed keys (``type`` included) and the required ones of an action class."""
    fields = msgspec.structs.fields(cls)
    return ("type", *(f.encode_name for f in fields)), tuple(f.encode_name for f in fields if f.required)


_SCHEMAS = {name: _keys(cls) for name, cls in ACTION_TYPES.items()}


def action_from_dict(data: Mapping[str, Any]) -> Action:
    """Validate a wire-form action dict, as in the reference's examples.

    ``session_id`` is optional; null values count as absent; unknown keys
    are errors (a typo would otherwise be dropped silently).
    """
    data = _expect_object(data, None)
    action_type = data.get("type")
    if action_type is None:
        raise InvalidActionError("type", f"missing; expected one of {', '.join(ACTION_TYPES)}")
    if not isinstance(action_type, str):
        raise InvalidActionError("type", f"expected a string, got {_describe(action_type)}")
    cls = ACTION_TYPES.get(action_type)
    if cls is None:
        raise InvalidActionError(
            "type", f"unknown action type {_quote(action_type)}; expected one of {', '.join(ACTION_TYPES)}"
        )
    allowed, required = _SCHEMAS[action_type]
    _check_keys(data, allowed, f"a {action_type} action")
    kwargs = {key: value for key, value in data.items() if value is not None and key != "type"}
    for name in required:
        if name not in kwargs:
            raise InvalidActionError(name, "missing" if name not in data else "expected a string, got null")
    if "tts" in kwargs:
        kwargs["tts"] = _tts_arg(kwargs["tts"])
    if "barge_in" in kwargs:
        kwargs["barge_in"] = _barge_in_arg(kwargs["barge_in"])
    return cls(**kwargs)
