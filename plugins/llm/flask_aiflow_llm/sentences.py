"""Cut a stream of text into sentences, so the first can be spoken while the rest is written.

Time to first audio matters more than total time on a phone: a sentence is
handed on as soon as it is certainly complete, which is when the text after
its final ``.``, ``!``, ``?`` or ``…`` has begun. What is *not* a sentence end:

- a point inside a word or number: ``3.5``, ``example.com``, ``v1.2``
  (no space follows it);
- a point after a known abbreviation (``Dr.``, ``e.g.``, ``z.B.``, ``Nr.``)
  or a single letter (initials: ``J. Smith``, ``U. S.``);
- a point followed by a lower-case word (``approx. ten minutes``): sentences
  start with a capital, a digit or a quote.

A line break always ends a sentence (models write lists line by line), and a
sentence that grows past ``max_chars`` is cut at its last comma, semicolon or
space, so a model that never stops a sentence cannot keep the caller waiting.
Markdown marks that a voice cannot say (``**``, ``#``, list bullets,
backticks) are dropped; a numbered list keeps its numbers ("1. Restart the
router." is one sentence).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

#: Abbreviations (lower case, without their final point) after which a point does not end a sentence.
ABBREVIATIONS = frozenset(
    {
        # English
        # English (words that also end sentences, like "no" or "sun", are left out)
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "vs", "e.g", "i.e", "approx", "tel",
        "inc", "ltd", "corp", "dept", "jan", "feb", "apr", "jun", "jul", "aug", "sep", "sept",
        "oct", "nov", "a.m", "p.m",
        # German
        "z.b", "bzw", "ca", "d.h", "u.a", "evtl", "ggf", "nr", "str", "hr", "inkl", "zzgl",
        "vgl", "bspw", "mio", "mrd", "u.u", "o.ä", "s.o", "s.u",
    }
)

#: Sentence-ending punctuation, and what may trail it (closing quotes and brackets).
_END = re.compile(r"""[.!?…]+["'”’»)\]]*""")
_MARKDOWN = re.compile(r"\*\*|__|`+|^\s*#+\s*|^\s*[-*•]\s+", re.MULTILINE)
_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """``text`` as a voice should say it: markdown marks dropped, whitespace collapsed."""
    return _SPACES.sub(" ", _MARKDOWN.sub("", text)).strip()


class SentenceSplitter:
    """Feed text pieces in with :meth:`feed`; complete sentences come out, the rest at :meth:`flush`."""

    def __init__(self, *, max_chars: int = 250) -> None:
        if max_chars < 20:
            raise ValueError(f"max_chars must be at least 20, got {max_chars!r}")
        self.max_chars = max_chars
        self._buffer = ""

    def feed(self, piece: str) -> list[str]:
        """Add ``piece``; return the sentences it completed (cleaned, none empty)."""
        self._buffer += piece
        found: list[str] = []
        while True:
            cut = self._find_cut(self._buffer)
            if cut is None:
                break
            sentence, self._buffer = self._buffer[:cut], self._buffer[cut:]
            sentence = clean(sentence)
            if sentence:
                found.append(sentence)
        return found

    def flush(self) -> list[str]:
        """The text left over once the stream has ended (at most one sentence)."""
        rest, self._buffer = clean(self._buffer), ""
        return [rest] if rest else []

    def _find_cut(self, text: str) -> int | None:
        """Where the first complete sentence of ``text`` ends, or None while it is incomplete."""
        newline = text.find("\n")
        for match in _END.finditer(text):
            end = match.end()
            if newline != -1 and newline < match.start():
                break
            if end >= len(text):
                return None  # what follows is not known yet
            if not text[end].isspace():
                continue  # inside a word or number: 3.5, example.com
            following = text[end:].lstrip()
            if not following:
                return None  # only whitespace so far; the next piece decides
            if text[match.start()] == "." and match.group() == "." and _is_abbreviation(text, match.start()):
                continue
            if following[0].islower():
                continue
            return end
        if newline != -1:
            return newline + 1
        if len(text) > self.max_chars:
            return _soft_cut(text, self.max_chars)
        return None


def _is_abbreviation(text: str, point: int) -> bool:
    """Whether the point at ``text[point]`` closes an abbreviation or an initial."""
    start = point
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "([\"'“‘«":
        start -= 1
    word = text[start:point].lower()
    if len(word) == 1 and word.isalpha():
        return True  # an initial: J. Smith
    if word.isdigit() and not text[: start].strip(" \t").rpartition("\n")[2]:
        return True  # a list marker at the start of a line: "1. Restart the router."
    return word in ABBREVIATIONS


def _soft_cut(text: str, limit: int) -> int | None:
    """Cut an over-long sentence after its last comma or semicolon before ``limit``, else its last space.

    None when there is no space to cut at: a word is never split.
    """
    head = text[:limit]
    for mark in (", ", "; ", ": ", " – ", " - "):
        at = head.rfind(mark)
        if at > limit // 3:
            return at + len(mark)
    at = head.rfind(" ")
    return at + 1 if at > 0 else None


def sentences(pieces: Iterable[str], *, max_chars: int = 250) -> Iterator[str]:
    """Every sentence of a stream of text pieces, each as soon as it is complete."""
    splitter = SentenceSplitter(max_chars=max_chars)
    for piece in pieces:
        yield from splitter.feed(piece)
    yield from splitter.flush()
