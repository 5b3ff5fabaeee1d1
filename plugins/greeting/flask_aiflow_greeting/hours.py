"""Weekly opening hours in a time zone, parsed once from the configuration.

``{"mon-fri": "09:00-17:00", "sat": "10:00-14:00"}``: days are English
three-letter names (``mon`` .. ``sun``), ranges like ``mon-fri`` (also
wrapping, ``fri-mon``), lists like ``sat,sun``, or ``daily``; times are
``HH:MM`` from ``00:00`` to ``24:00``, several ranges separated by commas or
given as a list, ``"closed"`` for none. A day not listed is closed; a day
listed twice gets the union of its hours. Hours are local wall-clock time in
the configured zone, so daylight saving time needs no special care.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_aiflow.skills.config import KeyPath

__all__ = ["DAY_NAMES", "OpeningHours", "WeeklyHours", "parse_dates", "parse_time_zone", "parse_week"]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_TIME = re.compile(r"(\d{1,2}):(\d{2})")

#: One opening range: minutes since local midnight, start inclusive, end exclusive.
Range = tuple[int, int]


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """The opening ranges of each weekday (Monday first), sorted and merged."""

    days: tuple[tuple[Range, ...], ...]

    def is_open_at(self, weekday: int, minute: int) -> bool:
        return any(start <= minute < end for start, end in self.days[weekday])


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """When a line is open: weekly hours plus whole closed days, in one time zone."""

    week: WeeklyHours
    time_zone: ZoneInfo
    closed_on: frozenset[date] = frozenset()

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` (a time-zone-aware datetime) falls within the hours."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"the greeting clock must return a time-zone-aware datetime, got {moment!r}")
        local = moment.astimezone(self.time_zone)
        if local.date() in self.closed_on:
            return False
        return self.week.is_open_at(local.weekday(), local.hour * 60 + local.minute)


def parse_time_zone(value: Any, path: KeyPath) -> ZoneInfo:
    """An IANA time zone name such as ``"Europe/Berlin"``."""
    if not isinstance(value, str) or not value:
        raise path.error(f'expected an IANA time zone name like "Europe/Berlin", got {value!r}')
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise path.error(f'unknown time zone {value!r}; expected an IANA name like "Europe/Berlin"') from None


def parse_dates(value: Any, path: KeyPath) -> frozenset[date]:
    """A list of ``YYYY-MM-DD`` dates."""
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise path.error(f'expected a list of dates like ["2025-12-25"], got {value!r}')
    dates = set()
    for index, item in enumerate(value):
        try:
            if not isinstance(item, str):
                raise ValueError
            dates.add(date.fromisoformat(item))
        except ValueError:
            raise (path / index).error(f'expected a date like "2025-12-25", got {item!r}') from None
    return frozenset(dates)


def parse_week(value: Any, path: KeyPath) -> WeeklyHours:
    """Weekly hours from ``{day spec: time ranges}``; see the module docstring."""
    if not isinstance(value, Mapping) or not value:
        raise path.error(f'expected a mapping like {{"mon-fri": "09:00-17:00"}}, got {value!r}')
    days: list[list[Range]] = [[] for _ in DAY_NAMES]
    for spec, ranges in value.items():
        entry = path / spec
        parsed = _parse_ranges(ranges, entry)
        for day in _parse_days(spec, entry):
            days[day].extend(parsed)
    return WeeklyHours(tuple(_merge(day) for day in days))


def _parse_days(spec: Any, path: KeyPath) -> list[int]:
    if not isinstance(spec, str):
        raise path.error(f"day keys must be strings, got {spec!r}")
    days: list[int] = []
    for part in spec.lower().split(","):
        part = part.strip()
        if part == "daily":
            days.extend(range(7))
            continue
        first, _, last = (name.strip() for name in part.partition("-"))
        start = _day(first, spec, path)
        end = _day(last, spec, path) if last else start
        count = (end - start) % 7 + 1
        days.extend((start + offset) % 7 for offset in range(count))
    return days


def _day(name: str, spec: str, path: KeyPath) -> int:
    try:
        return DAY_NAMES.index(name)
    except ValueError:
        raise path.error(
            f"unknown day {name!r} in {spec!r}; use {', '.join(DAY_NAMES)}, ranges like "
            '"mon-fri", lists like "sat,sun", or "daily"'
        ) from None


def _parse_ranges(value: Any, path: KeyPath) -> list[Range]:
    if value is None:
        return []
    if isinstance(value, str):
        if value.strip().lower() == "closed":
            return []
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise path.error(f'expected time ranges like "09:00-17:00" (or "closed"), got {value!r}')
    ranges = []
    for item in items:
        if not isinstance(item, str):
            raise path.error(f'expected time ranges like "09:00-17:00", got {item!r}')
        start_text, dash, end_text = item.strip().partition("-")
        if not dash:
            raise path.error(f'expected a time range like "09:00-17:00", got {item.strip()!r}')
        start, end = _minute(start_text, path), _minute(end_text, path)
        if end <= start:
            raise path.error(
                f"{item.strip()!r} ends before it starts; split hours past midnight over two days, "
                'e.g. "fri": "22:00-24:00", "sat": "00:00-02:00"'
            )
        ranges.append((start, end))
    return ranges


def _minute(text: str, path: KeyPath) -> int:
    match = _TIME.fullmatch(text.strip())
    if match:
        hour, minute = int(match[1]), int(match[2])
        if (hour < 24 and minute < 60) or (hour == 24 and minute == 0):
            return hour * 60 + minute
    raise path.error(f'expected a time from "00:00" to "24:00", got {text.strip()!r}')


def _merge(ranges: list[Range]) -> tuple[Range, ...]:
    merged: list[Range] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)
