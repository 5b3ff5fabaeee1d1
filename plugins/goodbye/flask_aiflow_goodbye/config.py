"""``AIFLOW_GOODBYE``: which phrases end a call and what is said before hanging up.

Every key is optional; without ``AIFLOW_GOODBYE`` the skill works with the
built-in English and German phrases and an English farewell. The farewell's
barge-in defaults to ``none``: the caller hears it to the end, and no reply
to an interruption can cancel the hang-up that follows it. A line's farewell
takes the default farewell's voice and barge-in unless it sets its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated

from flask import Flask
from msgspec import Meta

from flask_aiflow.protocol.actions import BargeInConfig, Speak
from flask_aiflow.skills.config import KeyPath, Voice, build_speak
from flask_aiflow.skills.models import UNSET, ConfigModel, NonEmptyStr, PhoneNumber, SpeechSetting, UnsetType
from flask_aiflow.skills.text import words

from .phrases import DEFAULT_END_PHRASES, DEFAULT_MAX_WORDS, DEFAULT_PHRASES, FarewellMatcher

__all__ = ["CONFIG_KEY", "DEFAULT_FAREWELL", "GoodbyeConfig", "GoodbyeSettings", "LineConfig", "build"]

CONFIG_KEY = "AIFLOW_GOODBYE"
PATH = KeyPath(CONFIG_KEY)

DEFAULT_FAREWELL = "Goodbye, and thank you for calling!"


class LineConfig(ConfigModel):
    """What one called number (a key of ``lines``) says instead."""

    farewell: SpeechSetting


class GoodbyeConfig(ConfigModel):
    """The ``AIFLOW_GOODBYE`` mapping."""

    #: Farewells anywhere in an utterance (replaces the built-in ones).
    phrases: tuple[NonEmptyStr, ...] | UnsetType = UNSET
    #: Farewells added to ``phrases``.
    extra_phrases: tuple[NonEmptyStr, ...] = ()
    #: Words that greet as well as part: a farewell only at the end of an utterance.
    end_phrases: tuple[NonEmptyStr, ...] | UnsetType = UNSET
    #: Longer utterances merely mention a farewell (None: no limit).
    max_words: Annotated[int, Meta(ge=1)] | None = DEFAULT_MAX_WORDS
    #: Said before hanging up (no input timeout: the call ends).
    farewell: SpeechSetting = DEFAULT_FAREWELL
    #: Per called number (E.164).
    lines: dict[PhoneNumber, LineConfig] = {}


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


def build(config: GoodbyeConfig, app: Flask) -> GoodbyeSettings:
    """Normalise the phrases and build the farewells once."""
    phrases = _phrases(DEFAULT_PHRASES if config.phrases is UNSET else config.phrases, PATH / "phrases")
    phrases += _phrases(config.extra_phrases, PATH / "extra_phrases")
    end_phrases = _phrases(
        DEFAULT_END_PHRASES if config.end_phrases is UNSET else config.end_phrases, PATH / "end_phrases"
    )
    farewell = build_speak(
        config.farewell, PATH / "farewell", tts=Voice.of_app(app).tts, barge_in=BargeInConfig("none")
    )
    lines = {
        number: build_speak(line.farewell, PATH / "lines" / number / "farewell", tts=farewell.tts, barge_in=farewell.barge_in)
        for number, line in config.lines.items()
    }
    return GoodbyeSettings(
        matcher=FarewellMatcher.build(phrases, end_phrases, config.max_words),
        farewell=farewell,
        lines=MappingProxyType(lines),
    )


def _phrases(phrases: tuple[str, ...], path: KeyPath) -> tuple[str, ...]:
    for index, phrase in enumerate(phrases):
        if not words(phrase):
            raise (path / index).error(f"{phrase!r} has no words to match")
    return phrases
