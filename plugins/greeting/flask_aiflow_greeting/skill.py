"""The greeting's hooks: greet the caller when a call starts.

If another skill outranks the greeting on ``session_start`` (an audio notice
at priority 60, say), the greeting's state change is discarded with its lost
proposal, so it is still undelivered; it proposes itself again on the next
``assistant_speech_ended`` and so follows the notice. Once the caller has
spoken it no longer does: a greeting after the conversation has begun would
interrupt it. ``"deliver_late": False`` turns this off, for apps where
another skill's opening (a menu prompt) replaces the greeting.
"""

from __future__ import annotations

from typing import Any

from flask_aiflow import INTENT, Call, Candidate, hangup, hookimpl
from flask_aiflow.protocol.events import AssistantSpeechEnded, SessionStart, UserSpeak
from flask_aiflow.skills.declare import Skill

from .config import CONFIG_KEY, GreetingConfig, GreetingSettings, LineGreeting, build

#: An ordinary intent: a notice (INTENT + 10) or a safety skill may go first.
SKILL: Skill[GreetingSettings] = Skill(
    "greeting", priority=INTENT, inline=True, config_key=CONFIG_KEY, model=GreetingConfig, build=build
)
AIFLOW_NAME, AIFLOW_PRIORITY, AIFLOW_INLINE = SKILL.declaration
aiflow_startup = SKILL.startup

#: Where the built settings live: ``app.extensions["aiflow_greeting"]``.
EXTENSION_KEY = SKILL.extension_key


@SKILL.hook
def aiflow_session_start(event: SessionStart, call: Call) -> Any:
    return _greet(call, event.session.to_phone_number or event.session.phone_number)


@SKILL.hook
def aiflow_assistant_speech_ended(event: AssistantSpeechEnded, call: Call) -> Any:
    """Deliver a greeting that lost on ``session_start`` (e.g. to a notice)."""
    if call.state.get("greeted") or call.state.get("conversation_started") or not SKILL.config.deliver_late:
        return None
    return _greet(call, call.meta.get("to") or event.session.to_phone_number)


@hookimpl
def aiflow_user_speak(event: UserSpeak, call: Call) -> None:
    """The caller has spoken: a greeting not yet delivered is dropped, never spoken late."""
    if not call.state.get("greeted"):
        call.state["conversation_started"] = True


def _greet(call: Call, number: str | None) -> Candidate | None:
    settings = SKILL.config
    line: LineGreeting = settings.for_number(number)
    if line.hours is not None and not line.hours.is_open(settings.clock()):
        call.state["greeted"] = True
        assert line.closed is not None  # the config guarantees a message with hours
        then = [hangup()] if line.then_hangup else []
        return Candidate(line.closed, reason=f"out of hours ({number or 'any line'})", then=then)
    if line.greeting is None:
        return None
    call.state["greeted"] = True
    return Candidate(line.greeting, reason=f"greeting ({number or 'any line'})")
