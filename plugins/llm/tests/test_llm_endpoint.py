"""The responder against a stand-in OpenAI-compatible server, over real HTTP and real SSE.

These drive :meth:`Responder.answers` directly (the generator the core runs as
deferred work): what the caller would hear, sentence by sentence, for slow
first tokens, slow streams, tool calls, errors and broken connections.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask_aiflow_llm import config as llm_config
from flask_aiflow_llm.model import Responder, messages

from flask_aiflow import Candidate, Session, Speak, speak
from plugins.llm.tests.standin import Reply, StandIn, words

#: Deadline for waiting on the stand-in (a deadline, not a timing: never reached when things work).
WAIT = 10.0

SUPPORT = {"target": "+4930111111", "caller_id_name": "Support"}
SESSION = Session(id="call-1", direction="inbound", from_phone_number="+4917099999", to_phone_number="+4930123456")


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn().start()
    yield server
    server.stop()


def responder(standin: StandIn, *, menu_prompt: Candidate | None = None, **config: Any) -> Responder:
    parsed = llm_config.load(
        {"model": "standin-model", "base_url": standin.base_url, "api_key": "test-key", **config}
    )
    assert parsed is not None
    return Responder(parsed, menu_prompt=menu_prompt)


CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "When are you open?"}]


def said(answer: Speak | Candidate) -> tuple[str, ...]:
    """What an answer does, as text: the words spoken and the actions that follow."""
    actions = [answer] if isinstance(answer, Speak) else [answer.action, *answer.then]
    out = []
    for action in actions:
        data = action.to_dict() if not isinstance(action, dict) else action  # type: ignore[union-attr]
        out.append(data["text"] if data["type"] == "speak" else data["type"])
    return tuple(out)


def test_the_reply_streams_sentence_by_sentence(standin: StandIn) -> None:
    standin.reply("We are open from nine to five. On Saturdays until noon. Anything else?")
    answers = [said(answer) for answer in responder(standin).answers(CHAT)]
    assert answers == [("We are open from nine to five.",), ("On Saturdays until noon.",), ("Anything else?",)]
    request = standin.requests[0]
    assert request["stream"] is True and request["model"] == "standin-model"
    assert request["messages"] == CHAT


def test_the_first_sentence_is_out_before_the_model_writes_the_second(standin: StandIn) -> None:
    """A slow stream: the gate holds the second sentence back until the first has been handed on."""
    gate = threading.Event()
    chunks = words("Sure thing. Let me explain the rest.")
    standin.reply(Reply(chunks=chunks, gate_at=3, late_gate=gate))  # held before " Let"
    stream = responder(standin).answers(CHAT)
    assert said(next(stream)) == ("Sure thing.",)  # while the model is still "writing"
    gate.set()
    assert [said(answer) for answer in stream] == [("Let me explain the rest.",)]


def test_a_slow_first_token_blocks_only_the_work_not_the_caller(standin: StandIn) -> None:
    """The work waits for the first token; nothing is answered until then (the core fills meanwhile)."""
    gate = threading.Event()
    standin.reply(Reply(chunks=words("Here I am."), gate=gate))
    stream = responder(standin).answers(CHAT)
    first: list[Any] = []
    worker = threading.Thread(target=lambda: first.append(next(stream)))
    worker.start()
    assert standin.received.wait(WAIT)
    assert first == []  # held at the gate: the request is out, no answer yet
    gate.set()
    worker.join(WAIT)
    assert [said(answer) for answer in first] == [("Here I am.",)]


def test_closing_the_stream_hangs_up_on_the_model(standin: StandIn) -> None:
    """A barge-in closes the generator: the HTTP stream is closed and the rest is never read."""
    standin.reply(Reply(chunks=words("First part. More words. Even more."), hold_at=4))
    stream = responder(standin).answers(CHAT)
    assert said(next(stream)) == ("First part.",)
    stream.close()
    assert standin.hung_up.wait(WAIT)


class TestTools:
    def test_an_allowed_transfer(self, standin: StandIn) -> None:
        standin.reply(Reply(chunks=words("Let me connect you."),
                            tool_calls=[("transfer_call", '{"destination": "support"}')]))
        answers = list(responder(standin, transfers={"support": SUPPORT}).answers(CHAT))
        assert [said(answer) for answer in answers] == [("Let me connect you.",), ("transfer",)]
        assert answers[-1].action.target_phone_number == "+4930111111"  # type: ignore[union-attr]
        tools = standin.requests[0]["tools"]
        assert [tool["function"]["name"] for tool in tools] == ["transfer_call", "end_call"]

    def test_a_goodbye_then_the_hang_up(self, standin: StandIn) -> None:
        standin.reply(Reply(tool_calls=[("end_call", '{"farewell": "Goodbye and take care!"}')]))
        answers = list(responder(standin).answers(CHAT))
        assert [said(answer) for answer in answers] == [("Goodbye and take care!", "hangup")]

    def test_back_to_the_menu(self, standin: StandIn) -> None:
        menu = Candidate(speak("You can say billing or support."))
        standin.reply(Reply(tool_calls=[("open_menu", "{}")]))
        answers = list(responder(standin, menu_prompt=menu, menu=True).answers(CHAT))
        assert [said(answer) for answer in answers] == [("You can say billing or support.",)]

    @pytest.mark.parametrize(
        "tool_calls",
        [
            [("transfer_call", '{"destination": "+4917012345"}')],
            [("transfer_call", '{"destination": "sales"}')],
            [("transfer_call", '{"destinat')],
            [("run_shell", '{"command": "rm -rf /"}')],
            [("end_call", "{}"), ("transfer_call", '{"destination": "support"}')],
        ],
    )
    def test_refused_tool_calls_are_logged_and_answered_safely(
        self, standin: StandIn, tool_calls: list[tuple[str, str]], caplog: pytest.LogCaptureFixture
    ) -> None:
        standin.reply(Reply(chunks=words("Okay."), tool_calls=tool_calls))
        with caplog.at_level(logging.WARNING, logger="flask_aiflow.llm"):
            answers = list(responder(standin, transfers={"support": SUPPORT}).answers(CHAT))
        assert [said(answer) for answer in answers] == [
            ("Okay.",), ("Sorry, I can't do that. Is there anything else I can help you with?",)
        ]
        assert "refused a tool call" in caplog.text
        assert all(action.type == "speak" for action in [answers[-1].action, *answers[-1].then])  # type: ignore[union-attr]


class TestFailures:
    APOLOGY = ("Sorry, I can't answer that right now.",)

    @pytest.mark.parametrize("status", [500, 429, 503])
    def test_an_error_status_gives_the_apology(self, standin: StandIn, status: int) -> None:
        standin.reply(Reply(status=status))
        assert [said(answer) for answer in responder(standin).answers(CHAT)] == [self.APOLOGY]

    def test_the_endpoint_down_gives_the_apology(self, standin: StandIn) -> None:
        down = responder(standin)
        standin.stop()
        assert [said(answer) for answer in down.answers(CHAT)] == [self.APOLOGY]

    def test_a_timeout_gives_the_apology(self, standin: StandIn) -> None:
        gate = threading.Event()  # never opened while the client waits
        standin.reply(Reply(chunks=words("Too late."), gate=gate))
        try:
            answers = [said(answer) for answer in responder(standin, timeout_seconds=0.2).answers(CHAT)]
        finally:
            gate.set()
        assert answers == [self.APOLOGY]

    def test_a_connection_dropped_mid_stream(self, standin: StandIn, caplog: pytest.LogCaptureFixture) -> None:
        standin.reply(Reply(chunks=words("The first part arrives. The second never"), drop_after=5))
        with caplog.at_level(logging.WARNING, logger="flask_aiflow.llm"):
            answers = [said(answer) for answer in responder(standin).answers(CHAT)]
        assert answers == [("The first part arrives.",), self.APOLOGY]
        assert "after 1 sentence" in caplog.text

    def test_an_empty_reply_gives_the_apology(self, standin: StandIn) -> None:
        standin.reply(Reply(chunks=[]))
        assert [said(answer) for answer in responder(standin).answers(CHAT)] == [self.APOLOGY]

    def test_failure_can_transfer_to_a_person(self, standin: StandIn) -> None:
        standin.reply(Reply(status=500))
        answers = list(responder(standin, transfers={"support": SUPPORT}, on_failure="support").answers(CHAT))
        assert [said(answer) for answer in answers] == [(*self.APOLOGY, "transfer")]


class TestMessages:
    config = llm_config.load({"model": "m", "history": 3, "system_prompt": "Be brief."})
    roomy = llm_config.load({"model": "m", "history": 10, "system_prompt": "Be brief."})

    def transcript(self, *turns: tuple[str, str]) -> list[dict[str, Any]]:
        return [{"role": role, "text": text, "at": 0} for role, text in turns]

    def test_the_transcript_is_the_conversation_bounded(self) -> None:
        assert self.config is not None
        turns = self.transcript(("caller", "hi"), ("assistant", "Hello!"), ("caller", "open?"),
                                ("assistant", "Nine to five."), ("caller", "and Sunday?"))
        chat = messages(self.config, turns, "and Sunday?", SESSION)
        assert chat == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "open?"},
            {"role": "assistant", "content": "Nine to five."},
            {"role": "user", "content": "and Sunday?"},
        ]

    def test_a_reply_said_sentence_by_sentence_is_one_message_and_fillers_are_left_out(self) -> None:
        assert self.config is not None
        turns = self.transcript(("caller", "hi"), ("assistant", "One moment."), ("assistant", "Hello!"),
                                ("assistant", "How can I help?"), ("caller", "open?"))
        assert self.roomy is not None
        chat = messages(self.roomy, turns, "open?", SESSION, fillers={"One moment."})
        assert chat[1:] == [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "open?"},
        ]

    def test_without_a_transcript_the_utterance_is_the_conversation(self) -> None:
        assert self.config is not None
        assert messages(self.config, [], "hello", SESSION)[1:] == [{"role": "user", "content": "hello"}]

    def test_the_callers_number_is_not_sent_unless_configured(self) -> None:
        assert self.config is not None
        chat = messages(self.config, [], "hello", SESSION)
        assert "+49" not in json.dumps(chat)
        sharing = llm_config.load({"model": "m", "share_caller_number": True})
        assert sharing is not None
        assert "+4917099999" in messages(sharing, [], "hello", SESSION)[0]["content"]
