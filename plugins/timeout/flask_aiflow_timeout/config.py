"""``AIFLOW_TIMEOUT``: the escalation ladder, parsed once at start-up.

Defaults follow the reference's example strategy ("Best Practices" -> "User
Input Timeout Handling"): a gentle reminder, a clearer instruction that says
how to reach a person, then an escalation (a goodbye and a hang-up unless a
transfer to an agent is configured).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_aiflow import Speak
from flask_aiflow.skills.config import HANGUP, TRANSFER, KeyPath, Outcome, Voice, expect_mapping, outcome_from_config

KEY = "AIFLOW_TIMEOUT"

DEFAULTS: dict[str, Any] = {
    "prompts": [
        {"text": "Are you still there?", "user_input_timeout_seconds": 8},
        {"text": "Please speak now or say 'agent' to talk to a person.", "user_input_timeout_seconds": 10},
    ],
    "escalation": {"hangup": "I still can't hear you, so I'll end the call now. Goodbye!"},
    # Re-arms the timeout for prompts that do not set their own.
    "user_input_timeout_seconds": 8,
    "tts": None,
    "barge_in": None,
}


@dataclass(frozen=True, slots=True)
class TimeoutConfig:
    """The validated ``AIFLOW_TIMEOUT``: prompt n answers timeout n, then the escalation."""

    prompts: tuple[Speak, ...]
    escalation: Outcome


def load(value: Any, *, voice: Voice = Voice()) -> TimeoutConfig:
    """Parse ``AIFLOW_TIMEOUT`` (None or missing keys take the defaults).

    :param voice: the speech defaults below the skill's own (the app's defaults).
    """
    path = KeyPath(KEY)
    given: Mapping[str, Any] = expect_mapping({} if value is None else value, path, allowed=tuple(DEFAULTS))
    config = {**DEFAULTS, **given}
    voice = voice.updated(config, path)
    prompts = config["prompts"]
    if isinstance(prompts, str) or not isinstance(prompts, list | tuple):
        raise (path / "prompts").error(f"expected a list of prompts, got {prompts!r}")
    return TimeoutConfig(
        prompts=tuple(voice.speak(prompt, path / "prompts" / index) for index, prompt in enumerate(prompts)),
        escalation=outcome_from_config(
            config["escalation"], path / "escalation", kinds=(TRANSFER, HANGUP), voice=voice
        ),
    )
