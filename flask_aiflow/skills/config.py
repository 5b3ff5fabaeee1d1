"""Helpers for skills that read one configuration mapping at start-up.

A skill validates its ``AIFLOW_<NAME>`` mapping in ``aiflow_startup`` and
raises :class:`~flask_aiflow.SkillConfigError` naming the exact place of a
mistake, e.g. ``AIFLOW_GREETING["lines"]["+4930123"]["text"]: expected a
non-empty string, got 5 (number)``. :class:`KeyPath` builds those names;
the ``expect_*`` functions check plain values; :func:`speak_from_config`
turns a speak setting (a string, or a mapping with ``text`` or ``ssml``,
``tts``, ``barge_in``, ``user_input_timeout_seconds``) into a validated
:class:`~flask_aiflow.protocol.actions.Speak` using the core's own checks, so a
skill's configuration accepts exactly what the protocol accepts.

For skills that route calls (menu, timeout escalation), :class:`Voice`
carries speech defaults down a configuration tree,
:func:`transfer_from_config` and :func:`audio_from_config` read a transfer
target and a clip, and :func:`outcome_from_config` reads "what happens
next" (say, play, transfer, hang up) into an :class:`Outcome` that proposes
itself with its follow-ups (a farewell, then the hang-up).

:class:`AppSettings` keeps a skill's parsed configuration once per app, so
hooks read it back without parsing it again.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from flask import current_app

from flask_aiflow.protocol.actions import (
    TTS,
    Action,
    Audio,
    BargeInConfig,
    InvalidActionError,
    Speak,
    Transfer,
    _check_e164,
    barge_in_from_dict,
    hangup,
    speak,
    transfer,
    tts_from_dict,
)
from flask_aiflow.skills.candidates import Candidate, check_priority
from flask_aiflow.protocol.events import _describe
from flask_aiflow.skills.registry import SkillConfigError

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "OUTCOMES",
    "AppSettings",
    "SPEAK_KEYS",
    "KeyPath",
    "Outcome",
    "Voice",
    "audio_from_config",
    "barge_in_option",
    "expect_bool",
    "expect_int",
    "expect_mapping",
    "expect_number",
    "expect_phone_number",
    "expect_priority",
    "expect_str",
    "expect_str_list",
    "outcome_from_config",
    "speak_from_config",
    "transfer_from_config",
    "tts_option",
]

T = TypeVar("T")

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


# -- speech defaults, transfers, clips and outcomes ------------------------------


@dataclass(frozen=True, slots=True)
class Voice:
    """Speech defaults handed down a configuration tree (a menu and its sub-menus).

    Each level may override them with its own ``tts``, ``barge_in`` and
    ``user_input_timeout_seconds`` keys (see :meth:`updated`).
    """

    tts: TTS | None = None
    barge_in: BargeInConfig | None = None
    user_input_timeout_seconds: float | None = None

    @classmethod
    def of_app(cls, app: Flask) -> Voice:
        """The app's ``AIFLOW_DEFAULT_TTS`` and ``AIFLOW_DEFAULT_BARGE_IN``: the root of a skill's defaults."""
        state = app.extensions.get("aiflow")
        if state is None:
            return cls()
        return cls(state.settings.default_tts, state.settings.default_barge_in)

    def updated(self, config: Mapping[str, Any], path: KeyPath) -> Voice:
        """These defaults, overridden by the voice keys ``config`` sets (None keeps the default)."""
        tts, barge_in, timeout = self.tts, self.barge_in, self.user_input_timeout_seconds
        if config.get("tts") is not None:
            tts = tts_option(config["tts"], path / "tts")
        if config.get("barge_in") is not None:
            barge_in = barge_in_option(config["barge_in"], path / "barge_in")
        if config.get("user_input_timeout_seconds") is not None:
            timeout = expect_number(config["user_input_timeout_seconds"], path / "user_input_timeout_seconds")
        return Voice(tts, barge_in, timeout)

    def speak(self, value: Any, path: KeyPath) -> Speak:
        """A speak setting (see :func:`speak_from_config`) with these defaults."""
        return speak_from_config(
            value,
            path,
            tts=self.tts,
            barge_in=self.barge_in,
            user_input_timeout_seconds=self.user_input_timeout_seconds,
        )

    @property
    def last_words(self) -> Voice:
        """The same voice without an input timeout, for speech right before a transfer or hang-up."""
        return Voice(self.tts, self.barge_in)


def transfer_from_config(value: Any, path: KeyPath, *, extra_keys: Collection[str] = ()) -> Transfer:
    """A transfer from ``{"target", "caller_id_name", "caller_id_number"}``.

    ``caller_id_number`` defaults to ``target``, as in the reference's example.
    ``extra_keys`` are further keys the caller reads itself.
    """
    data = expect_mapping(
        value,
        path,
        allowed=("target", "caller_id_name", "caller_id_number", *extra_keys),
        required=("target", "caller_id_name"),
    )
    target = expect_phone_number(data["target"], path / "target")
    number = expect_phone_number(data.get("caller_id_number", target), path / "caller_id_number")
    name = expect_str(data["caller_id_name"], path / "caller_id_name")
    return transfer(target, caller_id_name=name, caller_id_number=number)


def audio_from_config(value: Any, path: KeyPath, *, root: str | os.PathLike[str] = ".") -> Audio:
    """A clip from a WAV file path, or ``{"file" | "base64", "barge_in"}``.

    A relative file path is taken from ``root`` (the app's ``root_path``).
    The clip is checked now (16 kHz mono 16-bit PCM WAV) and encoded once.
    """
    if isinstance(value, str):
        value = {"file": value}
    data = expect_mapping(value, path, allowed=("file", "base64", "barge_in"))
    if ("file" in data) == ("base64" in data):
        raise path.error('needs exactly one of "file" or "base64"')
    barge_in = barge_in_option(data.get("barge_in"), path / "barge_in")
    if "file" in data:
        file_path = os.path.join(root, expect_str(data["file"], path / "file"))
        try:
            return Audio.from_file(file_path, barge_in=barge_in)
        except InvalidActionError as exc:
            raise (path / "file").error(exc.reason) from None
    try:
        return Audio.from_base64(expect_str(data["base64"], path / "base64"), barge_in=barge_in)
    except InvalidActionError as exc:
        raise (path / "base64").error(exc.reason) from None


SAY = "say"
AUDIO = "audio"
TRANSFER = "transfer"
HANGUP = "hangup"
#: The kinds of :class:`Outcome`, as configuration keys.
OUTCOMES = (SAY, AUDIO, TRANSFER, HANGUP)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A configured reaction: an action, and follow-ups delivered once it has been spoken.

    ``kind`` is one of :data:`OUTCOMES`.
    """

    kind: str
    action: Action
    then: tuple[Action, ...] = ()

    @property
    def ends_call(self) -> bool:
        return self.kind in (TRANSFER, HANGUP)

    def candidate(
        self, *, priority: int | None = None, reason: str = "", then: Sequence[Action] = ()
    ) -> Candidate:
        """Propose it; ``then`` adds follow-ups after the configured ones."""
        return Candidate(self.action, priority=priority, reason=reason, then=(*self.then, *then))


def outcome_from_config(
    value: Any,
    path: KeyPath,
    *,
    kinds: Collection[str] = OUTCOMES,
    voice: Voice = Voice(),
    root: str | os.PathLike[str] = ".",
    extra_keys: Collection[str] = (),
) -> Outcome:
    """An :class:`Outcome` from a mapping with exactly one of ``kinds`` as a key.

    - ``{"say": <speak setting>}``: speak it;
    - ``{"audio": <clip>}``: play it (see :func:`audio_from_config`);
    - ``{"transfer": {"target", "caller_id_name", "caller_id_number"?, "announce"?}}``:
      transfer, after speaking ``announce`` if given;
    - ``{"hangup": true | <speak setting>}``: hang up, after the farewell if given.

    Speech before a transfer or hang-up sets no input timeout. ``extra_keys``
    are further keys the caller reads from the same mapping.
    """
    data = expect_mapping(value, path, allowed=(*kinds, *extra_keys))
    present = [kind for kind in kinds if kind in data]
    if len(present) != 1:
        expected = " or ".join(f'"{kind}"' for kind in kinds)
        found = f" (found {', '.join(present)})" if present else ""
        raise path.error(f"needs exactly one of {expected}{found}")
    kind = present[0]
    here = path / kind
    setting = data[kind]
    if kind == SAY:
        return Outcome(SAY, voice.speak(setting, here))
    if kind == AUDIO:
        return Outcome(AUDIO, audio_from_config(setting, here, root=root))
    if kind == TRANSFER:
        target = transfer_from_config(setting, here, extra_keys=("announce",))
        if setting.get("announce") is None:
            return Outcome(TRANSFER, target)
        return Outcome(TRANSFER, voice.last_words.speak(setting["announce"], here / "announce"), (target,))
    if setting is True:
        return Outcome(HANGUP, hangup())
    if setting is False or setting is None:
        raise here.error(f"expected true or a farewell to speak before hanging up, got {_describe(setting)}")
    return Outcome(HANGUP, voice.last_words.speak(setting, here), (hangup(),))


# -- the parsed configuration, once per app ---------------------------------------


class AppSettings(Generic[T]):
    """A skill's parsed configuration, kept once per app in ``app.extensions``.

    Why: a configuration is validated at start-up, so a mistake stops the app
    with a :class:`~flask_aiflow.SkillConfigError` instead of failing a call,
    and it is parsed once, never per event (clips are read and encoded then).
    A skill registered after start-up never had its ``aiflow_startup`` run,
    so :meth:`get` parses on first use instead. Each app has its own value,
    so one skill module serves several apps with different configurations::

        SETTINGS = AppSettings("aiflow_menu", lambda app: parse(app.config.get("AIFLOW_MENU")))

        @hookimpl
        def aiflow_startup(app):
            SETTINGS.load(app)

        @hookimpl
        def aiflow_user_speak(event, call):
            config = SETTINGS.get()
    """

    __slots__ = ("extension_key", "_loader")

    def __init__(self, extension_key: str, load: Callable[[Flask], T]) -> None:
        """:param extension_key: where the value lives: ``app.extensions[extension_key]``.
        :param load: parses the app's configuration; raises ``SkillConfigError`` for a bad one.
        """
        self.extension_key = extension_key
        self._loader = load

    def load(self, app: Flask) -> T:
        """Parse the configuration of ``app`` now (from ``aiflow_startup``), store and return it.

        A loader's error propagates and nothing is stored.
        """
        value = self._loader(app)
        app.extensions[self.extension_key] = value
        return value

    def get(self, app: Flask | None = None) -> T:
        """The stored value of ``app`` (default: the current app), parsed on first use."""
        if app is None:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
        if self.extension_key in app.extensions:
            return app.extensions[self.extension_key]  # type: ignore[no-any-return]
        return self.load(app)
