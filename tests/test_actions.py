"""Tests for flask_aiflow.protocol.actions and flask_aiflow.protocol.wav."""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from flask_aiflow.protocol import actions as actions_module
from flask_aiflow.protocol.actions import (
    ACTION_TYPES,
    TTS,
    Action,
    Audio,
    AzureTTS,
    BargeIn,
    BargeInConfig,
    ElevenLabsTTS,
    Hangup,
    InvalidActionError,
    Speak,
    Transfer,
    action_from_dict,
    audio,
    barge_in,
    barge_in_from_dict,
    encode_action,
    hangup,
    speak,
    transfer,
    tts_from_dict,
)
from flask_aiflow.protocol.wav import (
    FFMPEG_HINT,
    REQUIRED,
    NotWavError,
    WavInfo,
    inspect_wav,
    inspect_wav_reader,
)

from .helpers import wav_bytes

SID = "550e8400-e29b-41d4-a716-446655440000"

# -- WAV fixtures -------------------------------------------------------------------------

PCM_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


make_wav = wav_bytes  # a real PCM WAV written by the stdlib ``wave`` module


def chunk(chunk_id: bytes, body: bytes) -> bytes:
    padding = b"\x00" if len(body) % 2 else b""
    return chunk_id + struct.pack("<I", len(body)) + body + padding


def fmt_body(tag: int = 1, channels: int = 1, rate: int = 16000, bits: int = 16, extra: bytes = b"") -> bytes:
    align = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits) + extra


def extensible_extra(subformat: int, bits: int = 16, guid_tail: bytes = PCM_GUID_TAIL) -> bytes:
    return struct.pack("<HHI", 22, bits, 0x4) + struct.pack("<H", subformat) + guid_tail


def build_wav(*chunks: bytes) -> bytes:
    """A RIFF/WAVE file from hand-made chunks (for formats ``wave`` cannot write)."""
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def hand_wav(tag: int = 1, channels: int = 1, rate: int = 16000, bits: int = 16, extra: bytes = b"",
             before: tuple[bytes, ...] = (), samples: bytes = b"\x00\x00" * 8) -> bytes:
    return build_wav(*before, chunk(b"fmt ", fmt_body(tag, channels, rate, bits, extra)), chunk(b"data", samples))


GOOD_WAV = make_wav()
GOOD_B64 = base64.b64encode(GOOD_WAV).decode()

#: The example clip of the reference's "audio" action: 8 kHz mono 8-bit, which the service does not play.
REFERENCE_EXAMPLE_AUDIO = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA="

MP3_ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x21" + b"\x00" * 64
MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 64
AAC_ADTS = b"\xff\xf1\x50\x80" + b"\x00" * 64
OGG = b"OggS\x00\x02" + b"\x00" * 64
FLAC = b"fLaC\x00\x00\x00\x22" + b"\x00" * 64
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00" + b"\x00" * 64


def expected_format_error(what: str) -> str:
    return f"audio: {what}; the service plays only {REQUIRED}. Convert it with: {FFMPEG_HINT}"


# -- wav.inspect_wav ------------------------------------------------------------------------


def test_constants() -> None:
    assert REQUIRED == "16 kHz mono 16-bit PCM WAV"
    assert FFMPEG_HINT == "ffmpeg -i input -ar 16000 -ac 1 -sample_fmt s16 output.wav"


def test_inspect_required_format() -> None:
    info = inspect_wav(GOOD_WAV)
    assert info == WavInfo(1, "PCM", 1, 16000, 16)
    assert info.describe() == "16000 Hz mono 16-bit PCM WAV"
    assert info.is_required_format()


@pytest.mark.parametrize(
    ("data", "description"),
    [
        (make_wav(44100, 2, 2), "44100 Hz stereo 16-bit PCM WAV"),
        (make_wav(16000, 1, 1), "16000 Hz mono 8-bit PCM WAV"),
        (make_wav(8000, 1, 2), "8000 Hz mono 16-bit PCM WAV"),
        (make_wav(16000, 2, 2), "16000 Hz stereo 16-bit PCM WAV"),
        (make_wav(16000, 1, 3), "16000 Hz mono 24-bit PCM WAV"),
        (make_wav(48000, 6, 2), "48000 Hz 6-channel 16-bit PCM WAV"),
        (hand_wav(tag=3, bits=32), "16000 Hz mono 32-bit IEEE float WAV"),
        (hand_wav(tag=6, bits=8), "16000 Hz mono 8-bit A-law WAV"),
        (hand_wav(tag=7, bits=8), "16000 Hz mono 8-bit mu-law WAV"),
        (hand_wav(tag=0x1234), "16000 Hz mono 16-bit format 0x1234 WAV"),
        (hand_wav(tag=0xFFFE, extra=extensible_extra(1)), "16000 Hz mono 16-bit extensible (PCM) WAV"),
        (hand_wav(tag=0xFFFE, bits=32, extra=extensible_extra(3, 32)),
         "16000 Hz mono 32-bit extensible (IEEE float) WAV"),
        (hand_wav(tag=0xFFFE, extra=extensible_extra(1, guid_tail=b"\x01" * 14)), "16000 Hz mono 16-bit extensible WAV"),
        (hand_wav(tag=0xFFFE), "16000 Hz mono 16-bit extensible WAV"),
    ],
)
def test_inspect_other_formats(data: bytes, description: str) -> None:
    info = inspect_wav(data)
    assert info.describe() == description
    assert not info.is_required_format()


def test_inspect_extensible_reports_subformat() -> None:
    info = inspect_wav(hand_wav(tag=0xFFFE, extra=extensible_extra(1)))
    assert (info.format_tag, info.subformat_tag, info.format_name) == (0xFFFE, 1, "extensible (PCM)")
    float_info = inspect_wav(hand_wav(tag=0xFFFE, bits=32, extra=extensible_extra(3, 32)))
    assert float_info.subformat_tag == 3
    assert inspect_wav(hand_wav(tag=0xFFFE)).subformat_tag is None


def test_inspect_fmt_after_list_chunk() -> None:
    info_chunk = chunk(b"LIST", b"INFOISFT" + struct.pack("<I", 14) + b"Lavf58.76.100\x00")
    data = hand_wav(before=(info_chunk,))
    assert data[12:16] == b"LIST"
    assert inspect_wav(data).is_required_format()


@pytest.mark.parametrize("odd_size", [1, 3, 17])
def test_inspect_skips_odd_sized_chunks_with_padding(odd_size: int) -> None:
    data = hand_wav(before=(chunk(b"junk", b"x" * odd_size), chunk(b"bext", b"y" * 5)))
    assert inspect_wav(data).is_required_format()


def test_inspect_fmt_after_data_in_a_whole_file() -> None:
    data = build_wav(chunk(b"data", b"\x00" * 10), chunk(b"fmt ", fmt_body()))
    assert inspect_wav(data).is_required_format()


def test_inspect_works_on_a_prefix() -> None:
    big = make_wav(frames=16000 * 60)  # a minute of audio, ~1.9 MB
    assert inspect_wav(big[:4096]) == inspect_wav(big)
    assert inspect_wav(big[:44]).is_required_format()


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_inspect_accepts_bytes_like(kind: Any) -> None:
    assert inspect_wav(kind(GOOD_WAV)).is_required_format()


def test_inspect_reader_reads_only_headers() -> None:
    reads: list[tuple[int, int]] = []
    data = hand_wav(before=(chunk(b"LIST", b"z" * 100000),))

    def read(offset: int, length: int) -> bytes:
        reads.append((offset, length))
        return data[offset : offset + length]

    assert inspect_wav_reader(read, len(data)).is_required_format()
    assert max(length for _, length in reads) <= 40


@pytest.mark.parametrize(
    ("data", "description"),
    [
        (b"", "is empty"),
        (MP3_ID3, "looks like MP3 audio (ID3 tag)"),
        (MP3_FRAME, "looks like MP3 audio (MPEG frame)"),
        (AAC_ADTS, "looks like AAC audio (ADTS)"),
        (OGG, "looks like Ogg audio (Vorbis/Opus)"),
        (FLAC, "looks like FLAC audio"),
        (M4A, "looks like MP4/M4A audio"),
        (b"FORM\x00\x00\x00\x10AIFFCOMM", "looks like AIFF audio"),
        (b"RIFF\x10\x00\x00\x00AVI LIST", "is a RIFF 'AVI ' file, not WAVE"),
        (b"RIFX\x10\x00\x00\x00WAVEfmt ", "is a big-endian RIFX WAV; only little-endian RIFF WAV is supported"),
        (b"RF64\xff\xff\xff\xffWAVEds64", "is an RF64 (64-bit) WAV; only plain RIFF WAV is supported"),
        (GOOD_B64.encode(), "looks like base64 text of a WAV file; decode it first"),
        (b"<html><body>Not found</body></html>", "looks like text"),
        (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", "is unrecognised data starting with 00 01 02 03 04 05 06 07"),
        (b"R", "is truncated: the WAV header ends after 1 bytes"),
        (b"RIFF", "is truncated: the WAV header ends after 4 bytes"),
        (GOOD_WAV[:11], "is truncated: the WAV header ends after 11 bytes"),
        (GOOD_WAV[:12], "is truncated: no fmt chunk within its first 12 bytes"),
        (GOOD_WAV[:16], "is truncated: no fmt chunk within its first 16 bytes"),
        (GOOD_WAV[:30], "is truncated: the WAV header ends inside the fmt chunk (byte 30)"),
        (build_wav(chunk(b"fmt ", b"\x01\x00" * 4)), "is a damaged WAV file: its fmt chunk has only 8 bytes"),
        (build_wav(chunk(b"LIST", b"x" * 20)), "is truncated: no fmt chunk within its first 40 bytes"),
        (build_wav(*[chunk(b"junk", b"")] * 1001), "is a damaged WAV file: no fmt chunk among its first 1000 chunks"),
    ],
)
def test_not_wav(data: bytes, description: str) -> None:
    with pytest.raises(NotWavError) as info:
        inspect_wav(data)
    assert info.value.description == description
    assert str(info.value) == f"not a WAV file: {description}"
    assert isinstance(info.value, ValueError)


def test_prefix_cut_before_fmt_behind_a_large_chunk() -> None:
    data = hand_wav(before=(chunk(b"LIST", b"x" * 10000),))
    with pytest.raises(NotWavError, match="no fmt chunk within its first 4096 bytes"):
        inspect_wav(data[:4096])


# -- errors ---------------------------------------------------------------------------------


def test_invalid_action_error() -> None:
    err = InvalidActionError("barge_in.strategy", "missing")
    assert (err.field, err.reason, str(err)) == ("barge_in.strategy", "missing", "barge_in.strategy: missing")
    assert str(InvalidActionError(None, "plain")) == "plain"
    assert isinstance(err, ValueError)


def raises(field: str | None, match: str | None = None) -> Any:
    """Context manager asserting an InvalidActionError for ``field``."""

    class _Check:
        def __enter__(self) -> None:
            self.ctx = pytest.raises(InvalidActionError, match=match)
            self.info = self.ctx.__enter__()

        def __exit__(self, *exc: object) -> bool:
            handled = self.ctx.__exit__(*exc)
            assert self.info.value.field == field, str(self.info.value)
            return bool(handled)

    return _Check()


# -- TTS ------------------------------------------------------------------------------------


def test_tts_to_dict() -> None:
    assert AzureTTS().to_dict() == {"provider": "azure"}
    assert AzureTTS("de-DE", "de-DE-KatjaNeural").to_dict() == {
        "provider": "azure",
        "language": "de-DE",
        "voice": "de-DE-KatjaNeural",
    }
    assert AzureTTS(voice="en-US-GuyNeural").to_dict() == {"provider": "azure", "voice": "en-US-GuyNeural"}
    assert ElevenLabsTTS().to_dict() == {"provider": "eleven_labs"}
    assert ElevenLabsTTS("21m00Tcm4TlvDq8ikWAM").to_dict() == {
        "provider": "eleven_labs",
        "voice": "21m00Tcm4TlvDq8ikWAM",
    }
    assert (AzureTTS.provider, ElevenLabsTTS.provider) == ("azure", "eleven_labs")
    assert next(iter(AzureTTS("en-US").to_dict())) == "provider"


def test_action_base_is_abstract() -> None:
    with pytest.raises(TypeError):
        Action()


def test_tts_base_is_abstract() -> None:
    with pytest.raises(TypeError):
        TTS()
    assert isinstance(AzureTTS(), TTS) and isinstance(ElevenLabsTTS(), TTS)


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: AzureTTS(language=""), "tts.language"),
        (lambda: AzureTTS(language=" "), "tts.language"),
        (lambda: AzureTTS(language=5), "tts.language"),  # type: ignore[arg-type]
        (lambda: AzureTTS(voice=""), "tts.voice"),
        (lambda: AzureTTS(voice=["x"]), "tts.voice"),  # type: ignore[arg-type]
        (lambda: ElevenLabsTTS(voice=""), "tts.voice"),
        (lambda: ElevenLabsTTS(voice=1), "tts.voice"),  # type: ignore[arg-type]
    ],
)
def test_tts_rejects_bad_fields(factory: Any, field: str) -> None:
    with raises(field):
        factory()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"provider": "azure", "language": "en-US", "voice": "en-US-JennyNeural"},
         AzureTTS("en-US", "en-US-JennyNeural")),
        ({"provider": "azure"}, AzureTTS()),
        ({"provider": "azure", "language": None}, AzureTTS()),
        ({"provider": "eleven_labs", "voice": "21m00Tcm4TlvDq8ikWAM"}, ElevenLabsTTS("21m00Tcm4TlvDq8ikWAM")),
        ({"provider": "eleven_labs"}, ElevenLabsTTS()),
    ],
)
def test_tts_from_dict(data: dict[str, Any], expected: TTS) -> None:
    parsed = tts_from_dict(data)
    assert parsed == expected
    assert type(parsed) is type(expected)
    assert tts_from_dict(parsed.to_dict()) == parsed


@pytest.mark.parametrize(
    ("data", "field", "match"),
    [
        ({}, "tts.provider", "missing"),
        ({"provider": None}, "tts.provider", "missing"),
        ({"provider": "google"}, "tts.provider", 'expected "azure" or "eleven_labs", got "google"'),
        ({"provider": "Azure"}, "tts.provider", "got \"Azure\""),
        ({"provider": 1}, "tts.provider", r"got 1 \(number\)"),
        ({"provider": "eleven_labs", "language": "en-US"}, "tts.language", "not supported by eleven_labs"),
        ({"provider": "azure", "voice_id": "x"}, "tts.voice_id", "did you mean 'voice'"),
        ({"provider": "eleven_labs", "speed": 1.2}, "tts.speed", "unknown key"),
        ({"provider": "azure", "language": ""}, "tts.language", "non-empty"),
        ({"provider": "azure", "voice": 7}, "tts.voice", "expected a string"),
        (["azure"], "tts", "expected an object, got an array"),
        ("azure", "tts", "expected an object"),
    ],
)
def test_tts_from_dict_errors(data: Any, field: str, match: str) -> None:
    with raises(field, match):
        tts_from_dict(data)


# -- barge-in config ------------------------------------------------------------------------


def test_barge_in_config_defaults() -> None:
    config = BargeInConfig()
    assert (config.strategy, config.minimum_characters, config.allow_after_ms) == ("minimum_characters", None, None)
    assert config.to_dict() == {"strategy": "minimum_characters"}


@pytest.mark.parametrize(
    ("config", "wire"),
    [
        (BargeInConfig("none"), {"strategy": "none"}),
        (BargeInConfig("manual"), {"strategy": "manual"}),
        (BargeInConfig("manual", allow_after_ms=500), {"strategy": "manual", "allow_after_ms": 500}),
        (BargeInConfig(minimum_characters=3), {"strategy": "minimum_characters", "minimum_characters": 3}),
        (BargeInConfig("minimum_characters", 10, 2000),
         {"strategy": "minimum_characters", "minimum_characters": 10, "allow_after_ms": 2000}),
        (BargeInConfig(allow_after_ms=0), {"strategy": "minimum_characters", "allow_after_ms": 0}),
    ],
)
def test_barge_in_config_wire_form(config: BargeInConfig, wire: dict[str, Any]) -> None:
    assert config.to_dict() == wire
    assert barge_in_from_dict(wire) == config


@pytest.mark.parametrize("strategy", ["None", "auto", "", None, 1])
def test_barge_in_strategy_rejected(strategy: Any) -> None:
    with raises("barge_in.strategy", 'expected "none", "manual" or "minimum_characters"'):
        BargeInConfig(strategy)


@pytest.mark.parametrize("value", [1, 2, 99, 100])
def test_minimum_characters_in_range(value: int) -> None:
    assert BargeInConfig(minimum_characters=value).minimum_characters == value


@pytest.mark.parametrize("value", [0, -1, 101, 1000, True, False, 3.5, 0.0, 101.0, "3", float("nan"), float("inf")])
def test_minimum_characters_out_of_range_or_wrong_type(value: Any) -> None:
    with raises("barge_in.minimum_characters", "expected an integer from 1 to 100"):
        BargeInConfig(minimum_characters=value)


@pytest.mark.parametrize(("value", "stored"), [(3.0, 3), (100.0, 100), (1.0, 1)])
def test_minimum_characters_accepts_an_integral_float(value: float, stored: int) -> None:
    """The reference's TypeScript type is ``number``: 3.0 is 3 (issue 10); it is sent as the int."""
    config = BargeInConfig(minimum_characters=value)
    assert config.minimum_characters == stored and type(config.minimum_characters) is int
    assert config.to_dict() == {"strategy": "minimum_characters", "minimum_characters": stored}
    assert barge_in_from_dict({"strategy": "minimum_characters", "minimum_characters": value}) == config


@pytest.mark.parametrize("strategy", ["none", "manual"])
def test_minimum_characters_accepted_with_every_strategy(strategy: str) -> None:
    """The reference's TypeScript type allows it with none and manual too (issue 10); it is sent as given."""
    config = BargeInConfig(strategy, minimum_characters=3)
    assert config.to_dict() == {"strategy": strategy, "minimum_characters": 3}
    assert barge_in_from_dict(config.to_dict()) == config


@pytest.mark.parametrize("value", [0, 1, 500, 9999, 10000])
def test_allow_after_ms_in_range(value: int) -> None:
    assert BargeInConfig(allow_after_ms=value).allow_after_ms == value


@pytest.mark.parametrize("value", [-1, 10001, 60000, True, False, 500.5, -1.0, "500"])
def test_allow_after_ms_out_of_range_or_wrong_type(value: Any) -> None:
    with raises("barge_in.allow_after_ms", "expected an integer from 0 to 10000"):
        BargeInConfig(allow_after_ms=value)


def test_allow_after_ms_accepts_an_integral_float() -> None:
    config = BargeInConfig(allow_after_ms=500.0)
    assert config.allow_after_ms == 500 and type(config.allow_after_ms) is int


def test_allow_after_ms_accepted_with_strategy_none() -> None:
    """Allowed by the reference's TypeScript type (issue 10): a skill's answer is not replaced for it."""
    assert BargeInConfig("none", allow_after_ms=0).to_dict() == {"strategy": "none", "allow_after_ms": 0}


@pytest.mark.parametrize(
    ("data", "field", "match"),
    [
        ({}, "barge_in.strategy", "missing"),
        ({"minimum_characters": 3}, "barge_in.strategy", "missing"),
        ({"strategy": "minimum_characters", "min_characters": 3}, "barge_in.min_characters",
         "did you mean 'minimum_characters'"),
        ({"strategy": "none", "allow_after": 3}, "barge_in.allow_after", "did you mean 'allow_after_ms'"),
        ({"strategy": "manual", "minimum_characters": 500}, "barge_in.minimum_characters", "1 to 100"),
        ({"strategy": "minimum_characters", "minimum_characters": 0}, "barge_in.minimum_characters", "1 to 100"),
        ([], "barge_in", "expected an object"),
    ],
)
def test_barge_in_from_dict_errors(data: Any, field: str, match: str) -> None:
    with raises(field, match):
        barge_in_from_dict(data)


def test_barge_in_from_dict_null_options_are_absent() -> None:
    assert barge_in_from_dict({"strategy": "none", "allow_after_ms": None}) == BargeInConfig("none")


# -- speak ----------------------------------------------------------------------------------


def test_speak_text() -> None:
    action = Speak(text="Hello! How can I help you?")
    assert action.to_dict() == {"type": "speak", "text": "Hello! How can I help you?"}
    assert action.session_id is None


def test_speak_ssml() -> None:
    ssml = "<speak>Please listen carefully.<break time='500ms'/>Your balance is $42.50</speak>"
    assert Speak(ssml=ssml).to_dict() == {"type": "speak", "ssml": ssml}


def test_speak_full_wire_form() -> None:
    action = Speak(
        session_id=SID,
        text="Hallo",
        tts=AzureTTS("de-DE", "de-DE-KatjaNeural"),
        barge_in=BargeInConfig(minimum_characters=3),
        user_input_timeout_seconds=5,
    )
    wire = action.to_dict()
    assert list(wire) == ["type", "session_id", "text", "tts", "barge_in", "user_input_timeout_seconds"]
    assert wire == {
        "type": "speak",
        "session_id": SID,
        "text": "Hallo",
        "tts": {"provider": "azure", "language": "de-DE", "voice": "de-DE-KatjaNeural"},
        "barge_in": {"strategy": "minimum_characters", "minimum_characters": 3},
        "user_input_timeout_seconds": 5,
    }
    assert json.loads(json.dumps(wire)) == wire


@pytest.mark.parametrize(
    ("kwargs", "field", "match"),
    [
        ({}, "text", "missing; a speak action needs text or ssml"),
        ({"text": None, "ssml": None}, "text", "missing"),
        ({"text": "a", "ssml": "<speak>a</speak>"}, "ssml", "not allowed together with text"),
        ({"text": ""}, "text", 'expected a non-empty string, got "" '),
        ({"text": "   \n\t"}, "text", "expected more than whitespace"),
        ({"text": 5}, "text", r"expected a string, got 5 \(number\)"),
        ({"text": b"hi"}, "text", "expected a string"),
        ({"ssml": ""}, "ssml", "non-empty"),
        ({"ssml": " "}, "ssml", "whitespace"),
        ({"ssml": ["<speak/>"]}, "ssml", "expected a string, got an array"),
        ({"text": "hi", "tts": {"provider": "azure"}}, "tts", "expected AzureTTS or ElevenLabsTTS"),
        ({"text": "hi", "tts": "azure"}, "tts", "expected AzureTTS or ElevenLabsTTS"),
        ({"text": "hi", "barge_in": {"strategy": "none"}}, "barge_in", "expected a BargeInConfig"),
        ({"text": "hi", "barge_in": "none"}, "barge_in", "expected a BargeInConfig"),
        ({"text": "hi", "session_id": ""}, "session_id", "non-empty string"),
        ({"text": "hi", "session_id": 5}, "session_id", "non-empty string"),
    ],
)
def test_speak_errors(kwargs: dict[str, Any], field: str, match: str) -> None:
    with raises(field, match):
        Speak(**kwargs)


@pytest.mark.parametrize("value", [5, 0.5, 1e-3, 30, 8.0])
def test_speak_timeout_accepted(value: float) -> None:
    assert Speak(text="hi", user_input_timeout_seconds=value).to_dict()["user_input_timeout_seconds"] == value


@pytest.mark.parametrize("value", [0, 0.0, -1, -0.5, float("nan"), float("inf"), True, False, "5", [5]])
def test_speak_timeout_rejected(value: Any) -> None:
    with raises("user_input_timeout_seconds", "expected a positive number of seconds"):
        Speak(text="hi", user_input_timeout_seconds=value)


def test_speak_is_keyword_only_frozen_and_slotted() -> None:
    with pytest.raises(TypeError):
        Speak("hi")  # type: ignore[call-arg]
    action = Speak(text="hi")
    with pytest.raises(AttributeError):
        action.text = "other"  # type: ignore[misc]
    assert not hasattr(action, "__dict__")
    assert hash(action) == hash(Speak(text="hi"))


# -- with_session ---------------------------------------------------------------------------


def test_with_session_binds_a_copy() -> None:
    original = speak("hi", tts=ElevenLabsTTS(), user_input_timeout_seconds=4)
    bound = original.with_session(SID)
    assert bound.session_id == SID
    assert original.session_id is None
    assert bound == msgspec.structs.replace(original, session_id=SID)
    assert type(bound) is Speak
    assert bound.to_dict()["session_id"] == SID


def test_with_session_same_session_returns_self() -> None:
    bound = hangup().with_session(SID)
    assert bound.with_session(SID) is bound


@pytest.mark.parametrize("action", [hangup(), barge_in(), Audio(audio=GOOD_B64),
                                    transfer("+4921155555555", caller_id_name="Sales", caller_id_number="+4921100")],
                         ids=lambda a: a.type)
def test_with_session_all_types(action: Action) -> None:
    bound = action.with_session("abc")
    assert bound.to_dict() == {**action.to_dict(), "session_id": "abc"}
    assert list(bound.to_dict())[:2] == ["type", "session_id"]


@pytest.mark.parametrize("value", ["", None, 5])
def test_with_session_validates(value: Any) -> None:
    with raises("session_id", "non-empty string"):
        hangup().with_session(value)


def test_encode_action_neither_copies_nor_revalidates(monkeypatch: pytest.MonkeyPatch) -> None:
    clip = Audio(audio=GOOD_B64)

    def fail(*args: Any) -> None:
        raise AssertionError("re-inspected or copied")

    monkeypatch.setattr(actions_module, "inspect_wav_reader", fail)
    monkeypatch.setattr(msgspec.structs, "replace", fail)
    assert json.loads(encode_action(clip, "s")) == {"type": "audio", "session_id": "s", "audio": GOOD_B64}


ENCODED = [
    speak("hi"),
    speak(ssml="<speak>x</speak>", tts=AzureTTS(language="de-DE"), user_input_timeout_seconds=2.5),
    speak("x", tts=ElevenLabsTTS(), barge_in=BargeInConfig("manual", allow_after_ms=100)),
    Audio(audio=GOOD_B64, barge_in=BargeInConfig()),
    hangup(),
    barge_in(),
    transfer("+4921155555555", caller_id_name="Support", caller_id_number="+4921100"),
]


@pytest.mark.parametrize("action", ENCODED, ids=lambda a: a.type)
def test_encode_action_is_the_bound_wire_form(action: Action) -> None:
    """Unset fields omitted, the session id added when the answer is encoded."""
    encoded = encode_action(action, SID)
    assert json.loads(encoded) == action.with_session(SID).to_dict() == {**action.to_dict(), "session_id": SID}
    assert b"null" not in encoded
    assert action.session_id is None


def test_encode_action_of_an_action_bound_to_another_call() -> None:
    assert json.loads(encode_action(hangup().with_session("old"), "new")) == {"type": "hangup", "session_id": "new"}
    assert json.loads(encode_action(hangup().with_session("s"), "s")) == {"type": "hangup", "session_id": "s"}


@pytest.mark.parametrize("value", ["", None, 5])
def test_encode_action_validates_the_session_id(value: Any) -> None:
    with raises("session_id", "non-empty string"):
        encode_action(hangup(), value)


# -- audio ----------------------------------------------------------------------------------


def test_audio_valid() -> None:
    action = Audio(audio=GOOD_B64, barge_in=BargeInConfig("none"))
    assert action.to_dict() == {"type": "audio", "audio": GOOD_B64, "barge_in": {"strategy": "none"}}
    assert Audio(audio=GOOD_B64).to_dict() == {"type": "audio", "audio": GOOD_B64}


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (make_wav(44100, 2, 2), "is 44100 Hz stereo 16-bit PCM WAV"),
        (make_wav(16000, 1, 1), "is 16000 Hz mono 8-bit PCM WAV"),
        (make_wav(8000, 1, 2), "is 8000 Hz mono 16-bit PCM WAV"),
        (make_wav(16000, 2, 2), "is 16000 Hz stereo 16-bit PCM WAV"),
        (hand_wav(tag=3, bits=32), "is 16000 Hz mono 32-bit IEEE float WAV"),
        (hand_wav(tag=3, bits=16), "is 16000 Hz mono 16-bit IEEE float WAV"),
        (hand_wav(tag=6, bits=8), "is 16000 Hz mono 8-bit A-law WAV"),
        (hand_wav(tag=7, bits=8), "is 16000 Hz mono 8-bit mu-law WAV"),
        (hand_wav(tag=0xFFFE, extra=extensible_extra(1)), "is 16000 Hz mono 16-bit extensible (PCM) WAV"),
        (MP3_ID3, "is not a WAV file (looks like MP3 audio (ID3 tag))"),
        (MP3_FRAME, "is not a WAV file (looks like MP3 audio (MPEG frame))"),
        (OGG, "is not a WAV file (looks like Ogg audio (Vorbis/Opus))"),
        (FLAC, "is not a WAV file (looks like FLAC audio)"),
        (M4A, "is not a WAV file (looks like MP4/M4A audio)"),
        (GOOD_WAV[:20], "is not a WAV file (is truncated: the WAV header ends inside the fmt chunk (byte 20))"),
        (b"RIFF", "is not a WAV file (is truncated: the WAV header ends after 4 bytes)"),
    ],
)
def test_audio_wrong_format(data: bytes, what: str) -> None:
    message = expected_format_error(what)
    factories: list[Callable[[], Action]] = [
        lambda: Audio(audio=base64.b64encode(data).decode()),
        lambda: Audio.from_base64(base64.b64encode(data).decode()),
        lambda: Audio.from_wav(data),
        lambda: audio(data),
    ]
    for factory in factories:
        with pytest.raises(InvalidActionError) as info:
            factory()
        assert str(info.value) == message
        assert info.value.field == "audio"


def test_audio_error_message_for_stereo_cd_audio() -> None:
    with pytest.raises(InvalidActionError) as info:
        Audio.from_wav(make_wav(44100, 2, 2))
    assert str(info.value) == (
        "audio: is 44100 Hz stereo 16-bit PCM WAV; the service plays only 16 kHz mono 16-bit PCM WAV. "
        "Convert it with: ffmpeg -i input -ar 16000 -ac 1 -sample_fmt s16 output.wav"
    )


def test_reference_example_clip_is_8khz_8bit_and_rejected() -> None:
    with raises("audio", "is 8000 Hz mono 8-bit PCM WAV"):
        Audio(audio=REFERENCE_EXAMPLE_AUDIO)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("", "expected base64-encoded WAV data, got an empty string"),
        (GOOD_B64[:20] + " " + GOOD_B64[20:], "unexpected character ' ' at position 20"),
        (GOOD_B64[:76] + "\n" + GOOD_B64[76:], r"unexpected character '\\n' at position 76; line breaks"),
        (GOOD_B64[:30] + "-" + GOOD_B64[31:], "unexpected character '-' at position 30; this is URL-safe"),
        (GOOD_B64[:30] + "_" + GOOD_B64[31:], "URL-safe base64"),
        (GOOD_B64[:8] + "=" + GOOD_B64[9:], "unexpected character '=' at position 8"),
        (GOOD_B64[:10] + "é" + GOOD_B64[11:], "unexpected character 'é' at position 10"),
        (GOOD_B64 + "===", "unexpected character '='"),
        (GOOD_B64[:-1], "not a multiple of 4"),
        (GOOD_B64[:40] + "A", "its length 41 is not a multiple of 4"),
        (GOOD_B64 + "A", "unexpected character '=' at position"),
        ("data:audio/wav;base64," + GOOD_B64, "is a data: URL"),
        ("UklGRg=", "not a multiple of 4"),
    ],
)
def test_audio_invalid_base64(value: str, match: str) -> None:
    with raises("audio", match):
        Audio(audio=value)


@pytest.mark.parametrize("value", [None, 5, GOOD_WAV, ["x"]])
def test_audio_must_be_a_string(value: Any) -> None:
    with raises("audio", "expected a base64 string"):
        Audio(audio=value)


def test_audio_barge_in_must_be_a_config() -> None:
    with raises("barge_in", "expected a BargeInConfig"):
        Audio(audio=GOOD_B64, barge_in={"strategy": "none"})  # type: ignore[arg-type]


def test_audio_from_wav_and_from_base64() -> None:
    assert Audio.from_wav(GOOD_WAV) == Audio(audio=GOOD_B64)
    assert Audio.from_wav(bytearray(GOOD_WAV)) == Audio(audio=GOOD_B64)
    assert Audio.from_base64(GOOD_B64, barge_in={"strategy": "manual"}) == Audio(
        audio=GOOD_B64, barge_in=BargeInConfig("manual")
    )
    assert Audio.from_wav(GOOD_WAV, barge_in=BargeInConfig("none")).barge_in == BargeInConfig("none")
    with raises("barge_in.strategy"):
        Audio.from_wav(GOOD_WAV, barge_in={"strategy": "sometimes"})


def test_audio_from_wav_rejects_non_bytes() -> None:
    with raises("audio", "expected WAV bytes"):
        Audio.from_wav(GOOD_B64)  # type: ignore[arg-type]


def test_audio_from_file(tmp_path: Path) -> None:
    path = tmp_path / "hold.wav"
    path.write_bytes(GOOD_WAV)
    expected = Audio(audio=GOOD_B64)
    assert Audio.from_file(path) == expected
    assert Audio.from_file(str(path)) == expected
    assert audio(path) == expected
    assert audio(str(path), barge_in={"strategy": "none"}).barge_in == BargeInConfig("none")


def test_audio_from_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.wav"
    with raises("audio", f"cannot read {missing}: "):
        Audio.from_file(missing)
    mp3 = tmp_path / "song.mp3"
    mp3.write_bytes(MP3_ID3)
    with pytest.raises(InvalidActionError) as info:
        audio(mp3)
    assert str(info.value) == expected_format_error(f"{mp3}: is not a WAV file (looks like MP3 audio (ID3 tag))")
    stereo = tmp_path / "stereo.wav"
    stereo.write_bytes(make_wav(44100, 2, 2))
    with raises("audio", f"^audio: {stereo}: is 44100 Hz stereo"):
        audio(str(stereo))
    with raises("audio", "cannot read"):
        audio(tmp_path)  # a directory


def test_audio_from_file_hints_at_base64() -> None:
    with raises("audio", "use Audio.from_base64"):
        audio(GOOD_B64)


def test_audio_from_file_sees_changes(tmp_path: Path) -> None:
    path = tmp_path / "clip.wav"
    path.write_bytes(GOOD_WAV)
    first = Audio.from_file(path)
    assert Audio.from_file(path) == first
    longer = make_wav(frames=320)
    path.write_bytes(longer)
    os.utime(path, ns=(1, 1))
    assert Audio.from_file(path).audio == base64.b64encode(longer).decode()
    path.write_bytes(make_wav(44100, 2, 2, frames=300))
    with raises("audio", "44100 Hz stereo"):
        Audio.from_file(path)


@pytest.mark.parametrize("value", [5, None, ["a.wav"]])
def test_audio_builder_rejects_other_sources(value: Any) -> None:
    with raises("audio", "expected WAV bytes or a file path"):
        audio(value)


def test_large_clip_is_validated_from_its_header_only(monkeypatch: pytest.MonkeyPatch) -> None:
    big = make_wav(frames=16000 * 60)
    encoded = base64.b64encode(big).decode()
    decoded_lengths: list[int] = []
    real = binascii.a2b_base64

    def spy(data: Any, *args: Any, **kwargs: Any) -> bytes:
        decoded_lengths.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(binascii, "a2b_base64", spy)
    Audio(audio=encoded)
    assert decoded_lengths, "the header was never decoded"
    assert sum(decoded_lengths) <= 4096


def test_large_clip_with_a_large_chunk_before_fmt(monkeypatch: pytest.MonkeyPatch) -> None:
    data = hand_wav(before=(chunk(b"LIST", b"x" * 200_000),), samples=b"\x00" * 100_000)
    encoded = base64.b64encode(data).decode()
    decoded_lengths: list[int] = []
    real = binascii.a2b_base64

    def spy(data: Any, *args: Any, **kwargs: Any) -> bytes:
        decoded_lengths.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(binascii, "a2b_base64", spy)
    assert Audio(audio=encoded).audio == encoded
    assert sum(decoded_lengths) <= 4096
    with raises("audio", "44100 Hz"):
        Audio(audio=base64.b64encode(hand_wav(rate=44100, before=(chunk(b"LIST", b"x" * 200_000),))).decode())


def test_large_clip_with_bad_base64_in_the_tail_is_rejected() -> None:
    encoded = base64.b64encode(make_wav(frames=16000 * 10)).decode()
    position = len(encoded) - 1000
    with raises("audio", f"at position {position}"):
        Audio(audio=encoded[:position] + "*" + encoded[position + 1 :])


def test_large_clip_is_accepted() -> None:
    encoded = base64.b64encode(make_wav(frames=16000 * 60)).decode()  # 2.5 MB of base64
    assert Audio(audio=encoded).audio == encoded


def test_truncated_base64_of_a_large_clip_is_reported() -> None:
    encoded = base64.b64encode(GOOD_WAV).decode()
    with raises("audio", "is truncated"):
        Audio(audio=encoded[:24])


# -- hangup, barge_in, transfer ---------------------------------------------------------------


def test_hangup_and_barge_in() -> None:
    assert hangup() == Hangup()
    assert hangup().to_dict() == {"type": "hangup"}
    assert Hangup(session_id=SID).to_dict() == {"type": "hangup", "session_id": SID}
    assert barge_in() == BargeIn()
    assert BargeIn(session_id=SID).to_dict() == {"type": "barge_in", "session_id": SID}
    with raises("session_id"):
        Hangup(session_id="")
    with raises("session_id"):
        BargeIn(session_id=3)  # type: ignore[arg-type]


def test_transfer() -> None:
    action = transfer("+1234567890", caller_id_name="Support Department", caller_id_number="+1234567890")
    assert action == Transfer(
        target_phone_number="+1234567890", caller_id_name="Support Department", caller_id_number="+1234567890"
    )
    assert action.with_session(SID).to_dict() == {
        "type": "transfer",
        "session_id": SID,
        "target_phone_number": "+1234567890",
        "caller_id_name": "Support Department",
        "caller_id_number": "+1234567890",
    }


@pytest.mark.parametrize("number", ["+12", "+4921155555555", "+123456789012345", "+19999999999"])
def test_e164_accepted(number: str) -> None:
    assert Transfer(target_phone_number=number, caller_id_name="x", caller_id_number=number)


BAD_NUMBERS = [
    "(123) 456-7890",
    "123-456-7890",
    "1234567890",
    "+1 234 567 890",
    "+1-234-567-890",
    "+0123456789",
    "+1",
    "+",
    "",
    "+1234567890123456",
    "++1234567890",
    "+١٢٣٤٥٦",
    "+12345a",
    "0049211555555",
    None,
    1234567890,
]


@pytest.mark.parametrize("number", BAD_NUMBERS)
@pytest.mark.parametrize("field", ["target_phone_number", "caller_id_number"])
def test_e164_rejected(field: str, number: Any) -> None:
    kwargs = {"target_phone_number": "+4921155555555", "caller_id_name": "Sales", "caller_id_number": "+4921100"}
    kwargs[field] = number
    with raises(field, "expected a phone number in E.164 format like \\+4921155555555"):
        Transfer(**kwargs)


def test_e164_error_message() -> None:
    with pytest.raises(InvalidActionError) as info:
        transfer("(123) 456-7890", caller_id_name="Sales", caller_id_number="+4921100")
    assert str(info.value) == (
        "target_phone_number: expected a phone number in E.164 format like +4921155555555 "
        "('+', country code, number; digits only), got \"(123) 456-7890\" (string)"
    )


@pytest.mark.parametrize("name", ["", "  ", None, 5])
def test_caller_id_name_rejected(name: Any) -> None:
    with raises("caller_id_name"):
        transfer("+4921155555555", caller_id_name=name, caller_id_number="+4921100")


def test_transfer_fields_are_required() -> None:
    with pytest.raises(TypeError):
        Transfer(target_phone_number="+4921155555555")  # type: ignore[call-arg]


# -- builders -------------------------------------------------------------------------------


def test_speak_builder() -> None:
    assert speak("hi") == Speak(text="hi")
    assert speak(ssml="<speak>hi</speak>") == Speak(ssml="<speak>hi</speak>")
    built = speak(
        "hi",
        tts={"provider": "eleven_labs", "voice": "21m00Tcm4TlvDq8ikWAM"},
        barge_in={"strategy": "minimum_characters", "minimum_characters": 5, "allow_after_ms": 500},
        user_input_timeout_seconds=8,
    )
    assert built == Speak(
        text="hi",
        tts=ElevenLabsTTS("21m00Tcm4TlvDq8ikWAM"),
        barge_in=BargeInConfig("minimum_characters", 5, 500),
        user_input_timeout_seconds=8,
    )
    assert speak("hi", tts=AzureTTS(), barge_in=BargeInConfig("none")).tts == AzureTTS()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tts": {"provider": "polly"}}, "tts.provider"),
        ({"tts": "azure"}, "tts"),
        ({"barge_in": {"strategy": "none", "minimum_characters": 0}}, "barge_in.minimum_characters"),
        ({"barge_in": True}, "barge_in"),
        ({"user_input_timeout_seconds": -1}, "user_input_timeout_seconds"),
    ],
)
def test_speak_builder_errors(kwargs: dict[str, Any], field: str) -> None:
    with raises(field):
        speak("hi", **kwargs)


# -- action_from_dict -------------------------------------------------------------------------

REFERENCE_ACTIONS = [
    {"type": "speak", "session_id": SID, "text": "Hello! How can I help you?",
     "tts": {"provider": "azure", "language": "en-US", "voice": "en-US-JennyNeural"},
     "barge_in": {"strategy": "minimum_characters", "minimum_characters": 3}},
    {"type": "speak", "session_id": SID, "ssml": "<speak>Please listen carefully.</speak>"},
    {"type": "speak", "session_id": SID, "text": "Hello in a different voice",
     "tts": {"provider": "eleven_labs", "voice": "21m00Tcm4TlvDq8ikWAM"}},
    {"type": "speak", "session_id": SID, "text": "What is your account number?", "user_input_timeout_seconds": 5},
    {"type": "speak", "session_id": "session-123", "text": "Your account number is 1234567890.",
     "barge_in": {"strategy": "minimum_characters", "minimum_characters": 10, "allow_after_ms": 2000}},
    {"type": "speak", "session_id": "session-123", "text": "Code 1-2-3.", "barge_in": {"strategy": "none"}},
    {"type": "audio", "session_id": SID, "audio": GOOD_B64,
     "barge_in": {"strategy": "minimum_characters", "minimum_characters": 3}},
    {"type": "hangup", "session_id": SID},
    {"type": "transfer", "session_id": SID, "target_phone_number": "+1234567890",
     "caller_id_name": "Support Department", "caller_id_number": "+1234567890"},
    {"type": "barge_in", "session_id": SID},
]


@pytest.mark.parametrize("data", REFERENCE_ACTIONS, ids=lambda d: d["type"])
def test_action_from_dict_reference_examples(data: dict[str, Any]) -> None:
    action = action_from_dict(data)
    assert type(action) is ACTION_TYPES[data["type"]]
    assert action.to_dict() == data
    assert action_from_dict(action.to_dict()) == action


def test_action_types() -> None:
    assert dict(ACTION_TYPES) == {
        "speak": Speak,
        "audio": Audio,
        "hangup": Hangup,
        "transfer": Transfer,
        "barge_in": BargeIn,
    }
    for name, cls in ACTION_TYPES.items():
        assert cls.type == name
    with pytest.raises(TypeError):
        ACTION_TYPES["x"] = Hangup  # type: ignore[index]


def test_action_from_dict_without_session_id() -> None:
    assert action_from_dict({"type": "speak", "text": "hi"}) == Speak(text="hi")
    assert action_from_dict({"type": "hangup", "session_id": None}) == Hangup()


def test_action_from_dict_null_optional_fields_are_absent() -> None:
    data = {"type": "speak", "text": "hi", "ssml": None, "tts": None, "barge_in": None,
            "user_input_timeout_seconds": None}
    assert action_from_dict(data) == Speak(text="hi")


def test_action_from_dict_accepts_config_objects() -> None:
    data = {"type": "speak", "text": "hi", "tts": AzureTTS(), "barge_in": BargeInConfig("none")}
    assert action_from_dict(data) == Speak(text="hi", tts=AzureTTS(), barge_in=BargeInConfig("none"))


@pytest.mark.parametrize(
    ("data", "field", "match"),
    [
        ([], None, "expected an object, got an array"),
        ("speak", None, "expected an object"),
        ({}, "type", "missing; expected one of speak, audio, hangup, transfer, barge_in"),
        ({"type": None}, "type", "missing"),
        ({"type": 1}, "type", r"expected a string, got 1 \(number\)"),
        ({"type": "say", "text": "x"}, "type", 'unknown action type "say"; expected one of speak, audio'),
        ({"type": "speak", "text": "hi", "user_input_timeout": 5}, "user_input_timeout",
         "unknown key for a speak action \\(did you mean 'user_input_timeout_seconds'\\?\\)"),
        ({"type": "speak", "text": "hi", "bargein": {}}, "bargein", "did you mean 'barge_in'"),
        ({"type": "speak", "text": "hi", "zzz": 1}, "zzz", "allowed: type, session_id, text, ssml"),
        ({"type": "speak", "text": "hi", "user_input_timeout_seconds": "5"}, "user_input_timeout_seconds",
         "positive number of seconds"),
        ({"type": "hangup", "text": "bye"}, "text", "unknown key for a hangup action"),
        ({"type": "speak", "text": "hi", 5: 1}, None, "keys must be strings"),
        ({"type": "speak"}, "text", "missing"),
        ({"type": "speak", "text": "hi", "ssml": "x"}, "ssml", "not allowed together"),
        ({"type": "speak", "text": "hi", "tts": {"provider": "azure", "language": 1}}, "tts.language", "string"),
        ({"type": "speak", "text": "hi", "tts": []}, "tts", "expected a TTS config or an object"),
        ({"type": "speak", "text": "hi", "barge_in": {"strategy": "none", "allow_after_ms": 10001}},
         "barge_in.allow_after_ms", "0 to 10000"),
        ({"type": "speak", "text": "hi", "barge_in": {"strategy": "manual", "allow_after_ms": 2.5}},
         "barge_in.allow_after_ms", "integer"),
        ({"type": "speak", "text": "hi", "barge_in": 3}, "barge_in", "expected a BargeInConfig or an object"),
        ({"type": "speak", "text": "hi", "session_id": ""}, "session_id", "non-empty"),
        ({"type": "audio"}, "audio", "^audio: missing$"),
        ({"type": "audio", "audio": None}, "audio", "got null"),
        ({"type": "audio", "audio": "!!!!"}, "audio", "not valid base64"),
        ({"type": "transfer", "caller_id_name": "x", "caller_id_number": "+4921100"}, "target_phone_number",
         "missing"),
        ({"type": "transfer", "target_phone_number": "+4921100", "caller_id_number": "+4921100"},
         "caller_id_name", "missing"),
        ({"type": "transfer", "target_phone_number": "+4921100", "caller_id_name": "x"}, "caller_id_number",
         "missing"),
        ({"type": "transfer", "target_phone_number": "0211 555", "caller_id_name": "x",
          "caller_id_number": "+4921100"}, "target_phone_number", "E.164"),
    ],
)
def test_action_from_dict_errors(data: Any, field: str | None, match: str) -> None:
    with raises(field, match):
        action_from_dict(data)


ALL_ACTIONS = [
    speak("hi"),
    speak(ssml="<speak>x</speak>", tts=AzureTTS(language="de-DE"), user_input_timeout_seconds=2.5),
    speak("x", barge_in=BargeInConfig("manual", allow_after_ms=100)).with_session("s"),
    Audio(audio=GOOD_B64),
    Audio(audio=GOOD_B64, barge_in=BargeInConfig("none"), session_id="s"),
    hangup(),
    barge_in().with_session("s"),
    transfer("+4921155555555", caller_id_name="Support", caller_id_number="+4921100"),
]


@pytest.mark.parametrize("action", ALL_ACTIONS, ids=lambda a: a.type)
def test_round_trip(action: Action) -> None:
    wire = action.to_dict()
    assert next(iter(wire)) == "type"
    assert action_from_dict(json.loads(json.dumps(wire))) == action


def test_the_transfer_builder_defaults_both_caller_id_fields_to_the_target_as_the_configuration_does() -> None:
    from flask_aiflow import transfer

    assert transfer("+4921155555000").to_dict() == {
        "type": "transfer",
        "target_phone_number": "+4921155555000",
        "caller_id_name": "+4921155555000",
        "caller_id_number": "+4921155555000",
    }
    given = transfer("+4921155555000", caller_id_name="Support", caller_id_number="+4921155555555")
    assert (given.caller_id_name, given.caller_id_number) == ("Support", "+4921155555555")
