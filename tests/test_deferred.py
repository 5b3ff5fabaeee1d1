"""Slow work (``Deferred``): whole calls through the simulator, over the webhook and WebSocket.

The slow skill is tests/skills/orders.py, a third-party-style CRM lookup whose
work waits for a gate the test opens (a file), so every test decides when
the work finishes; ``Deferrals.join`` then waits (bounded) until the work has
handed its answer to the call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_aiflow_timeout
import pytest
from flask import Flask

from flask_aiflow import Candidate, Deferred, Speak, get_state, signals
from flask_aiflow.config import DEFAULTS, ConfigurationError, load_settings
from flask_aiflow.testing import CallSimulator
from flask_aiflow.testing.errors import SimulationError

from .helpers import make_app
from .skills import echo, orders

APOLOGY = DEFAULTS["AIFLOW_DEFERRED_APOLOGY"]
HOLD = DEFAULTS["AIFLOW_DEFERRED_HOLD"]


class Gates:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def open(self, name: str, content: str = "ok") -> None:
        """Open the gate at once with its content (written aside, then renamed into place)."""
        aside = self.directory / f".{name}.tmp"
        aside.write_text(content)
        aside.rename(self.directory / name)

    def closed(self, name: str) -> bool:
        return (self.directory / f"{name}-closed").exists()


@pytest.fixture
def gates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Gates:
    monkeypatch.setenv("AIFLOW_TEST_GATE_DIR", str(tmp_path))
    return Gates(tmp_path)


@pytest.fixture
def app() -> Flask:
    return make_app(echo, orders, flask_aiflow_timeout)


@pytest.fixture
def outcomes(app: Flask) -> Iterator[list[dict[str, Any]]]:
    """Every ``deferred_done`` of the app; ``outcomes.arrived`` is set on each."""
    seen: list[dict[str, Any]] = []
    arrived = threading.Event()

    def receive(sender: Any, **extra: Any) -> None:
        seen.append(extra)
        arrived.set()

    with signals.deferred_done.connected_to(receive, app):
        yield seen


def settle(app: Flask) -> None:
    """Wait (bounded) until no slow work of the app is running."""
    assert get_state(app).deferrals.join(10), "the slow work did not finish within 10 s"


def said(call: Any, text: str) -> int:
    """How often the assistant said ``text`` in the whole call."""
    return sum(1 for turn in call.turns for spoken in turn.spoken if spoken == text)


def wait_for(outcomes: list[dict[str, Any]], outcome: str) -> dict[str, Any]:
    deadline = threading.Event()
    for _ in range(1000):
        for item in outcomes:
            if item["outcome"] == outcome:
                return item
        deadline.wait(0.01)
    raise AssertionError(f"no deferred_done with outcome {outcome!r} within 10 s: {outcomes}")


# -- webhook ------------------------------------------------------------------------------


def test_webhook_the_filler_arms_a_poll_and_the_answer_follows_its_end(app: Flask, gates: Gates, outcomes: Any) -> None:
    call = CallSimulator(app).start_call()
    turn = call.say("where is my order")
    assert isinstance(turn.action, Speak)
    assert turn.action.text == orders.FILLER
    assert turn.action.user_input_timeout_seconds == DEFAULTS["AIFLOW_DEFERRED_POLL_SECONDS"]
    assert turn.decision is not None and turn.decision.winner is not None
    assert turn.decision.winner.skill == "orders" and turn.decision.winner.deferred is not None
    gates.open(call.session_id)
    settle(app)
    turn = call.silence()  # the filler ends: the answer answers assistant_speech_ended
    turn.expect_speech(containing=orders.ANSWER)
    assert turn.exchanges[0].event["type"] == "assistant_speech_ended"
    call.silence()
    call.hang_up()
    assert said(call, orders.ANSWER) == 1
    assert [item["outcome"] for item in outcomes] == ["answered"]
    assert outcomes[0]["skill"] == "orders" and outcomes[0]["seconds"] > 0


def test_webhook_polls_hold_the_line_and_are_not_the_callers_silence(app: Flask, gates: Gates) -> None:
    call = CallSimulator(app).start_call()
    call.say("where is my order")
    first = call.silence()  # the filler ends, then the armed poll fires: still running
    assert first.main is not None and first.main.event["type"] == "user_input_timeout"
    assert first.spoken == [HOLD]
    assert first.decision is not None and first.decision.candidates[0].skill == "orders"
    assert len(first.decision.candidates) == 1  # the timeout skill was not asked
    second = call.silence()
    assert second.spoken == [HOLD]
    gates.open(call.session_id)
    settle(app)
    third = call.silence()
    assert third.spoken == [orders.ANSWER]
    assert said(call, orders.ANSWER) == 1
    record = get_state(app).store.load_record(call.session_id)
    assert record is not None and "timeout" not in record.skills  # no silence was counted
    assert record.deferred is None
    assert "Are you still there?" not in [text for turn in call.turns for text in turn.spoken]


def test_webhook_a_newer_turn_drops_the_late_answer(app: Flask, gates: Gates, outcomes: Any) -> None:
    call = CallSimulator(app).start_call()
    call.say("where is my order")
    turn = call.say("hello")
    assert turn.spoken == ["You said: hello"]
    assert turn.decision is not None
    assert any("dropped" in note for note in turn.decision.notes)
    assert [item["outcome"] for item in outcomes] == ["dropped"]
    gates.open(call.session_id)
    settle(app)
    call.silence()
    call.silence()
    call.hang_up()
    assert said(call, orders.ANSWER) == 0
    assert said(call, orders.FILLER) == 1


@pytest.mark.slow  # waits out the 0.3 s deadline on the real clock
def test_webhook_a_missed_deadline_gives_the_apology(app: Flask, gates: Gates, outcomes: Any) -> None:
    call = CallSimulator(app).start_call()
    call.say("order in a hurry")
    done = wait_for(outcomes, "timeout")
    assert done["seconds"] >= 0.3
    turn = call.silence()
    assert turn.spoken == [APOLOGY]
    gates.open(call.session_id)  # the CRM answers after all: too late
    settle(app)
    call.silence()
    assert said(call, orders.ANSWER) == 0
    assert said(call, APOLOGY) == 1


def test_webhook_raising_work_gives_the_apology(app: Flask, gates: Gates, outcomes: Any) -> None:
    call = CallSimulator(app).start_call()
    call.say("where is my order")
    gates.open(call.session_id, "raise")
    settle(app)
    assert [item["outcome"] for item in outcomes] == ["raised"]
    assert "ConnectionError: the CRM is down" in outcomes[0]["message"]
    turn = call.silence()
    assert turn.spoken == [APOLOGY]


def test_work_with_nothing_to_say_gives_the_apology(app: Flask, gates: Gates, outcomes: Any, monkeypatch: Any) -> None:
    call = CallSimulator(app).start_call()
    call.say("where is my order")
    gates.open(call.session_id, "ok")
    monkeypatch.setattr(orders, "ANSWER", None)
    settle(app)
    assert [item["outcome"] for item in outcomes] == ["empty"]
    assert call.silence().spoken == [APOLOGY]


def test_without_filler_a_quick_answer_is_the_direct_answer(app: Flask) -> None:
    call = CallSimulator(app).start_call()
    turn = call.say("order quickly")
    assert turn.spoken == [orders.ANSWER]
    assert isinstance(turn.action, Speak) and turn.action.user_input_timeout_seconds is None
    assert turn.decision is not None
    assert any("answered within the event budget" in note for note in turn.decision.notes)
    call.silence()
    assert said(call, orders.ANSWER) == 1


def test_webhook_answer_then_follow_up_hang_up(app: Flask, gates: Gates) -> None:
    call = CallSimulator(app).start_call()
    call.say("order, goodbye")
    gates.open(call.session_id)
    settle(app)
    turn = call.silence()
    assert orders.FAREWELL in turn.spoken
    turn.expect_hangup()
    assert call.ended


def test_still_relevant_keeps_the_answer_through_a_newer_turn(app: Flask, gates: Gates) -> None:
    call = CallSimulator(app).start_call()
    call.say("order, still wanted")
    turn = call.say("hello")
    assert turn.spoken == ["You said: hello"]
    gates.open(call.session_id)
    settle(app)
    assert call.silence().spoken == [orders.ANSWER]


# -- WebSocket --------------------------------------------------------------------------------


def test_websocket_the_answer_is_pushed_when_the_filler_has_ended(app: Flask, gates: Gates) -> None:
    call = CallSimulator(app, transport="websocket").start_call()
    turn = call.say("where is my order")
    assert isinstance(turn.action, Speak) and turn.action.text == orders.FILLER
    assert turn.action.user_input_timeout_seconds is None  # no polling: answers are pushed
    call.speech_ends()
    gates.open(call.session_id)
    pushed = call.wait_for_push()
    assert pushed.spoken == [orders.ANSWER]
    call.speech_ends()
    call.hang_up()
    assert said(call, orders.ANSWER) == 1


def test_websocket_an_answer_ready_before_the_filler_ends_answers_its_end(app: Flask, gates: Gates) -> None:
    call = CallSimulator(app, transport="websocket").start_call()
    call.say("where is my order")
    gates.open(call.session_id)
    settle(app)  # ready while the filler still plays: it waits for the filler's end
    turn = call.speech_ends()
    assert turn.spoken == [orders.ANSWER]
    call.speech_ends()
    call.hang_up()  # a second message would have been a protocol violation
    assert said(call, orders.ANSWER) == 1


def test_websocket_interrupt_cuts_the_filler_short(app: Flask, gates: Gates) -> None:
    call = CallSimulator(app, transport="websocket").start_call()
    call.say("order, cut in")
    assert call.playing is not None
    gates.open(call.session_id)
    first = call.wait_for_push()
    assert first.main is not None and first.main.action is not None and first.main.action.type == "barge_in"
    assert any("interrupted" in note for note in first.notes)
    second = call.wait_for_push()
    assert second.spoken == [orders.ANSWER]
    call.speech_ends()
    call.hang_up()
    assert said(call, orders.ANSWER) == 1


@pytest.mark.slow  # waits out the 0.3 s deadline on the real clock
def test_websocket_a_missed_deadline_pushes_the_apology(app: Flask, gates: Gates) -> None:
    call = CallSimulator(app, transport="websocket").start_call()
    call.say("order in a hurry")
    call.speech_ends()
    turn = call.wait_for_push()
    assert turn.spoken == [APOLOGY]
    gates.open(call.session_id)
    settle(app)
    call.speech_ends()
    call.hang_up()
    assert said(call, orders.ANSWER) == 0


def test_websocket_a_stream_is_said_sentence_by_sentence(app: Flask, gates: Gates) -> None:
    call = CallSimulator(app, transport="websocket").start_call()
    call.say("order details")
    call.speech_ends()
    gates.open(call.session_id)
    assert call.wait_for_push().spoken == ["Your order has shipped."]
    settle(app)
    assert call.speech_ends().spoken == ["It left our warehouse yesterday."]
    assert call.speech_ends().spoken == ["It arrives tomorrow."]
    assert call.speech_ends().spoken == []
    call.hang_up()


def test_websocket_a_barge_in_closes_the_rest_of_a_stream(app: Flask, gates: Gates, outcomes: Any) -> None:
    call = CallSimulator(app, transport="websocket").start_call()
    call.say("order story")
    call.speech_ends()
    gates.open(call.session_id)
    assert call.wait_for_push().spoken == ["Your order has shipped."]
    turn = call.barge_in("stop please", after_ms=500)
    assert turn.delivered and turn.spoken == ["You said: stop please"]
    gates.open(f"{call.session_id}-more")
    settle(app)
    assert gates.closed(call.session_id)
    call.speech_ends()
    call.hang_up()
    assert said(call, "And here is more about it.") == 0
    assert [item["outcome"] for item in outcomes] == ["dropped"]


def test_websocket_a_newer_turn_drops_the_late_answer(app: Flask, gates: Gates) -> None:
    call = CallSimulator(app, transport="websocket").start_call()
    call.say("where is my order")
    call.speech_ends()
    call.say("hello")
    gates.open(call.session_id)
    settle(app)
    call.speech_ends()
    call.hang_up()  # a pushed answer would have arrived here, as a second message
    assert said(call, orders.ANSWER) == 0


def test_wait_for_push_needs_a_websocket(app: Flask) -> None:
    call = CallSimulator(app).start_call()
    with pytest.raises(Exception, match="WebSocket"):
        call.wait_for_push(timeout=0)


def test_wait_for_push_says_when_nothing_came(app: Flask) -> None:
    call = CallSimulator(app, transport="websocket").start_call()
    with pytest.raises(SimulationError, match="pushed nothing"):
        call.wait_for_push(timeout=0)


# -- the type and the configuration ----------------------------------------------------------


def test_deferred_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="work must be callable"):
        Deferred(work="not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="deadline"):
        Deferred(work=lambda: None, deadline=0)
    with pytest.raises(ValueError, match="deadline"):
        Deferred(work=lambda: None, deadline=True)
    with pytest.raises(ValueError, match="priority"):
        Deferred(work=lambda: None, priority=-1)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("AIFLOW_DEFERRED_DEADLINE", 0),
        ("AIFLOW_DEFERRED_APOLOGY", ""),
        ("AIFLOW_DEFERRED_FILLER", {"type": "hangup"}),
        ("AIFLOW_DEFERRED_HOLD", {"type": "audio", "audio": "x"}),
        ("AIFLOW_DEFERRED_POLL_SECONDS", -1),
        ("AIFLOW_DEFERRED_WORKERS", 0),
    ],
)
def test_bad_slow_work_settings_fail_at_start_up(key: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=key):
        load_settings({**DEFAULTS, key: value})


def test_the_apology_may_escalate_to_a_transfer(gates: Gates) -> None:
    app = make_app(
        echo,
        orders,
        AIFLOW_DEFERRED_APOLOGY={"type": "transfer", "target_phone_number": "+4921100000", "caller_id_name": "Desk", "caller_id_number": "+4921100000"},
    )
    call = CallSimulator(app).start_call()
    call.say("where is my order")
    gates.open(call.session_id, "raise")
    settle(app)
    call.silence().expect_transfer(to="+4921100000")
    assert call.ended


def test_a_losing_deferred_never_starts_its_work(gates: Gates) -> None:
    started = threading.Event()

    class Loud:
        AIFLOW_NAME = "loud"

        @staticmethod
        def aiflow_user_speak(event: Any) -> Any:
            return Candidate("Loud wins.", priority=99)

    from flask_aiflow import hookimpl

    class Slow:
        AIFLOW_NAME = "slow"

        @hookimpl
        def aiflow_user_speak(self, event: Any) -> Any:
            return Deferred(work=started.set, filler="Hold on.")

    Loud.aiflow_user_speak = hookimpl(Loud.aiflow_user_speak)  # type: ignore[method-assign]
    app = make_app(Loud(), Slow())
    call = CallSimulator(app).start_call()
    assert call.say("hi").spoken == ["Loud wins."]
    settle(app)
    assert not started.is_set()
    assert get_state(app).deferrals.running == 0


def test_without_filler_a_stream_answers_with_its_first_sentence_and_pushes_the_rest(gates: Gates) -> None:
    from flask_aiflow import hookimpl

    class Teller:
        AIFLOW_NAME = "teller"

        @hookimpl
        def aiflow_user_speak(self, event: Any) -> Any:
            def sentences() -> Iterator[str]:
                yield "First."
                yield "Second."

            return Deferred(work=sentences)

    app = make_app(Teller())
    call = CallSimulator(app, transport="websocket").start_call()
    assert call.say("tell me").spoken == ["First."]
    settle(app)
    assert call.speech_ends().spoken == ["Second."]
    assert call.speech_ends().spoken == []
    call.hang_up()
