"""What the caller's words mean to the menu: an option, a command, or nothing.

Matching is on whole words after :func:`flask_aiflow.skills.text.words` (case,
punctuation, "ß"/"ss" insensitive), so "bye" never matches "maybe" and
"Abrechnung" matches "abrechnung!". When several phrases match, the longest
one decides ("main menu" over "menu"); when the longest ones belong to
different options, the answer is ambiguous and counts as no match (between
commands alone, main menu beats back beats repeat). A spoken
digit ("two", "zwei", "2") picks the option at that position, but only when
the caller said little else ("option two", "Taste 2"), so "I have one
question" is not option 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_aiflow.skills.text import words

from .config import DIGIT_WORDS, GlobalOption, Menu, MenuConfig, Phrase

#: What a caller may say around a digit and still mean only the digit.
DIGIT_FILLERS = frozenset(
    ("option", "number", "press", "choice", "please", "the", "nummer", "taste", "wahl", "auswahl", "bitte", "die")
)

_DIGITS = {word: digit for digit, spoken in DIGIT_WORDS.items() for word in spoken}

OPTION = "option"
REPEAT = "repeat"
BACK = "back"
MAIN_MENU = "main_menu"
AMBIGUOUS = "ambiguous"

_COMMAND_RANK = {MAIN_MENU: 0, BACK: 1, REPEAT: 2}


@dataclass(frozen=True, slots=True)
class Choice:
    """What the caller chose: ``kind`` is option, repeat, back, main_menu or ambiguous."""

    kind: str
    index: int | None = None  # the option's position, for OPTION
    how: str = ""  # the phrase or digit that matched, for the decision record


@dataclass(frozen=True, slots=True)
class Said:
    """What the caller said: its words, and every run of consecutive words a phrase can match.

    The runs are listed once per utterance, so checking a phrase is one set
    lookup however many phrases the menu has (a menu checks every option's
    phrases and every command's on every turn).
    """

    words: tuple[str, ...]
    runs: frozenset[Phrase]

    @classmethod
    def of(cls, text: str, longest: int) -> Said:
        """The caller's ``text``; ``longest`` is the number of words of the longest configured phrase."""
        said = words(text)
        runs = frozenset(
            said[start:end]
            for start in range(len(said))
            for end in range(start + 1, min(start + longest, len(said)) + 1)
        )
        return cls(said, runs)


def longest_match(said: Said, phrases: Iterable[Phrase]) -> Phrase | None:
    """The longest of ``phrases`` contained in ``said`` (first one on a tie)."""
    best: Phrase | None = None
    for phrase in phrases:
        if (best is None or len(phrase) > len(best)) and phrase in said.runs:
            best = phrase
    return best


def global_option(config: MenuConfig, said: Said) -> GlobalOption | None:
    """The global option the caller asked for (longest phrase, then configured order)."""
    best: tuple[int, GlobalOption] | None = None
    for option in config.global_options:
        phrase = longest_match(said, option.phrases)
        if phrase is not None and (best is None or len(phrase) > best[0]):
            best = (len(phrase), option)
    return best[1] if best is not None else None


def wants_main_menu(config: MenuConfig, said: Said) -> bool:
    return longest_match(said, config.main_menu) is not None


def choose(config: MenuConfig, menu: Menu, said: Said) -> Choice | None:
    """The caller's choice in ``menu``, or None when nothing matched."""
    matches: list[tuple[int, Choice]] = []
    for index, option in enumerate(menu.options):
        phrase = longest_match(said, option.phrases)
        if phrase is not None:
            matches.append((len(phrase), Choice(OPTION, index, " ".join(phrase))))
    for kind, phrases in ((REPEAT, config.repeat), (BACK, config.back), (MAIN_MENU, config.main_menu)):
        phrase = longest_match(said, phrases)
        if phrase is not None:
            matches.append((len(phrase), Choice(kind, how=" ".join(phrase))))
    if matches:
        longest = max(length for length, _ in matches)
        best = [choice for length, choice in matches if length == longest]
        if len(best) == 1:
            return best[0]
        if all(choice.kind != OPTION for choice in best):
            # only commands, e.g. "go back to the main menu": the widest one wins
            return min(best, key=lambda choice: _COMMAND_RANK[choice.kind])
        return Choice(AMBIGUOUS, how=" / ".join(choice.how for choice in best))
    return _digit(menu, said)


def _digit(menu: Menu, said: Said) -> Choice | None:
    digits = {_DIGITS[word] for word in said.words if word in _DIGITS}
    if len(digits) != 1 or any(word not in _DIGITS and word not in DIGIT_FILLERS for word in said.words):
        return None
    digit = digits.pop()
    for index, option in enumerate(menu.options):
        if option.digit == digit:
            return Choice(OPTION, index, f"digit {digit}")
    return None
