"""The built-in greeting skill: greets the caller when a call starts.

Configured by ``AIFLOW_GREETING`` (see :mod:`.config` and the README):
per called number, and by opening hours in a time zone, with an out-of-hours
message that may end in a hang-up. The package is the skill: its entry point
names this module, whose hook implementations come from :mod:`.skill`.
"""

from .config import CONFIG_KEY, GreetingConfig, GreetingSettings, LineGreeting, system_clock
from .skill import (
    AIFLOW_INLINE,
    AIFLOW_NAME,
    AIFLOW_PRIORITY,
    EXTENSION_KEY,
    SKILL,
    aiflow_assistant_speech_ended,
    aiflow_session_start,
    aiflow_startup,
    aiflow_user_speak,
)

__all__ = [
    "AIFLOW_INLINE",
    "AIFLOW_NAME",
    "AIFLOW_PRIORITY",
    "CONFIG_KEY",
    "EXTENSION_KEY",
    "SKILL",
    "GreetingConfig",
    "GreetingSettings",
    "LineGreeting",
    "aiflow_assistant_speech_ended",
    "aiflow_session_start",
    "aiflow_startup",
    "aiflow_user_speak",
    "system_clock",
]
