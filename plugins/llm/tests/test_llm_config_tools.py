"""AIFLOW_LLM parsing, and the guardrails between the model's tool calls and the phone line."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask_aiflow_llm import config as llm_config
from flask_aiflow_llm.config import LlmConfig, endpoint_settings
from flask_aiflow_llm.tools import (
    END_CALL,
    OPEN_MENU,
    TRANSFER,
    Refused,
    ToolCall,
    carry_out,
    definitions,
    refusal,
)

from flask_aiflow import Candidate, SkillConfigError, speak

SUPPORT = {"target": "+4930111111", "caller_id_name": "Support", "description": "technical problems"}
BILLING = {"target": "+4930222222", "caller_id_name": "Billing", "announce": "Connecting you to billing."}


def load(**config: Any) -> LlmConfig:
    parsed = llm_config.load({"model": "test-model", **config})
    assert parsed is not None
    return parsed


class TestConfig:
    def test_unset_means_idle(self) -> None:
        assert llm_config.load(None) is None

    def test_defaults(self) -> None:
        config = load()
        assert (config.model, config.history, config.hangup, config.menu) == ("test-model", 20, True, False)
        assert config.filler is None  # the core waits for the first sentence, then fills
        assert config.transfers == {} and config.on_failure is None
        assert config.share_caller_number is False
        assert config.apology.text == "Sorry, I can't answer that right now."

    @pytest.mark.parametrize(
        "given, message",
        [
            ({"model": None}, r'AIFLOW_LLM\["model"\]: missing'),
            ({"modle": "x"}, r"did you mean 'model'"),
            ({"history": 0}, r'AIFLOW_LLM\["history"\]: expected an integer >= 1'),
            ({"timeout_seconds": -1}, r'AIFLOW_LLM\["timeout_seconds"\]'),
            ({"transfers": {"support": {"target": "0301234", "caller_id_name": "S"}}},
             r'AIFLOW_LLM\["transfers"\]\["support"\]\["target"\]'),
            ({"transfers": {"two words": SUPPORT}}, r"a single word"),
            ({"transfers": {"support": SUPPORT}, "on_failure": "sales"}, r"'support'"),
            ({"on_failure": "sales"}, r"none configured"),
            ({"apology": ""}, r'AIFLOW_LLM\["apology"\]'),
            ({"hangup": "yes"}, r'AIFLOW_LLM\["hangup"\]: expected true or false'),
        ],
    )
    def test_mistakes_name_their_place(self, given: dict[str, Any], message: str) -> None:
        with pytest.raises(SkillConfigError, match=message):
            llm_config.load({"model": "m", **given})

    def test_the_endpoint_follows_the_openai_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OPENAI_API_KEY", "from-env")
        settings = endpoint_settings(load())
        assert settings["api_key"] == "from-env"
        assert settings["base_url"] is None  # the client reads OPENAI_BASE_URL itself
        assert endpoint_settings(load(api_key="given", base_url="http://127.0.0.1:1/v1"))["api_key"] == "given"


class TestToolDefinitions:
    def test_only_configured_tools_are_offered(self) -> None:
        assert [tool["function"]["name"] for tool in definitions(load(hangup=False))] == []
        names = [tool["function"]["name"] for tool in definitions(load(transfers={"support": SUPPORT}, menu=True))]
        assert names == [TRANSFER, END_CALL, OPEN_MENU]

    def test_the_model_sees_destination_names_never_numbers(self) -> None:
        tools = definitions(load(transfers={"support": SUPPORT, "billing": BILLING}))
        text = json.dumps(tools)
        assert "+4930" not in text
        destination = tools[0]["function"]["parameters"]["properties"]["destination"]
        assert destination == {"type": "string", "enum": ["support", "billing"]}
        assert "support: technical problems" in tools[0]["function"]["description"]


MENU = Candidate(speak("You can say billing or support."))


class TestGuardrails:
    config = load(transfers={"support": SUPPORT, "billing": BILLING}, menu=True)

    def test_a_transfer_goes_to_the_configured_number(self) -> None:
        outcome = carry_out(ToolCall(TRANSFER, '{"destination": "support"}'), self.config, MENU)
        assert outcome.action.to_dict() == {  # type: ignore[union-attr]
            "type": "transfer", "target_phone_number": "+4930111111",
            "caller_id_name": "Support", "caller_id_number": "+4930111111",
        }

    def test_a_transfer_with_an_announcement_says_it_first(self) -> None:
        outcome = carry_out(ToolCall(TRANSFER, '{"destination": "billing"}'), self.config, MENU)
        assert outcome.action.text == "Connecting you to billing."  # type: ignore[union-attr]
        assert [action.type for action in outcome.then] == ["transfer"]  # type: ignore[union-attr]

    def test_hang_up_after_the_goodbye_line(self) -> None:
        outcome = carry_out(ToolCall(END_CALL, '{"farewell": "Bye, take care!"}'), self.config, MENU)
        assert outcome.action.text == "Bye, take care!"  # type: ignore[union-attr]
        assert [action.type for action in outcome.then] == ["hangup"]  # type: ignore[union-attr]
        default = carry_out(ToolCall(END_CALL, ""), self.config, MENU)
        assert default.action.text == "Goodbye!"  # type: ignore[union-attr]

    def test_back_to_the_menu_says_its_prompt(self) -> None:
        outcome = carry_out(ToolCall(OPEN_MENU, "{}"), self.config, MENU)
        assert outcome.action == MENU.action

    @pytest.mark.parametrize(
        "call, why",
        [
            (ToolCall(TRANSFER, '{"destination": "+4917012345"}'), "is not one of"),
            (ToolCall(TRANSFER, '{"destination": "sales"}'), "is not one of"),
            (ToolCall(TRANSFER, '{"destination": ["support"]}'), "is not one of"),
            (ToolCall(TRANSFER, '{"destination": "support", "target": "+4917012345"}'), "unknown argument"),
            (ToolCall(TRANSFER, '{"destination": "supp'), "not JSON"),
            (ToolCall(TRANSFER, '"support"'), "JSON object"),
            (ToolCall(END_CALL, '{"farewell": ""}'), "short non-empty"),
            (ToolCall(END_CALL, json.dumps({"farewell": "bye " * 100})), "short non-empty"),
            (ToolCall(OPEN_MENU, '{"level": 2}'), "unknown argument"),
            (ToolCall("delete_account", "{}"), "not offered"),
            (ToolCall("", ""), "not offered"),
        ],
    )
    def test_everything_else_is_refused(self, call: ToolCall, why: str) -> None:
        with pytest.raises(Refused, match=why):
            carry_out(call, self.config, MENU)

    def test_tools_not_configured_are_refused(self) -> None:
        bare = load(hangup=False)
        for call in (ToolCall(TRANSFER, '{"destination": "support"}'), ToolCall(END_CALL, "{}"),
                     ToolCall(OPEN_MENU, "{}")):
            with pytest.raises(Refused, match="not offered"):
                carry_out(call, bare, MENU)
        with pytest.raises(Refused, match="not offered"):  # configured, but no menu to go back to
            carry_out(ToolCall(OPEN_MENU, "{}"), self.config, None)

    def test_a_refusal_is_logged_and_answered_safely(self, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.WARNING, logger="flask_aiflow.llm"):
            answer = refusal(self.config, "tool 'delete_account' is not offered")
        assert answer.action.text == "Sorry, I can't do that. Is there anything else I can help you with?"  # type: ignore[union-attr]
        assert "delete_account" in caplog.text
