"""examples/assistant_app.py: the IVR's rule skills plus the LLM skill, against the stand-in model.

In process through the simulator, and served by gunicorn over real HTTP and
a real WebSocket, configured only from the environment as the README says.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator

import pytest
from flask import Flask

from flask_aiflow import get_state
from flask_aiflow.config import DEFAULTS
from flask_aiflow.testing import CallSimulator, SimulatedCall
from plugins.llm.tests.standin import Reply, StandIn, words
from tests.server import gunicorn

SECRET = "dev-secret"
FILLER = DEFAULTS["AIFLOW_DEFERRED_FILLER"]
PROMPT = "You can say billing, support or sales, or just ask me."
REPLY = "We are open from nine to five. Anything else?"


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture
def environment(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "OPENAI_BASE_URL": standin.base_url,
        "OPENAI_API_KEY": "unused",
        "AIFLOW_LLM_MODEL": "standin-model",
        "AIFLOW_SHARED_SECRET": SECRET,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def assistant_app() -> Flask:
    sys.modules.pop("examples.assistant_app", None)  # its app reads the environment on import
    module = importlib.import_module("examples.assistant_app")
    app: Flask = module.app
    return app


def heard(call: SimulatedCall) -> list[str]:
    return [text for turn in call.turns for text in turn.spoken if text != FILLER]


def test_rules_first_then_the_model(standin: StandIn, environment: dict[str, str]) -> None:
    standin.reply(REPLY)
    app = assistant_app()
    call = CallSimulator(app).start_call()
    call.greeting.expect_speech(containing=PROMPT)
    call.say("when are you open?")
    assert get_state(app).deferrals.join(10)
    call.silence()
    assert heard(call)[-2:] == ["We are open from nine to five.", "Anything else?"]
    assert standin.requests[0]["model"] == "standin-model"
    call.say("bye").expect_speech(containing="Goodbye! Have a great day!")  # the goodbye skill, not the model
    assert len(standin.requests) == 1


def test_a_choice_right_after_the_greeting_goes_to_the_menu(standin: StandIn, environment: dict[str, str]) -> None:
    call = CallSimulator(assistant_app()).start_call()
    call.say("billing").expect_speech(containing="Connecting you to billing.")
    assert standin.requests == []


def test_the_model_transfers_to_support_by_name(standin: StandIn, environment: dict[str, str]) -> None:
    standin.reply(Reply(chunks=words("Let me get you a person."),
                        tool_calls=[("transfer_call", '{"destination": "support"}')]))
    app = assistant_app()
    call = CallSimulator(app).start_call()
    call.say("my router keeps blinking red")
    assert get_state(app).deferrals.join(10)
    call.silence()
    call.speech_ends() if call.playing is not None else None
    assert "Connecting you to support." in heard(call)
    assert call.ended


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[StandIn, str]]:
    """The stand-in model and the example served by gunicorn (one server for both transports)."""
    model = StandIn().start()
    env = {
        "OPENAI_BASE_URL": model.base_url,
        "OPENAI_API_KEY": "unused",
        "AIFLOW_LLM_MODEL": "standin-model",
        "AIFLOW_SHARED_SECRET": SECRET,
    }
    try:
        with gunicorn("examples.assistant_app:app", env=env) as url:
            yield model, url
    finally:
        model.stop()


@pytest.mark.server
@pytest.mark.parametrize("transport", ["webhook", "websocket"])
def test_served_by_gunicorn_over_real_http_and_websocket(served: tuple[StandIn, str], transport: str) -> None:
    standin, url = served
    standin.reply(REPLY)
    # quiet_seconds: over a remote WebSocket, how long a reply may take to count as one;
    # the core waits up to the event budget for the first sentence before the filler.
    call = CallSimulator(url, secret=SECRET, transport=transport, quiet_seconds=1.5).start_call()
    call.greeting.expect_speech(containing=PROMPT)
    first = call.say("when are you open?")
    assert first.spoken and first.spoken[0] in (FILLER, "We are open from nine to five.")  # no dead air
    for _ in range(6):
        if heard(call)[-1:] == ["Anything else?"]:
            break
        if transport == "websocket":
            call.speech_ends() if call.playing is not None else call.wait_for_push()
        else:
            call.silence()
    assert heard(call)[-2:] == ["We are open from nine to five.", "Anything else?"]
    assert heard(call).count("We are open from nine to five.") == 1
    call.hang_up()
