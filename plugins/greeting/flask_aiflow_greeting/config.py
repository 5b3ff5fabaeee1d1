"""``AIFLOW_GREETING``: validated once at start-up into frozen settings.

The top level holds the greeting for every line; ``lines`` maps a called
number (E.164) to overrides for that line. A line inherits each top-level key
it does not set itself, with two groups replaced as a whole: ``text``/``ssml``
(a line giving either replaces both) and ``closed`` (the out-of-hours
message). The out-of-hours message takes its line's ``tts`` and ``barge_in``
unless it sets its own; with ``then_hangup`` its barge-in defaults to
``none``, so the caller hears it to the end and nothing cancels the hang-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

from flask import Flask

from flask_aiflow.protocol.actions import TTS, BargeInConfig, Speak
from flask_aiflow.skills.config import (
    SPEAK_KEYS,
    KeyPath,
    barge_in_option,
    expect_bool,
    expect_mapping,
    expect_number,
    expect_phone_number,
    speak_from_config,
    tts_option,
)

from .hours import OpeningHours, parse_dates, parse_time_zone, parse_week

__all__ = ["CONFIG_KEY", "Clock", "GreetingSettings", "LineGreeting", "load_settings", "system_clock"]

CONFIG_KEY = "AIFLOW_GREETING"

#: Returns the current time as a time-zone-aware datetime.
Clock = Callable[[], datetime]

LINE_KEYS = (*SPEAK_KEYS, "time_zone", "hours", "closed_on", "closed")
TOP_KEYS = (*LINE_KEYS, "lines", "clock", "deliver_late")
CLOSED_KEYS = (*SPEAK_KEYS, "then_hangup")


def system_clock() -> datetime:
    """The default clock: now, in UTC."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class LineGreeting:
    """What one line says when a call starts.

    :param greeting: spoken while open (None: this line has no greeting).
    :param hours: when the line is open (None: always).
    :param closed: spoken out of hours.
    :param then_hangup: hang up once ``closed`` has been spoken.
    """

    greeting: Speak | None
    hours: OpeningHours | None = None
    closed: Speak | None = None
    then_hangup: bool = False


@dataclass(frozen=True, slots=True)
class GreetingSettings:
    """The parsed ``AIFLOW_GREETING`` of one app."""

    default: LineGreeting
    lines: Mapping[str, LineGreeting]
    clock: Clock
    #: Propose a greeting that lost on ``session_start`` again when speech ends.
    deliver_late: bool = True

    def for_number(self, number: str | None) -> LineGreeting:
        """The greeting of the called ``number``, or the default one."""
        if number is not None:
            line = self.lines.get(number)
            if line is not None:
                return line
        return self.default


@dataclass(frozen=True, slots=True)
class _Voice:
    """The speak settings a line inherits from the top level (already validated)."""

    tts: TTS | None
    barge_in: BargeInConfig | None


def load_settings(app: Flask) -> GreetingSettings | None:
    """Parse ``app.config["AIFLOW_GREETING"]``; None when it is not set."""
    value = app.config.get(CONFIG_KEY)
    if value is None:
        return None
    root = KeyPath(CONFIG_KEY)
    top = expect_mapping(value, root, allowed=TOP_KEYS)
    core = app.extensions["aiflow"].settings
    voice = _Voice(core.default_tts, core.default_barge_in)
    clock = _clock(top.get("clock", system_clock), root / "clock")
    lines_value = top.get("lines", {})
    lines_path = root / "lines"
    lines_raw = expect_mapping(lines_value, lines_path)
    default = _line(top, {}, root, root, voice, required=not lines_raw)
    lines = {}
    for number, overrides in lines_raw.items():
        path = lines_path / number
        expect_phone_number(number, path)
        lines[number] = _line(top, expect_mapping(overrides, path, allowed=LINE_KEYS), root, path, voice, required=True)
    deliver_late = expect_bool(top.get("deliver_late", True), root / "deliver_late")
    return GreetingSettings(default=default, lines=MappingProxyType(lines), clock=clock, deliver_late=deliver_late)


def _clock(value: Any, path: KeyPath) -> Clock:
    if not callable(value):
        raise path.error(f"expected a function returning the current time, got {value!r}")
    now = value()
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise path.error(f"must return a time-zone-aware datetime, returned {now!r}")
    return value  # type: ignore[no-any-return]


def _line(
    top: Mapping[str, Any],
    line: Mapping[str, Any],
    root: KeyPath,
    line_path: KeyPath,
    voice: _Voice,
    *,
    required: bool,
) -> LineGreeting:
    """One line's greeting: its own keys first, then the top level's.

    The default greeting is the line with no keys of its own (``line_path`` is ``root``).
    """

    def source(key: str) -> tuple[Any, KeyPath] | None:
        if key in line:
            return line[key], line_path / key
        if key in top:
            return top[key], root / key
        return None

    tts = voice.tts
    if (found := source("tts")) is not None:
        tts = tts_option(*found)
    barge_in = voice.barge_in
    if (found := source("barge_in")) is not None:
        barge_in = barge_in_option(*found)
    timeout = None
    if (found := source("user_input_timeout_seconds")) is not None and found[0] is not None:
        timeout = expect_number(*found)

    owner, owner_path = (line, line_path) if "text" in line or "ssml" in line else (top, root)
    greeting = None
    if "text" in owner or "ssml" in owner:
        speech = {key: owner[key] for key in ("text", "ssml") if key in owner}
        greeting = speak_from_config(
            speech, owner_path, tts=tts, barge_in=barge_in, user_input_timeout_seconds=timeout
        )
    elif required:
        where = " (here or at the top level)" if line_path != root else ""
        raise line_path.error(f'needs "text" or "ssml"{where}')

    zone = source("time_zone")
    time_zone = parse_time_zone(*zone) if zone is not None else None
    dates = source("closed_on")
    closed_on = parse_dates(*dates) if dates is not None else frozenset()
    closed_voice = _Voice(tts, barge_in)
    closed = source("closed")
    hours = source("hours")
    if hours is None or hours[0] is None:
        if closed is not None:
            _closed(*closed, closed_voice)  # checked even where unused, so a typo never waits
        return LineGreeting(greeting=greeting)
    week = parse_week(*hours)
    if time_zone is None:
        raise hours[1].error('opening hours need a "time_zone" such as "Europe/Berlin"')
    if closed is None:
        raise hours[1].error('opening hours need a "closed" message for out-of-hours calls')
    message, then_hangup = _closed(*closed, closed_voice)
    return LineGreeting(
        greeting=greeting,
        hours=OpeningHours(week=week, time_zone=time_zone, closed_on=closed_on),
        closed=message,
        then_hangup=then_hangup,
    )


def _closed(value: Any, path: KeyPath, voice: _Voice) -> tuple[Speak, bool]:
    data = expect_mapping({"text": value} if isinstance(value, str) else value, path, allowed=CLOSED_KEYS)
    then_hangup = expect_bool(data["then_hangup"], path / "then_hangup") if "then_hangup" in data else False
    barge_in = BargeInConfig("none") if then_hangup else voice.barge_in
    speech = {key: item for key, item in data.items() if key != "then_hangup"}
    return speak_from_config(speech, path, tts=voice.tts, barge_in=barge_in), then_hangup
