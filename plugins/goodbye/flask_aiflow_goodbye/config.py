"""``AIFLOW_GOODBYE``: which phrases end a call and what is said before hanging up.

Every key is optional; without ``AIFLOW_GOODBYE`` the skill works with the
built-in English and German phrases and an English farewell. The farewell's
barge-in defaults to ``none``: the caller hears it to the end, and no reply
to an interruption can cancel the hang-up that follows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flask import Flask

from flask_aiflow.protocol.actions import TTS, BargeInConfig, Speak
from flask_aiflow.skills.config import (
    KeyPath,
    expect_int,
    expect_mapping,
    expect_phone_number,
    expect_str_list,
    speak_from_config,
)
from flask_aiflow.skills.text import words

from .phrases import DEFAULT_END_PHRASES, DEFAULT_MAX_WORDS, DEFAULT_PHRASES, FarewellMatcher

__all__ = ["CONFIG_KEY", "DEFAULT_FAREWELL", "GoodbyeSettings", "load_settings"]

CONFIG_KEY = "AIFLOW_GOODBYE"

DEFAULT_FAREWELL = "Goodbye, and thank you for calling!"

TOP_KEYS = ("phrases", "extra_phrases", "end_phrases", "max_words", "farewell", "lines")
LINE_KEYS = ("farewell",)
FAREWELL_KEYS = ("text", "ssml", "tts", "barge_in")


@dataclass(frozen=True, slots=True)
class GoodbyeSettings:
    """The parsed ``AIFLOW_GOODBYE`` of one app."""

    matcher: FarewellMatcher
    farewell: Speak
    lines: Mapping[str, Speak]

    def farewell_for(self, number: str | None) -> Speak:
        """The farewell of the called ``number``, or the default one."""
        if number is not None:
            line = self.lines.get(number)
            if line is not None:
                return line
        return self.farewell


def load_settings(app: Flask) -> GoodbyeSettings:
    """Parse ``app.config["AIFLOW_GOODBYE"]`` (absent: every default)."""
    root = KeyPath(CONFIG_KEY)
    value = app.config.get(CONFIG_KEY)
    top = expect_mapping({} if value is None else value, root, allowed=TOP_KEYS)
    phrases = _phrases(top, "phrases", root, DEFAULT_PHRASES)
    if "extra_phrases" in top:
        phrases += _phrase_list(top["extra_phrases"], root / "extra_phrases")
    end_phrases = _phrases(top, "end_phrases", root, DEFAULT_END_PHRASES)
    max_words: int | None = DEFAULT_MAX_WORDS
    if "max_words" in top:
        max_words = None if top["max_words"] is None else expect_int(top["max_words"], root / "max_words", minimum=1)
    core = app.extensions["aiflow"].settings
    farewell = _farewell(top.get("farewell", DEFAULT_FAREWELL), root / "farewell", core.default_tts, BargeInConfig("none"))
    lines = {}
    for number, line in expect_mapping(top.get("lines", {}), root / "lines").items():
        path = root / "lines" / number
        expect_phone_number(number, path)
        line = expect_mapping(line, path, allowed=LINE_KEYS, required=("farewell",))
        # a line's farewell inherits the default farewell's voice and barge-in
        lines[number] = _farewell(line["farewell"], path / "farewell", farewell.tts, farewell.barge_in)
    return GoodbyeSettings(
        matcher=FarewellMatcher.build(phrases, end_phrases, max_words),
        farewell=farewell,
        lines=MappingProxyType(lines),
    )


def _phrases(top: Mapping[str, Any], key: str, root: KeyPath, default: tuple[str, ...]) -> tuple[str, ...]:
    if key not in top:
        return default
    return _phrase_list(top[key], root / key)


def _phrase_list(value: Any, path: KeyPath) -> tuple[str, ...]:
    phrases = expect_str_list(value, path, allow_empty=True)
    for index, phrase in enumerate(phrases):
        if not words(phrase):
            raise (path / index).error(f"{phrase!r} has no words to match")
    return phrases


def _farewell(value: Any, path: KeyPath, tts: TTS | None, barge_in: BargeInConfig | None) -> Speak:
    if not isinstance(value, str):
        expect_mapping(value, path, allowed=FAREWELL_KEYS)  # no input timeout: the call ends
    return speak_from_config(value, path, tts=tts, barge_in=barge_in)
