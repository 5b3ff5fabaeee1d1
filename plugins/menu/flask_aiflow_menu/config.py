"""``AIFLOW_MENU``: the menu tree, parsed once at start-up into frozen objects.

Every phrase is normalised here (:func:`flask_aiflow.skills.text.words`), so a call
only normalises what the caller said. Mistakes that would make an option
unreachable (the same phrase for two options, or for an option and a command)
are start-up errors naming both places.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

import msgspec
from flask import Flask
from msgspec import Meta
from msgspec.structs import replace

from flask_aiflow import SAFETY, Speak
from flask_aiflow.skills.config import (
    AUDIO,
    OUTCOMES,
    SAY,
    EndingKeys,
    KeyPath,
    Outcome,
    OutcomeKeys,
    Voice,
    build_outcome,
)
from flask_aiflow.skills.models import (
    UNSET,
    NonEmptyStr,
    Priority,
    SpeakSetting,
    UnsetType,
    VoiceKeys,
    convert,
)
from flask_aiflow.skills.text import words

KEY = CONFIG_KEY = "AIFLOW_MENU"

#: ``start`` values: what the menu does when a call begins.
START_SILENT: Final = "silent"  # active and holding the floor, says nothing (the greeting speaks the options)
START_PROMPT: Final = "prompt"  # active, speaks its own prompt
START_KEYWORD: Final = "keyword"  # inactive until the caller says a main-menu keyword
STARTS = (START_SILENT, START_PROMPT, START_KEYWORD)

Start = Literal["silent", "prompt", "keyword"]
Phrases = tuple[NonEmptyStr, ...]


class OptionModel(OutcomeKeys, kw_only=True):
    """One choice of a menu: its ``name`` (a keyword too), and a sub-``menu`` or an outcome.

    A transfer's ``caller_id_name`` defaults to the option's name and its
    ``caller_id_number`` to the target.
    """

    name: NonEmptyStr
    keywords: Phrases = ()
    #: Keep the menu open after a spoken answer or clip and repeat its prompt.
    stay_in_menu: bool = False
    menu: LevelModel | UnsetType = UNSET


class LevelModel(VoiceKeys, kw_only=True):
    """A menu level: its prompt and options; the voice keys override the level above."""

    prompt: SpeakSetting
    options: Annotated[tuple[OptionModel, ...], Meta(min_length=1)]


class GlobalOptionModel(OutcomeKeys, kw_only=True):
    """An option that applies everywhere in the call ("agent"), at its own priority."""

    name: NonEmptyStr
    #: Default: the name.
    keywords: Phrases | UnsetType = UNSET
    priority: Priority = SAFETY


def _default_escalation() -> EndingKeys:
    return EndingKeys(hangup="Sorry, I could not understand you. Goodbye!")


class MenuModel(LevelModel):
    """The ``AIFLOW_MENU`` mapping: the root level and the menu's commands."""

    start: Start = START_SILENT
    main_menu_keywords: Phrases = ("menu", "main menu", "start over", "menü", "hauptmenü")
    repeat_keywords: Phrases = ("repeat", "again", "wiederholen", "nochmal", "noch einmal")
    back_keywords: Phrases = ("back", "go back", "previous", "zurück")
    #: Said before the prompt again when nothing matched.
    no_match: SpeakSetting = "Sorry, I didn't catch that."
    #: Re-prompts before the escalation.
    retries: Annotated[int, Meta(ge=0)] = 2
    #: After too many misses: ``transfer`` (caller ID defaults to the target) or ``hangup``.
    escalation: EndingKeys = msgspec.field(default_factory=_default_escalation)
    global_options: tuple[GlobalOptionModel, ...] = ()
    #: Take the caller's reply to the root prompt even when another skill said
    #: it (the LLM skill handing the caller back): see skill.py.
    reopen_after_prompt: bool = False

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
    reopen_after_prompt: bool = False
    #: how many words the longest phrase anywhere in the tree has (see ``understand.Said``)
    longest_phrase: int = 1

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


# -- building ------------------------------------------------------------------


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


#: phrase -> (who uses it, where it is configured)
_Claims = dict[Phrase, tuple[str, str]]


class _Builder:
    """Builds a :class:`MenuConfig`, refusing a phrase that two things would answer to."""

    def __init__(self, model: MenuModel, root: str, voice: Voice) -> None:
        self.model = model
        self.root_path = root
        self.path = KeyPath(KEY)
        self.voice = voice.updated(model, self.path)
        self.no_match = self.voice.speak(model.no_match, self.path / "no_match")
        #: phrases of the commands and global options, which apply at every level
        self.everywhere: _Claims = {}
        #: the number of words of the longest phrase claimed so far
        self.longest = 1

    def build(self) -> MenuConfig:
        model, path = self.model, self.path
        main_menu, repeat, back = (
            self._phrases(getattr(model, key), path / key, f'the "{key}" command', self.everywhere)
            for key in ("main_menu_keywords", "repeat_keywords", "back_keywords")
        )
        global_options = tuple(
            self._global_option(item, path / "global_options" / index)
            for index, item in enumerate(model.global_options)
        )
        escalation = model.escalation
        escalation_outcome = build_outcome(
            escalation,
            path / "escalation",
            kinds=("transfer", "hangup"),
            voice=self.voice,
            root=self.root_path,
            default_name=None if isinstance(escalation.transfer, UnsetType) else escalation.transfer.target,
        )
        root = self._menu(model, path, self.voice)
        return MenuConfig(
            root=root,
            start=model.start,
            main_menu=main_menu,
            repeat=repeat,
            back=back,
            retries=model.retries,
            escalation=escalation_outcome,
            global_options=global_options,
            reopen_after_prompt=model.reopen_after_prompt,
            longest_phrase=self.longest,
        )

    def _claim(self, raw: str, path: KeyPath, owner: str, claims: _Claims) -> Phrase:
        phrase = _phrase(raw, path)
        self.longest = max(self.longest, len(phrase))
        other = claims.get(phrase)
        if other is not None and other[0] != owner:
            raise path.error(f'"{raw}" is already used by {other[0]} ({other[1]})')
        claims[phrase] = (owner, str(path))
        return phrase

    def _phrases(
        self, raws: tuple[str, ...], path: KeyPath, owner: str, claims: _Claims, first: Phrase | None = None
    ) -> tuple[Phrase, ...]:
        """Normalise a phrase list and claim each phrase for ``owner``; duplicates of one owner are dropped.

        ``first`` (an option's name) is a phrase already claimed; the list may then be empty.
        """
        if not raws and first is None:
            raise path.error("expected at least one entry, got an empty list")
        found = [first] if first is not None else []
        for index, raw in enumerate(raws):
            phrase = self._claim(raw, path / index, owner, claims)
            if phrase not in found:
                found.append(phrase)
        return tuple(found)

    def _global_option(self, model: GlobalOptionModel, path: KeyPath) -> GlobalOption:
        owner = f"global option {model.name!r}"
        if model.keywords is not UNSET:
            found = self._phrases(model.keywords, path / "keywords", owner, self.everywhere)
        else:
            found = (self._claim(model.name, path / "name", owner, self.everywhere),)
        result = build_outcome(model, path, voice=self.voice, root=self.root_path, default_name=model.name)
        return GlobalOption(model.name, found, result, model.priority)

    def _menu(self, model: LevelModel, path: KeyPath, voice: Voice) -> Menu:
        voice = voice.updated(model, path)
        prompt = voice.speak(model.prompt, path / "prompt")
        claims = dict(self.everywhere)
        options = tuple(
            self._option(item, path / "options" / index, index, voice, claims)
            for index, item in enumerate(model.options)
        )
        return Menu(prompt, _reprompt(self.no_match, prompt), options)

    def _option(self, model: OptionModel, path: KeyPath, index: int, voice: Voice, claims: _Claims) -> Option:
        owner = f"option {model.name!r}"
        named = self._claim(model.name, path / "name", owner, claims)  # the name is a keyword too
        found = self._phrases(model.keywords, path / "keywords", owner, claims, first=named)
        digit = index + 1 if index + 1 in DIGIT_WORDS else None
        stay = model.stay_in_menu
        if model.menu is not UNSET:
            others = [kind for kind in OUTCOMES if getattr(model, kind) is not UNSET]
            if others:
                raise path.error(
                    'needs exactly one of "menu", "say", "audio", "transfer" or "hangup" '
                    f"(found menu, {', '.join(others)})"
                )
            if stay:
                raise (path / "stay_in_menu").error("only for options that say something or play a clip")
            submenu = self._menu(model.menu, path / "menu", voice)
            return Option(model.name, found, digit, submenu=submenu)
        result = build_outcome(model, path, voice=voice, root=self.root_path, default_name=model.name)
        if stay and result.kind not in (SAY, AUDIO):
            raise (path / "stay_in_menu").error("only for options that say something or play a clip")
        return Option(model.name, found, digit, outcome=result, stay=stay)


def build(model: MenuModel, app: Flask) -> MenuConfig:
    """The menu tree of ``app`` (clip paths from its root, its speech defaults below the menu's)."""
    return _Builder(model, app.root_path, Voice.of_app(app)).build()


def load(value: Any, *, root: str | os.PathLike[str] = ".", voice: Voice = Voice()) -> MenuConfig | None:
    """Check and build ``AIFLOW_MENU`` without an app; None when it is not set.

    :param root: where relative clip paths start (the app's ``root_path``).
    :param voice: the speech defaults below the menu's own (the app's defaults).
    """
    if value is None:
        return None
    model: MenuModel = convert(value, MenuModel, KeyPath(KEY))
    return _Builder(model, os.fspath(root), voice).build()
