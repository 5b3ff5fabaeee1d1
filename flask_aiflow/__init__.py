"""flask-aiflow: a Flask extension for sipgate AI Flow voice assistants."""

from .actions import (
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
from .call import Call, Floor
from .candidates import FALLBACK, FLOOR, GENERIC, INTENT, SAFETY, Candidate
from .config import ConfigurationError
from .decision import Decision
from .events import (
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
from .extension import AiFlow, get_state, live_calls, send
from .hookspecs import hookimpl
from .plugins import SkillConfigError, SkillError
from .live import LiveCall
from .push import CallNotConnected
from .state import CallBusy, MemoryStore, StateStore

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
    "CallBusy",
    "CallNotConnected",
    "Candidate",
    "ConfigurationError",
    "Decision",
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
    "MemoryStore",
    "SAFETY",
    "Session",
    "SessionEnd",
    "SessionStart",
    "SkillConfigError",
    "SkillError",
    "Speak",
    "StateStore",
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
    "send",
    "speak",
    "transfer",
]
