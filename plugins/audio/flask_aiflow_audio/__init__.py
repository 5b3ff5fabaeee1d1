"""The built-in audio skill: named WAV clips, played on events or by other skills.

Configured by ``AIFLOW_AUDIO`` (see :mod:`.config` and the README). Every
clip is read from the clip folder, checked (16 kHz mono 16-bit PCM WAV) and
encoded once, at start-up. The package is the skill: its entry point names
this module, whose hook implementations come from :mod:`.skill`.
"""

from .config import CONFIG_KEY, PLAY_ON_EVENTS, AudioConfig, AudioSettings, PlayOn
from .skill import (
    AIFLOW_INLINE,
    AIFLOW_NAME,
    AIFLOW_PRIORITY,
    EXTENSION_KEY,
    SKILL,
    UnknownClipError,
    aiflow_assistant_speech_ended,
    aiflow_session_start,
    aiflow_startup,
    aiflow_user_input_timeout,
    aiflow_user_speak,
    clip,
    clip_names,
    get_settings,
)

__all__ = [
    "AIFLOW_INLINE",
    "AIFLOW_NAME",
    "AIFLOW_PRIORITY",
    "CONFIG_KEY",
    "EXTENSION_KEY",
    "PLAY_ON_EVENTS",
    "SKILL",
    "AudioConfig",
    "AudioSettings",
    "PlayOn",
    "UnknownClipError",
    "aiflow_assistant_speech_ended",
    "aiflow_session_start",
    "aiflow_startup",
    "aiflow_user_input_timeout",
    "aiflow_user_speak",
    "clip",
    "clip_names",
    "get_settings",
]
