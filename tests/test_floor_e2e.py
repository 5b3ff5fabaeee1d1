"""The floor rule end to end: third-party skills beside the IVR example, over real HTTP and WebSocket.

After the greeting the menu holds the floor. A third-party skill that
understands the caller (weather, INTENT) must still be heard; the menu's
re-prompt must still beat a catch-all (smalltalk, GENERIC); and the menu's
own matches rank at FLOOR, above the weather skill.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .helpers import SECRET
from .server import gunicorn
from .skills.weather import FORECAST
from .test_ivr_e2e import REPROMPT, SUPPORT_TEAM, Dial, answered, dialer

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def weather_url() -> Iterator[str]:
    with gunicorn("tests.apps.ivr_weather:app", env={"AIFLOW_SHARED_SECRET": SECRET}) as url:
        yield url


@pytest.fixture(params=["http", "websocket"])
def dial(weather_url: str, request: pytest.FixtureRequest) -> Iterator[Dial]:
    yield from dialer(weather_url, str(request.param))


def test_a_third_party_intent_is_heard_while_the_menu_holds_the_floor(dial: Dial) -> None:
    call = answered(dial())
    assert call.hears("How is the weather?") == FORECAST
    assert call.hears("pizza") == REPROMPT  # the menu still listens, and its re-prompt beats smalltalk
    call.end()


def test_the_menus_own_match_outranks_the_third_party_intent(dial: Dial) -> None:
    call = answered(dial())
    assert call.hears("Billing, and how is the weather?") == "Connecting you to billing."
    call.end()


def test_a_reprompt_that_lost_does_not_count_as_a_miss(dial: Dial) -> None:
    call = answered(dial())
    assert call.hears("pizza") == REPROMPT
    assert call.hears("And the weather?") == FORECAST
    assert call.hears("pasta") == REPROMPT  # the second miss, not the third
    assert call.hears("what?") == "Let me connect you to a person."
    assert call.ask("assistant_speech_ended") == {"type": "transfer", **SUPPORT_TEAM}
    call.end()
