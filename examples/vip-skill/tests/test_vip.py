"""The example skill is found through its entry point and routes VIP callers.

Self-contained: only the fixtures of flask-aiflow's pytest plugin, so these
tests work in a copy of this folder.
"""

from __future__ import annotations

from typing import Any

import pytest

from flask_aiflow import SkillConfigError, hookimpl

VIP = {"numbers": ["+4917012345678"], "transfer": {"target": "+4921155555555", "caller_id_name": "VIP line"}}


class Greeting:
    """A stand-in greeting at the default priority (INTENT, 50)."""

    AIFLOW_NAME = "welcome"

    @hookimpl
    def aiflow_session_start(self) -> Any:
        return "Welcome!"


def test_discovered_through_its_entry_point(aiflow_app: Any) -> None:
    app = aiflow_app("vip", AIFLOW_VIP=VIP)
    info = app.extensions["aiflow"].registry.get("vip")
    assert (info.package, info.priority, info.inline) == ("flask-aiflow-vip", 100, True)


def test_a_vip_caller_is_transferred_before_the_greeting(aiflow_app: Any, aiflow_call: Any) -> None:
    app = aiflow_app("vip", Greeting(), AIFLOW_VIP=VIP)
    call = aiflow_call(app=app, from_="+4917012345678")
    call.greeting.expect_winner("vip")
    transfer = call.greeting.exchanges[0].action.to_dict()
    assert (transfer["type"], transfer["target_phone_number"]) == ("transfer", "+4921155555555")
    assert transfer["caller_id_name"] == "VIP line"
    assert transfer["caller_id_number"] == "+4921155555555"  # defaults to the target


def test_other_callers_hear_the_greeting(aiflow_app: Any, aiflow_call: Any) -> None:
    call = aiflow_call(app=aiflow_app("vip", Greeting(), AIFLOW_VIP=VIP), from_="+4917000000000")
    call.greeting.expect_speech(containing="Welcome!").expect_winner("welcome")


def test_without_configuration_it_does_nothing(aiflow_app: Any, aiflow_call: Any) -> None:
    call = aiflow_call(app=aiflow_app("vip", Greeting()), from_="+4917012345678")
    call.greeting.expect_winner("welcome")


def test_a_bad_number_fails_at_start_up(aiflow_app: Any) -> None:
    with pytest.raises(SkillConfigError, match=r'AIFLOW_VIP\["numbers"\]\[0\]: expected a phone number'):
        aiflow_app("vip", AIFLOW_VIP={**VIP, "numbers": ["0170 123"]})
