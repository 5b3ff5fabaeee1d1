"""The built-in greeting skill: greets the caller when a call starts.

Configured by ``AIFLOW_GREETING`` (see :mod:`.config` and the README):
per called number, and by opening hours in a time zone, with an out-of-hours
message that may end in a hang-up.

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

from flask import Flask

from flask_aiflow import INTENT, Call, Candidate, hangup, hookimpl
from flask_aiflow.protocol.events import AssistantSpeechEnded, SessionStart, UserSpeak
from flask_aiflow.skills.config import AppSettings

from .config import CONFIG_KEY, GreetingSettings, LineGreeting, load_settings, system_clock

__all__ = [
    "AIFLOW_INLINE",
    "AIFLOW_NAME",
    "AIFLOW_PRIORITY",
    "CONFIG_KEY",
    "EXTENSION_KEY",
    "GreetingSettings",
    "LineGreeting",
    "aiflow_assistant_speech_ended",
    "aiflow_session_start",
    "aiflow_startup",
    "aiflow_user_speak",
    "system_clock",
]

#: The name used in AIFLOW_SKILLS etc., also when the module is registered directly.
AIFLOW_NAME = "greeting"

#: An ordinary intent: a notice (60) or a safety skill may go first.
AIFLOW_PRIORITY = INTENT

#: Quick, pure computation (no network, disk or locks): runs in the request
#: thread, without the hand-over to a worker that the time budget needs.
AIFLOW_INLINE = True

#: Where the parsed settings live: ``app.extensions["aiflow_greeting"]``.
EXTENSION_KEY = "aiflow_greeting"


def _load(app: Flask) -> GreetingSettings | None:
    settings = load_settings(app)
    if settings is None:
        app.logger.info("%s is not set: the greeting skill stays silent", CONFIG_KEY)
    return settings


#: This app's parsed settings (loaded on first use when registered after start-up).
SETTINGS: AppSettings[GreetingSettings | None] = AppSettings(EXTENSION_KEY, _load)


@hookimpl
def aiflow_startup(app: Flask) -> None:
    """Validate ``AIFLOW_GREETING`` once; without it the skill stays silent."""
    SETTINGS.load(app)


@hookimpl
def aiflow_session_start(event: SessionStart, call: Call) -> Any:
    return _greet(call, event.session.to_phone_number or event.session.phone_number)


@hookimpl
def aiflow_assistant_speech_ended(event: AssistantSpeechEnded, call: Call) -> Any:
    """Deliver a greeting that lost on ``session_start`` (e.g. to a notice)."""
    if call.state.get("greeted") or call.state.get("conversation_started"):
        return None
    settings = SETTINGS.get()
    if settings is None or not settings.deliver_late:
        return None
    return _greet(call, call.meta.get("to") or event.session.to_phone_number)


@hookimpl
def aiflow_user_speak(event: UserSpeak, call: Call) -> None:
    """The caller has spoken: a greeting not yet delivered is dropped, never spoken late."""
    if not call.state.get("greeted"):
        call.state["conversation_started"] = True


def _greet(call: Call, number: str | None) -> Candidate | None:
    settings = SETTINGS.get()
    if settings is None:
        return None
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
