"""The timeout skill's hooks: count the caller's silences, escalate step by step.

The count lives in this skill's call state (``{"count": n}``): it grows with
each ``user_input_timeout`` this skill answers and is cleared whenever the
caller speaks (an observer that proposes nothing, so the change is kept).
Every prompt sets ``user_input_timeout_seconds``, so the next silence is
reported too.
"""

from __future__ import annotations

from typing import Any

from flask_aiflow import INTENT, Call, Candidate, UserInputTimeout, hookimpl
from flask_aiflow.skills.declare import Skill

from .config import CONFIG_KEY, TimeoutConfig, TimeoutSettings, build

#: Works without configuration (every key has a default).
SKILL: Skill[TimeoutSettings] = Skill(
    "timeout",
    priority=INTENT,
    inline=True,
    config_key=CONFIG_KEY,
    model=TimeoutConfig,
    build=build,
    needs_config=False,
)
AIFLOW_NAME, AIFLOW_PRIORITY, AIFLOW_INLINE = SKILL.declaration
aiflow_startup = SKILL.startup

#: ``settings(app=None)``: the built ``AIFLOW_TIMEOUT`` of ``app`` (default: the current app).
settings = SKILL.settings


@SKILL.hook
def aiflow_user_input_timeout(event: UserInputTimeout, call: Call) -> Any:
    config = SKILL.config
    count = int(call.state.get("count", 0)) + 1
    call.state["count"] = count
    steps = len(config.prompts)
    if count <= steps:
        return Candidate(config.prompts[count - 1], reason=f"timeout: silence {count}, prompt {count} of {steps}")
    return config.escalation.candidate(reason=f"timeout: silence {count}, escalation")


@hookimpl
def aiflow_user_speak(call: Call) -> None:
    """The caller spoke: the next silence counts from one again."""
    call.state.clear()
