"""flask-aiflow skill ``menu``: a spoken menu tree, configured by ``AIFLOW_MENU``.

The package is the skill: its entry point (``flask_aiflow.skills``: ``menu``)
names this module, whose hook implementations come from :mod:`.skill`.
"""

from .config import CONFIG_KEY, MenuConfig, MenuModel
from .skill import (
    AIFLOW_INLINE,
    AIFLOW_NAME,
    AIFLOW_PRIORITY,
    SKILL,
    aiflow_session_start,
    aiflow_startup,
    aiflow_user_speak,
    settings,
)

__all__ = [
    "AIFLOW_INLINE",
    "AIFLOW_NAME",
    "AIFLOW_PRIORITY",
    "CONFIG_KEY",
    "SKILL",
    "MenuConfig",
    "MenuModel",
    "aiflow_session_start",
    "aiflow_startup",
    "aiflow_user_speak",
    "settings",
]
