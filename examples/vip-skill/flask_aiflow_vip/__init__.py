"""VIP callers go straight to a person: an example third-party flask-aiflow skill.

Configure it with one mapping::

    AIFLOW_VIP = {
        "numbers": ["+4917012345678"],      # callers (from_phone_number) to put through
        "transfer": {"target": "+4921155555555", "caller_id_name": "VIP line"},
    }

It proposes the transfer on ``session_start`` at priority 100 (SAFETY), so it
outranks the greeting (50) and anything else below 100. An app that wants the
greeting first re-weights it: ``AIFLOW_SKILL_PRIORITIES = {"vip": 10}``.

The layout is the built-in skills': ``skill.py`` declares the skill and holds
its hooks, ``config.py`` its configuration model; this module re-exports them
for the entry point.
"""

from .config import CONFIG_KEY, VipConfig, VipSettings
from .skill import AIFLOW_INLINE, AIFLOW_NAME, AIFLOW_PRIORITY, SKILL, aiflow_session_start, aiflow_startup

__all__ = [
    "AIFLOW_INLINE",
    "AIFLOW_NAME",
    "AIFLOW_PRIORITY",
    "CONFIG_KEY",
    "SKILL",
    "VipConfig",
    "VipSettings",
    "aiflow_session_start",
    "aiflow_startup",
]
