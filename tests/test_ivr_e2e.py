"""Whole calls against the IVR example (examples/ivr_app.py) served by gunicorn.

Every scenario runs twice: over real HTTP (one POST per event) and over a real
WebSocket (one connection per call, as the service does it). The built-in
skills are found through their entry points, as installed by
tests/requirements.txt, exactly as in production.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from simple_websocket import Client

from .helpers import SECRET, assert_next_answers, event
from .server import gunicorn

pytestmark = pytest.mark.server

GREETING = "Welcome to AI Flow! How can I help you today? You can say billing, support or sales."
PROMPT = "You can say billing, support or sales."
REPROMPT = "Sorry, I didn't catch that. You can say billing, support or sales."
SUPPORT = "Is it about your internet or your phone?"
BARGE_IN = {"strategy": "minimum_characters", "minimum_characters": 3}
SUPPORT_TEAM = {"target_phone_number": "+1234567890", "caller_id_name": "Support Team", "caller_id_number": "+1234567890"}
VIP_CALLER = "+4917012345678"
VIP_SETTINGS = {"numbers": [VIP_CALLER], "transfer": {"target": "+4921155555555", "caller_id_name": "VIP line"}}
EXTENDED_SKILLS = ["goodbye", "menu", "greeting", "timeout", "vip"]


def attempt(n: int) -> str:
    return f"I didn't hear anything. Please respond. Attempt {n} of 3."


# -- one call, over either transport ----------------------------------------------------


class PhoneCall:
    """Plays one call's events; ``ask`` expects an action back, ``tell`` expects none."""

    _ids = iter(range(1, 1_000_000))

    def __init__(self, base: str, caller: str | None) -> None:
        self.base = base
        self.id = f"ivr-call-{next(self._ids)}"
        self.caller = caller

    def event(self, type_: str, **fields: Any) -> dict[str, Any]:
        data = event(type_, self.id, **fields)
        if self.caller is not None:
            data["session"]["from_phone_number"] = self.caller
        return data

    def ask(self, type_: str, **fields: Any) -> dict[str, Any]:
        raise NotImplementedError

    def tell(self, type_: str, **fields: Any) -> None:
        raise NotImplementedError

    def say(self, text: str, **fields: Any) -> dict[str, Any]:
        return self.ask("user_speak", text=text, **fields)

    def hears(self, text: str, **fields: Any) -> str:
        """What the caller hears in reply to saying ``text``."""
        action = self.say(text, **fields)
        assert action["type"] == "speak", action
        return str(action["text"])

    def end(self) -> None:
        self.tell("session_end")

    def close(self) -> None:
        pass


class HttpCall(PhoneCall):
    def post(self, type_: str, fields: dict[str, Any]) -> requests.Response:
        return requests.post(
            f"{self.base}/webhook", json=self.event(type_, **fields), headers={"X-API-TOKEN": SECRET}, timeout=10
        )

    def ask(self, type_: str, **fields: Any) -> dict[str, Any]:
        response = self.post(type_, fields)
        assert response.status_code == 200, (type_, response.status_code, response.text)
        action: dict[str, Any] = response.json()
        assert action.pop("session_id") == self.id
        return action

    def tell(self, type_: str, **fields: Any) -> None:
        response = self.post(type_, fields)
        assert response.status_code == 204, (type_, response.status_code, response.text)


class WebSocketCall(PhoneCall):
    """One connection per call.

    The server answers a connection's messages one by one, in order, so an
    action sent for an event we ``tell`` would arrive before the reply to the
    next ``ask`` and fail it. For events told after the last ``ask``, ``end``
    starts another call on the connection: its greeting must come next.
    """

    def __init__(self, base: str, caller: str | None) -> None:
        super().__init__(base, caller)
        url = base.replace("http://", "ws://") + "/ws"
        self.ws = Client.connect(url, headers={"X-API-TOKEN": SECRET})
        self.unanswered: list[str] = []

    def ask(self, type_: str, **fields: Any) -> dict[str, Any]:
        self.ws.send(json.dumps(self.event(type_, **fields)))
        reply = self.ws.receive(timeout=10)
        assert reply is not None, f"no action for {type_}"
        action: dict[str, Any] = json.loads(reply)
        assert action.pop("session_id") == self.id, action
        self.unanswered.clear()
        return action

    def tell(self, type_: str, **fields: Any) -> None:
        self.ws.send(json.dumps(self.event(type_, **fields)))
        self.unanswered.append(type_)

    def end(self) -> None:
        told = bool(self.unanswered)
        self.tell("session_end")
        if told:
            probe = event("session_start", f"{self.id}-probe")
            assert_next_answers(self.ws, probe, before=f"one of {self.unanswered}")
            self.ws.send(json.dumps(event("session_end", f"{self.id}-probe")))

    def close(self) -> None:
        self.ws.close()


Dial = Callable[..., PhoneCall]


def dialer(base: str, transport: str) -> Iterator[Dial]:
    calls: list[PhoneCall] = []

    def dial(caller: str | None = None) -> PhoneCall:
        call = (HttpCall if transport == "http" else WebSocketCall)(base, caller)
        calls.append(call)
        return call

    yield dial
    for call in calls:
        call.close()


# -- servers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ivr_url() -> Iterator[str]:
    with gunicorn("examples.ivr_app:app", env={"AIFLOW_SHARED_SECRET": SECRET}) as url:
        yield url


@pytest.fixture(scope="module")
def extended_url() -> Iterator[str]:
    """The IVR plus a crashing skill and the VIP skill from examples/vip-skill, at its own priority."""
    env = {
        "AIFLOW_SHARED_SECRET": SECRET,
        "FLASK_AIFLOW_SKILLS": json.dumps(EXTENDED_SKILLS),
        "FLASK_AIFLOW_VIP": json.dumps(VIP_SETTINGS),
    }
    with gunicorn("tests.apps.ivr_extended:app", env=env) as url:
        yield url


@pytest.fixture(scope="module")
def reweighted_url() -> Iterator[str]:
    """The same, with the VIP skill re-weighted below the greeting."""
    env = {
        "AIFLOW_SHARED_SECRET": SECRET,
        "FLASK_AIFLOW_SKILLS": json.dumps(EXTENDED_SKILLS),
        "FLASK_AIFLOW_VIP": json.dumps(VIP_SETTINGS),
        "FLASK_AIFLOW_SKILL_PRIORITIES": json.dumps({"vip": 10}),
    }
    with gunicorn("tests.apps.ivr_extended:app", env=env) as url:
        yield url


@pytest.fixture(params=["http", "websocket"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def dial(ivr_url: str, transport: str) -> Iterator[Dial]:
    yield from dialer(ivr_url, transport)


@pytest.fixture
def dial_extended(extended_url: str, transport: str) -> Iterator[Dial]:
    yield from dialer(extended_url, transport)


@pytest.fixture
def dial_reweighted(reweighted_url: str, transport: str) -> Iterator[Dial]:
    yield from dialer(reweighted_url, transport)


def answered(call: PhoneCall) -> PhoneCall:
    """Start the call and check the greeting."""
    assert call.ask("session_start")["text"] == GREETING
    return call


# -- the scenarios ------------------------------------------------------------------------


def test_greeting_as_in_the_reference(dial: Dial) -> None:
    call = dial()
    assert call.ask("session_start") == {
        "type": "speak",
        "text": GREETING,
        "barge_in": BARGE_IN,
        "user_input_timeout_seconds": 8,
    }
    call.tell("assistant_speak", text=GREETING, duration_ms=4200, speech_started_at=1700000000000)
    call.tell("assistant_speech_ended")
    call.end()


@pytest.mark.parametrize("said", ["Billing, please.", "Ich habe eine Frage zur Abrechnung!", "one"])
def test_menu_choice_spoken_over_the_greeting(dial: Dial, said: str) -> None:
    call = answered(dial())
    call.tell("assistant_speak", text=GREETING, duration_ms=4200, speech_started_at=1700000000000)
    announce = call.say(said, barged_in=True)
    assert announce == {"type": "speak", "text": "Connecting you to billing.", "barge_in": BARGE_IN}
    assert call.ask("assistant_speech_ended") == {
        "type": "transfer",
        "target_phone_number": "+1234567891",
        "caller_id_name": "Billing",
        "caller_id_number": "+1234567890",
    }
    call.end()


def test_sub_menu_repeat_back_and_main_menu(dial: Dial) -> None:
    call = answered(dial())
    sub = call.say("I need help")
    assert sub == {"type": "speak", "text": SUPPORT, "barge_in": BARGE_IN, "user_input_timeout_seconds": 8}
    assert call.hears("Could you repeat that?") == SUPPORT
    assert call.hears("zurück") == PROMPT
    assert call.hears("two") == SUPPORT
    assert call.hears("internet") == "Please restart your router and wait two minutes."
    assert call.ask("assistant_speech_ended")["text"] == SUPPORT  # the menu stays open
    assert call.hears("Hauptmenü") == PROMPT
    assert call.hears("Vertrieb") == "Thanks for your interest! Our sales team will call you back today. Goodbye!"
    assert call.ask("assistant_speech_ended") == {"type": "hangup"}
    call.end()


def test_no_match_reprompts_then_escalates_to_a_person(dial: Dial) -> None:
    call = answered(dial())
    assert call.hears("maybe") == REPROMPT  # "bye" is not in "maybe": no goodbye
    assert call.hears("pizza") == REPROMPT
    assert call.hears("what?") == "Let me connect you to a person."
    assert call.ask("assistant_speech_ended") == {"type": "transfer", **SUPPORT_TEAM}
    call.end()


@pytest.mark.parametrize(
    ("route", "ask_for"),
    [
        ([], "agent"),
        (["support"], "Transfer me, please."),
        (["pizza"], "Einen Mitarbeiter bitte"),
        (["support", "internet"], "I want to talk to a person"),
    ],
)
def test_agent_or_transfer_from_anywhere(dial: Dial, route: list[str], ask_for: str) -> None:
    call = answered(dial())
    for said in route:
        call.say(said)
    assert call.say(ask_for) == {"type": "transfer", **SUPPORT_TEAM}
    call.end()


def test_silence_escalates_to_a_hang_up_on_the_third_timeout(dial: Dial) -> None:
    call = answered(dial())
    call.tell("assistant_speech_ended")
    first = call.ask("user_input_timeout")
    assert first == {"type": "speak", "text": attempt(1), "user_input_timeout_seconds": 5}
    assert call.ask("user_input_timeout")["text"] == attempt(2)
    assert call.hears("support") == SUPPORT  # speaking resets the count ...
    assert call.ask("user_input_timeout")["text"] == attempt(1)  # ... so this is the first again
    assert call.ask("user_input_timeout")["text"] == attempt(2)
    assert call.ask("user_input_timeout") == {"type": "hangup"}
    call.end()


@pytest.mark.parametrize("farewell", ["OK, bye!", "Tschüss", "That's all, thanks"])
def test_goodbye_then_hang_up_when_it_has_been_spoken(dial: Dial, farewell: str) -> None:
    call = answered(dial())
    call.say("support")
    assert call.say(farewell) == {"type": "speak", "text": "Goodbye! Have a great day!", "barge_in": {"strategy": "none"}}
    call.tell("assistant_speak", text="Goodbye! Have a great day!", duration_ms=1500, speech_started_at=1700000001000)
    assert call.ask("assistant_speech_ended") == {"type": "hangup"}
    call.end()


def test_two_interleaved_calls_keep_their_own_state(dial: Dial) -> None:
    first, second = dial(), dial()
    answered(first)
    answered(second)
    assert first.hears("support") == SUPPORT
    assert second.ask("user_input_timeout")["text"] == attempt(1)
    assert first.ask("user_input_timeout")["text"] == attempt(1)  # not the second call's count
    assert second.hears("pizza") == REPROMPT  # the second call is still at the top
    assert second.ask("user_input_timeout")["text"] == attempt(1)  # its speech reset its count
    assert first.hears("one") == "Please restart your router and wait two minutes."  # the first is in support
    assert second.hears("nonsense") == REPROMPT
    assert second.hears("nonsense") == "Let me connect you to a person."  # second's third miss; first had none
    assert first.hears("zurück") == PROMPT
    first.end()
    second.end()


# -- next to other skills ----------------------------------------------------------------------


def test_a_crashing_skill_next_to_the_built_ins(dial_extended: Dial) -> None:
    # tests/skills/broken.py (priority 90) raises on session_start and on most user_speak
    # events, and returns an invalid transfer for "invalid": the built-ins carry the call.
    call = answered(dial_extended())
    assert call.hears("invalid support") == SUPPORT
    assert call.hears("an object, back") == PROMPT
    assert call.say("sales")["text"].startswith("Thanks for your interest!")
    assert call.ask("assistant_speech_ended") == {"type": "hangup"}
    call.end()


def test_a_third_party_skill_outranks_the_greeting_by_its_priority(dial_extended: Dial) -> None:
    vip = dial_extended(caller=VIP_CALLER)
    assert vip.ask("session_start") == {
        "type": "transfer",
        "target_phone_number": "+4921155555555",
        "caller_id_name": "VIP line",
        "caller_id_number": "+4921155555555",
    }
    vip.end()
    answered(dial_extended(caller="+4917000000001")).end()  # everybody else is greeted


def test_re_weighted_below_the_greeting_it_loses(dial_reweighted: Dial) -> None:
    vip = answered(dial_reweighted(caller=VIP_CALLER))
    assert vip.say("billing")["text"] == "Connecting you to billing."
    vip.end()
