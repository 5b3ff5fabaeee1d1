"""The menu's hooks: open the menu, route the caller's choice, re-prompt, escalate.

Per call the skill keeps ``{"path": [...], "tries": n}`` while the menu is
open (``path`` lists the option indexes from the root to the current
sub-menu) and nothing once it has closed. While open it holds the floor, so
its answers rank at least ``FLOOR`` over ordinary skills; its global options
("agent") propose at their own priority (``SAFETY`` by default) at every
point of the call.

Closing: a state change is kept only when the proposal wins, but a released
floor always sticks. So an answer that ends the call (transfer, hang-up,
escalation) only clears the state and gives the floor back on the caller's
next turn; if that answer loses, the menu is still open and consistent. A
spoken answer or clip that closes the menu releases the floor at once, so
another skill can take it on the next turn. The menu counts as open only
while it has a path *and* holds the floor.

Reopening: a closed menu opens again on a main-menu keyword, and, with
``reopen_after_prompt``, when the caller picks one of its options right
after hearing the root prompt said by another skill (the LLM skill's
``open_menu`` tool, or a greeting with the same text); a reply that is no
choice is left to the other skills. The prompt is recognised in the call's
transcript (whose assistant turns come from the actions the app sent); the
transcript is read only while the menu is closed and the caller said no
keyword.
"""

from __future__ import annotations

import re
from typing import Any

from flask_aiflow import INTENT, Call, Candidate, SessionStart, UserSpeak, reprompt
from flask_aiflow.skills.declare import Skill

from . import config as menu_config
from .config import Menu, MenuConfig, MenuModel, build
from .understand import AMBIGUOUS, BACK, MAIN_MENU, OPTION, REPEAT, Said, choose, global_option, wants_main_menu

_TAG = re.compile(r"<[^>]*>")

#: Idle until ``AIFLOW_MENU`` is set; while open, its answers rank at least FLOOR.
SKILL: Skill[MenuConfig] = Skill(
    "menu", priority=INTENT, inline=True, config_key=menu_config.CONFIG_KEY, model=MenuModel, build=build
)
AIFLOW_NAME, AIFLOW_PRIORITY, AIFLOW_INLINE = SKILL.declaration
aiflow_startup = SKILL.startup

#: ``settings(app=None)``: the built ``AIFLOW_MENU`` of ``app`` (default: the
#: current app), built on first use when the skill was registered after start-up.
settings = SKILL.settings


@SKILL.hook
def aiflow_session_start(event: SessionStart, call: Call) -> Any:
    config = SKILL.config
    if config.start == menu_config.START_KEYWORD:
        return None
    _open(call, ())
    if config.start == menu_config.START_PROMPT:
        return Candidate(config.root.prompt, reason="menu: prompt at the start of the call")
    return None  # open and listening; the greeting speaks


@SKILL.hook
def aiflow_user_speak(event: UserSpeak, call: Call) -> Any:
    config = SKILL.config
    said = Said.of(event.text, config.longest_phrase)
    chosen = global_option(config, said)
    if chosen is not None:
        if chosen.outcome.ends_call:
            _close(call)
        return chosen.outcome.candidate(priority=chosen.priority, reason=f"menu: global option {chosen.name!r}")
    if "path" not in call.state and call.holds_floor:
        call.release_floor()  # closed by our last answer; see the module docstring
    if "path" in call.state and not call.holds_floor:
        call.state.clear()  # the floor went with an answer of ours that lost
    if "path" not in call.state:
        if wants_main_menu(config, said):
            _open(call, ())
            return Candidate(config.root.prompt, reason="menu: opened by keyword")
        if config.reopen_after_prompt and _prompt_just_said(config, call):
            choice = choose(config, config.root, said)
            if choice is not None and choice.kind == OPTION:
                _open(call, ())
                return _answer(config, config.root, (), said, call)
        return None
    menu, path = config.menu_at(call.state["path"])
    return _answer(config, menu, path, said, call)


def _answer(config: MenuConfig, menu: Menu, path: tuple[int, ...], said: Said, call: Call) -> Candidate:
    choice = choose(config, menu, said)
    if choice is None or choice.kind == AMBIGUOUS:
        return reprompt(_no_match(config, menu, call, "ambiguous: " + choice.how if choice else "no match"))
    if choice.kind == REPEAT:
        return _show(call, menu, path, f"menu: repeat ({choice.how!r})")
    if choice.kind == BACK:
        parent, parent_path = config.menu_at(list(path[:-1]))
        return _show(call, parent, parent_path, f"menu: back ({choice.how!r})")
    if choice.kind == MAIN_MENU:
        return _show(call, config.root, (), f"menu: main menu ({choice.how!r})")
    assert choice.kind == OPTION and choice.index is not None
    option = menu.options[choice.index]
    reason = f"menu: option {option.name!r} ({choice.how!r})"
    if option.submenu is not None:
        return _show(call, option.submenu, (*path, choice.index), reason)
    assert option.outcome is not None
    if option.stay:
        _open(call, path)
        return option.outcome.candidate(reason=reason, then=(menu.prompt,))
    _close(call, release=not option.outcome.ends_call)
    return option.outcome.candidate(reason=reason)


def _prompt_just_said(config: MenuConfig, call: Call) -> bool:
    """Whether the assistant's last words before this caller turn were the root prompt."""
    prompt = config.root.prompt
    expected = prompt.text if prompt.text is not None else _TAG.sub("", prompt.ssml or "").strip()
    turns = call.transcript[:-1]  # the last turn is this caller turn
    return bool(turns) and turns[-1]["role"] == "assistant" and turns[-1]["text"] == expected


def _show(call: Call, menu: Menu, path: tuple[int, ...], reason: str) -> Candidate:
    _open(call, path)
    return Candidate(menu.prompt, reason=reason)


def _no_match(config: MenuConfig, menu: Menu, call: Call, why: str) -> Candidate:
    tries = int(call.state.get("tries", 0)) + 1
    if tries > config.retries:
        _close(call)
        return config.escalation.candidate(reason=f"menu: {why}, {tries} times: escalation")
    call.state["tries"] = tries
    return menu.reprompt.candidate(reason=f"menu: {why}, re-prompt {tries} of {config.retries}")


def _open(call: Call, path: tuple[int, ...]) -> None:
    """Wait for a choice in the menu at ``path``, holding the floor."""
    call.state.clear()
    call.state.update(path=list(path), tries=0)
    call.take_floor()


def _close(call: Call, *, release: bool = False) -> None:
    """Stop waiting for a choice; ``release`` gives the floor back now rather than next turn."""
    call.state.clear()
    if release:
        call.release_floor()
