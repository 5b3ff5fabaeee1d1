"""The LLM skill's hooks: answer what the rule skills did not, with a language model.

It proposes for every caller turn at ``GENERIC`` (20), so a menu choice, the
goodbye, a transfer keyword and every ``SAFETY`` skill win; what is left goes
to the model. The hook itself only reads the transcript and hands the
request to the core as :class:`~flask_aiflow.Deferred` work: the reply is
streamed, its first sentence spoken as soon as it is complete, the following
ones pushed (WebSocket) or delivered on the next events (webhook). A caller
who speaks again closes the stream, and the model's late words are dropped.

The skill keeps no call state: the conversation is the call's transcript.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import openai
from flask import Flask

from flask_aiflow import GENERIC, Call, Candidate, Deferred, Speak, UserSpeak, hookimpl
from flask_aiflow.skills.config import AppSettings, KeyPath, Voice

from . import config as llm_config
from .config import LlmConfig
from .model import Responder, messages

AIFLOW_NAME = "llm"
AIFLOW_PRIORITY = GENERIC

#: Where the parsed configuration lives, per app.
EXTENSION_KEY = "aiflow_llm"


@dataclass(frozen=True, slots=True)
class LlmSkill:
    """One app's configuration and the client built from it."""

    config: LlmConfig
    responder: Responder
    #: what the caller hears while the model writes, kept out of the model's history
    fillers: frozenset[str]


def _menu_prompt(app: Flask, config: LlmConfig) -> Candidate | None:
    """The menu's opening, for the ``open_menu`` tool; checks the menu is there to go back to."""
    if not config.menu:
        return None
    path = KeyPath(llm_config.KEY) / "menu"
    try:  # an optional dependency: only this tool needs it
        menu_skill = importlib.import_module("flask_aiflow_menu")
    except ImportError:
        raise path.error("needs the menu skill (flask-aiflow-menu) installed") from None
    menu = menu_skill.settings(app)
    if menu is None:
        raise path.error("needs AIFLOW_MENU configured: there is no menu to go back to")
    if not menu.reopen_after_prompt:
        raise path.error(
            'needs AIFLOW_MENU["reopen_after_prompt"] = true, so the menu takes the reply to its prompt'
        )
    return Candidate(menu.root.prompt, reason="menu prompt")


def _load(app: Flask) -> LlmSkill | None:
    config = llm_config.load(app.config.get(llm_config.KEY), voice=Voice.of_app(app))
    if config is None:
        return None
    menu_prompt = _menu_prompt(app, config)
    try:
        responder = Responder(config, menu_prompt=menu_prompt)
    except openai.OpenAIError as exc:  # e.g. no API key configured nor in OPENAI_API_KEY
        raise KeyPath(llm_config.KEY).error(f"cannot set up the endpoint's client: {exc}") from None
    return LlmSkill(config, responder, _fillers(app, config))


def _fillers(app: Flask, config: LlmConfig) -> frozenset[str]:
    """The texts of the core's filler and hold lines, and of the skill's own filler."""
    lines: list[Any] = [config.filler]
    state = app.extensions.get("aiflow")
    if state is not None:
        lines += [state.settings.deferred_filler, state.settings.deferred_hold]
    return frozenset(line.text for line in lines if isinstance(line, Speak) and line.text)


#: The parsed configuration and the client, once per app.
SETTINGS: AppSettings[LlmSkill | None] = AppSettings(EXTENSION_KEY, _load)

#: ``settings(app=None)``: the skill of ``app`` (default: the current app),
#: set up on first use when the skill was registered after start-up.
settings = SETTINGS.get


@hookimpl
def aiflow_startup(app: Flask) -> None:
    SETTINGS.load(app)


@hookimpl
def aiflow_user_speak(event: UserSpeak, call: Call) -> Any:
    skill = settings()
    if skill is None or not event.text.strip():
        return None
    config, responder = skill.config, skill.responder
    chat = messages(config, call.transcript, event.text, call.session, fillers=skill.fillers)
    on_failure = config.on_failure.transfer if config.on_failure is not None else config.apology
    return Deferred(
        work=lambda: responder.answers(chat),
        filler=config.filler,
        deadline=config.timeout_seconds,
        reason=f"llm: {config.model}",
        on_failure=on_failure,
    )
