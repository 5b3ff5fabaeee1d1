"""What tests build and check with: events, the app factory, inline skills, waits.

Fixtures live in ``tests/conftest.py``; everything a test imports lives here.
"""

from __future__ import annotations

import io
import json
import time
import uuid
import wave
from types import SimpleNamespace
from typing import Any, Callable

from flask import Flask
from hypothesis import settings

from flask_aiflow import AiFlow, hookimpl
from flask_aiflow.testing import make_test_app

#: The shared secret of the suite's apps (the apps under tests/apps/ use it too).
SECRET = "test-secret"


def session(session_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A wire-form ``session`` object; ``fields`` override its defaults."""
    data = {
        "id": session_id or str(uuid.uuid4()),
        "account_id": "account-123",
        "phone_number": "+4930123456",
        "direction": "inbound",
        "from_phone_number": "+4917099999",
        "to_phone_number": "+4930123456",
    }
    data.update(fields)
    return data


def event(type_: str, session_id: str, **fields: Any) -> dict[str, Any]:
    """A wire-form event for one call."""
    defaults: dict[str, Any] = {}
    if type_ in ("user_speak", "user_barge_in"):
        defaults["text"] = "hello"
    if type_ == "assistant_speak":
        defaults.update(text="Hi", duration_ms=1200, speech_started_at=1700000000000)
    return {"type": type_, **defaults, **fields, "session": session(session_id)}


def make_app(*skills: Any, aiflow: AiFlow | None = None, **config: Any) -> Flask:
    """A Flask app in testing mode with flask-aiflow and exactly ``skills`` (no installed ones).

    The suite's one app factory: :func:`flask_aiflow.testing.make_test_app`
    with the suite's :data:`SECRET`. ``aiflow`` sets the app up with that
    extension object instead of a new one (to share it between apps, or to
    give it a store); ``config`` sets any Flask or ``AIFLOW_*`` key.
    """
    return make_test_app(*skills, aiflow=aiflow, **{"AIFLOW_SHARED_SECRET": SECRET, **config})


def examples(count: int) -> int:
    """``count`` property-based examples in a full run, proportionally fewer in the quick set.

    For ``@settings(max_examples=examples(300))`` on a test that wants more
    than the profile's 200 (see tests/conftest.py); read when the test module
    is imported, after the profile is loaded.
    """
    return max(1, count * settings.default.max_examples // 200)


def make_skill(name: str, priority: int | None = None, **hooks: Callable[..., Any]) -> Any:
    """A skill object named ``name`` implementing ``aiflow_<hook>`` for each keyword.

    ``make_skill("menu", 60, user_speak=lambda event, call: "hi")``
    """
    attrs: dict[str, Any] = {"AIFLOW_NAME": name}
    if priority is not None:
        attrs["AIFLOW_PRIORITY"] = priority
    for hook, function in hooks.items():
        attrs[f"aiflow_{hook}"] = hookimpl(function)
    return SimpleNamespace(**attrs)


def says(text: str) -> Callable[..., str]:
    """A hook that answers ``text``."""

    def hook(event: Any, call: Any) -> str:
        return text

    return hook


def wav_bytes(rate: int = 16000, channels: int = 1, width: int = 2, frames: int = 160) -> bytes:
    """A short silent WAV file; the defaults are the format the service plays."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(b"\x00" * frames * channels * width)
    return buffer.getvalue()


def wait_until(condition: Callable[[], object], failure: str, timeout: float = 30.0) -> None:
    """Wait until ``condition()`` is true; fail with ``failure`` if it is not within ``timeout`` seconds.

    For waiting on another thread or process. The timeout is generous on
    purpose: it only bounds a test that would otherwise hang, it never decides
    whether something was fast enough.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{failure} (waited {timeout:g} s)")
        time.sleep(0.002)


def assert_next_answers(
    ws: Any, probe: dict[str, Any], *, before: str = "the messages before it", timeout: float = 10.0
) -> dict[str, Any]:
    """Send ``probe`` on WebSocket ``ws``; its answer must be the next message.

    The server answers a connection's messages one at a time, in order, so
    this proves that nothing was sent for the messages before the probe
    (``before`` names them in the failure message) without waiting for a
    silence. ``probe`` must be an event that gets an answer (a
    ``session_start`` of a new call, say). Returns the answer.
    """
    ws.send(json.dumps(probe))
    reply = ws.receive(timeout=timeout)
    assert reply is not None, f"no answer to the probe {probe['type']} within {timeout:g} s"
    answer: dict[str, Any] = json.loads(reply)
    assert answer.get("session_id") == probe["session"]["id"], f"an action came for {before}: {reply}"
    return answer
