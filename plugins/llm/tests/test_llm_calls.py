"""Whole calls with the LLM skill, through the simulator over HTTP and WebSocket, against the stand-in.

Slowness is a gate the test holds (see ``standin.Reply``), never a sleep:
while it is closed the caller hears the core's filler or hold line (no dead
air); once it opens, the answer follows, each sentence exactly once. A
barge-in closes the stream, and the stand-in sees the client hang up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import flask_aiflow_goodbye
import flask_aiflow_llm
import flask_aiflow_menu
import pytest
from flask import Flask

from flask_aiflow import Speak, get_state
from flask_aiflow.config import DEFAULTS
from flask_aiflow.testing import CallSimulator, SimulatedCall
from plugins.llm.tests.standin import Reply, StandIn, words
from tests.helpers import make_app

FILLER = DEFAULTS["AIFLOW_DEFERRED_FILLER"]
APOLOGY = "Sorry, I can't answer that right now."
WAIT = 10.0
SUPPORT = {"target": "+4930111111", "caller_id_name": "Support"}
MENU = {
    "start": "keyword",
    "reopen_after_prompt": True,
    "prompt": "You can say billing or sales.",
    "options": [
        {"name": "billing", "transfer": {"target": "+4930222222", "caller_id_name": "Billing"}},
        {"name": "sales", "say": "Sales is open from nine to five."},
    ],
}
#: A closed gate before the first sentence: the core waits out the event's budget (800 ms, on the real
#: clock) before the filler, so these tests are in the slow set.
WAITS_OUT_THE_BUDGET = pytest.mark.slow
REPLY = "We are open from nine to five. On Saturdays until noon. Anything else?"
SENTENCES = ["We are open from nine to five.", "On Saturdays until noon.", "Anything else?"]


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn().start()
    yield server
    server.stop()


def llm_app(standin: StandIn, *skills: Any, **llm: Any) -> Flask:
    return make_app(
        *skills,
        flask_aiflow_llm,
        AIFLOW_LLM={"model": "standin-model", "base_url": standin.base_url, "api_key": "test-key", **llm},
        AIFLOW_MENU=MENU,
        AIFLOW_GOODBYE={"farewell": "Goodbye from the rules!"},
    )


def settle(app: Flask) -> None:
    assert get_state(app).deferrals.join(WAIT), f"the slow work did not finish within {WAIT} s"


def spoken(call: SimulatedCall) -> list[str]:
    return [text for turn in call.turns for text in turn.spoken]


def hear_the_rest(call: SimulatedCall) -> None:
    """Let the call run until the assistant has nothing more to say (bounded)."""
    for _ in range(20):
        if call.ended:
            return
        turn = call.speech_ends() if call.playing is not None else call.silence()
        if not turn.spoken and call.playing is None and call.timeout_seconds is None:
            return
    raise AssertionError(f"the assistant never stopped talking: {spoken(call)}")


@pytest.fixture(params=["webhook", "websocket"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_model_answers_what_no_rule_did_each_sentence_once(standin: StandIn, transport: str) -> None:
    standin.reply(REPLY)
    app = llm_app(standin)
    call = CallSimulator(app, transport=transport).start_call()
    turn = call.say("when are you open?")
    assert isinstance(turn.action, Speak)  # no dead air: the first sentence, or the filler while it is written
    assert turn.spoken[0] in (SENTENCES[0], FILLER)
    settle(app)
    hear_the_rest(call)
    heard = [text for text in spoken(call) if text != FILLER]
    assert heard == SENTENCES
    call.hang_up()


@WAITS_OUT_THE_BUDGET
def test_webhook_slow_first_token_filler_then_the_answer_on_the_poll(standin: StandIn) -> None:
    gate = threading.Event()
    standin.reply(Reply(chunks=words(REPLY), gate=gate))
    app = llm_app(standin)
    call = CallSimulator(app).start_call()
    turn = call.say("when are you open?")
    assert turn.spoken == [FILLER]
    assert isinstance(turn.action, Speak) and turn.action.user_input_timeout_seconds is not None  # a poll is armed
    gate.set()
    settle(app)
    assert call.silence().spoken == SENTENCES  # each sentence answers the end of the one before
    assert [text for text in spoken(call) if text != FILLER] == SENTENCES
    assert spoken(call).count(FILLER) == 1


@WAITS_OUT_THE_BUDGET
def test_websocket_slow_stream_pushes_each_sentence_as_it_comes(standin: StandIn) -> None:
    first, second = threading.Event(), threading.Event()
    standin.reply(Reply(chunks=words(REPLY), gate=first, gate_at=8, late_gate=second))  # held before "On"
    app = llm_app(standin)
    call = CallSimulator(app, transport="websocket").start_call()
    assert call.say("when are you open?").spoken == [FILLER]
    call.speech_ends()
    first.set()
    assert call.wait_for_push().spoken == [SENTENCES[0]]  # while the model still writes the rest
    call.speech_ends()
    second.set()
    assert call.wait_for_push().spoken == [SENTENCES[1]]
    settle(app)
    hear_the_rest(call)
    assert [text for text in spoken(call) if text != FILLER] == SENTENCES
    call.hang_up()


@WAITS_OUT_THE_BUDGET
def test_websocket_a_barge_in_cancels_the_rest_of_the_stream(standin: StandIn) -> None:
    first, second = threading.Event(), threading.Event()
    story = words("Let me tell you a long story. It goes on. It never ends. Really never.")
    # sentence 1 at the gate, sentence 2 at the late gate, then held until the client hangs up
    standin.reply(Reply(chunks=story, gate=first, gate_at=8, late_gate=second, hold_at=11), "Okay, stopping.")
    app = llm_app(standin)
    call = CallSimulator(app, transport="websocket").start_call()
    call.say("tell me a story")
    call.speech_ends()
    first.set()
    assert call.wait_for_push().spoken == ["Let me tell you a long story."]
    turn = call.barge_in("stop please", after_ms=300)
    assert turn.delivered
    second.set()  # the model goes on writing; its next sentence finds the stream stale
    assert standin.hung_up.wait(WAIT)  # the stream was closed: the model's HTTP response is dropped
    settle(app)
    hear_the_rest(call)
    assert not {"It goes on.", "It never ends.", "Really never."} & set(spoken(call))
    assert spoken(call).count("Okay, stopping.") == 1
    call.hang_up()


def test_rule_skills_win_and_the_model_is_not_even_asked(standin: StandIn, transport: str) -> None:
    app = llm_app(standin, flask_aiflow_goodbye, flask_aiflow_menu)
    call = CallSimulator(app, transport=transport).start_call()
    turn = call.say("menu")
    assert turn.spoken == ["You can say billing or sales."]
    turn = call.say("sales")
    assert turn.spoken == ["Sales is open from nine to five."]
    call.say("bye").expect_speech(containing="Goodbye from the rules!")
    settle(app)
    assert standin.requests == []


def test_the_model_transfers_to_a_configured_destination(standin: StandIn, transport: str) -> None:
    standin.reply(Reply(chunks=words("I'll connect you."), tool_calls=[("transfer_call", '{"destination": "support"}')]))
    app = llm_app(standin, transfers={"support": SUPPORT})
    call = CallSimulator(app, transport=transport).start_call()
    call.say("my internet is down")
    settle(app)
    hear_the_rest(call)
    assert [text for text in spoken(call) if text != FILLER] == ["I'll connect you."]
    assert call.ended
    assert any(turn.action is not None and turn.action.type == "transfer" for turn in call.turns)
    transfers = [turn.action for turn in call.turns if turn.action is not None and turn.action.type == "transfer"]
    assert transfers[0].target_phone_number == "+4930111111"  # type: ignore[union-attr]


def test_a_refused_tool_call_is_answered_safely_and_the_call_goes_on(standin: StandIn) -> None:
    standin.reply(Reply(tool_calls=[("transfer_call", '{"destination": "+4917012345"}')]), "How else can I help?")
    app = llm_app(standin, transfers={"support": SUPPORT})
    call = CallSimulator(app).start_call()
    call.say("transfer me to plus four nine one seven")
    settle(app)
    hear_the_rest(call)
    assert "Sorry, I can't do that. Is there anything else I can help you with?" in spoken(call)
    assert not call.ended
    call.say("what else?")
    settle(app)
    hear_the_rest(call)
    assert spoken(call)[-1] == "How else can I help?"


def test_the_model_hands_the_caller_back_to_the_menu(standin: StandIn) -> None:
    standin.reply(Reply(tool_calls=[("open_menu", "{}")]))
    app = llm_app(standin, flask_aiflow_menu, menu=True)
    call = CallSimulator(app).start_call()
    call.say("what can I do here?")
    settle(app)
    hear_the_rest(call)
    assert spoken(call)[-1] == "You can say billing or sales."
    call.say("billing").expect_transfer(to="+4930222222")
    assert len(standin.requests) == 1  # the menu took the reply, not the model


@pytest.mark.parametrize("failure", [Reply(status=500), Reply(status=429), Reply(chunks=words("Half a"), drop_after=1)])
def test_failures_give_the_apology_and_the_call_goes_on(standin: StandIn, transport: str, failure: Reply) -> None:
    standin.reply(failure)
    app = llm_app(standin)
    call = CallSimulator(app, transport=transport).start_call()
    call.say("hello?")
    settle(app)
    hear_the_rest(call)
    assert [text for text in spoken(call) if text != FILLER] == [APOLOGY]
    assert not call.ended
    call.hang_up()


def test_failure_can_transfer_to_a_person(standin: StandIn) -> None:
    standin.reply(Reply(status=500))
    app = llm_app(standin, transfers={"support": SUPPORT}, on_failure="support")
    call = CallSimulator(app).start_call()
    call.say("hello?")
    settle(app)
    hear_the_rest(call)
    assert [text for text in spoken(call) if text != FILLER] == [APOLOGY]
    assert call.ended


def test_the_conversation_so_far_is_sent_and_no_phone_number(standin: StandIn) -> None:
    standin.reply("Hello! How can I help?", "Nine to five.")
    app = llm_app(standin, system_prompt="You are the hotline.")
    call = CallSimulator(app).start_call(from_="+4915199999999")
    call.say("hi there")
    settle(app)
    hear_the_rest(call)
    call.say("when are you open?")
    settle(app)
    hear_the_rest(call)
    chat = standin.requests[1]["messages"]
    assert chat[0] == {"role": "system", "content": "You are the hotline."}
    assert [(m["role"], m["content"]) for m in chat[1:]] == [
        ("user", "hi there"), ("assistant", "Hello! How can I help?"), ("user", "when are you open?"),
    ]
    assert "+49151" not in str(standin.requests)


def test_found_through_its_entry_point(standin: StandIn) -> None:
    app = make_app(
        AIFLOW_LOAD_ENTRY_POINTS=True,
        AIFLOW_SKILLS=["llm"],
        AIFLOW_LLM={"model": "m", "base_url": standin.base_url, "api_key": "k"},
    )
    info = app.extensions["aiflow"].registry.get("llm")
    assert (info.package, info.version, info.priority) == ("flask-aiflow-llm", "0.1.0", 20)


def test_without_configuration_the_skill_is_idle(standin: StandIn) -> None:
    app = make_app(flask_aiflow_llm)
    call = CallSimulator(app).start_call()
    call.say("hello")
    assert standin.requests == []


def test_start_up_errors_name_their_place(monkeypatch: pytest.MonkeyPatch) -> None:
    from flask_aiflow import SkillConfigError

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(SkillConfigError, match=r"AIFLOW_LLM: cannot set up the endpoint's client"):
        make_app(flask_aiflow_llm, AIFLOW_LLM={"model": "m"})
    with pytest.raises(SkillConfigError, match=r'AIFLOW_LLM\["menu"\]: needs AIFLOW_MENU'):
        make_app(flask_aiflow_llm, AIFLOW_LLM={"model": "m", "api_key": "k", "menu": True})
    with pytest.raises(SkillConfigError, match=r"reopen_after_prompt"):
        make_app(
            flask_aiflow_llm, flask_aiflow_menu,
            AIFLOW_LLM={"model": "m", "api_key": "k", "menu": True},
            AIFLOW_MENU={**MENU, "reopen_after_prompt": False},
        )
