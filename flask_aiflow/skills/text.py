"""Whole-word matching of what the caller said, for English and German.

Speech-to-text output varies in case and punctuation ("Goodbye!",
"goodbye.", "GOODBYE"), and a keyword must only match whole words: "bye"
must not match "maybe", while "Abrechnung" must match "abrechnung!". Every
helper here normalises both sides the same way:

- Unicode NFKC, then ``str.casefold``: "Tschüß" becomes "tschüss", so "ß"
  and "ss" compare equal; umlauts stay umlauts ("ü" is not folded to "u" or
  "ue", since "schon"/"schön" are different words), and a decomposed "u" +
  combining diaeresis becomes the same "ü" as the precomposed one;
- apostrophes are removed inside words ("that's" -> "thats", "geht's" ->
  "gehts"), so "that's all" and "thats all" compare equal;
- every other punctuation or symbol character separates words ("bye-bye"
  -> "bye bye"); letters, digits and combining marks are kept.

Phrases match as contiguous runs of whole words: "see you" matches "Okay,
see you later!" and "see, you" (punctuation only separates words), but not
"seeing you".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence

__all__ = ["PhraseSet", "contains_phrase", "find_phrase", "normalize", "words"]

#: Apostrophes (and look-alikes STT engines and keyboards produce), removed inside words.
APOSTROPHES = frozenset("'\u2019\u2018\u02bc\u0060\u00b4")

Phrase = str | Sequence[str]


def _is_word_char(char: str) -> bool:
    """Letters, digits and combining marks belong to words; everything else separates."""
    return unicodedata.category(char)[0] in "LNM"


#: Everything that separates words in plain ASCII text (after lower-casing).
_ASCII_SEPARATORS = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=1024)
def normalize(text: str) -> str:
    """Lower-case ``text`` and reduce it to words separated by single spaces.

    ``normalize("Auf Wiederhören, TSCHÜSS!") == "auf wiederhören tschüss"``

    Cached: every skill that matches words normalises the same utterance.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected a string, got {type(text).__name__}")
    if text.isascii():
        # The same result as below, without a Python loop per character:
        # NFKC leaves ASCII alone and casefold() is lower() there.
        kept = text.replace("'", "").replace("`", "")
        return " ".join(_ASCII_SEPARATORS.sub(" ", kept.lower()).split())
    return _normalize_unicode(text)


def _normalize_unicode(text: str) -> str:
    """:func:`normalize` for any text, character by character."""
    # Apostrophes go first: NFKC would turn the acute accent into a space
    # plus a combining mark.
    kept = "".join(char for char in text if char not in APOSTROPHES)
    folded = unicodedata.normalize("NFKC", kept).casefold()
    spaced = "".join(char if _is_word_char(char) else " " for char in folded)
    # casefold can leave a decomposed sequence behind; compose it again.
    return unicodedata.normalize("NFC", " ".join(spaced.split()))


@functools.lru_cache(maxsize=1024)
def words(text: str) -> tuple[str, ...]:
    """The normalised words of ``text``: ``words("Bye-bye!") == ("bye", "bye")``."""
    return tuple(normalize(text).split())


def _as_words(value: Phrase) -> tuple[str, ...]:
    """Normalise a text, or accept an already normalised word sequence as it is."""
    if isinstance(value, str):
        return words(value)
    return tuple(value)


def contains_phrase(text: Phrase, phrase: Phrase) -> bool:
    """True when ``phrase`` occurs in ``text`` as a run of whole words.

    Either argument may be a string (normalised here) or a sequence of words
    already produced by :func:`words` (to avoid normalising a fixed keyword
    list on every call). An empty phrase matches nothing.

    ``contains_phrase("Maybe later.", "bye") is False``;
    ``contains_phrase("OK, bye bye!", "bye bye") is True``.
    """
    haystack = _as_words(text)
    needle = _as_words(phrase)
    size = len(needle)
    if size == 0 or size > len(haystack):
        return False
    first = needle[0]
    for start in range(len(haystack) - size + 1):
        if haystack[start] == first and haystack[start : start + size] == needle:
            return True
    return False


def find_phrase(text: Phrase, phrases: Iterable[Phrase]) -> Phrase | None:
    """The first of ``phrases`` (in the given order) that ``text`` contains, or None.

    ``text`` is normalised once; the matching phrase is returned as given.
    Normalise a fixed phrase list once (``[words(p) for p in phrases]``)
    when it is matched on every call.
    """
    haystack = _as_words(text)
    for phrase in phrases:
        if contains_phrase(haystack, phrase):
            return phrase
    return None


class PhraseSet:
    """A fixed list of phrases, normalised once, for matching on every caller turn.

    Looking up every run of words of the utterance in a dict costs a few
    lookups per word, however many phrases there are, where
    :func:`find_phrase` scans the whole list each time (a farewell list has
    dozens of phrases, and it is matched on every ``user_speak``).
    """

    __slots__ = ("_order", "_lengths")

    def __init__(self, phrases: Iterable[Phrase]) -> None:
        #: normalised words -> (position in the given order, the phrase as given)
        self._order: dict[tuple[str, ...], tuple[int, Phrase]] = {}
        for phrase in phrases:
            key = _as_words(phrase)
            if key and key not in self._order:
                self._order[key] = (len(self._order), phrase)
        self._lengths = sorted({len(key) for key in self._order})

    def __len__(self) -> int:
        return len(self._order)

    def matches(self, text: Phrase) -> list[Phrase]:
        """Every phrase that ``text`` contains as a run of whole words, in the given order."""
        said = _as_words(text)
        found: dict[int, Phrase] = {}
        order = self._order
        for size in self._lengths:
            for start in range(len(said) - size + 1):
                hit = order.get(said[start : start + size])
                if hit is not None:
                    found[hit[0]] = hit[1]
        return [found[position] for position in sorted(found)]

    def first(self, text: Phrase) -> Phrase | None:
        """The first phrase in the given order that ``text`` contains, or None."""
        found = self.matches(text)
        return found[0] if found else None
