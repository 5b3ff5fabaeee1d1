"""VIP callers go straight to a person: an example third-party flask-aiflow skill.

Configure it with one mapping::

    AIFLOW_VIP = {
        "numbers": ["+4917012345678"],      # callers (from_phone_number) to put through
        "transfer": {"target": "+4921155555555", "caller_id_name": "VIP line"},
    }

It proposes the transfer on ``session_start`` at priority 100 (SAFETY), so it
outranks the greeting (50) and anything else below 100. An app that wants the
greeting first re-weights it: ``AIFLOW_SKILL_PRIORITIES = {"vip": 10}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from flask_aiflow import SAFETY, Call, Candidate, SessionStart, Transfer, hookimpl
from flask_aiflow.skills.config import KeyPath, expect_mapping, expect_phone_number, expect_str_list, transfer_from_config

AIFLOW_NAME = "vip"
AIFLOW_PRIORITY = SAFETY

CONFIG_KEY = "AIFLOW_VIP"
EXTENSION_KEY = "aiflow_vip"


@dataclass(frozen=True, slots=True)
class VipSettings:
    numbers: frozenset[str]
    transfer: Transfer


@hookimpl
def aiflow_startup(app: Flask) -> None:
    """Check ``AIFLOW_VIP`` once; without it the skill does nothing."""
    value = app.config.get(CONFIG_KEY)
    if value is None:
        app.extensions[EXTENSION_KEY] = None
        return
    path = KeyPath(CONFIG_KEY)
    config = expect_mapping(value, path, allowed=("numbers", "transfer"), required=("numbers", "transfer"))
    numbers = expect_str_list(config["numbers"], path / "numbers")
    for index, number in enumerate(numbers):
        expect_phone_number(number, path / "numbers" / index)
    app.extensions[EXTENSION_KEY] = VipSettings(frozenset(numbers), transfer_from_config(config["transfer"], path / "transfer"))


@hookimpl
def aiflow_session_start(event: SessionStart, call: Call) -> Any:
    settings: VipSettings | None = current_app.extensions.get(EXTENSION_KEY)
    if settings is None or event.session.from_phone_number not in settings.numbers:
        return None
    return Candidate(settings.transfer, reason="VIP caller")
