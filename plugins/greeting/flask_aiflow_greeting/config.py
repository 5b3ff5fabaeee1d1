"""``AIFLOW_GREETING``: checked and built once at start-up into frozen settings.

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
from typing import Any, Union

from flask import Flask

from flask_aiflow.protocol.actions import BargeInConfig, Speak
from flask_aiflow.skills.config import KeyPath, Voice, barge_in_option, build_speak, tts_option
from flask_aiflow.skills.models import (
    UNSET,
    ConfigModel,
    NonEmptyStr,
    PhoneNumber,
    Seconds,
    SpeakConfig,
    UnsetType,
)

from .hours import OpeningHours, parse_dates, parse_time_zone, parse_week

__all__ = ["CONFIG_KEY", "Clock", "GreetingConfig", "GreetingSettings", "LineConfig", "LineGreeting", "build", "system_clock"]

CONFIG_KEY = "AIFLOW_GREETING"
PATH = KeyPath(CONFIG_KEY)

#: Returns the current time as a time-zone-aware datetime.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The default clock: now, in UTC."""
    return datetime.now(timezone.utc)


class ClosedConfig(SpeakConfig):
    """The out-of-hours message; ``then_hangup`` ends the call once it has been spoken."""

    then_hangup: bool = False


#: The out-of-hours message: its text, or a mapping.
ClosedSetting = Union[str, ClosedConfig]  # noqa: UP007 - a runtime alias msgspec reads


class LineConfig(ConfigModel):
    """What a line says: the keys a called number (a key of ``lines``) may override."""

    text: NonEmptyStr | UnsetType = UNSET
    ssml: NonEmptyStr | UnsetType = UNSET
    tts: dict[str, Any] | None | UnsetType = UNSET
    barge_in: dict[str, Any] | None | UnsetType = UNSET
    user_input_timeout_seconds: Seconds | None | UnsetType = UNSET
    #: An IANA time zone name such as ``"Europe/Berlin"``, for ``hours``.
    time_zone: str | UnsetType = UNSET
    #: ``{"mon-fri": "09:00-17:00", "sat": "10:00-14:00"}`` (see :mod:`.hours`).
    hours: dict[str, Union[str, list[str], None]] | None | UnsetType = UNSET  # noqa: UP007
    #: Whole days closed: ``["2025-12-25"]``.
    closed_on: list[str] | UnsetType = UNSET
    closed: ClosedSetting | UnsetType = UNSET


class GreetingConfig(LineConfig):
    """The ``AIFLOW_GREETING`` mapping: the greeting of every line, and ``lines`` that differ."""

    lines: dict[PhoneNumber, LineConfig] = {}
    #: A function returning the current, time-zone-aware time (tests set one).
    clock: Any = UNSET
    #: Propose a greeting that lost on ``session_start`` again when speech ends.
    deliver_late: bool = True


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
    """The built ``AIFLOW_GREETING`` of one app."""

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


def build(config: GreetingConfig, app: Flask) -> GreetingSettings:
    """Every line's greeting, opening hours and out-of-hours message, built once."""
    voice = Voice.of_app(app)
    clock = _clock(system_clock if config.clock is UNSET else config.clock, PATH / "clock")
    default = _line(config, LineConfig(), PATH, voice, required=not config.lines)
    lines = {
        number: _line(config, line, PATH / "lines" / number, voice, required=True)
        for number, line in config.lines.items()
    }
    return GreetingSettings(default=default, lines=MappingProxyType(lines), clock=clock, deliver_late=config.deliver_late)


def _clock(value: Any, path: KeyPath) -> Clock:
    if not callable(value):
        raise path.error(f"expected a function returning the current time, got {value!r}")
    now = value()
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise path.error(f"must return a time-zone-aware datetime, returned {now!r}")
    return value  # type: ignore[no-any-return]


def _line(top: LineConfig, line: LineConfig, line_path: KeyPath, voice: Voice, *, required: bool) -> LineGreeting:
    """One line's greeting: its own keys first, then the top level's.

    The default greeting is the line with no keys of its own (``line_path`` is the root).
    """

    def source(key: str) -> tuple[Any, KeyPath] | None:
        if getattr(line, key) is not UNSET:
            return getattr(line, key), line_path / key
        if getattr(top, key) is not UNSET:
            return getattr(top, key), PATH / key
        return None

    tts = voice.tts
    if (found := source("tts")) is not None:
        tts = tts_option(*found)
    barge_in = voice.barge_in
    if (found := source("barge_in")) is not None:
        barge_in = barge_in_option(*found)
    timeout = None
    if (found := source("user_input_timeout_seconds")) is not None:
        timeout = found[0]

    owner, owner_path = (line, line_path) if line.text is not UNSET or line.ssml is not UNSET else (top, PATH)
    greeting = None
    if owner.text is not UNSET or owner.ssml is not UNSET:
        speech = SpeakConfig(text=owner.text, ssml=owner.ssml)
        greeting = build_speak(speech, owner_path, tts=tts, barge_in=barge_in, user_input_timeout_seconds=timeout)
    elif required:
        where = " (here or at the top level)" if line_path != PATH else ""
        raise line_path.error(f'needs "text" or "ssml"{where}')

    zone = source("time_zone")
    time_zone = parse_time_zone(*zone) if zone is not None else None
    dates = source("closed_on")
    closed_on = parse_dates(*dates) if dates is not None else frozenset()
    closed_voice = Voice(tts, barge_in)
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


def _closed(value: str | ClosedConfig, path: KeyPath, voice: Voice) -> tuple[Speak, bool]:
    if isinstance(value, str):
        value = ClosedConfig(text=value)
    barge_in = BargeInConfig("none") if value.then_hangup else voice.barge_in
    return build_speak(value, path, tts=voice.tts, barge_in=barge_in), value.then_hangup
