"""``AIFLOW_AUDIO``: the clip folder, the clips, and the events that play them.

Parsed once per app (at start-up, or earlier when another skill asks for the
clips first); every clip is read, checked and base64-encoded into a ready
:class:`~flask_aiflow.protocol.actions.Audio` action then, never again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flask import Flask

from flask_aiflow.protocol.actions import Audio, BargeInConfig, InvalidActionError
from flask_aiflow.skills.config import (
    AppSettings,
    KeyPath,
    barge_in_option,
    expect_mapping,
    expect_int,
    expect_priority,
    expect_str,
)

from .files import DEFAULT_MAX_BYTES, check_format, read_clip, resolve_folder, resolve_in_folder

__all__ = ["CONFIG_KEY", "EXTENSION_KEY", "PLAY_ON_EVENTS", "AudioSettings", "PlayOn", "get_settings"]

CONFIG_KEY = "AIFLOW_AUDIO"

#: Where the parsed settings live: ``app.extensions["aiflow_audio"]``.
EXTENSION_KEY = "aiflow_audio"

#: Events a clip can be played on (``assistant_speak`` would cut the speech
#: short, and ``session_end`` takes no action).
PLAY_ON_EVENTS = ("session_start", "user_speak", "assistant_speech_ended", "user_input_timeout")

TOP_KEYS = ("folder", "clips", "play_on", "max_clip_bytes")
CLIP_KEYS = ("file", "barge_in")
PLAY_KEYS = ("clip", "priority")


@dataclass(frozen=True, slots=True)
class PlayOn:
    """Play ``clip`` on an event, once per call, at ``priority`` (None: the skill's)."""

    clip: str
    priority: int | None = None


@dataclass(frozen=True, slots=True)
class AudioSettings:
    """The parsed ``AIFLOW_AUDIO`` of one app: ready actions by clip name."""

    clips: Mapping[str, Audio]
    play_on: Mapping[str, PlayOn]


def get_settings(app: Flask) -> AudioSettings | None:
    """The app's audio settings, parsed on first use; None without ``AIFLOW_AUDIO``."""
    return SETTINGS.get(app)


def _load(app: Flask) -> AudioSettings | None:
    value = app.config.get(CONFIG_KEY)
    if value is None:
        return None
    root = KeyPath(CONFIG_KEY)
    top = expect_mapping(value, root, allowed=TOP_KEYS, required=("folder", "clips"))
    folder = resolve_folder(expect_str(top["folder"], root / "folder"), app.root_path, root / "folder")
    max_bytes = DEFAULT_MAX_BYTES
    if "max_clip_bytes" in top:
        max_bytes = expect_int(top["max_clip_bytes"], root / "max_clip_bytes", minimum=1)
    aiflow = app.extensions.get("aiflow")
    default_barge_in = aiflow.settings.default_barge_in if aiflow is not None else None
    clips_path = root / "clips"
    clips = {
        name: _clip(spec, clips_path / name, folder, max_bytes, default_barge_in)
        for name, spec in expect_mapping(top["clips"], clips_path).items()
    }
    play_on = {}
    play_path = root / "play_on"
    for event_type, spec in expect_mapping(top.get("play_on", {}), play_path, allowed=PLAY_ON_EVENTS).items():
        play_on[event_type] = _play_on(spec, play_path / event_type, clips)
    return AudioSettings(clips=MappingProxyType(clips), play_on=MappingProxyType(play_on))


#: This app's parsed settings (see :func:`get_settings`).
SETTINGS: AppSettings[AudioSettings | None] = AppSettings(EXTENSION_KEY, _load)


def _clip(spec: Any, path: KeyPath, folder: Any, max_bytes: int, barge_in: BargeInConfig | None) -> Audio:
    if isinstance(spec, str):
        spec = {"file": spec}
    data = expect_mapping(spec, path, allowed=CLIP_KEYS, required=("file",))
    name = expect_str(data["file"], path / "file")
    if "barge_in" in data:
        barge_in = barge_in_option(data["barge_in"], path / "barge_in")
    real = resolve_in_folder(folder, name, path)
    wav = read_clip(real, name, path, max_bytes)
    check_format(wav, name, path)
    try:
        return Audio.from_wav(wav, barge_in=barge_in)
    except InvalidActionError as exc:  # not expected after check_format; kept for a clear message
        raise path.action_error(exc) from None


def _play_on(spec: Any, path: KeyPath, clips: Mapping[str, Audio]) -> PlayOn:
    short = isinstance(spec, str)
    data = expect_mapping({"clip": spec} if short else spec, path, allowed=PLAY_KEYS, required=("clip",))
    where = path if short else path / "clip"
    name = expect_str(data["clip"], where)
    if name not in clips:
        known = ", ".join(sorted(clips)) or "none"
        raise where.error(f"no clip named {name!r} in {KeyPath(CONFIG_KEY) / 'clips'} (configured: {known})")
    priority = expect_priority(data["priority"], path / "priority") if "priority" in data else None
    return PlayOn(clip=name, priority=priority)
