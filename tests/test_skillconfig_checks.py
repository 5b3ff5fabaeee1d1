"""flask_aiflow.skills.config: the key paths and value checks skills build their configuration on."""

from __future__ import annotations

from typing import Any

import pytest

from flask_aiflow import SkillConfigError
from flask_aiflow.protocol.actions import AzureTTS, BargeInConfig
from flask_aiflow.skills.config import (
    KeyPath,
    barge_in_option,
    expect_bool,
    expect_int,
    expect_mapping,
    expect_number,
    expect_phone_number,
    expect_priority,
    expect_str,
    expect_str_list,
    speak_from_config,
    tts_option,
)

ROOT = KeyPath("AIFLOW_DEMO")


def error_of(function: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(SkillConfigError) as info:
        function(*args, **kwargs)
    return str(info.value)


def test_key_path_names() -> None:
    assert str(ROOT) == "AIFLOW_DEMO"
    assert str(ROOT / "lines" / "+4930123" / "text") == 'AIFLOW_DEMO["lines"]["+4930123"]["text"]'
    assert str(ROOT / "phrases" / 2) == 'AIFLOW_DEMO["phrases"][2]'
    assert str(ROOT / 'say "hi"' / "grüß") == 'AIFLOW_DEMO["say \\"hi\\""]["grüß"]'
    assert str(ROOT.error("bad")) == "AIFLOW_DEMO: bad"


def test_expect_mapping() -> None:
    assert expect_mapping({"a": 1}, ROOT, allowed=("a", "b")) == {"a": 1}
    assert error_of(expect_mapping, [1], ROOT) == "AIFLOW_DEMO: expected a mapping, got an array"
    assert error_of(expect_mapping, {"colour": 1}, ROOT, allowed=("color", "size")) == (
        "AIFLOW_DEMO[\"colour\"]: unknown key (did you mean 'color'?)"
    )
    assert error_of(expect_mapping, {"x": 1}, ROOT, allowed=("color", "size")) == (
        'AIFLOW_DEMO["x"]: unknown key (allowed: color, size)'
    )
    assert error_of(expect_mapping, {}, ROOT, required=("folder",)) == 'AIFLOW_DEMO["folder"]: missing'
    assert "keys must be strings" in error_of(expect_mapping, {1: "x"}, ROOT)


def test_scalars() -> None:
    assert expect_str("x", ROOT) == "x"
    assert error_of(expect_str, " ", ROOT) == 'AIFLOW_DEMO: expected a non-empty string, got " " (string)'
    assert error_of(expect_str, None, ROOT) == "AIFLOW_DEMO: expected a string, got null"
    assert expect_bool(False, ROOT) is False
    assert error_of(expect_bool, 1, ROOT) == "AIFLOW_DEMO: expected true or false, got 1 (number)"
    assert expect_number(0.5, ROOT) == 0.5
    assert error_of(expect_number, 0, ROOT) == "AIFLOW_DEMO: expected a number > 0, got 0 (number)"
    assert expect_number(0, ROOT, inclusive=True) == 0
    assert "expected a number" in error_of(expect_number, float("nan"), ROOT)
    assert "expected a number" in error_of(expect_number, True, ROOT)
    assert expect_int(3, ROOT, minimum=1) == 3
    assert error_of(expect_int, 2.0, ROOT) == "AIFLOW_DEMO: expected an integer >= 0, got 2.0 (number)"
    assert expect_priority(0, ROOT) == 0
    assert error_of(expect_priority, None, ROOT) == "AIFLOW_DEMO: priority must be an int >= 0, got None"
    assert expect_phone_number("+4930123456", ROOT) == "+4930123456"
    assert "expected a phone number in E.164 format" in error_of(expect_phone_number, "030 123", ROOT)


def test_string_lists() -> None:
    assert expect_str_list(["a", "b"], ROOT) == ("a", "b")
    assert expect_str_list([], ROOT, allow_empty=True) == ()
    assert error_of(expect_str_list, [], ROOT) == "AIFLOW_DEMO: expected at least one entry, got an empty list"
    assert error_of(expect_str_list, "ab", ROOT) == 'AIFLOW_DEMO: expected a list of strings, got "ab" (string)'
    assert error_of(expect_str_list, ["a", ""], ROOT).startswith("AIFLOW_DEMO[1]: expected a non-empty string")


def test_voice_options_use_the_core_validation() -> None:
    assert tts_option({"provider": "azure", "language": "de-DE"}, ROOT / "tts") == AzureTTS("de-DE")
    assert tts_option(None, ROOT / "tts") is None
    assert error_of(tts_option, {"provider": "azure", "voise": "x"}, ROOT / "tts") == (
        "AIFLOW_DEMO[\"tts\"][\"voise\"]: unknown key for tts provider azure (did you mean 'voice'?)"
    )
    assert error_of(tts_option, "azure", ROOT / "tts") == 'AIFLOW_DEMO["tts"]: expected an object, got "azure" (string)'
    assert barge_in_option({"strategy": "none"}, ROOT / "b") == BargeInConfig("none")
    assert error_of(barge_in_option, {}, ROOT / "b").startswith('AIFLOW_DEMO["b"]["strategy"]: missing')


def test_speak_from_config() -> None:
    assert speak_from_config("Hi", ROOT).to_dict() == {"type": "speak", "text": "Hi"}
    built = speak_from_config(
        {"ssml": "<speak>Hi</speak>", "barge_in": {"strategy": "none"}},
        ROOT,
        tts=AzureTTS("en-US"),
        barge_in=BargeInConfig("manual"),
        user_input_timeout_seconds=8,
    )
    assert built.to_dict() == {
        "type": "speak",
        "ssml": "<speak>Hi</speak>",
        "tts": {"provider": "azure", "language": "en-US"},  # the default
        "barge_in": {"strategy": "none"},  # the mapping's own
        "user_input_timeout_seconds": 8,
    }
    assert error_of(speak_from_config, {}, ROOT) == 'AIFLOW_DEMO: needs "text" or "ssml"'
    assert error_of(speak_from_config, {"text": "a", "ssml": "b"}, ROOT).startswith('AIFLOW_DEMO["ssml"]: not allowed')
    assert error_of(speak_from_config, {"text": "a", "user_input_timeout_seconds": -1}, ROOT) == (
        'AIFLOW_DEMO["user_input_timeout_seconds"]: expected a number > 0, got -1 (number)'
    )
    assert error_of(speak_from_config, {"text": "a", "then": 1}, ROOT).startswith('AIFLOW_DEMO["then"]: unknown key')
    assert speak_from_config({"text": "a", "then": 1}, ROOT, extra_keys=("then",)).text == "a"
