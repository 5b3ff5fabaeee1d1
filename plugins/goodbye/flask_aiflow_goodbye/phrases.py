"""Farewell phrases in English and German, and how an utterance is matched against them.

Matching is on whole words after :func:`flask_aiflow.skills.text.normalize`
(case, punctuation, apostrophes and "ß"/"ss" do not matter): "bye" matches
"OK, bye!" but not "maybe". Phrases in :data:`DEFAULT_PHRASES` count
anywhere in what the caller said. Words that also greet ("servus", "ciao")
are in :data:`DEFAULT_END_PHRASES` and count only when they end the
utterance: "Okay, ciao!" is a farewell, "Servus, ich habe eine Frage" is not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_aiflow.skills.text import PhraseSet, words

__all__ = ["DEFAULT_END_PHRASES", "DEFAULT_MAX_WORDS", "DEFAULT_PHRASES", "FarewellMatcher"]

DEFAULT_PHRASES: tuple[str, ...] = (
    # English
    "goodbye",
    "good bye",
    "bye",
    "bye bye",
    "see you",
    "see ya",
    "that's all",
    "that is all",
    "talk to you later",
    "have a nice day",
    "have a good day",
    # German
    "tschüss",
    "tschüs",
    "tschau",
    "auf wiedersehen",
    "auf wiederhören",
    "wiedersehen",
    "wiederhören",
    "bis dann",
    "bis bald",
    "bis später",
    "ade",
    "adieu",
    "das war's",
    "das wars",
    "das war alles",
    "das wäre alles",
    "schönen tag noch",
)

#: Words that greet as well as part: a farewell only at the end of an utterance.
DEFAULT_END_PHRASES: tuple[str, ...] = ("ciao", "servus")

#: Longer utterances are taken as requests that merely mention a farewell.
DEFAULT_MAX_WORDS = 12


@dataclass(frozen=True, slots=True)
class FarewellMatcher:
    """Finds the farewell in an utterance; phrases are normalised once, here."""

    anywhere: PhraseSet
    at_end: tuple[tuple[str, tuple[str, ...]], ...]
    max_words: int | None

    @classmethod
    def build(cls, phrases: Iterable[str], end_phrases: Iterable[str], max_words: int | None) -> FarewellMatcher:
        return cls(
            anywhere=PhraseSet(phrases),
            at_end=tuple((phrase, words(phrase)) for phrase in end_phrases),
            max_words=max_words,
        )

    def find(self, text: str) -> str | None:
        """The farewell phrase ``text`` contains (as configured), or None."""
        said = words(text)
        if not said or (self.max_words is not None and len(said) > self.max_words):
            return None
        phrase = self.anywhere.first(said)
        if phrase is not None:
            return str(phrase)
        for phrase, phrase_words in self.at_end:
            if phrase_words and said[-len(phrase_words) :] == phrase_words:
                return phrase
        return None
