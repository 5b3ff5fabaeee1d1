"""Every JSON example of the AI Flow API reference is accepted (issue 10: accept what the service accepts).

``tests/data/reference_examples.json`` holds the reference's JSON code blocks,
copied so the suite does not depend on a file outside the repository. The one
exception is the reference's own audio clip, an 8 kHz 8-bit WAV that breaks
the format rule the same page states (16 kHz mono 16-bit PCM): it keeps its
clear error.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from flask_aiflow.protocol.actions import (
    InvalidActionError,
    action_from_dict,
    barge_in_from_dict,
    encode_action,
    tts_from_dict,
)
from flask_aiflow.protocol.events import load_event, parse_event
from flask_aiflow.protocol.wav import FFMPEG_HINT

EXAMPLES = json.loads((Path(__file__).parent / "data" / "reference_examples.json").read_text(encoding="utf-8"))

#: The reference's audio example: "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=".
REFERENCE_CLIP = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA="


def test_the_copy_holds_every_kind_of_example() -> None:
    assert {event["type"] for event in EXAMPLES["events"]} == {
        "session_start", "user_speak", "assistant_speak", "assistant_speech_ended", "user_input_timeout", "session_end"
    }
    assert {action["type"] for action in EXAMPLES["actions"]} == {"speak", "audio", "hangup", "transfer", "barge_in"}
    assert [action["audio"] for action in EXAMPLES["actions"] if action["type"] == "audio"] == [REFERENCE_CLIP]


@pytest.mark.parametrize("example", EXAMPLES["events"], ids=lambda e: e["type"])
def test_every_example_event_is_accepted(example: dict[str, Any]) -> None:
    event = load_event(json.dumps(example).encode())
    assert event.type == example["type"]
    assert event.to_dict() == example
    assert parse_event(example) == event


@pytest.mark.parametrize("session", EXAMPLES["sessions"])
def test_the_example_session_is_accepted(session: dict[str, Any]) -> None:
    assert parse_event({"type": "session_start", "session": session}).session.to_dict() == session


@pytest.mark.parametrize(
    "example", [a for a in EXAMPLES["actions"] if a["type"] != "audio"], ids=lambda a: a["type"]
)
def test_every_example_action_is_accepted(example: dict[str, Any]) -> None:
    action = action_from_dict(example)
    assert action.to_dict() == example
    assert json.loads(encode_action(action_from_dict({**example, "session_id": None}), example["session_id"])) == example


@pytest.mark.parametrize("example", EXAMPLES["options"], ids=lambda o: next(iter(o)))
def test_every_example_option_is_accepted(example: dict[str, Any]) -> None:
    if "barge_in" in example:
        assert barge_in_from_dict(example["barge_in"]).to_dict() == example["barge_in"]
    if "tts" in example:
        assert tts_from_dict(example["tts"]).to_dict() == example["tts"]


def test_the_example_audio_clip_keeps_its_clear_error() -> None:
    example = next(a for a in EXAMPLES["actions"] if a["type"] == "audio")
    with pytest.raises(InvalidActionError) as info:
        action_from_dict(example)
    assert info.value.field == "audio"
    assert "is 8000 Hz mono 8-bit PCM WAV" in info.value.reason
    assert "16 kHz mono 16-bit PCM WAV" in info.value.reason
    assert FFMPEG_HINT in info.value.reason
