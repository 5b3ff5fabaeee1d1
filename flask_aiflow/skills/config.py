"""Building blocks for a skill's configuration: key paths, checks, and actions from settings.

A skill declares its ``AIFLOW_<NAME>`` mapping as a model (msgspec structs,
see :mod:`flask_aiflow.skills.models` and :class:`flask_aiflow.skills.declare.Skill`);
this module turns the parts every voice skill shares into validated actions,
with the core's own checks, so a skill's configuration accepts exactly what
the protocol accepts. Every error is a :class:`~flask_aiflow.SkillConfigError`
naming the exact place of the mistake, e.g.
``AIFLOW_GREETING["lines"]["+4930123"]["text"]: expected a non-empty string, got 5 (number)``;
:class:`KeyPath` builds those names.

- :func:`build_speak`, :func:`build_transfer`, :func:`build_clip` and
  :func:`build_outcome` read the shared models (:class:`SpeakConfig`,
  :class:`TransferConfig`, :class:`ClipConfig`, :class:`OutcomeKeys`);
- :class:`Voice` carries speech defaults (``tts``, ``barge_in``, the input
  timeout) down a configuration tree, a menu and its sub-menus;
- :class:`Outcome` is "what happens next" (say, play, transfer, hang up),
  which proposes itself with its follow-ups (a farewell, then the hang-up);
- ``speak_from_config``, ``transfer_from_config``, ``audio_from_config`` and
  ``outcome_from_config`` do the same from a plain value, for skills that
  read a mapping by hand; the ``expect_*`` functions check plain values.

:class:`AppSettings` keeps a parsed value once per app (the declarative
helper uses it).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Union

from flask import current_app

from flask_aiflow.protocol.actions import (
    TTS,
    Action,
    Audio,
    BargeInConfig,
    InvalidActionError,
    Speak,
    Transfer,
    barge_in_from_dict,
    hangup,
    speak,
    transfer,
    tts_from_dict,
)
from flask_aiflow.skills.candidates import Candidate, check_priority
from flask_aiflow.skills.models import (
    UNSET,
    ClipConfig,
    ConfigModel,
    NonEmptyStr,
    PhoneNumber,
    SpeakConfig,
    SpeakSetting,
    SpeechConfig,
    TransferConfig,
    UnsetType,
    _suggest,
    convert,
    describe,
)
from flask_aiflow.skills.registry import SkillConfigError

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "OUTCOMES",
    "SPEAK_KEYS",
    "AnnouncedTransfer",
    "AppSettings",
    "EndingKeys",
    "KeyPath",
    "Outcome",
    "OutcomeKeys",
    "Voice",
    "audio_from_config",
    "barge_in_option",
    "build_clip",
    "build_outcome",
    "build_speak",
    "build_transfer",
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


# -- plain values ------------------------------------------------------------------


def expect_mapping(
    value: Any,
    path: KeyPath,
    *,
    allowed: Collection[str] | None = None,
    required: Sequence[str] = (),
) -> Mapping[str, Any]:
    """A mapping with string keys, only ``allowed`` ones (if given), all ``required`` ones."""
    if not isinstance(value, Mapping):
        raise path.error(f"expected a mapping, got {describe(value)}")
    for key in value:
        if not isinstance(key, str):
            raise path.error(f"keys must be strings, got {describe(key)}")
        if allowed is not None and key not in allowed:
            raise (path / key).error("unknown key" + _suggest(key, allowed))
    for key in required:
        if key not in value:
            raise (path / key).error("missing")
    return value


def expect_str(value: Any, path: KeyPath) -> str:
    """A string with more than whitespace in it."""
    if not isinstance(value, str):
        raise path.error(f"expected a string, got {describe(value)}")
    if not value.strip():
        raise path.error(f"expected a non-empty string, got {describe(value)}")
    return value


def expect_str_list(value: Any, path: KeyPath, *, allow_empty: bool = False) -> tuple[str, ...]:
    """A list (or tuple) of non-empty strings; a lone string is refused, not split."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise path.error(f"expected a list of strings, got {describe(value)}")
    if not value and not allow_empty:
        raise path.error("expected at least one entry, got an empty list")
    return tuple(expect_str(item, path / index) for index, item in enumerate(value))


def expect_bool(value: Any, path: KeyPath) -> bool:
    if value is not True and value is not False:
        raise path.error(f"expected true or false, got {describe(value)}")
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
        raise path.error(f"expected a number {relation} {minimum:g}, got {describe(value)}")
    return value


def expect_int(value: Any, path: KeyPath, *, minimum: int = 0) -> int:
    """An integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise path.error(f"expected an integer >= {minimum}, got {describe(value)}")
    return value


def expect_phone_number(value: Any, path: KeyPath) -> str:
    """A phone number in E.164 format (``+4930123456``)."""
    return convert(value, PhoneNumber, path)


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


def _without(value: Any, path: KeyPath, keys: Collection[str]) -> Any:
    """``value`` without the keys a caller reads itself (when it is a mapping)."""
    if not keys or not isinstance(value, Mapping):
        return value
    expect_mapping(value, path)
    return {key: item for key, item in value.items() if key not in keys}


# -- speech ------------------------------------------------------------------------


def build_speak(
    setting: str | SpeechConfig,
    path: KeyPath,
    *,
    tts: TTS | None = None,
    barge_in: BargeInConfig | None = None,
    user_input_timeout_seconds: float | None = None,
) -> Speak:
    """The :class:`Speak` a speak setting describes; the keywords are defaults it may override."""
    if isinstance(setting, str):
        setting = SpeakConfig(text=setting)
    if setting.text is UNSET and setting.ssml is UNSET:
        raise path.error('needs "text" or "ssml"')
    if setting.text is not UNSET and setting.ssml is not UNSET:
        raise (path / "ssml").error('not allowed together with "text"; give exactly one of them')
    if setting.tts is not UNSET:
        tts = tts_option(setting.tts, path / "tts")
    if setting.barge_in is not UNSET:
        barge_in = barge_in_option(setting.barge_in, path / "barge_in")
    if isinstance(setting, SpeakConfig) and setting.user_input_timeout_seconds is not UNSET:
        user_input_timeout_seconds = setting.user_input_timeout_seconds
    try:
        return speak(
            None if setting.text is UNSET else setting.text,
            ssml=None if setting.ssml is UNSET else setting.ssml,
            tts=tts,
            barge_in=barge_in,
            user_input_timeout_seconds=user_input_timeout_seconds,
        )
    except InvalidActionError as exc:
        raise path.action_error(exc) from None


def speak_from_config(
    value: Any,
    path: KeyPath,
    *,
    tts: TTS | None = None,
    barge_in: BargeInConfig | None = None,
    user_input_timeout_seconds: float | None = None,
    extra_keys: Collection[str] = (),
) -> Speak:
    """:func:`build_speak` from a plain value: a string (the text) or a mapping of :data:`SPEAK_KEYS`.

    ``extra_keys`` are further keys the caller reads itself (allowed, not interpreted here).
    """
    setting: str | SpeakConfig = convert(_without(value, path, extra_keys), SpeakSetting, path)
    return build_speak(
        setting, path, tts=tts, barge_in=barge_in, user_input_timeout_seconds=user_input_timeout_seconds
    )


@dataclass(frozen=True, slots=True)
class Voice:
    """Speech defaults handed down a configuration tree (a menu and its sub-menus).

    Each level may override them with its own ``tts``, ``barge_in`` and
    ``user_input_timeout_seconds`` (see :meth:`updated`).
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

    def updated(self, config: Mapping[str, Any] | ConfigModel, path: KeyPath) -> Voice:
        """These defaults, overridden by the voice keys ``config`` sets (None keeps the default).

        ``config`` is a model with those fields (:class:`~flask_aiflow.skills.models.VoiceKeys`)
        or a plain mapping.
        """
        if isinstance(config, Mapping):
            get: Callable[[str], Any] = config.get
        else:
            get = lambda key: None if (value := getattr(config, key, None)) is UNSET else value  # noqa: E731
        tts, barge_in, timeout = self.tts, self.barge_in, self.user_input_timeout_seconds
        if get("tts") is not None:
            tts = tts_option(get("tts"), path / "tts")
        if get("barge_in") is not None:
            barge_in = barge_in_option(get("barge_in"), path / "barge_in")
        if get("user_input_timeout_seconds") is not None:
            timeout = expect_number(get("user_input_timeout_seconds"), path / "user_input_timeout_seconds")
        return Voice(tts, barge_in, timeout)

    def speak(self, value: Any, path: KeyPath) -> Speak:
        """A speak setting (a string, :class:`SpeakConfig` or mapping) with these defaults."""
        if not isinstance(value, str | SpeechConfig):
            value = convert(value, SpeakSetting, path)
        return build_speak(
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


# -- transfers and clips -----------------------------------------------------------


def build_transfer(setting: TransferConfig, path: KeyPath, *, default_name: str | None = None) -> Transfer:
    """A transfer to ``setting.target``.

    ``caller_id_number`` defaults to the target, as in the reference's
    example; ``caller_id_name`` defaults to ``default_name`` (a menu option's
    name) and is required without one.
    """
    name = setting.caller_id_name if setting.caller_id_name is not UNSET else default_name
    if name is None:
        raise (path / "caller_id_name").error("missing")
    number = setting.caller_id_number if setting.caller_id_number is not UNSET else setting.target
    try:
        return transfer(setting.target, caller_id_name=name, caller_id_number=number)
    except InvalidActionError as exc:
        raise path.action_error(exc) from None


def transfer_from_config(
    value: Any, path: KeyPath, *, extra_keys: Collection[str] = (), default_name: str | None = None
) -> Transfer:
    """:func:`build_transfer` from a plain ``{"target", "caller_id_name", "caller_id_number"}``.

    ``extra_keys`` are further keys the caller reads itself.
    """
    setting: TransferConfig = convert(_without(value, path, extra_keys), TransferConfig, path)
    return build_transfer(setting, path, default_name=default_name)


def build_clip(setting: str | ClipConfig, path: KeyPath, *, root: str | os.PathLike[str] = ".") -> Audio:
    """A clip from a WAV file path (relative to ``root``, the app's ``root_path``) or base64.

    The clip is checked now (16 kHz mono 16-bit PCM WAV) and encoded once.
    """
    if isinstance(setting, str):
        setting = ClipConfig(file=setting)
    if (setting.file is UNSET) == (setting.base64 is UNSET):
        raise path.error('needs exactly one of "file" or "base64"')
    barge_in = barge_in_option(setting.barge_in, path / "barge_in")
    if setting.file is not UNSET:
        try:
            return Audio.from_file(os.path.join(root, setting.file), barge_in=barge_in)
        except InvalidActionError as exc:
            raise (path / "file").error(exc.reason) from None
    assert setting.base64 is not UNSET
    try:
        return Audio.from_base64(setting.base64, barge_in=barge_in)
    except InvalidActionError as exc:
        raise (path / "base64").error(exc.reason) from None


#: A clip setting: a file path, or a mapping.
ClipSetting = Union[NonEmptyStr, ClipConfig]  # noqa: UP007 - a runtime alias msgspec reads


def audio_from_config(value: Any, path: KeyPath, *, root: str | os.PathLike[str] = ".") -> Audio:
    """:func:`build_clip` from a plain value: a WAV file path, or ``{"file" | "base64", "barge_in"}``."""
    return build_clip(convert(value, ClipSetting, path), path, root=root)


# -- outcomes ----------------------------------------------------------------------

SAY = "say"
AUDIO = "audio"
TRANSFER = "transfer"
HANGUP = "hangup"
#: The kinds of :class:`Outcome`, as configuration keys.
OUTCOMES = (SAY, AUDIO, TRANSFER, HANGUP)


class AnnouncedTransfer(TransferConfig):
    """A transfer target with what to say before it (``announce``)."""

    announce: SpeakSetting | None = None


#: ``hangup``: true, or a farewell spoken before hanging up.
HangupSetting = Union[bool, str, SpeakConfig]  # noqa: UP007 - a runtime alias msgspec reads


class EndingKeys(ConfigModel):
    """An outcome that ends the call (an escalation): ``transfer`` or ``hangup``."""

    transfer: AnnouncedTransfer | UnsetType = UNSET
    hangup: HangupSetting | UnsetType = UNSET


class OutcomeKeys(EndingKeys):
    """An outcome: exactly one of ``say``, ``audio``, ``transfer``, ``hangup``.

    A model with further keys (a menu option's ``name``) extends it.
    """

    say: SpeakSetting | UnsetType = UNSET
    audio: ClipSetting | UnsetType = UNSET


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


def build_outcome(
    setting: EndingKeys,
    path: KeyPath,
    *,
    kinds: Collection[str] = OUTCOMES,
    voice: Voice = Voice(),
    root: str | os.PathLike[str] = ".",
    default_name: str | None = None,
) -> Outcome:
    """The :class:`Outcome` of the one kind ``setting`` sets.

    - ``say``: speak it; ``audio``: play the clip;
    - ``transfer``: transfer, after speaking ``announce`` if given
      (``default_name`` is the caller ID name when none is set);
    - ``hangup``: true, or a farewell to speak before hanging up.

    Speech before a transfer or hang-up sets no input timeout.
    """
    present = [kind for kind in kinds if getattr(setting, kind, UNSET) is not UNSET]
    if len(present) != 1:
        expected = " or ".join(f'"{kind}"' for kind in kinds)
        found = f" (found {', '.join(present)})" if present else ""
        raise path.error(f"needs exactly one of {expected}{found}")
    kind = present[0]
    here = path / kind
    value = getattr(setting, kind)
    if kind == SAY:
        return Outcome(SAY, voice.speak(value, here))
    if kind == AUDIO:
        return Outcome(AUDIO, build_clip(value, here, root=root))
    if kind == TRANSFER:
        target = build_transfer(value, here, default_name=default_name)
        if value.announce is None:
            return Outcome(TRANSFER, target)
        return Outcome(TRANSFER, voice.last_words.speak(value.announce, here / "announce"), (target,))
    if value is True:
        return Outcome(HANGUP, hangup())
    if value is False:
        raise here.error(f"expected true or a farewell to speak before hanging up, got {describe(value)}")
    return Outcome(HANGUP, voice.last_words.speak(value, here), (hangup(),))


def outcome_from_config(
    value: Any,
    path: KeyPath,
    *,
    kinds: Collection[str] = OUTCOMES,
    voice: Voice = Voice(),
    root: str | os.PathLike[str] = ".",
    extra_keys: Collection[str] = (),
) -> Outcome:
    """:func:`build_outcome` from a plain mapping with exactly one of ``kinds`` as a key.

    ``extra_keys`` are further keys the caller reads from the same mapping.
    """
    data = expect_mapping(value, path, allowed=(*kinds, *extra_keys))
    setting: OutcomeKeys = convert({kind: data[kind] for kind in kinds if kind in data}, OutcomeKeys, path)
    return build_outcome(setting, path, kinds=kinds, voice=voice, root=root)


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
