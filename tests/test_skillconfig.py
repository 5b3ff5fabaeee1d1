"""flask_aiflow.skillconfig: reading a skill's config mapping, errors naming the key path."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from flask_aiflow import SkillConfigError
from flask_aiflow.skillconfig import (
    KeyPath,
    Voice,
    audio_clip,
    integer,
    mapping,
    outcome,
    phrases,
    speech,
    text,
    transfer_to,
)

from .helpers import wav_bytes

ROOT = KeyPath("AIFLOW_X")


def error_of(function: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(SkillConfigError) as info:
        function(*args, **kwargs)
    return str(info.value)


def test_key_path_reads_like_python() -> None:
    assert str(ROOT["options"][2]["transfer"]["target"]) == 'AIFLOW_X["options"][2]["transfer"]["target"]'
    assert str(ROOT["zurück"]) == 'AIFLOW_X["zurück"]'


class TestPlainValues:
    def test_mapping_suggests_the_key_that_was_meant(self) -> None:
        message = error_of(mapping, ROOT, {"promt": "x"}, allowed=("prompt", "options"))
        assert message == "AIFLOW_X[\"promt\"]: unknown key (did you mean 'prompt'?)"
        assert "allowed: options, prompt" in error_of(mapping, ROOT, {"zzz": 1}, allowed=("prompt", "options"))

    def test_mapping_requires_keys_and_a_mapping(self) -> None:
        assert error_of(mapping, ROOT, {}, allowed=("a",), required=("a",)) == 'AIFLOW_X["a"]: missing'
        assert "expected a mapping, got ['a']" in error_of(mapping, ROOT, ["a"], allowed=())

    def test_text_integer_phrases(self) -> None:
        assert text(ROOT, "hi") == "hi"
        assert "non-empty string" in error_of(text, ROOT, "  ")
        assert "integer >= 0" in error_of(integer, ROOT, True)
        assert "integer >= 0" in error_of(integer, ROOT, -1)
        assert phrases(ROOT, "menu") == ("menu",)
        assert "at least one phrase" in error_of(phrases, ROOT, [])
        assert phrases(ROOT, [], allow_empty=True) == ()
        assert error_of(phrases, ROOT, ["ok", 3]).startswith("AIFLOW_X[1]: ")


class TestSpeech:
    def test_a_string_is_its_text_with_the_default_voice(self) -> None:
        voice = Voice().updated(ROOT, {"user_input_timeout_seconds": 8, "barge_in": {"strategy": "none"}})
        action = speech(ROOT, "Hello", voice)
        assert action.to_dict() == {
            "type": "speak",
            "text": "Hello",
            "barge_in": {"strategy": "none"},
            "user_input_timeout_seconds": 8,
        }

    def test_a_mapping_overrides_the_voice(self) -> None:
        voice = Voice().updated(ROOT, {"user_input_timeout_seconds": 8})
        action = speech(
            ROOT,
            {"ssml": "<speak>Hi</speak>", "tts": {"provider": "azure", "voice": "de-DE-KatjaNeural"},
             "user_input_timeout_seconds": 3},
            voice,
        )
        assert action.ssml == "<speak>Hi</speak>"
        assert action.tts is not None and action.tts.to_dict() == {"provider": "azure", "voice": "de-DE-KatjaNeural"}
        assert action.user_input_timeout_seconds == 3

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ({"text": "a", "ssml": "b"}, 'AIFLOW_X: expected exactly one of "text" or "ssml"'),
            ({}, 'AIFLOW_X: expected exactly one of "text" or "ssml"'),
            ({"text": ""}, 'AIFLOW_X["text"]: expected a non-empty string'),
            ({"text": "a", "barge_in": {"strategy": "sometimes"}}, 'AIFLOW_X["barge_in"]["strategy"]: expected "none"'),
            ({"text": "a", "tts": {"provider": "acme"}}, 'AIFLOW_X["tts"]["provider"]: expected "azure"'),
            ({"text": "a", "user_input_timeout_seconds": 0}, 'AIFLOW_X["user_input_timeout_seconds"]: expected a positive'),
            ({"text": "a", "timeout": 5}, "AIFLOW_X[\"timeout\"]: unknown key"),
            (42, "AIFLOW_X: expected a mapping, got 42"),
        ],
    )
    def test_errors_name_the_key(self, value: Any, message: str) -> None:
        assert error_of(speech, ROOT, value).startswith(message)


class TestTransferAndAudio:
    def test_transfer_defaults_the_caller_id_number_to_the_target(self) -> None:
        action = transfer_to(ROOT, {"target": "+1234567890", "caller_id_name": "Support Team"})
        assert action.to_dict() == {
            "type": "transfer",
            "target_phone_number": "+1234567890",
            "caller_id_name": "Support Team",
            "caller_id_number": "+1234567890",
        }

    def test_transfer_errors_use_the_config_key_names(self) -> None:
        message = error_of(transfer_to, ROOT["transfer"], {"target": "(123) 456-7890", "caller_id_name": "X"})
        assert message.startswith('AIFLOW_X["transfer"]["target"]: expected a phone number in E.164 format')
        message = error_of(transfer_to, ROOT, {"target": "+4930111", "caller_id_name": "X", "caller_id_number": "0301"})
        assert message.startswith('AIFLOW_X["caller_id_number"]: expected a phone number')
        assert error_of(transfer_to, ROOT, {"target": "+4930111"}) == 'AIFLOW_X["caller_id_name"]: missing'

    def test_audio_from_a_file_relative_to_the_root(self, tmp_path: Path) -> None:
        (tmp_path / "hello.wav").write_bytes(wav_bytes())
        clip = audio_clip(ROOT, "hello.wav", root=tmp_path)
        assert base64.b64decode(clip.audio) == wav_bytes()
        clip = audio_clip(ROOT, {"file": "hello.wav", "barge_in": {"strategy": "none"}}, root=tmp_path)
        assert clip.barge_in is not None and clip.barge_in.strategy == "none"

    def test_audio_from_base64(self) -> None:
        data = base64.b64encode(wav_bytes()).decode()
        assert audio_clip(ROOT, {"base64": data}).audio == data

    def test_audio_errors_say_what_is_wrong_with_the_clip(self, tmp_path: Path) -> None:
        (tmp_path / "cd.wav").write_bytes(wav_bytes(rate=44100, channels=2))
        message = error_of(audio_clip, ROOT["audio"], "cd.wav", root=tmp_path)
        assert message.startswith('AIFLOW_X["audio"]["file"]: ')
        assert "44100 Hz" in message and "ffmpeg" in message
        assert "cannot read" in error_of(audio_clip, ROOT, "missing.wav", root=tmp_path)
        assert error_of(audio_clip, ROOT, {"base64": "nope!"}).startswith('AIFLOW_X["base64"]: is not valid base64')
        assert 'exactly one of "file" or "base64"' in error_of(audio_clip, ROOT, {})


class TestOutcome:
    def test_say_and_audio(self) -> None:
        said = outcome(ROOT, {"say": "We open at nine."})
        assert (said.kind, said.action.text, said.then, said.ends_call) == ("say", "We open at nine.", (), False)
        played = outcome(ROOT, {"audio": {"base64": base64.b64encode(wav_bytes()).decode()}})
        assert played.kind == "audio" and played.action.type == "audio"

    def test_transfer_with_and_without_an_announcement(self) -> None:
        target = {"target": "+4930111", "caller_id_name": "Billing"}
        plain = outcome(ROOT, {"transfer": target})
        assert plain.action.type == "transfer" and plain.then == () and plain.ends_call
        voice = Voice().updated(ROOT, {"user_input_timeout_seconds": 5})
        announced = outcome(ROOT, {"transfer": {**target, "announce": "Connecting you."}}, voice=voice)
        assert announced.action.text == "Connecting you."
        assert announced.action.user_input_timeout_seconds is None  # last words arm no timeout
        assert [action.type for action in announced.then] == ["transfer"]

    def test_hangup_with_and_without_a_farewell(self) -> None:
        assert outcome(ROOT, {"hangup": True}).action.type == "hangup"
        farewell = outcome(ROOT, {"hangup": "Goodbye!"})
        assert farewell.action.text == "Goodbye!"
        assert [action.type for action in farewell.then] == ["hangup"]
        candidate = farewell.candidate(priority=90, reason="bye")
        assert (candidate.priority, candidate.reason, [a.type for a in candidate.then]) == (90, "bye", ["hangup"])
        assert "expected true or a farewell" in error_of(outcome, ROOT, {"hangup": False})

    def test_exactly_one_allowed_kind(self) -> None:
        both = {"say": "a", "hangup": True}
        assert error_of(outcome, ROOT, both) == (
            'AIFLOW_X: expected exactly one of "say" or "audio" or "transfer" or "hangup" (found say, hangup)'
        )
        message = error_of(outcome, ROOT, {"say": "a"}, kinds=("transfer", "hangup"))
        assert message.startswith('AIFLOW_X["say"]: unknown key')
        assert outcome(ROOT, {"say": "a", "name": "x"}, extra=("name",)).kind == "say"
