"""The example assistant's skills: a greeting with re-prompts, and a way to a person."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from flask_aiflow import SAFETY, Candidate, SkillConfigError, hangup, hookimpl, speak, transfer

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


class Greeter:
    """Greets the caller, re-prompts once on silence, then says goodbye."""

    AIFLOW_NAME = "greeter"

    @hookimpl
    def aiflow_session_start(self, call: Any) -> Any:
        return speak("Welcome to Example Corp. How can I help?", user_input_timeout_seconds=6)

    @hookimpl
    def aiflow_user_input_timeout(self, call: Any) -> Any:
        call.state["timeouts"] = call.state.get("timeouts", 0) + 1
        if call.state["timeouts"] > 1:
            return hangup()
        return speak("Are you still there? Say 'front desk' to talk to a person.", user_input_timeout_seconds=6)


class FrontDesk:
    """Transfers to a person whenever the caller asks for one (a SAFETY-band rule)."""

    AIFLOW_NAME = "front_desk"
    WORDS = ("front desk", "person", "human", "agent")

    @hookimpl
    def aiflow_startup(self, app: Any) -> None:
        number = app.config.get("FRONT_DESK_NUMBER")
        if not isinstance(number, str) or not E164.match(number):
            raise SkillConfigError(f"FRONT_DESK_NUMBER must be an E.164 number like +4921155555000, got {number!r}")

    @hookimpl
    def aiflow_user_speak(self, event: Any) -> Any:
        if any(word in event.text.lower() for word in self.WORDS):
            number = current_app.config["FRONT_DESK_NUMBER"]
            action = transfer(number, caller_id_name="Example Corp", caller_id_number=number)
            return Candidate(action, priority=SAFETY, reason="caller asked for a person")
        return None
