"""flask-aiflow: a Flask extension for sipgate AI Flow voice assistants.

This module exports what app owners (the extension, ``send``, live calls,
the decision record) and skill authors (``hookimpl``, the call, candidates
and priority bands, actions and events) use. Stores live in
:mod:`flask_aiflow.calls`, the call simulator in :mod:`flask_aiflow.testing`,
the ``flask aiflow`` commands in :mod:`flask_aiflow.cli`.
"""

from flask_aiflow.calls.call import Call, Floor
from flask_aiflow.calls.live import LiveCall
from flask_aiflow.calls.push import CallNotConnected
from flask_aiflow.config import ConfigurationError
from flask_aiflow.decision import Decision
from flask_aiflow.extension import AiFlow, get_state, live_calls, send
from flask_aiflow.protocol.actions import (
    Audio,
    AzureTTS,
    BargeIn,
    BargeInConfig,
    ElevenLabsTTS,
    Hangup,
    InvalidActionError,
    Speak,
    Transfer,
    audio,
    barge_in,
    hangup,
    speak,
    transfer,
)
from flask_aiflow.protocol.events import (
    AssistantSpeak,
    AssistantSpeechEnded,
    Event,
    InvalidEventError,
    Session,
    SessionEnd,
    SessionStart,
    UnknownEventTypeError,
    UserInputTimeout,
    UserSpeak,
    parse_event,
)
from flask_aiflow.skills.candidates import FALLBACK, FLOOR, GENERIC, INTENT, SAFETY, Candidate, Deferred, reprompt
from flask_aiflow.skills.hookspecs import hookimpl
from flask_aiflow.skills.registry import SkillConfigError, SkillError

__version__ = "0.1.0"

__all__ = [
    "AiFlow",
    "AssistantSpeak",
    "AssistantSpeechEnded",
    "Audio",
    "AzureTTS",
    "BargeIn",
    "BargeInConfig",
    "Call",
    "CallNotConnected",
    "Candidate",
    "ConfigurationError",
    "Decision",
    "Deferred",
    "ElevenLabsTTS",
    "Event",
    "FALLBACK",
    "FLOOR",
    "Floor",
    "GENERIC",
    "Hangup",
    "INTENT",
    "InvalidActionError",
    "InvalidEventError",
    "LiveCall",
    "SAFETY",
    "Session",
    "SessionEnd",
    "SessionStart",
    "SkillConfigError",
    "StoreUnavailable",
    "SkillError",
    "Speak",
    "Transfer",
    "UnknownEventTypeError",
    "UserInputTimeout",
    "UserSpeak",
    "audio",
    "barge_in",
    "get_state",
    "hangup",
    "hookimpl",
    "live_calls",
    "parse_event",
    "reprompt",
    "send",
    "speak",
    "transfer",
]
