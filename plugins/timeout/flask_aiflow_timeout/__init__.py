"""flask-aiflow skill ``timeout``: escalating prompts on silence, configured by ``AIFLOW_TIMEOUT``.

The package is the skill: its entry point (``flask_aiflow.skills``: ``timeout``)
names this module, whose hook implementations come from :mod:`.skill`.
"""

from .config import CONFIG_KEY, TimeoutConfig, TimeoutSettings
from .skill import (
    AIFLOW_INLINE,
    AIFLOW_NAME,
    AIFLOW_PRIORITY,
    SKILL,
    aiflow_startup,
    aiflow_user_input_timeout,
    aiflow_user_speak,
    settings,
)

__all__ = [
    "AIFLOW_INLINE",
    "AIFLOW_NAME",
    "AIFLOW_PRIORITY",
    "CONFIG_KEY",
    "SKILL",
    "TimeoutConfig",
    "TimeoutSettings",
    "aiflow_startup",
    "aiflow_user_input_timeout",
    "aiflow_user_speak",
    "settings",
]
