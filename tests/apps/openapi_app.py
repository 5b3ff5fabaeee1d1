"""The app the schemathesis run (and the budget test) serves with gunicorn.

One skill answers with every kind of action: what the caller says picks the
action, anything else is echoed, and an empty text gets the fallback. A
second skill hangs when the caller says "__hang__".
"""

import io
import time
import wave

from flask import Flask

from flask_aiflow import AiFlow, audio, barge_in, hangup, hookimpl, speak, transfer


def tiny_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(16000)
        clip.writeframes(b"\x00\x00" * 160)
    return buffer.getvalue()


CLIP = audio(tiny_wav(), barge_in={"strategy": "none"})


class EveryAction:
    AIFLOW_NAME = "every_action"

    @hookimpl
    def aiflow_session_start(self, event, call):
        return speak(
            ssml="<speak>Welcome</speak>",
            tts={"provider": "azure", "language": "en-US", "voice": "en-US-JennyNeural"},
            barge_in={"strategy": "minimum_characters", "minimum_characters": 3, "allow_after_ms": 500},
            user_input_timeout_seconds=8,
        )

    @hookimpl
    def aiflow_user_speak(self, event, call):
        words = event.text.lower()
        if "transfer" in words:
            return transfer("+4921155555555", caller_id_name="Support", caller_id_number="+4930123456")
        if "bye" in words:
            return hangup()
        if "play" in words:
            return CLIP
        if "stop" in words:
            return barge_in()
        if event.text.strip():
            return speak(f"You said: {event.text}", tts={"provider": "eleven_labs"}, barge_in={"strategy": "manual"})
        return None

    @hookimpl
    def aiflow_user_input_timeout(self, event, call):
        return "Are you still there?"


class Sleepy:
    AIFLOW_NAME = "sleepy"
    AIFLOW_PRIORITY = 90

    @hookimpl
    def aiflow_user_speak(self, event, call):
        if "__hang__" in event.text:
            time.sleep(10)
            return "Sorry for the wait"
        return None


app = Flask(__name__)
app.config.update(
    AIFLOW_SHARED_SECRET="test-secret",
    AIFLOW_LOAD_ENTRY_POINTS=False,
    AIFLOW_MAX_EVENT_BYTES=16 * 1024,
    # schemathesis sends every case once more without the token and expects a
    # 401 each time; the limiter (tested on its own) would soon answer 429.
    AIFLOW_AUTH_FAILURE_LIMIT=None,
)
AiFlow(app, skills=[EveryAction(), Sleepy()])
