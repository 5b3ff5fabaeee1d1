"""The timeout skill: escalating prompts on silence, per call, reset when the caller speaks."""

from __future__ import annotations

from typing import Any

import flask_aiflow_timeout
import pytest
from flask import Flask

from flask_aiflow import SkillConfigError
from tests.helpers import event, make_app, make_skill, says

AGENT = {"target": "+1234567890", "caller_id_name": "Support Team"}


class Call:
    counter = 0

    def __init__(self, app: Flask) -> None:
        Call.counter += 1
        self.app = app
        self.id = f"timeout-call-{Call.counter}"
        self.last: Any = None
        self.send("session_start")

    def send(self, type_: str, **fields: Any) -> dict[str, Any] | None:
        with self.app.app_context():
            self.last = self.app.extensions["aiflow"].extension.dispatch(event(type_, self.id, **fields))
        return self.last.action.to_dict() if self.last.action is not None else None

    def silence(self) -> dict[str, Any] | None:
        return self.send("user_input_timeout")


def timeout_app(*skills: Any, **config: Any) -> Flask:
    return make_app(flask_aiflow_timeout, *skills, **config)


def test_found_through_its_entry_point() -> None:
    app = make_app(AIFLOW_LOAD_ENTRY_POINTS=True, AIFLOW_SKILLS=["timeout"])
    info = app.extensions["aiflow"].registry.get("timeout")
    assert (info.package, info.version, info.priority) == ("flask-aiflow-timeout", "0.1.0", 50)
    assert Call(app).silence()["text"] == "Are you still there?"


def test_registered_after_start_up_it_reads_its_configuration_on_first_use() -> None:
    app = make_app(AIFLOW_TIMEOUT={"prompts": ["Hello?"]})
    app.extensions["aiflow"].registry.register(flask_aiflow_timeout)
    assert Call(app).silence()["text"] == "Hello?"


class TestDefaults:
    """The reference's example strategy, with nothing configured."""

    def test_gentle_then_clearer_then_goodbye_and_hang_up(self) -> None:
        call = Call(timeout_app())
        first = call.silence()
        assert first == {
            "type": "speak", "session_id": call.id, "text": "Are you still there?", "user_input_timeout_seconds": 8,
        }
        second = call.silence()
        assert second["text"] == "Please speak now or say 'agent' to talk to a person."
        assert second["user_input_timeout_seconds"] == 10
        third = call.silence()
        assert third["text"] == "I still can't hear you, so I'll end the call now. Goodbye!"
        assert "user_input_timeout_seconds" not in third
        assert call.send("assistant_speech_ended")["type"] == "hangup"

    def test_speech_resets_the_count(self) -> None:
        call = Call(timeout_app(make_skill("echo", user_speak=says("echo"))))
        call.silence()
        call.silence()
        assert call.send("user_speak", text="sorry, I'm here")["text"] == "echo"
        assert call.silence()["text"] == "Are you still there?"

    def test_the_observer_proposes_nothing(self) -> None:
        call = Call(timeout_app())
        call.silence()
        decision_action = call.send("user_speak", text="hello")
        assert call.last.candidates == [] and decision_action["text"].startswith("Sorry")  # the core's fallback

    def test_counts_are_per_call(self) -> None:
        app = timeout_app()
        first, second = Call(app), Call(app)
        first.silence()
        first.silence()
        assert second.silence()["text"] == "Are you still there?"
        assert first.silence()["text"].endswith("Goodbye!")


class TestConfigured:
    def test_per_attempt_prompts_and_a_transfer(self) -> None:
        call = Call(timeout_app(AIFLOW_TIMEOUT={
            "prompts": ["Hallo?", {"text": "Sagen Sie 'Mitarbeiter'.", "user_input_timeout_seconds": 12}, "Letzte Chance."],
            "escalation": {"transfer": AGENT},
            "user_input_timeout_seconds": 6,
            "tts": {"provider": "azure", "language": "de-DE", "voice": "de-DE-KatjaNeural"},
            "barge_in": {"strategy": "minimum_characters", "minimum_characters": 3},
        }))
        prompts = [call.silence() for _ in range(3)]
        assert [(p["text"], p["user_input_timeout_seconds"]) for p in prompts] == [
            ("Hallo?", 6), ("Sagen Sie 'Mitarbeiter'.", 12), ("Letzte Chance.", 6),
        ]
        assert all(p["tts"]["voice"] == "de-DE-KatjaNeural" and p["barge_in"]["minimum_characters"] == 3 for p in prompts)
        fourth = call.silence()
        assert fourth["type"] == "transfer" and fourth["target_phone_number"] == "+1234567890"
        assert fourth["caller_id_name"] == "Support Team"

    def test_the_reference_app_hangs_up_on_the_third_timeout(self) -> None:
        call = Call(timeout_app(AIFLOW_TIMEOUT={
            "prompts": [f"I didn't hear anything. Please respond. Attempt {n} of 3." for n in (1, 2)],
            "user_input_timeout_seconds": 5,
            "escalation": {"hangup": True},
        }))
        assert call.silence()["text"].endswith("Attempt 1 of 3.")
        assert call.silence()["user_input_timeout_seconds"] == 5
        assert call.silence() == {"type": "hangup", "session_id": call.id}

    def test_the_app_default_voice_applies(self) -> None:
        call = Call(timeout_app(AIFLOW_DEFAULT_BARGE_IN={"strategy": "none"}))
        assert call.silence()["barge_in"] == {"strategy": "none"}

    def test_no_prompts_escalates_at_once(self) -> None:
        call = Call(timeout_app(AIFLOW_TIMEOUT={"prompts": [], "escalation": {"transfer": {**AGENT, "announce": "One moment."}}}))
        assert call.silence()["text"] == "One moment."
        assert call.send("assistant_speech_ended")["type"] == "transfer"

    def test_a_silence_answered_by_a_higher_skill_does_not_count(self) -> None:
        answers = iter(["Billing or support?"])
        menu = make_skill("menu", 80, user_input_timeout=lambda event, call: next(answers, None))
        call = Call(timeout_app(menu))
        assert call.silence()["text"] == "Billing or support?"
        assert [c.skill for c in call.last.candidates] == ["menu", "timeout"]
        assert call.silence()["text"] == "Are you still there?"  # the lost silence was not counted


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"prompts": "Hello?"}, 'AIFLOW_TIMEOUT["prompts"]: expected a list, got "Hello?" (string)'),
        ({"prompts": [{"txt": "Hi"}]}, "AIFLOW_TIMEOUT[\"prompts\"][0][\"txt\"]: unknown key (did you mean 'text'?)"),
        ({"escalation": {"say": "Hm"}}, 'AIFLOW_TIMEOUT["escalation"]["say"]: unknown key'),
        ({"escalation": {"transfer": {"target": "0800", "caller_id_name": "X"}}},
         'AIFLOW_TIMEOUT["escalation"]["transfer"]["target"]: expected a phone number in E.164 format'),
        ({"user_input_timeout_seconds": -1}, 'AIFLOW_TIMEOUT["user_input_timeout_seconds"]: expected a number > 0'),
        ({"attempts": []}, 'AIFLOW_TIMEOUT["attempts"]: unknown key'),
        ("Are you there?", "AIFLOW_TIMEOUT: expected a mapping"),
    ],
)
def test_a_bad_configuration_fails_at_start_up_naming_the_key(config: Any, message: str) -> None:
    with pytest.raises(SkillConfigError) as info:
        timeout_app(AIFLOW_TIMEOUT=config)
    assert str(info.value).startswith(f"skill 'timeout': {message}")
