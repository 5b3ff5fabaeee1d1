"""Typed AI Flow actions: what a skill answers an event with.

Every action validates itself on construction (``__post_init__``), so an
action that exists is one the service accepts; mistakes surface in the
skill that made them, as :class:`InvalidActionError` naming the field,
instead of as a silent failure on the phone. Skill authors mostly use the
builders (:func:`speak`, :func:`audio`, :func:`hangup`, :func:`transfer`,
:func:`barge_in`); :func:`action_from_dict` validates the plain dicts of the
reference's examples.

Actions are built without a ``session_id``; the dispatcher binds the call's
with :meth:`Action.with_session`.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields
from functools import lru_cache
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from flask_aiflow.protocol.events import _describe, _quote
from flask_aiflow.protocol.wav import FFMPEG_HINT, REQUIRED, NotWavError, WavInfo, inspect_wav, inspect_wav_reader

__all__ = [
    "ACTION_TYPES",
    "TTS",
    "Action",
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
    "hangup",
    "speak",
    "transfer",
    "tts_from_dict",
]

_A = TypeVar("_A", bound="Action")


class InvalidActionError(ValueError):
    """An action (or a part of one) that the service would not accept.

    :param field: dotted path of the offending field (``"barge_in.strategy"``), or None.
    :param reason: what was expected and what was found.
    """

    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(reason if field is None else f"{field}: {reason}")


# -- small checks -------------------------------------------------------------


def _check_str(value: Any, field: str, *, optional: bool = False) -> None:
    """A string with more than whitespace in it (or None when ``optional``)."""
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise InvalidActionError(field, f"expected a string, got {_describe(value)}")
    if not value:
        raise InvalidActionError(field, f"expected a non-empty string, got {_describe(value)}")
    if value.isspace():
        raise InvalidActionError(field, f"expected more than whitespace, got {_describe(value)}")


def _check_int_range(value: Any, field: str, low: int, high: int) -> None:
    """An integer within ``low..high`` inclusive; booleans do not count as integers."""
    if type(value) is bool or not isinstance(value, int) or not low <= value <= high:
        raise InvalidActionError(field, f"expected an integer from {low} to {high}, got {_describe(value)}")


def _check_session_id(value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidActionError("session_id", f"expected a non-empty string, got {_describe(value)}")


def _unknown_key(key: Any, allowed: tuple[str, ...], what: str, prefix: str = "") -> InvalidActionError:
    """The error for a key an object may not have, suggesting the likely intended one."""
    import difflib  # only on this error path

    if not isinstance(key, str):
        return InvalidActionError(prefix.rstrip(".") or None, f"keys must be strings, got {_describe(key)}")
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"
    return InvalidActionError(prefix + key, f"unknown key for {what}{hint}")


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], what: str, prefix: str = "") -> None:
    for key in data:
        if key not in allowed:
            raise _unknown_key(key, allowed, what, prefix)


def _expect_object(data: Any, field: str | None) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidActionError(field, f"expected an object, got {_describe(data)}")
    return data


# -- TTS ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TTS:
    """Base of the text-to-speech provider settings of a speak action."""

    provider: ClassVar[str]

    def __post_init__(self) -> None:
        if type(self) is TTS:
            raise TypeError("TTS is abstract; use AzureTTS or ElevenLabsTTS")

    def to_dict(self) -> dict[str, Any]:
        """The wire form: ``provider`` first, unset fields omitted."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class AzureTTS(TTS):
    """Azure Cognitive Services voice, e.g. ``AzureTTS("de-DE", "de-DE-KatjaNeural")``."""

    provider: ClassVar[str] = "azure"

    language: str | None = None
    voice: str | None = None

    def __post_init__(self) -> None:
        _check_str(self.language, "tts.language", optional=True)
        _check_str(self.voice, "tts.voice", optional=True)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"provider": "azure"}
        if self.language is not None:
            out["language"] = self.language
        if self.voice is not None:
            out["voice"] = self.voice
        return out


@dataclass(frozen=True, slots=True)
class ElevenLabsTTS(TTS):
    """ElevenLabs voice by ID; without one the service uses the first available voice."""

    provider: ClassVar[str] = "eleven_labs"

    voice: str | None = None

    def __post_init__(self) -> None:
        _check_str(self.voice, "tts.voice", optional=True)

    def to_dict(self) -> dict[str, Any]:
        if self.voice is None:
            return {"provider": "eleven_labs"}
        return {"provider": "eleven_labs", "voice": self.voice}


_TTS_KEYS: dict[str, tuple[str, ...]] = {
    "azure": ("provider", "language", "voice"),
    "eleven_labs": ("provider", "voice"),
}


def tts_from_dict(data: Mapping[str, Any]) -> TTS:
    """Validate a wire-form ``tts`` object (null values count as absent)."""
    data = _expect_object(data, "tts")
    provider = data.get("provider")
    if provider is None:
        raise InvalidActionError("tts.provider", 'missing; expected "azure" or "eleven_labs"')
    if not isinstance(provider, str) or provider not in _TTS_KEYS:
        raise InvalidActionError("tts.provider", f'expected "azure" or "eleven_labs", got {_describe(provider)}')
    if provider == "eleven_labs" and "language" in data:
        raise InvalidActionError(
            "tts.language", "not supported by eleven_labs (the voice ID determines the language)"
        )
    _check_keys(data, _TTS_KEYS[provider], f"tts provider {provider}", "tts.")
    if provider == "azure":
        return AzureTTS(language=data.get("language"), voice=data.get("voice"))
    return ElevenLabsTTS(voice=data.get("voice"))


# -- barge-in -----------------------------------------------------------------

BARGE_IN_STRATEGIES = ("none", "manual", "minimum_characters")
#: Inclusive ranges of the barge-in options (also used by :mod:`flask_aiflow.protocol.openapi`).
MINIMUM_CHARACTERS_RANGE = (1, 100)
ALLOW_AFTER_MS_RANGE = (0, 10000)


@dataclass(frozen=True, slots=True)
class BargeInConfig:
    """How the caller may interrupt a speak or audio action.

    ``minimum_characters`` (1..100) only applies to the ``minimum_characters``
    strategy; ``allow_after_ms`` (0..10000) to every strategy but ``none``.
    Unset values take the service's defaults (3 characters, 0 ms).
    """

    strategy: str = "minimum_characters"
    minimum_characters: int | None = None
    allow_after_ms: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.strategy, str) or self.strategy not in BARGE_IN_STRATEGIES:
            raise InvalidActionError(
                "barge_in.strategy",
                f'expected "none", "manual" or "minimum_characters", got {_describe(self.strategy)}',
            )
        if self.minimum_characters is not None:
            if self.strategy != "minimum_characters":
                raise InvalidActionError(
                    "barge_in.minimum_characters",
                    f'only allowed with strategy "minimum_characters", not "{self.strategy}"',
                )
            _check_int_range(self.minimum_characters, "barge_in.minimum_characters", *MINIMUM_CHARACTERS_RANGE)
        if self.allow_after_ms is not None:
            if self.strategy == "none":
                raise InvalidActionError(
                    "barge_in.allow_after_ms", 'not allowed with strategy "none" (nothing may interrupt)'
                )
            _check_int_range(self.allow_after_ms, "barge_in.allow_after_ms", *ALLOW_AFTER_MS_RANGE)

    def to_dict(self) -> dict[str, Any]:
        """The wire form, unset options omitted."""
        out: dict[str, Any] = {"strategy": self.strategy}
        if self.minimum_characters is not None:
            out["minimum_characters"] = self.minimum_characters
        if self.allow_after_ms is not None:
            out["allow_after_ms"] = self.allow_after_ms
        return out


_BARGE_IN_KEYS = ("strategy", "minimum_characters", "allow_after_ms")


def barge_in_from_dict(data: Mapping[str, Any]) -> BargeInConfig:
    """Validate a wire-form ``barge_in`` object; ``strategy`` is required there."""
    data = _expect_object(data, "barge_in")
    _check_keys(data, _BARGE_IN_KEYS, "barge_in", "barge_in.")
    strategy = data.get("strategy")
    if strategy is None:
        raise InvalidActionError("barge_in.strategy", 'missing; expected "none", "manual" or "minimum_characters"')
    return BargeInConfig(strategy, data.get("minimum_characters"), data.get("allow_after_ms"))


def _tts_arg(value: Any) -> TTS | None:
    if value is None or isinstance(value, TTS):
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


def _check_barge_in(value: Any) -> None:
    if value is not None and not isinstance(value, BargeInConfig):
        raise InvalidActionError(
            "barge_in", f"expected a BargeInConfig (or a dict given to a builder), got {_describe(value)}"
        )


# -- actions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """Base of all actions.

    ``session_id`` stays None in skills; the dispatcher binds the call's
    session with :meth:`with_session` before the action is sent.
    """

    type: ClassVar[str]

    session_id: str | None = None

    def __post_init__(self) -> None:
        if type(self) is Action:
            raise TypeError("Action is abstract; use Speak, Audio, Hangup, Transfer or BargeIn")
        _check_session_id(self.session_id)

    def to_dict(self) -> dict[str, Any]:
        """The wire JSON object: ``type`` first, unset fields omitted."""
        out: dict[str, Any] = {"type": self.type}
        if self.session_id is not None:
            out["session_id"] = self.session_id
        self._add_fields(out)
        return out

    def _add_fields(self, out: dict[str, Any]) -> None:
        """Add the type-specific fields; actions without any add nothing."""

    def with_session(self: _A, session_id: str) -> _A:
        """A copy bound to ``session_id``.

        Copies the already validated fields directly instead of going through
        ``__init__`` again, so binding an audio clip does not re-inspect it.
        """
        if not isinstance(session_id, str) or not session_id:
            raise InvalidActionError("session_id", f"expected a non-empty string, got {_describe(session_id)}")
        if self.session_id == session_id:
            return self
        cls = type(self)
        new = object.__new__(cls)
        set_field = object.__setattr__  # looked up once: this runs for most answers
        for name in _copied_fields(cls):
            set_field(new, name, getattr(self, name))
        set_field(new, "session_id", session_id)
        return new


_COPIED_FIELDS: dict[type[Action], tuple[str, ...]] = {}


def _copied_fields(cls: type[Action]) -> tuple[str, ...]:
    """The fields :meth:`Action.with_session` copies: all but ``session_id``."""
    names = _COPIED_FIELDS.get(cls)
    if names is None:
        names = _COPIED_FIELDS[cls] = tuple(f.name for f in fields(cls) if f.name != "session_id")
    return names


def _trusted(cls: type[_A], values: dict[str, Any]) -> _A:
    """Build ``cls`` from values known to be valid, skipping ``__post_init__``."""
    new = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(new, name, value)
    return new


@dataclass(frozen=True, slots=True, kw_only=True)
class Speak(Action):
    """Say ``text`` or ``ssml`` (exactly one) with text-to-speech.

    ``user_input_timeout_seconds`` makes the service send a
    ``user_input_timeout`` event when the caller stays silent that long after
    the speech ends.
    """

    type: ClassVar[str] = "speak"

    text: str | None = None
    ssml: str | None = None
    tts: TTS | None = None
    barge_in: BargeInConfig | None = None
    user_input_timeout_seconds: float | None = None

    def __post_init__(self) -> None:
        _check_session_id(self.session_id)
        if self.text is None and self.ssml is None:
            raise InvalidActionError("text", "missing; a speak action needs text or ssml")
        if self.text is not None and self.ssml is not None:
            raise InvalidActionError("ssml", "not allowed together with text; give exactly one of them")
        if self.text is not None:
            _check_str(self.text, "text")
        else:
            _check_str(self.ssml, "ssml")
        if self.tts is not None and not isinstance(self.tts, TTS):
            raise InvalidActionError(
                "tts", f"expected AzureTTS or ElevenLabsTTS (or a dict given to a builder), got {_describe(self.tts)}"
            )
        _check_barge_in(self.barge_in)
        timeout = self.user_input_timeout_seconds
        if timeout is not None and (
            type(timeout) is bool
            or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise InvalidActionError(
                "user_input_timeout_seconds", f"expected a positive number of seconds, got {_describe(timeout)}"
            )

    def _add_fields(self, out: dict[str, Any]) -> None:
        if self.text is not None:
            out["text"] = self.text
        else:
            out["ssml"] = self.ssml
        if self.tts is not None:
            out["tts"] = self.tts.to_dict()
        if self.barge_in is not None:
            out["barge_in"] = self.barge_in.to_dict()
        if self.user_input_timeout_seconds is not None:
            out["user_input_timeout_seconds"] = self.user_input_timeout_seconds


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Audio(Action):
    """Play a pre-recorded clip: ``audio`` is base64 of a 16 kHz mono 16-bit PCM WAV.

    Construction checks the base64 and the WAV header; only the chunk
    headers are decoded, so a long clip costs about as little as a short one.
    """

    type: ClassVar[str] = "audio"

    audio: str
    barge_in: BargeInConfig | None = None

    def __post_init__(self) -> None:
        _check_session_id(self.session_id)
        if not isinstance(self.audio, str):
            raise InvalidActionError("audio", f"expected a base64 string, got {_describe(self.audio)}")
        _check_base64(self.audio)
        read, size = _base64_reader(self.audio)
        try:
            info = inspect_wav_reader(read, size)
        except NotWavError as exc:
            raise _audio_format_error(exc) from None
        _check_wav(info)
        _check_barge_in(self.barge_in)

    def _add_fields(self, out: dict[str, Any]) -> None:
        out["audio"] = self.audio
        if self.barge_in is not None:
            out["barge_in"] = self.barge_in.to_dict()

    @classmethod
    def from_base64(cls, data: str, *, barge_in: BargeInConfig | Mapping[str, Any] | None = None) -> Audio:
        """From base64 text of a WAV file (validated like the constructor)."""
        return cls(audio=data, barge_in=_barge_in_arg(barge_in))

    @classmethod
    def from_wav(
        cls, data: bytes | bytearray | memoryview, *, barge_in: BargeInConfig | Mapping[str, Any] | None = None
    ) -> Audio:
        """From the bytes of a WAV file; they are checked before being encoded."""
        return cls._from_bytes(data, barge_in, "")

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, barge_in: BargeInConfig | Mapping[str, Any] | None = None
    ) -> Audio:
        """From a WAV file on disk; errors name the file.

        The encoded clip is cached per path and modification time, so a
        skill may call this on every event without re-reading the file.
        """
        config = _barge_in_arg(barge_in)
        source = f"{os.fspath(path)}: "
        try:
            stat = os.stat(path)
            encoded = _encoded_file(os.path.abspath(path), stat.st_mtime_ns, stat.st_size)
        except OSError as exc:
            hint = ""
            if isinstance(path, str) and path.startswith("UklGR"):
                hint = " (this looks like base64 data: use Audio.from_base64)"
            raise InvalidActionError("audio", f"cannot read {source}{exc.strerror or exc}{hint}") from exc
        except InvalidActionError as exc:
            raise InvalidActionError("audio", source + exc.reason) from None
        return _trusted(cls, {"session_id": None, "audio": encoded, "barge_in": config})

    @classmethod
    def _from_bytes(cls, data: bytes | bytearray | memoryview, barge_in: Any, source: str) -> Audio:
        config = _barge_in_arg(barge_in)
        encoded = _encode_wav(data, source)
        return _trusted(cls, {"session_id": None, "audio": encoded, "barge_in": config})


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


@lru_cache(maxsize=32)
def _encoded_file(path: str, mtime_ns: int, size: int) -> str:
    """Read, check and encode a WAV file; keyed by mtime and size so edits are seen."""
    with open(path, "rb") as handle:
        return _encode_wav(handle.read())


# -- call control -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Hangup(Action):
    """End the call."""

    type: ClassVar[str] = "hangup"


@dataclass(frozen=True, slots=True, kw_only=True)
class BargeIn(Action):
    """Interrupt the current playback now (for the ``manual`` barge-in strategy)."""

    type: ClassVar[str] = "barge_in"


#: Digits an E.164 number has after the "+" (inclusive).
E164_DIGITS = (2, 15)


def _check_e164(value: Any, field: str) -> None:
    """``+``, a country code not starting with 0, 2 to 15 digits in all."""
    if not (
        isinstance(value, str)
        and E164_DIGITS[0] + 1 <= len(value) <= E164_DIGITS[1] + 1
        and value[0] == "+"
        and value[1] != "0"
        and value[1:].isascii()
        and value[1:].isdigit()
    ):
        raise InvalidActionError(
            field,
            "expected a phone number in E.164 format like +4921155555555 "
            f"('+', country code, number; digits only), got {_describe(value)}",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer(Action):
    """Transfer the call to ``target_phone_number``, showing the given caller ID.

    Both numbers must be E.164 (``+4921155555555``).
    """

    type: ClassVar[str] = "transfer"

    target_phone_number: str
    caller_id_name: str
    caller_id_number: str

    def __post_init__(self) -> None:
        _check_session_id(self.session_id)
        _check_e164(self.target_phone_number, "target_phone_number")
        _check_str(self.caller_id_name, "caller_id_name")
        _check_e164(self.caller_id_number, "caller_id_number")

    def _add_fields(self, out: dict[str, Any]) -> None:
        out["target_phone_number"] = self.target_phone_number
        out["caller_id_name"] = self.caller_id_name
        out["caller_id_number"] = self.caller_id_number


#: The five action types of the protocol, by their wire name.
ACTION_TYPES: Mapping[str, type[Action]] = MappingProxyType(
    {cls.type: cls for cls in (Speak, Audio, Hangup, Transfer, BargeIn)}
)


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


def transfer(target_phone_number: str, *, caller_id_name: str, caller_id_number: str) -> Transfer:
    """Transfer the call; all numbers in E.164 format."""
    return Transfer(
        target_phone_number=target_phone_number,
        caller_id_name=caller_id_name,
        caller_id_number=caller_id_number,
    )


def barge_in() -> BargeIn:
    """Interrupt the current playback (manual barge-in)."""
    return BargeIn()


# -- wire-form dicts ----------------------------------------------------------


def _schema(cls: type[Action]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The allowed keys (``type`` included) and the required ones of an action class."""
    required = tuple(
        f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
    )
    return ("type", *(f.name for f in fields(cls))), required


_SCHEMAS = {name: _schema(cls) for name, cls in ACTION_TYPES.items()}


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
