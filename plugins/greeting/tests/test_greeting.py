"""The greeting skill, through the webhook and the dispatcher."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import flask_aiflow_greeting as greeting
import pytest
from flask import Flask

from flask_aiflow import SkillConfigError, speak
from tests.helpers import SECRET, event, make_app, make_skill

BERLIN = "+4930123456"  # the called number of tests.helpers' sessions
NEW_YORK = "+12125550100"


class Clock:
    """A clock the test sets: ``AIFLOW_GREETING["clock"] = clock``."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def at(self, text: str, zone: str = "UTC") -> Clock:
        self.moment = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))
        return self


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def call(app: Flask, type_: str, session_id: str, to: str = BERLIN, **fields: Any) -> Any:
    """POST one event of a call to ``to``; the JSON answer, or None for 204."""
    data = event(type_, session_id, **fields)
    data["session"]["to_phone_number"] = to
    response = app.test_client().post("/webhook", json=data, headers={"X-API-TOKEN": SECRET})
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    return response.get_json() if response.status_code == 200 else None


def greeting_app(config: dict[str, Any], *skills: Any, **extra: Any) -> Flask:
    return make_app(greeting, *skills, AIFLOW_GREETING=config, **extra)


# -- discovery -----------------------------------------------------------------


def test_discovered_through_its_entry_point() -> None:
    app = make_app(
        AIFLOW_LOAD_ENTRY_POINTS=True,
        AIFLOW_SKILLS=["greeting"],
        AIFLOW_GREETING={"text": "Welcome!"},
    )
    info = app.extensions["aiflow"].registry.get("greeting")
    assert info.enabled and info.package == "flask-aiflow-greeting" and info.priority == 50
    assert call(app, "session_start", "ep") == {"type": "speak", "session_id": "ep", "text": "Welcome!"}


def test_without_configuration_the_skill_stays_silent() -> None:
    app = make_app(greeting)
    assert app.extensions[greeting.EXTENSION_KEY] is None
    assert call(app, "session_start", "quiet") is None


# -- what is spoken ------------------------------------------------------------


def test_text_greeting_with_voice_barge_in_and_timeout() -> None:
    app = greeting_app(
        {
            "text": "Welcome to ACME. How can I help?",
            "tts": {"provider": "azure", "language": "en-US", "voice": "en-US-JennyNeural"},
            "barge_in": {"strategy": "minimum_characters", "minimum_characters": 3},
            "user_input_timeout_seconds": 8,
        }
    )
    assert call(app, "session_start", "t1") == {
        "type": "speak",
        "session_id": "t1",
        "text": "Welcome to ACME. How can I help?",
        "tts": {"provider": "azure", "language": "en-US", "voice": "en-US-JennyNeural"},
        "barge_in": {"strategy": "minimum_characters", "minimum_characters": 3},
        "user_input_timeout_seconds": 8,
    }


def test_ssml_greeting() -> None:
    ssml = '<speak>Welcome <break time="300ms"/> to ACME.</speak>'
    app = greeting_app({"ssml": ssml, "tts": {"provider": "eleven_labs", "voice": "abc123"}})
    assert call(app, "session_start", "t2") == {
        "type": "speak",
        "session_id": "t2",
        "ssml": ssml,
        "tts": {"provider": "eleven_labs", "voice": "abc123"},
    }


def test_app_default_voice_applies_when_the_greeting_sets_none() -> None:
    app = greeting_app(
        {"text": "Hi"},
        AIFLOW_DEFAULT_TTS={"provider": "azure", "language": "en-GB"},
        AIFLOW_DEFAULT_BARGE_IN={"strategy": "none"},
    )
    answer = call(app, "session_start", "t3")
    assert answer["tts"] == {"provider": "azure", "language": "en-GB"}
    assert answer["barge_in"] == {"strategy": "none"}


def test_greeting_is_said_once() -> None:
    app = greeting_app({"text": "Hi"})
    assert call(app, "session_start", "once")["text"] == "Hi"
    assert call(app, "assistant_speech_ended", "once") is None
    assert call(app, "assistant_speech_ended", "once") is None


# -- lines ---------------------------------------------------------------------


LINES = {
    "text": "Welcome!",
    "user_input_timeout_seconds": 8,
    "lines": {
        BERLIN: {
            "text": "Willkommen!",
            "tts": {"provider": "azure", "language": "de-DE", "voice": "de-DE-KatjaNeural"},
        },
        NEW_YORK: {"ssml": "<speak>Hi, New York!</speak>", "user_input_timeout_seconds": 5},
    },
}


def test_each_called_number_gets_its_own_greeting() -> None:
    app = greeting_app(LINES)
    assert call(app, "session_start", "l1", to=BERLIN) == {
        "type": "speak",
        "session_id": "l1",
        "text": "Willkommen!",
        "tts": {"provider": "azure", "language": "de-DE", "voice": "de-DE-KatjaNeural"},
        "user_input_timeout_seconds": 8,  # inherited from the top level
    }
    assert call(app, "session_start", "l2", to=NEW_YORK) == {
        "type": "speak",
        "session_id": "l2",
        "ssml": "<speak>Hi, New York!</speak>",  # replaces the top-level text
        "user_input_timeout_seconds": 5,
    }
    other = call(app, "session_start", "l3", to="+441234567890")
    assert other == {"type": "speak", "session_id": "l3", "text": "Welcome!", "user_input_timeout_seconds": 8}


def test_lines_without_a_default_leave_other_numbers_ungreeted() -> None:
    app = greeting_app({"lines": {BERLIN: {"text": "Hallo"}}})
    assert call(app, "session_start", "n1", to=BERLIN)["text"] == "Hallo"
    assert call(app, "session_start", "n2", to="+441234567890") is None


def test_without_a_called_number_the_default_greeting_is_used() -> None:
    app = greeting_app(LINES)
    data = event("session_start", "nonum")
    del data["session"]["to_phone_number"], data["session"]["phone_number"]
    response = app.test_client().post("/webhook", json=data, headers={"X-API-TOKEN": SECRET})
    assert response.get_json()["text"] == "Welcome!"


# -- opening hours -------------------------------------------------------------


def hours_app(clock: Clock, *skills: Any, **overrides: Any) -> Flask:
    config: dict[str, Any] = {
        "text": "Welcome, how can we help?",
        "time_zone": "Europe/Berlin",
        "hours": {"mon-fri": "09:00-17:00", "sat": "10:00-14:00"},
        "closed": "We are closed. Please call again during our opening hours.",
        "clock": clock,
    }
    config.update(overrides)
    return greeting_app(config, *skills)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (utc("2024-01-08T08:00"), True),  # Monday 09:00 in Berlin (UTC+1): opening minute
        (utc("2024-01-08T07:59"), False),  # Monday 08:59 in Berlin
        (utc("2024-01-10T15:59"), True),  # Wednesday 16:59
        (utc("2024-01-10T16:00"), False),  # Wednesday 17:00: closing is exclusive
        (utc("2024-01-12T23:30"), False),  # Saturday 00:30 in Berlin, still Friday in UTC
        (utc("2024-01-13T09:30"), True),  # Saturday 10:30
        (utc("2024-01-13T13:00"), False),  # Saturday 14:00
        (utc("2024-01-14T11:00"), False),  # Sunday: not listed, closed
        (utc("2024-07-08T07:30"), True),  # Monday 09:30 in summer (UTC+2)
        (utc("2024-07-08T15:30"), False),  # Monday 17:30 in summer
        # a clock in another zone: 10:59 in New York is 16:59 in Berlin, 11:00 is 17:00
        (datetime(2024, 1, 8, 10, 59, tzinfo=ZoneInfo("America/New_York")), True),
        (datetime(2024, 1, 8, 11, 0, tzinfo=ZoneInfo("America/New_York")), False),
    ],
)
def test_opening_hours_in_the_configured_time_zone(moment: datetime, is_open: bool) -> None:
    app = hours_app(Clock(moment))
    answer = call(app, "session_start", "h")
    expected = "Welcome, how can we help?" if is_open else "We are closed. Please call again during our opening hours."
    assert answer["text"] == expected


def test_each_line_has_its_own_hours_and_time_zone() -> None:
    clock = Clock(utc("2024-01-08T21:30"))  # Monday 22:30 in Berlin, 16:30 in New York
    app = hours_app(
        clock,
        lines={
            NEW_YORK: {
                "text": "Hello New York",
                "time_zone": "America/New_York",
                "closed": "New York is closed.",
            }
        },
    )
    assert call(app, "session_start", "b1", to=BERLIN)["text"].startswith("We are closed")
    assert call(app, "session_start", "n1", to=NEW_YORK)["text"] == "Hello New York"
    clock.at("2024-01-08T22:00")  # New York 17:00
    assert call(app, "session_start", "n2", to=NEW_YORK)["text"] == "New York is closed."


def test_a_line_can_be_open_around_the_clock() -> None:
    app = hours_app(Clock(utc("2024-01-14T03:00")), lines={NEW_YORK: {"hours": None}})
    assert call(app, "session_start", "a1", to=NEW_YORK)["text"] == "Welcome, how can we help?"
    assert call(app, "session_start", "a2", to=BERLIN)["text"].startswith("We are closed")


def test_closed_dates() -> None:
    clock = Clock(utc("2024-12-25T10:00"))  # a Wednesday
    app = hours_app(clock, closed_on=["2024-12-25", "2024-12-26"])
    assert call(app, "session_start", "x1")["text"].startswith("We are closed")
    clock.at("2024-12-27T10:00")
    assert call(app, "session_start", "x2")["text"] == "Welcome, how can we help?"


def test_day_specs_ranges_and_unions() -> None:
    clock = Clock(utc("2024-01-01T00:00"))
    app = hours_app(
        clock,
        time_zone="UTC",
        hours={
            "fri-mon": "08:00-10:00",  # wraps over the weekend
            "tue, thu": ["12:00-13:00", "15:00-24:00"],
            "wed": "closed",
            "mon": "11:00-12:00",  # adds to the Monday of "fri-mon"
        },
    )
    expectations = {
        "2024-01-06T09:00": True,  # Saturday
        "2024-01-08T09:00": True,  # Monday, from fri-mon
        "2024-01-08T11:30": True,  # Monday, from mon
        "2024-01-08T10:30": False,
        "2024-01-09T23:59": True,  # Tuesday until 24:00
        "2024-01-09T14:00": False,
        "2024-01-10T12:30": False,  # Wednesday closed
    }
    for moment, is_open in expectations.items():
        clock.at(moment)
        text = call(app, "session_start", moment)["text"]
        assert (text == "Welcome, how can we help?") is is_open, moment


def test_out_of_hours_message_can_hang_up_after_it_is_spoken() -> None:
    app = hours_app(
        Clock(utc("2024-01-14T12:00")),
        closed={"text": "We are closed.", "then_hangup": True},
        tts={"provider": "azure", "language": "en-US"},
    )
    assert call(app, "session_start", "c1") == {
        "type": "speak",
        "session_id": "c1",
        "text": "We are closed.",
        "tts": {"provider": "azure", "language": "en-US"},  # the line's voice
        "barge_in": {"strategy": "none"},  # so it is heard and the hang-up is not cancelled
    }
    assert call(app, "assistant_speak", "c1") is None
    assert call(app, "assistant_speech_ended", "c1") == {"type": "hangup", "session_id": "c1"}


def test_out_of_hours_message_without_hang_up_keeps_the_call() -> None:
    app = hours_app(
        Clock(utc("2024-01-14T12:00")),
        closed={"text": "We are closed, but you can leave a message.", "user_input_timeout_seconds": 10},
        barge_in={"strategy": "minimum_characters", "minimum_characters": 5},
    )
    answer = call(app, "session_start", "c2")
    assert answer["barge_in"] == {"strategy": "minimum_characters", "minimum_characters": 5}
    assert answer["user_input_timeout_seconds"] == 10
    assert call(app, "assistant_speech_ended", "c2") is None


# -- a notice first, then the greeting ------------------------------------------


def notice_skill(priority: int = 60) -> Any:
    return make_skill(
        "notice",
        priority,
        session_start=lambda event, call: speak("This call may be recorded.", barge_in={"strategy": "none"}),
    )


def test_greeting_follows_a_notice_that_outranked_it() -> None:
    app = greeting_app({"text": "Welcome!"}, notice_skill())
    assert call(app, "session_start", "n1")["text"] == "This call may be recorded."
    assert call(app, "assistant_speak", "n1") is None
    assert call(app, "assistant_speech_ended", "n1") == {"type": "speak", "session_id": "n1", "text": "Welcome!"}
    assert call(app, "assistant_speech_ended", "n1") is None  # delivered: never again


def test_late_greeting_keeps_its_line_and_hours() -> None:
    clock = Clock(utc("2024-01-14T12:00"))  # Sunday: closed
    app = hours_app(clock, notice_skill(), closed={"text": "Closed.", "then_hangup": True})
    assert call(app, "session_start", "n2")["text"] == "This call may be recorded."
    assert call(app, "assistant_speech_ended", "n2")["text"] == "Closed."
    assert call(app, "assistant_speech_ended", "n2") == {"type": "hangup", "session_id": "n2"}


def test_late_greeting_is_for_the_number_called_at_session_start() -> None:
    app = greeting_app(LINES, notice_skill())
    call(app, "session_start", "n3", to=NEW_YORK)
    ended = {"type": "assistant_speech_ended", "session": {"id": "n3"}}  # no numbers on this event
    response = app.test_client().post("/webhook", json=ended, headers={"X-API-TOKEN": SECRET})
    assert response.get_json()["ssml"] == "<speak>Hi, New York!</speak>"


def test_greeting_is_dropped_once_the_caller_has_spoken() -> None:
    app = greeting_app({"text": "Welcome!"}, notice_skill(), AIFLOW_FALLBACK="Pardon?")
    call(app, "session_start", "n4")
    assert call(app, "user_speak", "n4", text="billing please")["text"] == "Pardon?"
    assert call(app, "assistant_speech_ended", "n4") is None


def test_late_delivery_can_be_turned_off() -> None:
    app = greeting_app({"text": "Welcome!", "deliver_late": False}, notice_skill())
    assert call(app, "session_start", "n6")["text"] == "This call may be recorded."
    assert call(app, "assistant_speech_ended", "n6") is None


def test_a_lower_priority_skill_does_not_delay_the_greeting() -> None:
    app = greeting_app({"text": "Welcome!"}, notice_skill(priority=20))
    assert call(app, "session_start", "n5")["text"] == "Welcome!"
    assert call(app, "assistant_speech_ended", "n5") is None


# -- configuration errors --------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("Hello", 'AIFLOW_GREETING: expected a mapping, got "Hello" (string)'),
        ({}, 'AIFLOW_GREETING: needs "text" or "ssml"'),
        ({"txt": "Hi"}, 'AIFLOW_GREETING["txt"]: unknown key (did you mean \'text\'?)'),
        ({"text": 5}, 'AIFLOW_GREETING["text"]: expected a string, got 5 (number)'),
        ({"text": "Hi", "ssml": "<speak/>"}, 'AIFLOW_GREETING["ssml"]: not allowed together with "text"'),
        ({"text": "Hi", "user_input_timeout_seconds": 0}, 'AIFLOW_GREETING["user_input_timeout_seconds"]: expected a number > 0'),
        ({"text": "Hi", "tts": {"provider": "google"}}, 'AIFLOW_GREETING["tts"]["provider"]: expected "azure" or "eleven_labs"'),
        (
            {"text": "Hi", "barge_in": {"strategy": "none", "allow_after_ms": 10001}},
            'AIFLOW_GREETING["barge_in"]["allow_after_ms"]: expected an integer from 0 to 10000',
        ),
        (
            {"text": "Hi", "lines": {"+4930123": {"text": ""}}},
            'AIFLOW_GREETING["lines"]["+4930123"]["text"]: expected a non-empty string',
        ),
        (
            {"text": "Hi", "lines": {"030 123": {"text": "Hallo"}}},
            'AIFLOW_GREETING["lines"]["030 123"]: expected a phone number in E.164 format like +4921155555555',
        ),
        (
            {"lines": {"+4930123": {"tts": {"provider": "azure"}}}},
            'AIFLOW_GREETING["lines"]["+4930123"]: needs "text" or "ssml" (here or at the top level)',
        ),
        (
            {"text": "Hi", "lines": {"+4930123": {"voice": "x"}}},
            'AIFLOW_GREETING["lines"]["+4930123"]["voice"]: unknown key',
        ),
        (
            {"text": "Hi", "hours": {"mon-fri": "09:00-17:00"}, "closed": "Closed"},
            'AIFLOW_GREETING["hours"]: opening hours need a "time_zone"',
        ),
        (
            {"text": "Hi", "hours": {"mon-fri": "09:00-17:00"}, "time_zone": "Europe/Berlin"},
            'AIFLOW_GREETING["hours"]: opening hours need a "closed" message',
        ),
        (
            {"text": "Hi", "hours": {"mon-fri": "09:00-17:00"}, "time_zone": "Mars/Olympus", "closed": "C"},
            'AIFLOW_GREETING["time_zone"]: unknown time zone \'Mars/Olympus\'',
        ),
        (
            {"text": "Hi", "hours": {"mon-fry": "09:00-17:00"}, "time_zone": "UTC", "closed": "C"},
            'AIFLOW_GREETING["hours"]["mon-fry"]: unknown day \'fry\'',
        ),
        (
            {"text": "Hi", "hours": {"mon": "9-17"}, "time_zone": "UTC", "closed": "C"},
            'AIFLOW_GREETING["hours"]["mon"]: expected a time from "00:00" to "24:00", got \'9\'',
        ),
        (
            {"text": "Hi", "hours": {"fri": "22:00-02:00"}, "time_zone": "UTC", "closed": "C"},
            'AIFLOW_GREETING["hours"]["fri"]: \'22:00-02:00\' ends before it starts',
        ),
        (
            {"text": "Hi", "hours": {"fri": "09:00-17:00"}, "time_zone": "UTC", "closed": {"text": "C", "then_hangup": "yes"}},
            'AIFLOW_GREETING["closed"]["then_hangup"]: expected true or false',
        ),
        (
            {"text": "Hi", "hours": {"fri": "09:00-17:00"}, "time_zone": "UTC", "closed": "C", "closed_on": ["25.12.2024"]},
            'AIFLOW_GREETING["closed_on"][0]: expected a date like "2025-12-25"',
        ),
        (
            {"text": "Hi", "lines": {"+4930123": {"hours": {"sat": "10:00-12:00"}, "time_zone": "UTC", "closed": {"txt": "C"}}}},
            'AIFLOW_GREETING["lines"]["+4930123"]["closed"]["txt"]: unknown key',
        ),
        ({"text": "Hi", "closed": {"ssml": 3}}, 'AIFLOW_GREETING["closed"]["ssml"]: expected a string'),
        ({"text": "Hi", "deliver_late": 1}, 'AIFLOW_GREETING["deliver_late"]: expected true or false, got 1 (number)'),
        ({"text": "Hi", "lines": {"+4930123": {"text": "x", "deliver_late": False}}}, '["+4930123"]["deliver_late"]: unknown key'),
        ({"text": "Hi", "clock": "now"}, 'AIFLOW_GREETING["clock"]: expected a function returning the current time'),
        (
            {"text": "Hi", "clock": lambda: datetime(2024, 1, 1)},
            'AIFLOW_GREETING["clock"]: must return a time-zone-aware datetime',
        ),
    ],
)
def test_configuration_errors_name_the_key(config: Any, message: str) -> None:
    with pytest.raises(SkillConfigError) as info:
        greeting_app(config)
    assert message in str(info.value)
    assert str(info.value).startswith("skill 'greeting': AIFLOW_GREETING")


def test_registered_after_start_up_it_still_works() -> None:
    app = make_app(AIFLOW_GREETING={"text": "Hello late"})
    app.extensions["aiflow"].registry.register(greeting)
    assert call(app, "session_start", "late")["text"] == "Hello late"
