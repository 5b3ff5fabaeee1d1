"""``AIFLOW_AUDIO``: the clip folder, the clips, and the events that play them.

Built once per app (at start-up, or earlier when another skill asks for the
clips first); every clip is read, checked and base64-encoded into a ready
:class:`~flask_aiflow.protocol.actions.Audio` action then, never again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Union

import msgspec
from flask import Flask
from msgspec import Meta

from flask_aiflow.protocol.actions import Audio, BargeInConfig, InvalidActionError
from flask_aiflow.skills.config import KeyPath, Voice, barge_in_option, expect_str
from flask_aiflow.skills.models import UNSET, ConfigModel, NonEmptyStr, Priority, UnsetType

from .files import DEFAULT_MAX_BYTES, check_format, read_clip, resolve_folder, resolve_in_folder

__all__ = ["CONFIG_KEY", "PLAY_ON_EVENTS", "AudioConfig", "AudioSettings", "PlayOn", "build"]

CONFIG_KEY = "AIFLOW_AUDIO"
PATH = KeyPath(CONFIG_KEY)


class ClipFile(ConfigModel):
    """A clip: its ``file`` in the clip folder, and its own ``barge_in``."""

    file: str
    barge_in: dict[str, Any] | None | UnsetType = UNSET


class PlayOnConfig(ConfigModel):
    """Play ``clip`` on an event, once per call, at ``priority`` (default: the skill's)."""

    clip: NonEmptyStr
    priority: Priority | UnsetType = UNSET


#: A clip's file name, or a mapping.
ClipSetting = Union[str, ClipFile]  # noqa: UP007 - a runtime alias msgspec reads
#: A clip's name, or a mapping.
PlayOnSetting = Union[NonEmptyStr, PlayOnConfig]  # noqa: UP007 - a runtime alias msgspec reads


class PlayOnEvents(ConfigModel):
    """The events a clip can be played on (``assistant_speak`` would cut the speech
    short, and ``session_end`` takes no action)."""

    session_start: PlayOnSetting | UnsetType = UNSET
    user_speak: PlayOnSetting | UnsetType = UNSET
    assistant_speech_ended: PlayOnSetting | UnsetType = UNSET
    user_input_timeout: PlayOnSetting | UnsetType = UNSET


#: Events a clip can be played on.
PLAY_ON_EVENTS = tuple(PlayOnEvents.__struct_fields__)


class AudioConfig(ConfigModel):
    """The ``AIFLOW_AUDIO`` mapping."""

    #: The clip folder; a relative one is taken from the app's root.
    folder: NonEmptyStr
    #: Clip name -> file in the folder (or ``{"file", "barge_in"}``).
    clips: dict[str, ClipSetting]
    play_on: PlayOnEvents = msgspec.field(default_factory=PlayOnEvents)
    #: The largest clip file accepted.
    max_clip_bytes: Annotated[int, Meta(ge=1)] = DEFAULT_MAX_BYTES


@dataclass(frozen=True, slots=True)
class PlayOn:
    """Play ``clip`` on an event, once per call, at ``priority`` (None: the skill's)."""

    clip: str
    priority: int | None = None


@dataclass(frozen=True, slots=True)
class AudioSettings:
    """The built ``AIFLOW_AUDIO`` of one app: ready actions by clip name."""

    clips: Mapping[str, Audio]
    play_on: Mapping[str, PlayOn]


def build(config: AudioConfig, app: Flask) -> AudioSettings:
    """Read, check and encode every clip; check that ``play_on`` names configured clips."""
    folder = resolve_folder(config.folder, app.root_path, PATH / "folder")
    default_barge_in = Voice.of_app(app).barge_in
    clips = {
        name: _clip(spec, PATH / "clips" / name, folder, config.max_clip_bytes, default_barge_in)
        for name, spec in config.clips.items()
    }
    play_on = {}
    for event_type in PLAY_ON_EVENTS:
        spec = getattr(config.play_on, event_type)
        if spec is not UNSET:
            play_on[event_type] = _play_on(spec, PATH / "play_on" / event_type, clips)
    return AudioSettings(clips=MappingProxyType(clips), play_on=MappingProxyType(play_on))


def _clip(spec: str | ClipFile, path: KeyPath, folder: Path, max_bytes: int, barge_in: BargeInConfig | None) -> Audio:
    if isinstance(spec, str):
        spec = ClipFile(file=spec)
    name = expect_str(spec.file, path / "file")
    if spec.barge_in is not UNSET:
        barge_in = barge_in_option(spec.barge_in, path / "barge_in")
    real = resolve_in_folder(folder, name, path)
    wav = read_clip(real, name, path, max_bytes)
    check_format(wav, name, path)
    try:
        return Audio.from_wav(wav, barge_in=barge_in)
    except InvalidActionError as exc:  # not expected after check_format; kept for a clear message
        raise path.action_error(exc) from None


def _play_on(spec: str | PlayOnConfig, path: KeyPath, clips: Mapping[str, Audio]) -> PlayOn:
    where = path
    if isinstance(spec, str):
        spec = PlayOnConfig(clip=spec)
    else:
        where = path / "clip"
    if spec.clip not in clips:
        known = ", ".join(sorted(clips)) or "none"
        raise where.error(f"no clip named {spec.clip!r} in {PATH / 'clips'} (configured: {known})")
    return PlayOn(clip=spec.clip, priority=None if spec.priority is UNSET else spec.priority)
