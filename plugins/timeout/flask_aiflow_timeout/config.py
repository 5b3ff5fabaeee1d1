"""``AIFLOW_TIMEOUT``: the escalation ladder, checked once at start-up.

Defaults follow the reference's example strategy ("Best Practices" -> "User
Input Timeout Handling"): a gentle reminder, a clearer instruction that says
how to reach a person, then an escalation (a goodbye and a hang-up unless a
transfer to an agent is configured; a transfer's ``caller_id_name`` and
``caller_id_number`` default to its target).
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from flask import Flask

from flask_aiflow import Speak
from flask_aiflow.skills.config import EndingKeys, KeyPath, Outcome, Voice, build_outcome
from flask_aiflow.skills.models import Seconds, SpeakConfig, SpeakSetting, UnsetType, VoiceKeys

__all__ = ["CONFIG_KEY", "TimeoutConfig", "TimeoutSettings", "build"]

CONFIG_KEY = "AIFLOW_TIMEOUT"
PATH = KeyPath(CONFIG_KEY)

DEFAULT_PROMPTS: tuple[SpeakConfig, ...] = (
    SpeakConfig(text="Are you still there?", user_input_timeout_seconds=8),
    SpeakConfig(text="Please speak now or say 'agent' to talk to a person.", user_input_timeout_seconds=10),
)


def _default_escalation() -> EndingKeys:
    return EndingKeys(hangup="I still can't hear you, so I'll end the call now. Goodbye!")


class TimeoutConfig(VoiceKeys):
    """The ``AIFLOW_TIMEOUT`` mapping; ``tts``, ``barge_in`` and the timeout are the prompts' defaults."""

    #: Prompt n answers silence n.
    prompts: tuple[SpeakSetting, ...] = DEFAULT_PROMPTS
    #: After the last prompt: ``transfer`` or ``hangup``.
    escalation: EndingKeys = msgspec.field(default_factory=_default_escalation)
    #: Re-arms the timeout for prompts that do not set their own.
    user_input_timeout_seconds: Seconds | None = 8


@dataclass(frozen=True, slots=True)
class TimeoutSettings:
    """The built ``AIFLOW_TIMEOUT``: prompt n answers timeout n, then the escalation."""

    prompts: tuple[Speak, ...]
    escalation: Outcome


def build(config: TimeoutConfig, app: Flask) -> TimeoutSettings:
    """The prompts and the escalation as ready actions, with the app's speech defaults below the skill's."""
    voice = Voice.of_app(app).updated(config, PATH)
    escalation = config.escalation
    target = None if isinstance(escalation.transfer, UnsetType) else escalation.transfer.target
    return TimeoutSettings(
        prompts=tuple(voice.speak(prompt, PATH / "prompts" / index) for index, prompt in enumerate(config.prompts)),
        escalation=build_outcome(
            escalation, PATH / "escalation", kinds=("transfer", "hangup"), voice=voice, default_name=target
        ),
    )
