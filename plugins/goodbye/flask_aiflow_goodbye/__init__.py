"""The built-in goodbye skill: the caller says farewell, the app says it back and hangs up.

On ``user_speak`` it looks for a farewell in English or German (whole
words: "bye" never matches "maybe"; see :mod:`.phrases`) and proposes the
configured farewell at priority 90 (``FLOOR + 10``) with a hang-up as its
follow-up. 90 is above a menu holding the floor (80) and below safety
skills (100+).

Configured by ``AIFLOW_GOODBYE`` (optional; see :mod:`.config` and the README).
The package is the skill: its entry point names this module, whose hook
implementations come from :mod:`.skill`.
"""

from .config import CONFIG_KEY, DEFAULT_FAREWELL, GoodbyeConfig, GoodbyeSettings
from .phrases import DEFAULT_END_PHRASES, DEFAULT_MAX_WORDS, DEFAULT_PHRASES, FarewellMatcher
from .skill import AIFLOW_INLINE, AIFLOW_NAME, AIFLOW_PRIORITY, SKILL, aiflow_startup, aiflow_user_speak

__all__ = [
    "AIFLOW_INLINE",
    "AIFLOW_NAME",
    "AIFLOW_PRIORITY",
    "CONFIG_KEY",
    "DEFAULT_END_PHRASES",
    "DEFAULT_FAREWELL",
    "DEFAULT_MAX_WORDS",
    "DEFAULT_PHRASES",
    "SKILL",
    "FarewellMatcher",
    "GoodbyeConfig",
    "GoodbyeSettings",
    "aiflow_startup",
    "aiflow_user_speak",
]
