"""The goodbye skill: farewells recognised, answered, and the call hung up."""

from __future__ import annotations

from typing import Any

import flask_aiflow_goodbye as goodbye
import pytest
from flask import Flask

from flask_aiflow import SkillConfigError
from tests.helpers import SECRET, event, make_app, make_skill

FAREWELL = {"type": "speak", "text": "Goodbye, and thank you for calling!", "barge_in": {"strategy": "none"}}


def post(app: Flask, type_: str, session_id: str, **fields: Any) -> Any:
    response = app.test_client().post("/webhook", json=event(type_, session_id, **fields), headers={"X-API-TOKEN": SECRET})
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    return response.get_json() if response.status_code == 200 else None


def goodbye_app(config: dict[str, Any] | None = None, *skills: Any, **extra: Any) -> Flask:
    if config is not None:
        extra["AIFLOW_GOODBYE"] = config
    return make_app(goodbye, *skills, AIFLOW_FALLBACK="Pardon?", **extra)


def says_farewell(app: Flask, text: str, session_id: str = "g") -> bool:
    answer = post(app, "user_speak", session_id, text=text)
    return answer is not None and answer.get("text") == "Goodbye, and thank you for calling!"


def test_discovered_through_its_entry_point_and_works_without_configuration() -> None:
    app = make_app(AIFLOW_LOAD_ENTRY_POINTS=True, AIFLOW_SKILLS=["goodbye"])
    info = app.extensions["aiflow"].registry.get("goodbye")
    assert info.enabled and info.package == "flask-aiflow-goodbye" and info.priority == 90
    assert post(app, "user_speak", "ep", text="bye") == {**FAREWELL, "session_id": "ep"}


def test_farewell_then_hang_up_once_it_has_been_spoken() -> None:
    app = goodbye_app()
    post(app, "session_start", "h1")
    assert post(app, "user_speak", "h1", text="Okay, thanks. Bye!") == {**FAREWELL, "session_id": "h1"}
    assert post(app, "assistant_speak", "h1", text=FAREWELL["text"]) is None  # not yet: still speaking
    assert post(app, "assistant_speech_ended", "h1") == {"type": "hangup", "session_id": "h1"}
    assert post(app, "assistant_speech_ended", "h1") is None  # exactly one hang-up


@pytest.mark.parametrize(
    "text",
    ["Goodbye!", "good bye", "bye bye", "OK, see you", "That's all, thanks.", "thats all", "no that is all"],
)
def test_english_farewells(text: str) -> None:
    assert says_farewell(goodbye_app(), text)


@pytest.mark.parametrize(
    "text",
    [
        "Tschüss!",
        "Tschüß",
        "tschüs",
        "Auf Wiederhören.",
        "AUF WIEDERSEHEN",
        "Danke, das war's.",
        "Okay, danke, ciao!",
        "Alles klar, servus",
        "Vielen Dank und einen schönen Tag noch",
    ],
)
def test_german_farewells(text: str) -> None:
    assert says_farewell(goodbye_app(), text)


@pytest.mark.parametrize(
    "text",
    [
        "maybe",
        "Maybe later.",
        "I want to buy a phone",
        "byebye",  # one word, not the phrase "bye bye"
        "goodbyes are hard",
        "Can I see your prices?",
        "Servus, ich habe eine Frage zur Rechnung",  # "servus" greets here: only a farewell at the end
        "Ciao, ich brauche Hilfe",
        "I would like to cancel my contract because I have to say goodbye to this city",  # too long
        "Abschied",
        "",
    ],
)
def test_not_farewells(text: str) -> None:
    app = goodbye_app()
    answer = post(app, "user_speak", "n", text=text)
    assert answer == {"type": "speak", "session_id": "n", "text": "Pardon?"}


def test_a_farewell_that_interrupts_the_assistant_counts() -> None:
    assert post(goodbye_app(), "user_speak", "b", text="bye", barged_in=True)["text"] == FAREWELL["text"]


def test_wins_over_a_menu_holding_the_floor_but_not_over_safety() -> None:
    def menu(event: Any, call: Any) -> str:
        call.take_floor()
        return "Please say billing or support."

    floor_app = goodbye_app(None, make_skill("menu", 50, user_speak=menu))
    post(floor_app, "user_speak", "f1", text="hello")  # the menu takes the floor (ranks >= 80)
    assert post(floor_app, "user_speak", "f1", text="bye")["text"] == FAREWELL["text"]
    assert post(floor_app, "assistant_speech_ended", "f1") == {"type": "hangup", "session_id": "f1"}

    safety = make_skill("abuse", 100, user_speak=lambda event, call: {"type": "hangup"})
    assert post(goodbye_app(None, safety), "user_speak", "f2", text="bye") == {"type": "hangup", "session_id": "f2"}


def test_another_action_after_the_farewell_cancels_the_hang_up() -> None:
    # with barge-in allowed, the caller may interrupt and keep the call going
    app = goodbye_app({"farewell": {"text": "Bye!", "barge_in": {"strategy": "minimum_characters"}}})
    assert post(app, "user_speak", "c1", text="bye")["barge_in"] == {"strategy": "minimum_characters"}
    assert post(app, "user_speak", "c1", text="wait, one more thing", barged_in=True)["text"] == "Pardon?"
    assert post(app, "assistant_speech_ended", "c1") is None


# -- configuration -------------------------------------------------------------------


def test_custom_phrases_replace_the_built_in_ones() -> None:
    app = goodbye_app({"phrases": ["I'm done"], "end_phrases": []})
    assert says_farewell(app, "OK im done")
    assert not says_farewell(app, "bye")
    assert not says_farewell(app, "ok ciao")


def test_extra_phrases_add_to_the_built_in_ones() -> None:
    app = goodbye_app({"extra_phrases": ["au revoir", "adiós"]})
    assert says_farewell(app, "Au revoir !")
    assert says_farewell(app, "Adiós")
    assert says_farewell(app, "bye")


def test_max_words() -> None:
    long = "I would like to cancel my contract because I have to say goodbye to this city"
    assert says_farewell(goodbye_app({"max_words": None}), long)
    assert not says_farewell(goodbye_app({"max_words": 2}), "okay thanks bye")
    assert says_farewell(goodbye_app({"max_words": 3}), "okay thanks bye")


def test_farewell_per_called_number_with_its_own_voice() -> None:
    app = goodbye_app(
        {
            "farewell": {"ssml": "<speak>Goodbye!</speak>", "tts": {"provider": "azure", "language": "en-US"}},
            "lines": {
                "+4930123456": {
                    "farewell": {"text": "Auf Wiederhören!", "tts": {"provider": "azure", "language": "de-DE"}}
                },
                "+4940123456": {"farewell": "Tschüss aus Hamburg!"},
            },
        }
    )
    # tests.helpers' calls are to +4930123456
    assert post(app, "user_speak", "l1", text="tschüss") == {
        "type": "speak",
        "session_id": "l1",
        "text": "Auf Wiederhören!",
        "tts": {"provider": "azure", "language": "de-DE"},
        "barge_in": {"strategy": "none"},
    }
    hamburg = event("user_speak", "l2", text="bye")
    hamburg["session"]["to_phone_number"] = "+4940123456"
    answer = app.test_client().post("/webhook", json=hamburg, headers={"X-API-TOKEN": SECRET}).get_json()
    assert answer["text"] == "Tschüss aus Hamburg!"
    assert answer["tts"] == {"provider": "azure", "language": "en-US"}  # inherited from the default farewell
    other = event("user_speak", "l3", text="bye")
    other["session"]["to_phone_number"] = "+441234567890"
    answer = app.test_client().post("/webhook", json=other, headers={"X-API-TOKEN": SECRET}).get_json()
    assert answer["ssml"] == "<speak>Goodbye!</speak>"


def test_app_default_voice_applies() -> None:
    app = goodbye_app(None, AIFLOW_DEFAULT_TTS={"provider": "eleven_labs", "voice": "v1"})
    assert post(app, "user_speak", "v", text="bye")["tts"] == {"provider": "eleven_labs", "voice": "v1"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (["bye"], 'AIFLOW_GOODBYE: expected a mapping, got an array'),
        ({"phrase": ["bye"]}, 'AIFLOW_GOODBYE["phrase"]: unknown key (did you mean \'phrases\'?)'),
        ({"phrases": "bye"}, 'AIFLOW_GOODBYE["phrases"]: expected a list of strings, got "bye" (string)'),
        ({"phrases": ["bye", 3]}, 'AIFLOW_GOODBYE["phrases"][1]: expected a string, got 3 (number)'),
        ({"extra_phrases": ["?!"]}, 'AIFLOW_GOODBYE["extra_phrases"][0]: \'?!\' has no words to match'),
        ({"end_phrases": [""]}, 'AIFLOW_GOODBYE["end_phrases"][0]: expected a non-empty string'),
        ({"max_words": 0}, 'AIFLOW_GOODBYE["max_words"]: expected an integer >= 1, got 0 (number)'),
        ({"farewell": ""}, 'AIFLOW_GOODBYE["farewell"]["text"]: expected a non-empty string'),
        ({"farewell": {"tts": {"provider": "azure"}}}, 'AIFLOW_GOODBYE["farewell"]: needs "text" or "ssml"'),
        (
            {"farewell": {"text": "Bye", "user_input_timeout_seconds": 5}},
            'AIFLOW_GOODBYE["farewell"]["user_input_timeout_seconds"]: unknown key',
        ),
        (
            {"farewell": {"text": "Bye", "barge_in": {"strategy": "minimum_characters", "minimum_characters": 0}}},
            'AIFLOW_GOODBYE["farewell"]["barge_in"]["minimum_characters"]: expected an integer from 1 to 100',
        ),
        ({"lines": {"4930": {"farewell": "Tschüss"}}}, 'AIFLOW_GOODBYE["lines"]["4930"]: expected a phone number in E.164'),
        ({"lines": {"+4930123": {}}}, 'AIFLOW_GOODBYE["lines"]["+4930123"]["farewell"]: missing'),
        (
            {"lines": {"+4930123": {"farewell": {"text": "x", "tts": {"provider": "eleven_labs", "language": "de"}}}}},
            'AIFLOW_GOODBYE["lines"]["+4930123"]["farewell"]["tts"]["language"]: not supported by eleven_labs',
        ),
    ],
)
def test_configuration_errors_name_the_key(config: Any, message: str) -> None:
    with pytest.raises(SkillConfigError) as info:
        goodbye_app(config)
    assert str(info.value).startswith("skill 'goodbye': ")
    assert message in str(info.value)


def test_registered_after_start_up_it_still_works() -> None:
    app = make_app(AIFLOW_GOODBYE={"farewell": "Ciao!"})
    app.extensions["aiflow"].registry.register(goodbye)
    assert post(app, "user_speak", "late", text="bye")["text"] == "Ciao!"
