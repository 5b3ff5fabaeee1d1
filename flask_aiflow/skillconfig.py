"""Helpers for skills that read one configuration mapping at start-up.

A skill validates its ``AIFLOW_<NAME>`` mapping in ``aiflow_startup`` and
raises :class:`~flask_aiflow.SkillConfigError` naming the exact place of a
mistake, e.g. ``AIFLOW_GREETING["lines"]["+4930123"]["text"]: expected a
non-empty string, got 5 (number)``. :class:`KeyPath` builds those names;
the ``expect_*`` functions check plain values; :func:`speak_from_config`
turns a speak setting (a string, or a mapping with ``text`` or ``ssml``,
``tts``, ``barge_in``, ``user_input_timeout_seconds``) into a validated
:class:`~flask_aiflow.actions.Speak` using the core's own checks, so a
skill's configuration accepts exactly what the protocol accepts.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .actions import (
    TTS,
    BargeInConfig,
    InvalidActionError,
    Speak,
    _check_e164,
    barge_in_from_dict,
    speak,
    tts_from_dict,
)
from .candidates import check_priority
from .events import _describe
from .plugins import SkillConfigError

__all__ = [
    "SPEAK_KEYS",
    "KeyPath",
    "barge_in_option",
    "expect_bool",
    "expect_int",
    "expect_mapping",
    "expect_number",
    "expect_phone_number",
    "expect_priority",
    "expect_str",
    "expect_str_list",
    "speak_from_config",
    "tts_option",
]

#: The keys of a speak setting.
SPEAK_KEYS = ("text", "ssml", "tts", "barge_in", "user_input_timeout_seconds")


@dataclass(frozen=True, slots=True)
class KeyPath:
    """Where a value sits in the Flask config: ``AIFLOW_AUDIO["clips"]["jingle"]``.

    ``path / "clips" / "jingle"`` goes one level deeper; ``str(path)`` is the
    name used in error messages.
    """

    key: str
    parts: tuple[str | int, ...] = ()

    def __truediv__(self, part: str | int) -> KeyPath:
        return KeyPath(self.key, (*self.parts, part))

    def __str__(self) -> str:
        # json.dumps gives the double-quoted, escaped form a reader can paste back.
        return self.key + "".join(f"[{json.dumps(part, ensure_ascii=False)}]" for part in self.parts)

    def error(self, reason: str) -> SkillConfigError:
        """The error for a wrong value here: ``<path>: <reason>``."""
        return SkillConfigError(f"{self}: {reason}")

    def action_error(self, exc: InvalidActionError) -> SkillConfigError:
        """Translate a core validation error (field ``"barge_in.strategy"``) to this path."""
        path = self
        if exc.field:
            for part in exc.field.split("."):
                path = path / part
        return path.error(exc.reason)


def _suggest(key: str, allowed: Collection[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (allowed: {', '.join(allowed)})"


def expect_mapping(
    value: Any,
    path: KeyPath,
    *,
    allowed: Collection[str] | None = None,
    required: Sequence[str] = (),
) -> Mapping[str, Any]:
    """A mapping with string keys, only ``allowed`` ones (if given), all ``required`` ones."""
    if not isinstance(value, Mapping):
        raise path.error(f"expected a mapping, got {_describe(value)}")
    for key in value:
        if not isinstance(key, str):
            raise path.error(f"keys must be strings, got {_describe(key)}")
        if allowed is not None and key not in allowed:
            raise (path / key).error("unknown key" + _suggest(key, allowed))
    for key in required:
        if key not in value:
            raise (path / key).error("missing")
    return value


def expect_str(value: Any, path: KeyPath) -> str:
    """A string with more than whitespace in it."""
    if not isinstance(value, str):
        raise path.error(f"expected a string, got {_describe(value)}")
    if not value.strip():
        raise path.error(f"expected a non-empty string, got {_describe(value)}")
    return value


def expect_str_list(value: Any, path: KeyPath, *, allow_empty: bool = False) -> tuple[str, ...]:
    """A list (or tuple) of non-empty strings; a lone string is refused, not split."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise path.error(f"expected a list of strings, got {_describe(value)}")
    if not value and not allow_empty:
        raise path.error("expected at least one entry, got an empty list")
    return tuple(expect_str(item, path / index) for index, item in enumerate(value))


def expect_bool(value: Any, path: KeyPath) -> bool:
    if value is not True and value is not False:
        raise path.error(f"expected true or false, got {_describe(value)}")
    return value


def expect_number(value: Any, path: KeyPath, *, minimum: float = 0, inclusive: bool = False) -> float:
    """A finite number above ``minimum`` (or at least ``minimum`` when ``inclusive``)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or (value < minimum if inclusive else value <= minimum)
    ):
        relation = ">=" if inclusive else ">"
        raise path.error(f"expected a number {relation} {minimum:g}, got {_describe(value)}")
    return value


def expect_int(value: Any, path: KeyPath, *, minimum: int = 0) -> int:
    """An integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise path.error(f"expected an integer >= {minimum}, got {_describe(value)}")
    return value


def expect_phone_number(value: Any, path: KeyPath) -> str:
    """A phone number in E.164 format (``+4930123456``), checked as the core checks transfers."""
    try:
        _check_e164(value, "number")
    except InvalidActionError as exc:
        raise path.error(exc.reason) from None
    return value  # type: ignore[no-any-return]


def expect_priority(value: Any, path: KeyPath) -> int:
    try:
        return check_priority(value, what="priority")
    except ValueError as exc:
        raise path.error(str(exc)) from None


def tts_option(value: Any, path: KeyPath) -> TTS | None:
    """A ``tts`` setting in the wire form (None stays None)."""
    if value is None:
        return None
    try:
        return tts_from_dict(value)
    except InvalidActionError as exc:
        # tts_from_dict names fields "tts.provider"; ``path`` already ends in "tts".
        raise path.action_error(_strip_prefix(exc, "tts")) from None


def barge_in_option(value: Any, path: KeyPath) -> BargeInConfig | None:
    """A ``barge_in`` setting in the wire form (None stays None)."""
    if value is None:
        return None
    try:
        return barge_in_from_dict(value)
    except InvalidActionError as exc:
        raise path.action_error(_strip_prefix(exc, "barge_in")) from None


def _strip_prefix(exc: InvalidActionError, prefix: str) -> InvalidActionError:
    field = exc.field
    if field == prefix:
        field = None
    elif field is not None and field.startswith(prefix + "."):
        field = field[len(prefix) + 1 :]
    return InvalidActionError(field, exc.reason)


def speak_from_config(
    value: Any,
    path: KeyPath,
    *,
    tts: TTS | None = None,
    barge_in: BargeInConfig | None = None,
    user_input_timeout_seconds: float | None = None,
    extra_keys: Collection[str] = (),
) -> Speak:
    """Build the :class:`Speak` a speak setting describes.

    ``value`` is a string (the text) or a mapping with exactly one of
    ``text``/``ssml`` and optionally ``tts``, ``barge_in`` and
    ``user_input_timeout_seconds``; the keyword arguments are the defaults
    for the settings the mapping leaves out. ``extra_keys`` are further keys
    the caller reads itself (they are allowed, not interpreted here).
    """
    if isinstance(value, str):
        value = {"text": value}
    data = expect_mapping(value, path, allowed=(*SPEAK_KEYS, *extra_keys))
    if "text" not in data and "ssml" not in data:
        raise path.error('needs "text" or "ssml"')
    if "text" in data and "ssml" in data:
        raise (path / "ssml").error('not allowed together with "text"; give exactly one of them')
    if "tts" in data:
        tts = tts_option(data["tts"], path / "tts")
    if "barge_in" in data:
        barge_in = barge_in_option(data["barge_in"], path / "barge_in")
    if "user_input_timeout_seconds" in data:
        user_input_timeout_seconds = data["user_input_timeout_seconds"]
    try:
        return speak(
            data.get("text"),
            ssml=data.get("ssml"),
            tts=tts,
            barge_in=barge_in,
            user_input_timeout_seconds=user_input_timeout_seconds,
        )
    except InvalidActionError as exc:
        raise path.action_error(exc) from None
