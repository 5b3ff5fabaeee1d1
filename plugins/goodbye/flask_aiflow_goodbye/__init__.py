"""The built-in goodbye skill: the caller says farewell, the app says it back and hangs up.

On ``user_speak`` it looks for a farewell in English or German (whole
words: "bye" never matches "maybe"; see :mod:`.phrases`) and proposes the
configured farewell at priority 90 with a hang-up as its follow-up: the
dispatcher sends the hang-up on the ``assistant_speech_ended`` that follows
the farewell, so the call neither ends mid-sentence nor hangs in silence.
90 is above a menu holding the floor (80) and below safety skills (100+).

Configured by ``AIFLOW_GOODBYE`` (optional; see :mod:`.config` and the README).
"""

from __future__ import annotations

from flask import Flask

from flask_aiflow import Call, Candidate, hangup, hookimpl
from flask_aiflow.protocol.events import UserSpeak
from flask_aiflow.skills.config import AppSettings

from .config import CONFIG_KEY, DEFAULT_FAREWELL, GoodbyeSettings, load_settings
from .phrases import DEFAULT_END_PHRASES, DEFAULT_MAX_WORDS, DEFAULT_PHRASES, FarewellMatcher

__all__ = [
    "AIFLOW_INLINE",
    "AIFLOW_NAME",
    "AIFLOW_PRIORITY",
    "CONFIG_KEY",
    "DEFAULT_END_PHRASES",
    "DEFAULT_FAREWELL",
    "DEFAULT_MAX_WORDS",
    "DEFAULT_PHRASES",
    "EXTENSION_KEY",
    "FarewellMatcher",
    "GoodbyeSettings",
    "aiflow_startup",
    "aiflow_user_speak",
]

#: The name used in AIFLOW_SKILLS etc., also when the module is registered directly.
AIFLOW_NAME = "goodbye"

#: Above a menu holding the floor (80), below SAFETY (100).
AIFLOW_PRIORITY = 90

#: Quick, pure computation (no network, disk or locks): runs in the request
#: thread, without the hand-over to a worker that the time budget needs.
AIFLOW_INLINE = True

#: Where the parsed settings live: ``app.extensions["aiflow_goodbye"]``.
EXTENSION_KEY = "aiflow_goodbye"

#: This app's parsed settings (loaded on first use when registered after start-up).
SETTINGS: AppSettings[GoodbyeSettings] = AppSettings(EXTENSION_KEY, load_settings)


@hookimpl
def aiflow_startup(app: Flask) -> None:
    """Validate ``AIFLOW_GOODBYE`` once (every key has a default)."""
    SETTINGS.load(app)


@hookimpl
def aiflow_user_speak(event: UserSpeak, call: Call) -> Candidate | None:
    settings = SETTINGS.get()
    phrase = settings.matcher.find(event.text)
    if phrase is None:
        return None
    farewell = settings.farewell_for(call.meta.get("to") or event.session.to_phone_number)
    return Candidate(farewell, reason=f"farewell {phrase!r}", then=[hangup()])
