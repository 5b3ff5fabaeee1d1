"""``AIFLOW_MENU``: the menu tree, parsed once at start-up into frozen objects.

Every phrase is normalised here (:func:`flask_aiflow.skills.text.words`), so a call
only normalises what the caller said. Mistakes that would make an option
unreachable (the same phrase for two options, or for an option and a command)
are start-up errors naming both places.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from msgspec.structs import replace

from flask_aiflow import SAFETY, Speak
from flask_aiflow.skills.config import (
    AUDIO,
    OUTCOMES,
    SAY,
    KeyPath,
    Outcome,
    Voice,
    expect_bool,
    expect_int,
    expect_mapping,
    expect_priority,
    expect_str,
    expect_str_list,
    outcome_from_config,
)
from flask_aiflow.skills.text import words

KEY = "AIFLOW_MENU"

#: ``start`` values: what the menu does when a call begins.
START_SILENT = "silent"  # active and holding the floor, says nothing (the greeting speaks the options)
START_PROMPT = "prompt"  # active, speaks its own prompt
START_KEYWORD = "keyword"  # inactive until the caller says a main-menu keyword
STARTS = (START_SILENT, START_PROMPT, START_KEYWORD)

DEFAULTS: dict[str, Any] = {
    "start": START_SILENT,
    "main_menu_keywords": ["menu", "main menu", "start over", "menü", "hauptmenü"],
    "repeat_keywords": ["repeat", "again", "wiederholen", "nochmal", "noch einmal"],
    "back_keywords": ["back", "go back", "previous", "zurück"],
    "no_match": "Sorry, I didn't catch that.",
    "retries": 2,
    "escalation": {"hangup": "Sorry, I could not understand you. Goodbye!"},
    "global_options": [],
}

_VOICE_KEYS = ("tts", "barge_in", "user_input_timeout_seconds")
_MENU_KEYS = ("prompt", "options", *_VOICE_KEYS)
_TOP_KEYS = (*_MENU_KEYS, *DEFAULTS)

#: Digits 1-9 as said in English and German; an option's position gives its digit.
DIGIT_WORDS: dict[int, tuple[str, ...]] = {
    1: ("1", "one", "eins"),
    2: ("2", "two", "zwei", "zwo"),
    3: ("3", "three", "drei"),
    4: ("4", "four", "vier"),
    5: ("5", "five", "fünf"),
    6: ("6", "six", "sechs"),
    7: ("7", "seven", "sieben"),
    8: ("8", "eight", "acht"),
    9: ("9", "nine", "neun"),
}

Phrase = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a menu.

    Exactly one of ``outcome`` (say, audio, transfer, hang-up) and
    ``submenu`` is set. ``stay`` keeps the menu open after a spoken answer or
    clip and repeats the menu's prompt once it has been played.
    """

    name: str
    phrases: tuple[Phrase, ...]
    digit: int | None
    outcome: Outcome | None = None
    submenu: Menu | None = None
    stay: bool = False


@dataclass(frozen=True, slots=True)
class Menu:
    """One level of the tree: its prompt, the re-prompt after no match, its options."""

    prompt: Speak
    reprompt: Outcome
    options: tuple[Option, ...]


@dataclass(frozen=True, slots=True)
class GlobalOption:
    """An option that applies everywhere in the call (e.g. "agent"), at its own priority."""

    name: str
    phrases: tuple[Phrase, ...]
    outcome: Outcome
    priority: int


@dataclass(frozen=True, slots=True)
class MenuConfig:
    """The validated ``AIFLOW_MENU``."""

    root: Menu
    start: str
    main_menu: tuple[Phrase, ...]
    repeat: tuple[Phrase, ...]
    back: tuple[Phrase, ...]
    retries: int
    escalation: Outcome
    global_options: tuple[GlobalOption, ...]

    def menu_at(self, path: Any) -> tuple[Menu, tuple[int, ...]]:
        """The menu reached by following option indexes from the root.

        A path that no longer fits the tree (the configuration changed while
        the call was running) leads back to the root.
        """
        menu = self.root
        if not isinstance(path, list):
            return menu, ()
        for index in path:
            if type(index) is not int or not 0 <= index < len(menu.options):
                return self.root, ()
            submenu = menu.options[index].submenu
            if submenu is None:
                return self.root, ()
            menu = submenu
        return menu, tuple(path)


# -- parsing -------------------------------------------------------------------


def _phrase(raw: str, path: KeyPath) -> Phrase:
    normalised = words(raw)
    if not normalised:
        raise path.error(f"{raw!r} has no words to match")
    return normalised


def _reprompt(no_match: Speak, prompt: Speak) -> Outcome:
    """"Sorry, I didn't catch that." and the prompt: one speak when both are text."""
    if no_match.text is not None and prompt.text is not None:
        return Outcome(SAY, replace(prompt, text=f"{no_match.text} {prompt.text}"))
    return Outcome(SAY, no_match, (prompt,))


def _list(value: Any, path: KeyPath, *, allow_empty: bool = False) -> list[Any]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise path.error(f"expected a list, got {value!r}")
    if not value and not allow_empty:
        raise path.error("expected at least one entry, got an empty list")
    return list(value)


#: phrase -> (who uses it, where it is configured)
_Claims = dict[Phrase, tuple[str, str]]


class _Parser:
    """Builds a :class:`MenuConfig`, refusing a phrase that two things would answer to."""

    def __init__(self, config: Mapping[str, Any], root: str, voice: Voice) -> None:
        self.config = config
        self.root_path = root
        self.path = KeyPath(KEY)
        self.voice = voice.updated(config, self.path)
        self.no_match = self.voice.speak(config["no_match"], self.path / "no_match")
        #: phrases of the commands and global options, which apply at every level
        self.everywhere: _Claims = {}

    def parse(self) -> MenuConfig:
        config, path = self.config, self.path
        start = config["start"]
        if start not in STARTS:
            raise (path / "start").error(f"expected one of {', '.join(map(repr, STARTS))}, got {start!r}")
        main_menu, repeat, back = (
            self._phrases(config[key], path / key, f'the "{key}" command', self.everywhere)
            for key in ("main_menu_keywords", "repeat_keywords", "back_keywords")
        )
        global_options = tuple(
            self._global_option(item, path / "global_options" / index)
            for index, item in enumerate(_list(config["global_options"], path / "global_options", allow_empty=True))
        )
        escalation = outcome_from_config(
            config["escalation"], path / "escalation", kinds=("transfer", "hangup"), voice=self.voice, root=self.root_path
        )
        return MenuConfig(
            root=self._menu(config, path, self.voice),
            start=start,
            main_menu=main_menu,
            repeat=repeat,
            back=back,
            retries=expect_int(config["retries"], path / "retries", minimum=0),
            escalation=escalation,
            global_options=global_options,
        )

    @staticmethod
    def _claim(raw: str, path: KeyPath, owner: str, claims: _Claims) -> Phrase:
        phrase = _phrase(raw, path)
        other = claims.get(phrase)
        if other is not None and other[0] != owner:
            raise path.error(f'"{raw}" is already used by {other[0]} ({other[1]})')
        claims[phrase] = (owner, str(path))
        return phrase

    def _phrases(
        self, value: Any, path: KeyPath, owner: str, claims: _Claims, first: Phrase | None = None
    ) -> tuple[Phrase, ...]:
        """Normalise a phrase list and claim each phrase for ``owner``; duplicates of one owner are dropped.

        ``first`` (an option's name) is a phrase already claimed; the list may then be empty.
        """
        found = [first] if first is not None else []
        for index, raw in enumerate(expect_str_list(value, path, allow_empty=first is not None)):
            phrase = self._claim(raw, path / index, owner, claims)
            if phrase not in found:
                found.append(phrase)
        return tuple(found)

    def _global_option(self, value: Any, path: KeyPath) -> GlobalOption:
        config = expect_mapping(value, path, allowed=("name", "keywords", "priority", *OUTCOMES), required=("name",))
        name = expect_str(config["name"], path / "name")
        owner = f"global option {name!r}"
        if "keywords" in config:
            found = self._phrases(config["keywords"], path / "keywords", owner, self.everywhere)
        else:
            found = (self._claim(name, path / "name", owner, self.everywhere),)
        priority = expect_priority(config.get("priority", SAFETY), path / "priority")
        result = outcome_from_config(
            config, path, voice=self.voice, root=self.root_path, extra_keys=("name", "keywords", "priority")
        )
        return GlobalOption(name, found, result, priority)

    def _menu(self, config: Mapping[str, Any], path: KeyPath, voice: Voice) -> Menu:
        for key in ("prompt", "options"):
            if key not in config:
                raise (path / key).error("missing")
        voice = voice.updated(config, path)
        prompt = voice.speak(config["prompt"], path / "prompt")
        claims = dict(self.everywhere)
        items = _list(config["options"], path / "options")
        options = tuple(
            self._option(item, path / "options" / index, index, voice, claims) for index, item in enumerate(items)
        )
        return Menu(prompt, _reprompt(self.no_match, prompt), options)

    def _option(self, value: Any, path: KeyPath, index: int, voice: Voice, claims: _Claims) -> Option:
        config = expect_mapping(
            value, path, allowed=("name", "keywords", "stay_in_menu", "menu", *OUTCOMES), required=("name",)
        )
        name = expect_str(config["name"], path / "name")
        owner = f"option {name!r}"
        named = self._claim(name, path / "name", owner, claims)  # the name is a keyword too
        found = self._phrases(config.get("keywords", []), path / "keywords", owner, claims, first=named)
        digit = index + 1 if index + 1 in DIGIT_WORDS else None
        stay = expect_bool(config.get("stay_in_menu", False), path / "stay_in_menu")
        if "menu" in config:
            others = [kind for kind in OUTCOMES if kind in config]
            if others:
                raise path.error(
                    'needs exactly one of "menu", "say", "audio", "transfer" or "hangup" '
                    f"(found menu, {', '.join(others)})"
                )
            if stay:
                raise (path / "stay_in_menu").error("only for options that say something or play a clip")
            submenu_path = path / "menu"
            submenu = self._menu(expect_mapping(config["menu"], submenu_path, allowed=_MENU_KEYS), submenu_path, voice)
            return Option(name, found, digit, submenu=submenu)
        result = outcome_from_config(
            config, path, voice=voice, root=self.root_path, extra_keys=("name", "keywords", "stay_in_menu")
        )
        if stay and result.kind not in (SAY, AUDIO):
            raise (path / "stay_in_menu").error("only for options that say something or play a clip")
        return Option(name, found, digit, outcome=result, stay=stay)


def load(value: Any, *, root: str | os.PathLike[str] = ".", voice: Voice = Voice()) -> MenuConfig | None:
    """Parse ``AIFLOW_MENU``; None when it is not set (the skill then stays idle).

    :param root: where relative clip paths start (the app's ``root_path``).
    :param voice: the speech defaults below the menu's own (the app's defaults).
    """
    if value is None:
        return None
    config = expect_mapping(value, KeyPath(KEY), allowed=_TOP_KEYS, required=("prompt", "options"))
    return _Parser({**DEFAULTS, **config}, os.fspath(root), voice).parse()
