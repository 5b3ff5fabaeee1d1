"""flask_aiflow.skills.config: reading a skill's config mapping, errors naming the key path."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_aiflow import SkillConfigError
from flask_aiflow.skills.config import (
    AppSettings,
    KeyPath,
    Voice,
    audio_from_config,
    outcome_from_config,
    transfer_from_config,
)

from .helpers import SECRET, event, make_app, make_skill, wav_bytes

ROOT = KeyPath("AIFLOW_X")


def error_of(function: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(SkillConfigError) as info:
        function(*args, **kwargs)
    return str(info.value)


def test_key_path_reads_like_python() -> None:
    assert str(ROOT / "options" / 2 / "transfer" / "target") == 'AIFLOW_X["options"][2]["transfer"]["target"]'
    assert str(ROOT / "zurück") == 'AIFLOW_X["zurück"]'


class TestVoice:
    def test_a_string_is_its_text_with_the_default_voice(self) -> None:
        voice = Voice().updated({"user_input_timeout_seconds": 8, "barge_in": {"strategy": "none"}}, ROOT)
        assert voice.speak("Hello", ROOT).to_dict() == {
            "type": "speak",
            "text": "Hello",
            "barge_in": {"strategy": "none"},
            "user_input_timeout_seconds": 8,
        }

    def test_the_app_defaults_are_the_root(self) -> None:
        from flask import Flask

        app = make_app(AIFLOW_DEFAULT_TTS={"provider": "eleven_labs"}, AIFLOW_DEFAULT_BARGE_IN={"strategy": "manual"})
        voice = Voice.of_app(app)
        assert (voice.tts.to_dict(), voice.barge_in.to_dict(), voice.user_input_timeout_seconds) == (
            {"provider": "eleven_labs"}, {"strategy": "manual"}, None,
        )
        assert Voice.of_app(Flask("bare")) == Voice()

    def test_levels_override_and_none_keeps_the_default(self) -> None:
        top = Voice().updated({"user_input_timeout_seconds": 8, "tts": {"provider": "azure", "language": "de-DE"}}, ROOT)
        sub = top.updated({"user_input_timeout_seconds": 5, "tts": None}, ROOT / "menu")
        assert (sub.user_input_timeout_seconds, sub.tts) == (5, top.tts)
        action = sub.speak({"ssml": "<speak>Hi</speak>", "user_input_timeout_seconds": 3}, ROOT)
        assert (action.ssml, action.user_input_timeout_seconds, action.tts) == ("<speak>Hi</speak>", 3, top.tts)
        assert sub.last_words.user_input_timeout_seconds is None and sub.last_words.tts == top.tts

    @pytest.mark.parametrize(
        ("config", "message"),
        [
            ({"user_input_timeout_seconds": 0}, 'AIFLOW_X["user_input_timeout_seconds"]: expected a number > 0'),
            ({"barge_in": {"strategy": "sometimes"}}, 'AIFLOW_X["barge_in"]["strategy"]: expected "none"'),
            ({"tts": {"provider": "acme"}}, 'AIFLOW_X["tts"]["provider"]: expected "azure"'),
        ],
    )
    def test_errors_name_the_key(self, config: Any, message: str) -> None:
        assert error_of(Voice().updated, config, ROOT).startswith(message)


class TestTransferAndAudio:
    def test_transfer_defaults_the_caller_id_number_to_the_target(self) -> None:
        action = transfer_from_config({"target": "+1234567890", "caller_id_name": "Support Team"}, ROOT)
        assert action.to_dict() == {
            "type": "transfer",
            "target_phone_number": "+1234567890",
            "caller_id_name": "Support Team",
            "caller_id_number": "+1234567890",
        }

    def test_transfer_errors_use_the_config_key_names(self) -> None:
        message = error_of(transfer_from_config, {"target": "(123) 456-7890", "caller_id_name": "X"}, ROOT / "transfer")
        assert message.startswith('AIFLOW_X["transfer"]["target"]: expected a phone number in E.164 format')
        message = error_of(transfer_from_config, {"target": "+4930111", "caller_id_name": "X", "caller_id_number": "0301"}, ROOT)
        assert message.startswith('AIFLOW_X["caller_id_number"]: expected a phone number')
        assert error_of(transfer_from_config, {"target": "+4930111"}, ROOT) == 'AIFLOW_X["caller_id_name"]: missing'
        assert error_of(transfer_from_config, {"target": "+4930111", "caller_id_name": " "}, ROOT).startswith(
            'AIFLOW_X["caller_id_name"]: expected a non-empty string'
        )

    def test_audio_from_a_file_relative_to_the_root(self, tmp_path: Path) -> None:
        (tmp_path / "hello.wav").write_bytes(wav_bytes())
        clip = audio_from_config("hello.wav", ROOT, root=tmp_path)
        assert base64.b64decode(clip.audio) == wav_bytes()
        clip = audio_from_config({"file": "hello.wav", "barge_in": {"strategy": "none"}}, ROOT, root=tmp_path)
        assert clip.barge_in is not None and clip.barge_in.strategy == "none"

    def test_audio_from_base64(self) -> None:
        data = base64.b64encode(wav_bytes()).decode()
        assert audio_from_config({"base64": data}, ROOT).audio == data

    def test_audio_errors_say_what_is_wrong_with_the_clip(self, tmp_path: Path) -> None:
        (tmp_path / "cd.wav").write_bytes(wav_bytes(rate=44100, channels=2))
        message = error_of(audio_from_config, "cd.wav", ROOT / "audio", root=tmp_path)
        assert message.startswith('AIFLOW_X["audio"]["file"]: ')
        assert "44100 Hz" in message and "ffmpeg" in message
        assert "cannot read" in error_of(audio_from_config, "missing.wav", ROOT, root=tmp_path)
        assert error_of(audio_from_config, {"base64": "nope!"}, ROOT).startswith('AIFLOW_X["base64"]: is not valid base64')
        assert 'exactly one of "file" or "base64"' in error_of(audio_from_config, {}, ROOT)
        assert error_of(audio_from_config, {"file": "x.wav", "barge_in": {"strategy": "x"}}, ROOT).startswith(
            'AIFLOW_X["barge_in"]["strategy"]'
        )


class TestOutcome:
    def test_say_and_audio(self) -> None:
        said = outcome_from_config({"say": "We open at nine."}, ROOT)
        assert (said.kind, said.action.text, said.then, said.ends_call) == ("say", "We open at nine.", (), False)
        played = outcome_from_config({"audio": {"base64": base64.b64encode(wav_bytes()).decode()}}, ROOT)
        assert played.kind == "audio" and played.action.type == "audio"

    def test_transfer_with_and_without_an_announcement(self) -> None:
        target = {"target": "+4930111", "caller_id_name": "Billing"}
        plain = outcome_from_config({"transfer": target}, ROOT)
        assert plain.action.type == "transfer" and plain.then == () and plain.ends_call
        voice = Voice().updated({"user_input_timeout_seconds": 5}, ROOT)
        announced = outcome_from_config({"transfer": {**target, "announce": "Connecting you."}}, ROOT, voice=voice)
        assert announced.action.text == "Connecting you."
        assert announced.action.user_input_timeout_seconds is None  # last words arm no timeout
        assert [action.type for action in announced.then] == ["transfer"]

    def test_hangup_with_and_without_a_farewell(self) -> None:
        assert outcome_from_config({"hangup": True}, ROOT).action.type == "hangup"
        farewell = outcome_from_config({"hangup": "Goodbye!"}, ROOT)
        assert farewell.action.text == "Goodbye!"
        assert [action.type for action in farewell.then] == ["hangup"]
        candidate = farewell.candidate(priority=90, reason="bye")
        assert (candidate.priority, candidate.reason, [a.type for a in candidate.then]) == (90, "bye", ["hangup"])
        assert "expected true or a farewell" in error_of(outcome_from_config, {"hangup": False}, ROOT)

    def test_exactly_one_allowed_kind(self) -> None:
        both = {"say": "a", "hangup": True}
        assert error_of(outcome_from_config, both, ROOT) == (
            'AIFLOW_X: needs exactly one of "say" or "audio" or "transfer" or "hangup" (found say, hangup)'
        )
        message = error_of(outcome_from_config, {"say": "a"}, ROOT, kinds=("transfer", "hangup"))
        assert message.startswith('AIFLOW_X["say"]: unknown key')
        assert outcome_from_config({"say": "a", "name": "x"}, ROOT, extra_keys=("name",)).kind == "say"


class TestAppSettings:
    """One parsed value per app: parsed at start-up or on first use, never per event."""

    @staticmethod
    def counting(parsed: list[Flask]) -> AppSettings[str]:
        """Settings that read ``AIFLOW_X["text"]`` and record each app they parse."""

        def load(app: Flask) -> str:
            parsed.append(app)
            value = app.config.get("AIFLOW_X")
            if not isinstance(value, dict):
                raise KeyPath("AIFLOW_X").error("expected a mapping")
            return str(value["text"]) + "!"

        return AppSettings("aiflow_x", load)

    def test_load_parses_and_stores_once_and_get_returns_the_stored_value(self) -> None:
        parsed: list[Flask] = []
        settings = self.counting(parsed)
        app = Flask("one")
        app.config["AIFLOW_X"] = {"text": "hi"}
        assert settings.load(app) == "hi!"
        assert app.extensions["aiflow_x"] == "hi!"
        app.config["AIFLOW_X"] = {"text": "changed"}  # not read again: the stored value stands
        assert settings.get(app) == "hi!"
        assert settings.get(app) == "hi!"
        assert parsed == [app]

    def test_get_without_an_app_parses_the_current_app_on_first_use(self) -> None:
        parsed: list[Flask] = []
        settings = self.counting(parsed)
        app = Flask("lazy")
        app.config["AIFLOW_X"] = {"text": "late"}
        assert "aiflow_x" not in app.extensions
        with app.app_context():
            assert settings.get() == "late!"
            assert settings.get() == "late!"
        assert app.extensions["aiflow_x"] == "late!"
        assert parsed == [app]

    def test_each_app_has_its_own_value(self) -> None:
        parsed: list[Flask] = []
        settings = self.counting(parsed)
        first, second = Flask("first"), Flask("second")
        first.config["AIFLOW_X"] = {"text": "one"}
        second.config["AIFLOW_X"] = {"text": "two"}
        settings.load(first)
        assert "aiflow_x" not in second.extensions
        with second.app_context():
            assert settings.get() == "two!"
        assert settings.get(first) == "one!"
        assert parsed == [first, second]

    def test_a_loader_error_propagates_and_nothing_is_stored(self) -> None:
        parsed: list[Flask] = []
        settings = self.counting(parsed)
        app = Flask("bad")
        app.config["AIFLOW_X"] = "oops"
        with pytest.raises(SkillConfigError, match=r"^AIFLOW_X: expected a mapping$"):
            settings.load(app)
        with app.app_context(), pytest.raises(SkillConfigError):
            settings.get()
        assert "aiflow_x" not in app.extensions
        app.config["AIFLOW_X"] = {"text": "fixed"}  # a failed parse is tried again, not remembered
        assert settings.get(app) == "fixed!"

    def test_a_bad_configuration_stops_start_up_naming_the_skill(self) -> None:
        settings = self.counting([])
        skill = make_skill("x", startup=lambda app: settings.load(app))
        with pytest.raises(SkillConfigError, match=r"^skill 'x': AIFLOW_X: expected a mapping$"):
            make_app(skill, AIFLOW_X="oops")

    def test_a_skill_registered_after_start_up_parses_on_its_first_event(self) -> None:
        parsed: list[Flask] = []
        settings = self.counting(parsed)
        skill = make_skill(
            "x", startup=lambda app: settings.load(app), user_speak=lambda event, call: settings.get()
        )
        app = make_app(AIFLOW_X={"text": "Registered late"})
        app.extensions["aiflow"].registry.register(skill)
        assert parsed == []
        client = app.test_client()
        for turn in range(2):
            response = client.post("/webhook", json=event("user_speak", "s"), headers={"X-API-TOKEN": SECRET})
            assert response.status_code == 200, turn
            assert response.get_json()["text"] == "Registered late!"
        assert parsed == [app]
