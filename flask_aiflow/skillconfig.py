"""Reading a skill's configuration mapping, with errors that name the exact key.

A built-in skill reads one Flask config key holding a mapping (``AIFLOW_MENU``,
``AIFLOW_TIMEOUT``, ...) once, in ``aiflow_startup``, and turns it into frozen
objects. The helpers here check the usual parts of such a mapping (texts,
phrases, speech, transfers, audio clips, "what happens next") with the core's
action builders, and raise :class:`~flask_aiflow.SkillConfigError` naming the
key path, e.g.::

    AIFLOW_MENU["options"][2]["transfer"]["target"]: expected a phone number in E.164 format ...

so a wrong configuration fails at start-up, not on the first phone call.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .actions import (
    TTS,
    Action,
    Audio,
    BargeInConfig,
    InvalidActionError,
    Speak,
    Transfer,
    barge_in_from_dict,
    hangup,
    tts_from_dict,
)
from .candidates import Candidate
from .plugins import SkillConfigError

__all__ = [
    "KeyPath",
    "Outcome",
    "Voice",
    "audio_clip",
    "boolean",
    "integer",
    "mapping",
    "outcome",
    "phrases",
    "speech",
    "text",
    "transfer_to",
]


class KeyPath:
    """Where a value sits in the configuration: ``AIFLOW_MENU["options"][2]``."""

    __slots__ = ("_text",)

    def __init__(self, root: str) -> None:
        self._text = root

    def __getitem__(self, key: str | int) -> KeyPath:
        part = json.dumps(key, ensure_ascii=False) if isinstance(key, str) else str(key)
        return KeyPath(f"{self._text}[{part}]")

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"KeyPath({self._text!r})"

    def error(self, message: str) -> SkillConfigError:
        """The error to raise for a wrong value at this path."""
        return SkillConfigError(f"{self._text}: {message}")

    def action_error(self, exc: InvalidActionError, renames: Mapping[str, str] | None = None) -> SkillConfigError:
        """Re-raise a builder's error at this path (``barge_in.strategy`` -> ``["barge_in"]["strategy"]``)."""
        path = self
        if exc.field:
            parts = exc.field.split(".")
            parts[0] = (renames or {}).get(parts[0], parts[0])
            for part in parts:
                path = path[part]
        return path.error(exc.reason)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- plain values ---------------------------------------------------------------


def mapping(
    path: KeyPath,
    value: Any,
    *,
    allowed: Collection[str],
    required: Collection[str] = (),
) -> Mapping[str, Any]:
    """A mapping with only ``allowed`` keys (a typo gets a suggestion) and all ``required`` ones."""
    if not isinstance(value, Mapping):
        raise path.error(f"expected a mapping, got {_show(value)}")
    for key in value:
        if key not in allowed:
            if not isinstance(key, str):
                raise path.error(f"keys must be strings, got {_show(key)}")
            close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(sorted(allowed))}"
            raise path[key].error(f"unknown key ({hint})")
    for key in required:
        if key not in value:
            raise path[key].error("missing")
    return value


def text(path: KeyPath, value: Any) -> str:
    """A string with more than whitespace in it."""
    if not isinstance(value, str) or not value.strip():
        raise path.error(f"expected a non-empty string, got {_show(value)}")
    return value


def boolean(path: KeyPath, value: Any) -> bool:
    if not isinstance(value, bool):
        raise path.error(f"expected true or false, got {_show(value)}")
    return value


def integer(path: KeyPath, value: Any, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise path.error(f"expected an integer >= {minimum}, got {_show(value)}")
    return value


def phrases(path: KeyPath, value: Any, *, allow_empty: bool = False) -> tuple[str, ...]:
    """A list of phrases (a single string counts as a list of one)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise path.error(f"expected a list of phrases, got {_show(value)}")
    if not items and not allow_empty:
        raise path.error("expected at least one phrase")
    return tuple(text(path[index], item) for index, item in enumerate(items))


# -- speech ---------------------------------------------------------------------

_VOICE_KEYS = ("tts", "barge_in", "user_input_timeout_seconds")
_SPEECH_KEYS = ("text", "ssml", *_VOICE_KEYS)


def _seconds(path: KeyPath, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise path.error(f"expected a positive number of seconds, got {_show(value)}")
    return value


@dataclass(frozen=True, slots=True)
class Voice:
    """Defaults for the speech a skill makes: TTS voice, barge-in, input timeout.

    Read from the ``tts``, ``barge_in`` and ``user_input_timeout_seconds`` keys
    of a configuration mapping; a speech mapping may override each of them.
    """

    tts: TTS | None = None
    barge_in: BargeInConfig | None = None
    user_input_timeout_seconds: float | None = None

    def updated(self, path: KeyPath, config: Mapping[str, Any]) -> Voice:
        """These defaults, overridden by whichever voice keys ``config`` has."""
        tts, barge_in, timeout = self.tts, self.barge_in, self.user_input_timeout_seconds
        try:
            if config.get("tts") is not None:
                tts = tts_from_dict(config["tts"])
            if config.get("barge_in") is not None:
                barge_in = barge_in_from_dict(config["barge_in"])
        except InvalidActionError as exc:
            raise path.action_error(exc) from None
        if config.get("user_input_timeout_seconds") is not None:
            timeout = _seconds(path["user_input_timeout_seconds"], config["user_input_timeout_seconds"])
        return Voice(tts, barge_in, timeout)


def speech(path: KeyPath, value: Any, voice: Voice = Voice()) -> Speak:
    """A speak action from a string (its text) or a mapping.

    The mapping has ``text`` or ``ssml`` (exactly one) and may set ``tts``,
    ``barge_in`` and ``user_input_timeout_seconds``; unset ones come from
    ``voice``.
    """
    if isinstance(value, str):
        value = {"text": value}
    config = mapping(path, value, allowed=_SPEECH_KEYS)
    if ("text" in config) == ("ssml" in config):
        raise path.error('expected exactly one of "text" or "ssml"')
    if "text" in config:
        text(path["text"], config["text"])
    else:
        text(path["ssml"], config["ssml"])
    voice = voice.updated(path, config)
    try:
        return Speak(
            text=config.get("text"),
            ssml=config.get("ssml"),
            tts=voice.tts,
            barge_in=voice.barge_in,
            user_input_timeout_seconds=voice.user_input_timeout_seconds,
        )
    except InvalidActionError as exc:
        raise path.action_error(exc) from None


# -- transfer and audio -----------------------------------------------------------

_TRANSFER_FIELDS = {"target_phone_number": "target"}


def transfer_to(path: KeyPath, value: Any, *, extra: Collection[str] = ()) -> Transfer:
    """A transfer from ``{"target", "caller_id_name", "caller_id_number"}``.

    ``caller_id_number`` defaults to ``target``, as in the reference's example.

    :param extra: further keys the caller allows (and reads) in the same mapping.
    """
    config = mapping(
        path,
        value,
        allowed=("target", "caller_id_name", "caller_id_number", *extra),
        required=("target", "caller_id_name"),
    )
    try:
        return Transfer(
            target_phone_number=config["target"],
            caller_id_name=config["caller_id_name"],
            caller_id_number=config.get("caller_id_number", config["target"]),
        )
    except InvalidActionError as exc:
        raise path.action_error(exc, _TRANSFER_FIELDS) from None


def audio_clip(path: KeyPath, value: Any, *, root: str | os.PathLike[str] = ".") -> Audio:
    """An audio action from a WAV file path, or ``{"file" | "base64", "barge_in"}``.

    A relative file path is taken from ``root`` (the app's ``root_path``).
    The clip is checked now (16 kHz mono 16-bit PCM WAV) and encoded once.
    """
    if isinstance(value, str):
        value = {"file": value}
    config = mapping(path, value, allowed=("file", "base64", "barge_in"))
    if ("file" in config) == ("base64" in config):
        raise path.error('expected exactly one of "file" or "base64"')
    try:
        barge_in = barge_in_from_dict(config["barge_in"]) if config.get("barge_in") is not None else None
    except InvalidActionError as exc:
        raise path.action_error(exc) from None
    if "file" in config:
        file_path = os.path.join(root, text(path["file"], config["file"]))
        try:
            return Audio.from_file(file_path, barge_in=barge_in)
        except InvalidActionError as exc:
            raise path["file"].error(exc.reason) from None
    try:
        return Audio.from_base64(text(path["base64"], config["base64"]), barge_in=barge_in)
    except InvalidActionError as exc:
        raise path["base64"].error(exc.reason) from None


# -- what happens next --------------------------------------------------------------

SAY = "say"
AUDIO = "audio"
TRANSFER = "transfer"
HANGUP = "hangup"
OUTCOMES = (SAY, AUDIO, TRANSFER, HANGUP)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A configured reaction: an action, and follow-ups to run after it is spoken.

    ``kind`` is one of ``say``, ``audio``, ``transfer``, ``hangup``.
    """

    kind: str
    action: Action
    then: tuple[Action, ...] = ()

    @property
    def ends_call(self) -> bool:
        return self.kind in (TRANSFER, HANGUP)

    def candidate(self, *, priority: int | None = None, reason: str = "", then: tuple[Action, ...] = ()) -> Candidate:
        """Propose it; ``then`` adds follow-ups after the configured ones."""
        return Candidate(self.action, priority=priority, reason=reason, then=(*self.then, *then))


def outcome(
    path: KeyPath,
    value: Any,
    *,
    kinds: Collection[str] = OUTCOMES,
    voice: Voice = Voice(),
    root: str | os.PathLike[str] = ".",
    extra: Collection[str] = (),
) -> Outcome:
    """An :class:`Outcome` from a mapping with exactly one of the ``kinds`` as key.

    - ``{"say": <speech>}``: speak it (see :func:`speech`);
    - ``{"audio": <clip>}``: play it (see :func:`audio_clip`);
    - ``{"transfer": {"target", "caller_id_name", "caller_id_number"?, "announce"?}}``:
      transfer, after speaking ``announce`` if given;
    - ``{"hangup": true | <speech>}``: hang up, after speaking the farewell if one is given.

    :param extra: further keys the caller allows (and reads) in the same mapping.
    """
    config = mapping(path, value, allowed=(*kinds, *extra))
    present = [kind for kind in kinds if kind in config]
    if len(present) != 1:
        expected = " or ".join(f'"{kind}"' for kind in kinds)
        found = f" (found {', '.join(present)})" if present else ""
        raise path.error(f"expected exactly one of {expected}{found}")
    kind = present[0]
    here = path[kind]
    spec = config[kind]
    # Speech that ends the call must not arm an input timeout of its own.
    last_words = Voice(voice.tts, voice.barge_in)
    if kind == SAY:
        return Outcome(SAY, speech(here, spec, voice))
    if kind == AUDIO:
        return Outcome(AUDIO, audio_clip(here, spec, root=root))
    if kind == TRANSFER:
        target = transfer_to(here, spec, extra=("announce",))
        if spec.get("announce") is None:
            return Outcome(TRANSFER, target)
        return Outcome(TRANSFER, speech(here["announce"], spec["announce"], last_words), (target,))
    if spec is True:
        return Outcome(HANGUP, hangup())
    if spec is False or spec is None:
        raise here.error("expected true or a farewell to speak before hanging up, got " + _show(spec))
    return Outcome(HANGUP, speech(here, spec, last_words), (hangup(),))
