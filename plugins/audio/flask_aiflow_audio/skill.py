"""The audio skill's hooks, and :func:`clip` for other skills.

``play_on`` plays a clip on an event, once per call (a legal notice on
``session_start`` at priority 60 goes before the greeting at 50; the greeting
follows when the notice has ended). Other skills play clips by name::

    from flask_aiflow_audio import clip

    @hookimpl
    def aiflow_user_speak(event, call):
        if "music" in event.text:
            return clip("jingle")
"""

from __future__ import annotations

from flask import Flask, current_app

from flask_aiflow import INTENT, Audio, Call, Candidate
from flask_aiflow.protocol.events import (
    AssistantSpeechEnded,
    Event,
    SessionStart,
    UserInputTimeout,
    UserSpeak,
)
from flask_aiflow.skills.declare import Skill

from .config import CONFIG_KEY, AudioConfig, AudioSettings, PlayOn, build

#: Above ordinary intents (INTENT, 50): a clip configured for an event plays before them.
SKILL: Skill[AudioSettings] = Skill(
    "audio", priority=INTENT + 10, inline=True, config_key=CONFIG_KEY, model=AudioConfig, build=build
)
AIFLOW_NAME, AIFLOW_PRIORITY, AIFLOW_INLINE = SKILL.declaration
aiflow_startup = SKILL.startup

#: Where the built settings live: ``app.extensions["aiflow_audio"]``.
EXTENSION_KEY = SKILL.extension_key


class UnknownClipError(LookupError):
    """No clip of that name is configured (or the audio skill is not set up)."""


def get_settings(app: Flask) -> AudioSettings | None:
    """The app's audio settings, built on first use; None without ``AIFLOW_AUDIO``."""
    return SKILL.settings(app)


def clip(name: str) -> Audio:
    """The ready ``audio`` action of clip ``name``; needs an app (or request) context.

    The action is built once at start-up, so this costs a dictionary lookup.
    Only configured names work: nothing here ever opens a file.

    :raises UnknownClipError: for a name that is not configured.
    """
    settings = _settings(current_app._get_current_object())  # type: ignore[attr-defined]
    try:
        return settings.clips[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(settings.clips)) or "none"
        raise UnknownClipError(f"no audio clip named {name!r} (configured: {known})") from None


def clip_names(app: Flask | None = None) -> tuple[str, ...]:
    """The configured clip names, sorted; for other skills' start-up checks.

    Safe to call from another skill's ``aiflow_startup`` whatever the order
    the skills start in: the clips are loaded on first use.
    """
    if app is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    return tuple(sorted(_settings(app).clips))


def _settings(app: Flask) -> AudioSettings:
    settings = get_settings(app)
    if settings is None:
        raise UnknownClipError(f"no audio clips: {CONFIG_KEY} is not set on this app")
    return settings


@SKILL.hook
def aiflow_session_start(event: SessionStart, call: Call) -> Candidate | None:
    return _play_on(event, call)


@SKILL.hook
def aiflow_user_speak(event: UserSpeak, call: Call) -> Candidate | None:
    return _play_on(event, call)


@SKILL.hook
def aiflow_assistant_speech_ended(event: AssistantSpeechEnded, call: Call) -> Candidate | None:
    return _play_on(event, call)


@SKILL.hook
def aiflow_user_input_timeout(event: UserInputTimeout, call: Call) -> Candidate | None:
    return _play_on(event, call)


def _play_on(event: Event, call: Call) -> Candidate | None:
    """The clip configured for this event, unless it has already played on this call."""
    settings = SKILL.config
    entry: PlayOn | None = settings.play_on.get(event.type)
    if entry is None:
        return None
    played = call.state.setdefault("played", [])
    if event.type in played:
        return None
    played.append(event.type)  # kept only if the clip wins: a lost turn is retried next time
    return Candidate(settings.clips[entry.clip], priority=entry.priority, reason=f"play_on {event.type}: {entry.clip}")
