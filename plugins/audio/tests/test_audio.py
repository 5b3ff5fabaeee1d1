"""The audio skill: clips checked at start-up, played on events and by other skills."""

from __future__ import annotations

import base64
import os
import wave
from pathlib import Path
from typing import Any

import flask_aiflow_audio as audio
import flask_aiflow_greeting as greeting
import pytest
from flask import Flask
from flask_aiflow_audio import UnknownClipError, clip, clip_names

from flask_aiflow import AiFlow, SkillConfigError
from flask_aiflow.protocol.wav import inspect_wav
from tests.helpers import SECRET, event, make_app, make_skill


def write_wav(path: Path, *, rate: int = 16000, channels: int = 1, width: int = 2, frames: int = 160) -> bytes:
    """Write a real WAV file (silence) with the given format; returns its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(b"\x00" * frames * channels * width)
    return path.read_bytes()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    clips = tmp_path / "clips"
    write_wav(clips / "jingle.wav", frames=320)
    write_wav(clips / "legal.wav", frames=480)
    write_wav(clips / "sub" / "hold.wav")
    (tmp_path / "secret.wav").write_bytes(write_wav(tmp_path / "secret.wav"))
    return clips


def audio_app(config: dict[str, Any], *skills: Any, **extra: Any) -> Flask:
    return make_app(audio, *skills, AIFLOW_AUDIO=config, **extra)


def post(app: Flask, type_: str, session_id: str, **fields: Any) -> Any:
    response = app.test_client().post("/webhook", json=event(type_, session_id, **fields), headers={"X-API-TOKEN": SECRET})
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    return response.get_json() if response.status_code == 200 else None


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


# -- discovery and loading -------------------------------------------------------


def test_discovered_through_its_entry_point(folder: Path) -> None:
    app = make_app(
        AIFLOW_LOAD_ENTRY_POINTS=True,
        AIFLOW_SKILLS=["audio"],
        AIFLOW_AUDIO={"folder": str(folder), "clips": {"jingle": "jingle.wav"}, "play_on": {"session_start": "jingle"}},
    )
    info = app.extensions["aiflow"].registry.get("audio")
    assert info.enabled and info.package == "flask-aiflow-audio" and info.priority == 60
    assert post(app, "session_start", "ep") == {"type": "audio", "session_id": "ep", "audio": b64(folder / "jingle.wav")}


def test_clips_are_encoded_once_at_start_up(folder: Path) -> None:
    original = b64(folder / "jingle.wav")
    app = audio_app({"folder": str(folder), "clips": {"jingle": "jingle.wav"}})
    (folder / "jingle.wav").write_bytes(b"changed after start-up")
    with app.app_context():
        first = clip("jingle")
        assert first.audio == original  # read at start-up, not now
        assert clip("jingle") is first  # one ready action, never rebuilt


def test_a_relative_folder_is_taken_from_the_app_root(folder: Path) -> None:
    app = Flask("rooted", root_path=str(folder.parent))
    app.config.update(
        AIFLOW_SHARED_SECRET=SECRET,
        AIFLOW_LOAD_ENTRY_POINTS=False,
        AIFLOW_AUDIO={"folder": "clips", "clips": {"jingle": "jingle.wav"}},
    )
    AiFlow(app, skills=[audio])
    with app.app_context():
        assert clip("jingle").audio == b64(folder / "jingle.wav")


def test_without_configuration_the_skill_plays_nothing() -> None:
    app = make_app(audio)
    assert post(app, "session_start", "quiet") is None
    with app.app_context(), pytest.raises(UnknownClipError, match="AIFLOW_AUDIO is not set"):
        clip("jingle")


# -- play_on ---------------------------------------------------------------------


NOTICE = {"file": "legal.wav", "barge_in": {"strategy": "none"}}


def test_legal_notice_before_the_greeting_then_the_greeting(folder: Path) -> None:
    app = make_app(
        audio,
        greeting,
        AIFLOW_AUDIO={"folder": str(folder), "clips": {"notice": NOTICE}, "play_on": {"session_start": "notice"}},
        AIFLOW_GREETING={"text": "Welcome to ACME!", "user_input_timeout_seconds": 8},
    )
    assert post(app, "session_start", "n1") == {
        "type": "audio",
        "session_id": "n1",
        "audio": b64(folder / "legal.wav"),
        "barge_in": {"strategy": "none"},
    }
    assert post(app, "assistant_speech_ended", "n1") == {
        "type": "speak",
        "session_id": "n1",
        "text": "Welcome to ACME!",
        "user_input_timeout_seconds": 8,
    }
    assert post(app, "assistant_speech_ended", "n1") is None


def test_play_on_plays_once_per_call_and_per_call(folder: Path) -> None:
    app = audio_app(
        {
            "folder": str(folder),
            "clips": {"jingle": "jingle.wav", "hold": "sub/hold.wav"},
            "play_on": {"user_input_timeout": {"clip": "hold", "priority": 30}, "user_speak": "jingle"},
        },
        AIFLOW_FALLBACK="Pardon?",
    )
    assert post(app, "user_input_timeout", "p1")["audio"] == b64(folder / "sub" / "hold.wav")
    assert post(app, "user_input_timeout", "p1") == {"type": "speak", "session_id": "p1", "text": "Pardon?"}
    assert post(app, "user_speak", "p1")["audio"] == b64(folder / "jingle.wav")
    assert post(app, "user_speak", "p1")["text"] == "Pardon?"
    assert post(app, "user_input_timeout", "p2")["type"] == "audio"  # another call: its own count


def test_a_clip_that_lost_is_retried_on_the_next_such_event(folder: Path) -> None:
    louder = make_skill("louder", 70, user_speak=lambda event, call: "me first" if event.text == "first" else None)
    app = audio_app(
        {"folder": str(folder), "clips": {"jingle": "jingle.wav"}, "play_on": {"user_speak": "jingle"}}, louder
    )
    assert post(app, "user_speak", "r1", text="first")["text"] == "me first"
    assert post(app, "user_speak", "r1", text="second")["type"] == "audio"


def test_play_on_priority_decides_against_other_skills(folder: Path) -> None:
    intent = make_skill("intent", 50, session_start=lambda event, call: "Hello")
    config = {"folder": str(folder), "clips": {"jingle": "jingle.wav"}}
    high = audio_app({**config, "play_on": {"session_start": "jingle"}}, intent)
    assert post(high, "session_start", "q1")["type"] == "audio"  # default 60 > 50
    low = audio_app({**config, "play_on": {"session_start": {"clip": "jingle", "priority": 40}}}, intent)
    assert post(low, "session_start", "q2")["text"] == "Hello"


# -- the API for other skills -------------------------------------------------------


def test_other_skills_play_clips_by_name(folder: Path) -> None:
    def music(event: Any, call: Any) -> Any:
        return clip("jingle") if "music" in event.text else None

    app = audio_app({"folder": str(folder), "clips": {"jingle": "jingle.wav"}}, make_skill("dj", 50, user_speak=music))
    assert post(app, "user_speak", "d1", text="play music")["audio"] == b64(folder / "jingle.wav")
    with app.test_request_context():
        assert clip_names() == ("jingle",)
        with pytest.raises(UnknownClipError, match=r"no audio clip named '../secret' \(configured: jingle\)"):
            clip("../secret")


def test_clip_names_is_usable_from_another_skills_start_up(folder: Path) -> None:
    seen: list[tuple[str, ...]] = []

    def startup(app: Flask) -> None:
        seen.append(clip_names(app))

    # "aaa" starts before "audio" (tie-break by name), and still sees the clips
    make_app(make_skill("aaa", startup=startup), audio, AIFLOW_AUDIO={"folder": str(folder), "clips": {"j": "jingle.wav"}})
    assert seen == [("j",)]


# -- path safety -------------------------------------------------------------------


def test_symlink_inside_the_folder_is_allowed(folder: Path) -> None:
    os.symlink(folder / "jingle.wav", folder / "alias.wav")
    app = audio_app({"folder": str(folder), "clips": {"alias": "alias.wav", "nested": "sub/hold.wav"}})
    with app.app_context():
        assert clip("alias").audio == b64(folder / "jingle.wav")


def test_a_symlinked_folder_is_followed_once(folder: Path, tmp_path: Path) -> None:
    os.symlink(folder, tmp_path / "linked")
    app = audio_app({"folder": str(tmp_path / "linked"), "clips": {"jingle": "jingle.wav"}})
    with app.app_context():
        assert clip("jingle").audio == b64(folder / "jingle.wav")


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("../secret.wav", "'../secret.wav' leaves the clip folder ('..' is not allowed)"),
        ("sub/../../secret.wav", "leaves the clip folder ('..' is not allowed)"),
        ("{tmp}/secret.wav", "is an absolute path; give a path inside the clip folder"),
        ("/etc/passwd", "'/etc/passwd' is an absolute path"),
        ("..\\secret.wav", "use '/' to separate folders"),
        ("jingle.wav\x00.txt", "may not contain a NUL character"),
        ("escape.wav", "resolves to '{tmp}/secret.wav', outside the clip folder"),
        ("outside/secret.wav", "resolves to '{tmp}/secret.wav', outside the clip folder"),
        (".", "is the clip folder itself, not a file"),
        ("sub", "'sub' is not a regular file"),
        ("missing.wav", "cannot read 'missing.wav': No such file or directory"),
        ("", 'AIFLOW_AUDIO["clips"]["x"]["file"]: expected a non-empty string'),
    ],
)
def test_no_path_outside_the_folder_can_be_read(folder: Path, tmp_path: Path, file: str, message: str) -> None:
    os.symlink(tmp_path / "secret.wav", folder / "escape.wav")
    os.symlink(tmp_path, folder / "outside")
    with pytest.raises(SkillConfigError) as info:
        audio_app({"folder": str(folder), "clips": {"x": file.replace("{tmp}", str(tmp_path))}})
    text = str(info.value)
    assert 'AIFLOW_AUDIO["clips"]["x"]' in text
    assert message.replace("{tmp}", str(os.path.realpath(tmp_path))) in text


# -- formats -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "what"),
    [
        ({"rate": 44100}, "is 44100 Hz mono 16-bit PCM WAV"),
        ({"channels": 2}, "is 16000 Hz stereo 16-bit PCM WAV"),
        ({"width": 1}, "is 16000 Hz mono 8-bit PCM WAV"),
        ({"rate": 8000, "channels": 2, "width": 3}, "is 8000 Hz stereo 24-bit PCM WAV"),
    ],
)
def test_wrong_wav_formats_fail_at_start_up(folder: Path, kwargs: dict[str, int], what: str) -> None:
    data = write_wav(folder / "music.wav", **kwargs)
    assert not inspect_wav(data).is_required_format()
    with pytest.raises(SkillConfigError) as info:
        audio_app({"folder": str(folder), "clips": {"music": "music.wav"}})
    assert str(info.value) == (
        f"skill 'audio': AIFLOW_AUDIO[\"clips\"][\"music\"]: 'music.wav' {what}; the service plays only "
        "16 kHz mono 16-bit PCM WAV. Convert it with: "
        "ffmpeg -i music.wav -ar 16000 -ac 1 -sample_fmt s16 music-16k.wav"
    )


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 64, "is not a WAV file (looks like MP3 audio (ID3 tag))"),
        (b"OggS" + b"\x00" * 64, "is not a WAV file (looks like Ogg audio (Vorbis/Opus))"),
        (b"", "is not a WAV file (is empty)"),
    ],
)
def test_files_that_are_no_wav_are_named_with_what_they_are(folder: Path, content: bytes, what: str) -> None:
    (folder / "my song.wav").write_bytes(content)
    with pytest.raises(SkillConfigError) as info:
        audio_app({"folder": str(folder), "clips": {"song": "my song.wav"}})
    assert f"'my song.wav' {what}" in str(info.value)
    assert "ffmpeg -i 'my song.wav' -ar 16000 -ac 1 -sample_fmt s16 'my song-16k.wav'" in str(info.value)


def test_oversized_clip_is_refused(folder: Path) -> None:
    with pytest.raises(SkillConfigError, match=r"'jingle.wav' has 684 bytes, more than the limit of 100"):
        audio_app({"folder": str(folder), "clips": {"jingle": "jingle.wav"}, "max_clip_bytes": 100})


# -- configuration errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"clips": {}}, 'AIFLOW_AUDIO["folder"]: missing'),
        ({"folder": "{folder}"}, 'AIFLOW_AUDIO["clips"]: missing'),
        ({"folder": "{folder}/nope", "clips": {}}, 'AIFLOW_AUDIO["folder"]: \'{folder}/nope\' is not a folder'),
        ({"folder": "{folder}/jingle.wav", "clips": {}}, "is not a folder"),
        ({"folder": "{folder}", "clips": {}, "paly_on": {}}, 'AIFLOW_AUDIO["paly_on"]: unknown key (did you mean \'play_on\'?)'),
        ({"folder": "{folder}", "clips": ["jingle.wav"]}, 'AIFLOW_AUDIO["clips"]: expected a mapping, got an array'),
        ({"folder": "{folder}", "clips": {"j": {"path": "jingle.wav"}}}, 'AIFLOW_AUDIO["clips"]["j"]["path"]: unknown key'),
        ({"folder": "{folder}", "clips": {"j": {"barge_in": {}}}}, 'AIFLOW_AUDIO["clips"]["j"]["file"]: missing'),
        (
            {"folder": "{folder}", "clips": {"j": {"file": "jingle.wav", "barge_in": {"strategy": "sometimes"}}}},
            'AIFLOW_AUDIO["clips"]["j"]["barge_in"]["strategy"]: expected "none", "manual" or "minimum_characters"',
        ),
        (
            {"folder": "{folder}", "clips": {"j": "jingle.wav"}, "play_on": {"session_end": "j"}},
            'AIFLOW_AUDIO["play_on"]["session_end"]: unknown key',
        ),
        (
            {"folder": "{folder}", "clips": {"j": "jingle.wav"}, "play_on": {"session_start": "jingel"}},
            'AIFLOW_AUDIO["play_on"]["session_start"]: no clip named \'jingel\' in AIFLOW_AUDIO["clips"] (configured: j)',
        ),
        (
            {"folder": "{folder}", "clips": {"j": "jingle.wav"}, "play_on": {"session_start": {"clip": "j", "priority": -1}}},
            'AIFLOW_AUDIO["play_on"]["session_start"]["priority"]: expected an integer >= 0, got -1 (number)',
        ),
        ({"folder": "{folder}", "clips": {}, "max_clip_bytes": 0}, 'AIFLOW_AUDIO["max_clip_bytes"]: expected an integer >= 1'),
    ],
)
def test_configuration_errors_name_the_key(folder: Path, config: dict[str, Any], message: str) -> None:
    config = {key: value.replace("{folder}", str(folder)) if isinstance(value, str) else value for key, value in config.items()}
    with pytest.raises(SkillConfigError) as info:
        audio_app(config)
    assert message.replace("{folder}", str(folder)) in str(info.value)
