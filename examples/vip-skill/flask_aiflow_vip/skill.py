"""The VIP skill's hook: a VIP caller is transferred as the call starts."""

from __future__ import annotations

from typing import Any

from flask_aiflow import SAFETY, Call, Candidate, SessionStart
from flask_aiflow.skills.declare import Skill

from .config import CONFIG_KEY, VipConfig, VipSettings, build

#: SAFETY (100): above the greeting (INTENT, 50) and anything else below 100.
SKILL: Skill[VipSettings] = Skill(
    "vip", priority=SAFETY, inline=True, config_key=CONFIG_KEY, model=VipConfig, build=build
)
AIFLOW_NAME, AIFLOW_PRIORITY, AIFLOW_INLINE = SKILL.declaration
aiflow_startup = SKILL.startup


@SKILL.hook  # without AIFLOW_VIP the skill does nothing
def aiflow_session_start(event: SessionStart, call: Call) -> Any:
    settings = SKILL.config
    if event.session.from_phone_number not in settings.numbers:
        return None
    return Candidate(settings.transfer, reason="VIP caller")
