"""The example skill is found through its entry point and routes VIP callers."""

from __future__ import annotations

import pytest
from flask import Flask

from flask_aiflow import Decision, SkillConfigError
from tests.helpers import event, make_app, make_skill, says

VIP = {"numbers": ["+4917012345678"], "transfer": {"target": "+4921155555555", "caller_id_name": "VIP line"}}


def start(app: Flask, caller: str) -> Decision:
    data = event("session_start", f"vip-{caller}")
    data["session"]["from_phone_number"] = caller
    with app.app_context():
        return app.extensions["aiflow"].extension.dispatch(data)


def test_discovered_through_its_entry_point() -> None:
    app = make_app(make_skill("greeting", 50, session_start=says("Welcome!")),
                   AIFLOW_LOAD_ENTRY_POINTS=True, AIFLOW_SKILLS=["vip"], AIFLOW_VIP=VIP)
    info = app.extensions["aiflow"].registry.get("vip")
    assert (info.package, info.priority) == ("flask-aiflow-vip", 100)
    decision = start(app, "+4917012345678")
    assert decision.action.to_dict()["target_phone_number"] == "+4921155555555"
    assert decision.winner.skill == "vip"
    assert start(app, "+4917000000000").action.text == "Welcome!"


def test_a_bad_number_fails_at_start_up() -> None:
    with pytest.raises(SkillConfigError, match=r'AIFLOW_VIP\["numbers"\]\[0\]: expected a phone number'):
        make_app(AIFLOW_LOAD_ENTRY_POINTS=True, AIFLOW_SKILLS=["vip"], AIFLOW_VIP={**VIP, "numbers": ["0170 123"]})
