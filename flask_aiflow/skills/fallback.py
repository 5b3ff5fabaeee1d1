"""The built-in fallback skill: what the caller hears when no skill answers.

``init_app`` registers it (unless ``AIFLOW_FALLBACK`` is None) as a
*last-resort* skill: the pipeline asks it only when no other skill proposed
anything for an event, so a caller never gets dead air. It implements the
hooks of the event types in ``AIFLOW_FALLBACK_EVENTS`` and nothing else, and
proposes the configured action at ``FALLBACK`` priority; the decision then
names the rule ``"fallback: no skill proposed anything"``. Like any skill it
can be switched off with ``AIFLOW_DISABLED_SKILLS = ["fallback"]``; it is
left out of the skills listed by ``flask aiflow skills`` and ``/health``.
"""

from __future__ import annotations

from collections.abc import Collection
from types import SimpleNamespace
from typing import Any

from flask_aiflow.protocol.actions import Action
from flask_aiflow.skills.candidates import FALLBACK
from flask_aiflow.skills.hookspecs import EVENT_HOOKS, hookimpl

#: The fallback's skill name.
NAME = "fallback"


def fallback_skill(action: Action, events: Collection[str]) -> Any:
    """A skill that proposes ``action`` for the event types in ``events``."""

    @hookimpl
    def answer() -> Action:
        return action

    hooks = {EVENT_HOOKS[event_type]: answer for event_type in events}
    return SimpleNamespace(AIFLOW_NAME=NAME, AIFLOW_PRIORITY=FALLBACK, AIFLOW_INLINE=True, **hooks)
