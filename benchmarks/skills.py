"""Skills for the in-process benchmark.

``base_app(True)`` returns an app with the five built-in skills when they are
installed (``plugins/``) and ``examples/ivr_app.py`` exists; without them it
builds the same shape from five representative stand-ins defined here. Extra
skills for the 20- and 100-skill cases are :class:`KeywordSkill` objects: each
listens for its own keyword on ``user_speak`` (and so, like most skills, has
nothing to say about most turns) and notes assistant turns in its state.
"""

from __future__ import annotations

import importlib.util
import io
import os
import tempfile
import wave
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from flask import Flask

from flask_aiflow import FLOOR, GENERIC, AiFlow, Candidate, audio, hangup, hookimpl, speak

from .common import ROOT, SECRET

BUILTIN_NAMES = ("greeting", "menu", "timeout", "audio", "goodbye")


def _silence_wav(ms: int = 200) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(b"\x00\x00" * (16 * ms))
    return buffer.getvalue()


class Greeting:
    """Greets on session_start (the greeting skill's shape)."""

    AIFLOW_NAME = "greeting"
    AIFLOW_PRIORITY = 50

    @hookimpl
    def aiflow_session_start(self, event: Any, call: Any) -> Any:
        call.state["greeted"] = True
        return speak("Welcome! Say billing, support or sales.", user_input_timeout_seconds=8,
                     barge_in={"strategy": "minimum_characters", "minimum_characters": 3})


class Menu:
    """Waits for a choice holding the floor; re-prompts on no match (the menu skill's shape)."""

    AIFLOW_NAME = "menu"
    AIFLOW_PRIORITY = 50
    OPTIONS = {"billing": "+4930111", "support": "+4930222", "sales": "+4930333"}

    @hookimpl
    def aiflow_session_start(self, call: Any) -> None:
        call.state["tries"] = 0
        call.take_floor(turns=3)

    @hookimpl
    def aiflow_user_speak(self, event: Any, call: Any) -> Any:
        words = set(event.text.lower().replace(",", " ").split())
        for option, number in self.OPTIONS.items():
            if option in words:
                call.release_floor()
                return Candidate(speak(f"Connecting you to {option}."), priority=FLOOR, reason=option)
        if not call.holds_floor:
            return None
        call.state["tries"] = call.state.get("tries", 0) + 1
        return Candidate(speak("Please say billing, support or sales."), priority=GENERIC, reason="no match")


class Timeout:
    """Escalates on silence: two prompts, then hang up (the timeout skill's shape)."""

    AIFLOW_NAME = "timeout"
    AIFLOW_PRIORITY = 60

    @hookimpl
    def aiflow_user_input_timeout(self, call: Any) -> Any:
        count = call.state["count"] = call.state.get("count", 0) + 1
        if count >= 3:
            return hangup()
        return speak(f"Are you still there? Attempt {count} of 3.", user_input_timeout_seconds=5)

    @hookimpl
    def aiflow_user_speak(self, call: Any) -> None:
        if call.state.get("count"):
            call.state["count"] = 0


class AudioClips:
    """Plays a pre-validated clip on request (the audio skill's shape)."""

    AIFLOW_NAME = "audio"
    AIFLOW_PRIORITY = 50

    def __init__(self) -> None:
        self.clip = audio(_silence_wav())  # validated and encoded once, as the real skill caches

    @hookimpl
    def aiflow_user_speak(self, event: Any) -> Any:
        if "music" in event.text.lower():
            return self.clip
        return None


class Goodbye:
    """Says goodbye, then hangs up when the farewell has been spoken (the goodbye skill's shape)."""

    AIFLOW_NAME = "goodbye"
    AIFLOW_PRIORITY = 70
    WORDS = frozenset({"bye", "goodbye", "tschüss", "ciao"})

    @hookimpl
    def aiflow_user_speak(self, event: Any, call: Any) -> Any:
        if self.WORDS.isdisjoint(event.text.lower().split()):
            return None
        call.state["leaving"] = True
        return speak("Goodbye! Have a great day.")

    @hookimpl
    def aiflow_assistant_speech_ended(self, call: Any) -> Any:
        if call.state.get("leaving"):
            return hangup()
        return None


def stand_ins() -> list[Any]:
    return [Greeting(), Menu(), Timeout(), AudioClips(), Goodbye()]


class KeywordSkill:
    """A typical third-party skill: answers its own keyword, otherwise stays quiet."""

    def __init__(self, index: int, inline: bool = False) -> None:
        self.AIFLOW_NAME = f"keyword{index:03d}"
        self.AIFLOW_PRIORITY = 40 + index % 20
        self.AIFLOW_INLINE = inline  # quick and pure: may run in the request thread
        self.keyword = f"topic{index}"

    @hookimpl
    def aiflow_user_speak(self, event: Any, call: Any) -> Any:
        if self.keyword in event.text:
            call.state["asked"] = call.state.get("asked", 0) + 1
            return f"Here is what I know about {self.keyword}."
        return None

    @hookimpl
    def aiflow_assistant_speak(self, event: Any) -> None:
        return None


def real_builtins_available() -> bool:
    """True when the five built-in skill packages and the IVR example are installed."""
    names = {ep.name for ep in entry_points(group="flask_aiflow.skills")}
    return set(BUILTIN_NAMES) <= names and (ROOT / "examples" / "ivr_app.py").exists()


def _ivr_module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_ivr_app", ROOT / "examples" / "ivr_app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _clip_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="aiflow-bench-clips-"))
    (folder / "jingle.wav").write_bytes(_silence_wav(100))
    return folder


def base_app(builtins: bool, redis_url: str | None = None, **config: Any) -> tuple[Flask, str]:
    """An app with the five built-in skills (real or stand-ins) and a label saying which.

    The real ones are configured as ``examples/ivr_app.py`` does (greeting,
    menu, timeout, goodbye), plus the audio skill with a jingle on silence
    (outranked by the timeout prompt). ``redis_url`` selects the Redis store
    (``AIFLOW_STATE_STORE``); ``config`` sets other keys.
    """
    os.environ.setdefault("AIFLOW_SHARED_SECRET", SECRET)
    store_config = {"AIFLOW_STATE_STORE": redis_url} if redis_url else {}
    store_config.update(config)
    if builtins and real_builtins_available():
        config = {
            "AIFLOW_SHARED_SECRET": SECRET,
            "AIFLOW_SKILLS": ["goodbye", "menu", "greeting", "timeout", "audio"],
            "AIFLOW_AUDIO": {
                "folder": str(_clip_folder()),
                "clips": {"jingle": "jingle.wav"},
                "play_on": {"user_input_timeout": {"clip": "jingle", "priority": 30}},
            },
            **store_config,
        }
        app = _ivr_module().create_app(config)
        return app, "the five built-in skills (plugins/), configured as in examples/ivr_app.py plus audio"
    app = Flask(f"bench_{builtins}")
    app.config.update(AIFLOW_SHARED_SECRET=SECRET, AIFLOW_LOAD_ENTRY_POINTS=False, **store_config)
    if builtins:
        app.config["AIFLOW_SKILL_ORDER"] = list(BUILTIN_NAMES)
    AiFlow(app, skills=stand_ins() if builtins else [])
    label = "5 stand-ins for the built-in skills (benchmarks/skills.py)" if builtins else "no skills"
    return app, label


def add_keyword_skills(app: Flask, count: int, start: int = 0, inline: bool = False) -> None:
    registry = app.extensions["aiflow"].registry
    for index in range(start, start + count):
        registry.register(KeywordSkill(index, inline))
