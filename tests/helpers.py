"""Build small skills inline for tests."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable

from flask_aiflow import hookimpl


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
    def hook(event: Any, call: Any) -> str:
        return text

    return hook


def wav_bytes(rate: int = 16000, channels: int = 1, width: int = 2, frames: int = 160) -> bytes:
    """A short silent WAV file; the defaults are the format the service plays."""
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(b"\x00" * frames * channels * width)
    return buffer.getvalue()
