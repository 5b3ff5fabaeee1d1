"""The timeout skill's hooks: count the caller's silences, escalate step by step.

The count lives in this skill's call state (``{"count": n}``): it grows with
each ``user_input_timeout`` this skill answers and is cleared whenever the
caller speaks (an observer that proposes nothing, so the change is kept).
Every prompt sets ``user_input_timeout_seconds``, so the next silence is
reported too.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from flask_aiflow import Call, Candidate, UserInputTimeout, hookimpl
from flask_aiflow.skills.config import AppSettings, Voice

from . import config as timeout_config
from .config import TimeoutConfig

AIFLOW_NAME = "timeout"
AIFLOW_PRIORITY = 50
#: Quick, pure computation (no network, disk or locks): runs in the request
#: thread, without the hand-over to a worker that the time budget needs.
AIFLOW_INLINE = True

#: Where the parsed configuration lives, per app.
EXTENSION_KEY = "aiflow_timeout"

#: The parsed configuration, once per app.
SETTINGS: AppSettings[TimeoutConfig] = AppSettings(
    EXTENSION_KEY, lambda app: timeout_config.load(app.config.get(timeout_config.KEY), voice=Voice.of_app(app))
)


#: ``settings(app=None)``: the parsed ``AIFLOW_TIMEOUT`` of ``app`` (default: the
#: current app), parsed on first use when the skill was registered after start-up.
settings = SETTINGS.get


@hookimpl
def aiflow_startup(app: Flask) -> None:
    SETTINGS.load(app)


@hookimpl
def aiflow_user_input_timeout(event: UserInputTimeout, call: Call) -> Any:
    config = settings()
    if config is None:
        return None
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
