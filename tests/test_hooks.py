"""One test per hook: each is called when the service's rules say, with what it needs.

Driven by the call simulator, so each hook is exercised the way a real call
exercises it. ``tests/test_docs.py`` checks that every hook has such a test.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from flask_aiflow import SkillConfigError, hangup, hookimpl, speak
from flask_aiflow.testing import CallSimulator, make_test_app
from flask_aiflow.testing.rules import MS_PER_CHARACTER


class Spy:
    """Records what each hook received; answers as configured."""

    AIFLOW_NAME = "spy"

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.seen: list[tuple[str, Any, dict[str, Any]]] = []

    def _record(self, hook: str, event: Any, call: Any) -> Any:
        self.seen.append((hook, event, dict(call.state)))
        answer = self.answers.get(hook)
        return answer(event, call) if callable(answer) else answer

    def hooks(self, name: str) -> list[Any]:
        return [event for hook, event, _ in self.seen if hook == name]

    @hookimpl
    def aiflow_session_start(self, event: Any, call: Any) -> Any:
        return self._record("session_start", event, call)

    @hookimpl
    def aiflow_user_speak(self, event: Any, call: Any) -> Any:
        return self._record("user_speak", event, call)

    @hookimpl
    def aiflow_assistant_speak(self, event: Any, call: Any) -> Any:
        return self._record("assistant_speak", event, call)

    @hookimpl
    def aiflow_assistant_speech_ended(self, event: Any, call: Any) -> Any:
        return self._record("assistant_speech_ended", event, call)

    @hookimpl
    def aiflow_user_input_timeout(self, event: Any, call: Any) -> Any:
        return self._record("user_input_timeout", event, call)

    @hookimpl
    def aiflow_session_end(self, event: Any, call: Any) -> Any:
        return self._record("session_end", event, call)


def start(spy: Spy, **config: Any) -> Any:
    return CallSimulator(make_test_app(spy, **config)).start_call(from_="+4915100000001", to="+4921100000002")


def test_aiflow_startup_runs_once_per_app_and_can_refuse_a_configuration() -> None:
    started: list[Flask] = []

    class Checked:
        AIFLOW_NAME = "checked"

        @hookimpl
        def aiflow_startup(self, app: Flask) -> None:
            started.append(app)
            if app.config.get("CHECKED_LIMIT", 1) < 1:
                raise SkillConfigError("CHECKED_LIMIT must be at least 1")

    skill = Checked()
    first, second = make_test_app(skill), make_test_app(skill)
    assert started == [first, second]
    with pytest.raises(SkillConfigError, match="skill 'checked': CHECKED_LIMIT must be at least 1"):
        make_test_app(skill, CHECKED_LIMIT=0)


def test_aiflow_session_start_gets_the_numbers_and_fresh_state() -> None:
    def greet(event: Any, call: Any) -> str:
        call.state["caller"] = event.session.from_phone_number
        return "Welcome!"

    spy = Spy(session_start=greet)
    call = start(spy)
    (event,) = spy.hooks("session_start")
    assert event.session.from_phone_number == "+4915100000001"
    assert event.session.to_phone_number == "+4921100000002"
    assert spy.seen[0][2] == {}  # the state was empty
    call.greeting.expect_speech(containing="Welcome!")
    call.say("hi")
    assert spy.seen[-2][0] == "user_speak" and spy.seen[-2][2] == {"caller": "+4915100000001"}


def test_aiflow_user_speak_gets_the_text_and_whether_the_caller_barged_in() -> None:
    spy = Spy(session_start="Hello and welcome to the line.", user_speak=lambda event, call: f"Heard {event.text}")
    call = start(spy)
    call.barge_in("wait a second")
    call.say("and now calmly")
    assert [(e.text, e.barged_in) for e in spy.hooks("user_speak")] == [("wait a second", True), ("and now calmly", False)]
    call.last_turn.expect_speech(containing="Heard and now calmly")


def test_aiflow_assistant_speak_reports_duration_start_and_text() -> None:
    spy = Spy(session_start="Good morning.")
    call = start(spy)
    (event,) = spy.hooks("assistant_speak")
    assert event.text == "Good morning." and event.ssml is None
    assert event.duration_ms == len("Good morning.") * MS_PER_CHARACTER
    assert event.speech_started_at == call.playing.started_at_ms


def test_aiflow_assistant_speech_ended_can_hang_up_after_a_farewell() -> None:
    def ended(event: Any, call: Any) -> Any:
        return hangup() if call.state.get("leaving") else None

    def heard(event: Any, call: Any) -> str:
        call.state["leaving"] = True
        return "Goodbye!"

    spy = Spy(user_speak=heard, assistant_speech_ended=ended)
    call = start(spy)
    call.say("bye").expect_speech(containing="Goodbye!")
    assert not call.ended
    call.speech_ends().expect_hangup()
    assert call.ended and len(spy.hooks("assistant_speech_ended")) == 1


def test_aiflow_user_input_timeout_fires_only_after_a_speak_that_armed_it() -> None:
    spy = Spy(
        session_start=speak("Your account number?", user_input_timeout_seconds=4),
        user_input_timeout="Please say your account number.",
    )
    call = start(spy)
    call.silence().expect_speech(containing="Please say your account number.")
    assert len(spy.hooks("user_input_timeout")) == 1
    call.silence()  # the re-prompt was a plain string: nothing armed
    assert len(spy.hooks("user_input_timeout")) == 1


def test_aiflow_session_end_sees_the_final_state_and_cannot_answer() -> None:
    def count(event: Any, call: Any) -> None:
        call.state["turns"] = call.state.get("turns", 0) + 1

    spy = Spy(user_speak=count, session_end="this is ignored")
    app = make_test_app(spy)
    call = CallSimulator(app).start_call()
    call.say("one")
    call.say("two")
    turn = call.hang_up()
    assert turn.action is None  # the string returned on session_end was not sent
    assert turn.decision is not None and turn.decision.candidates[0].outcome == "ignored"
    assert spy.seen[-1][0] == "session_end" and spy.seen[-1][2] == {"turns": 2}
    assert app.extensions["aiflow"].store.load(call.session_id) is None  # the state is gone
