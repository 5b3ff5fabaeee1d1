"""The built-in fallback skill: what the caller hears when no skill answers.

``init_app`` registers it (unless ``AIFLOW_FALLBACK`` is None) as a
*last-resort* skill: the pipeline asks it only when no other skill proposed
anything for an event (so a caller never gets dead air), and only for the
event types in ``AIFLOW_FALLBACK_EVENTS``. It proposes the configured action
at ``FALLBACK`` priority; the decision then names the rule
``"fallback: no skill proposed anything"``. It is listed by ``flask aiflow
skills --all`` and can be switched off with ``AIFLOW_DISABLED_SKILLS =
["fallback"]`` like any skill.
"""

from __future__ import annotations

from collections.abc import Collection

from flask_aiflow.protocol.actions import Action
from flask_aiflow.protocol.events import Event
from flask_aiflow.skills.candidates import FALLBACK
from flask_aiflow.skills.hookspecs import hookimpl

#: The fallback's skill name.
NAME = "fallback"


class FallbackSkill:
    """Propose ``action`` for the event types in ``events``."""

    AIFLOW_NAME = NAME
    AIFLOW_PRIORITY = FALLBACK
    AIFLOW_INLINE = True

    def __init__(self, action: Action, events: Collection[str]) -> None:
        self.action = action
        self.events = frozenset(events)

    def answer(self, event: Event) -> Action | None:
        return self.action if event.type in self.events else None

    @hookimpl
    def aiflow_session_start(self, event: Event) -> Action | None:
        return self.answer(event)

    @hookimpl
    def aiflow_user_speak(self, event: Event) -> Action | None:
        return self.answer(event)

    @hookimpl
    def aiflow_assistant_speak(self, event: Event) -> Action | None:
        return self.answer(event)

    @hookimpl
    def aiflow_assistant_speech_ended(self, event: Event) -> Action | None:
        return self.answer(event)

    @hookimpl
    def aiflow_user_input_timeout(self, event: Event) -> Action | None:
        return self.answer(event)
