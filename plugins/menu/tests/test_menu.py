"""The menu skill: configuration, routing, navigation, re-prompts, escalation, the floor."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import flask_aiflow_menu
import pytest
from flask import Flask
from flask_aiflow_menu.config import load

from flask_aiflow import FLOOR, SAFETY, SkillConfigError
from tests.helpers import event, make_app, make_skill, says, wav_bytes

AGENT = {"target": "+1234567890", "caller_id_name": "Support Team"}
MENU: dict[str, Any] = {
    "prompt": "Say billing, support or sales.",
    "user_input_timeout_seconds": 8,
    "barge_in": {"strategy": "minimum_characters", "minimum_characters": 3},
    "options": [
        {"name": "billing", "keywords": ["invoice", "Abrechnung", "Rechnung"],
         "transfer": {"target": "+4930111", "caller_id_name": "Billing"}},
        {"name": "support", "keywords": ["help", "Hilfe", "Straße"],
         "menu": {
             "prompt": "Internet or telephone?",
             "user_input_timeout_seconds": 5,
             "options": [
                 {"name": "internet", "keywords": ["router"], "say": "Please restart your router."},
                 {"name": "telephone", "keywords": ["phone", "Telefon"], "say": "Check the cable.", "stay_in_menu": True},
             ],
         }},
        {"name": "sales", "keywords": ["buy", "Vertrieb"], "hangup": "Thanks, goodbye!"},
        {"name": "opening hours", "say": "We are open from nine to five."},
    ],
    "global_options": [{"name": "agent", "keywords": ["agent", "transfer", "Mitarbeiter"], "transfer": AGENT}],
}


def menu_app(*skills: Any, **overrides: Any) -> Flask:
    """An app with the menu (``MENU`` changed by ``overrides``), ``skills`` and ``AIFLOW_*`` settings."""
    settings = {key: overrides.pop(key) for key in list(overrides) if key.startswith("AIFLOW_")}
    config = {**copy.deepcopy(MENU), **overrides}
    return make_app(flask_aiflow_menu, *skills, AIFLOW_MENU=config, **settings)


class Call:
    """Plays one call against an app in-process; returns what was sent back."""

    counter = 0

    def __init__(self, app: Flask) -> None:
        Call.counter += 1
        self.app = app
        self.id = f"call-{Call.counter}"
        self.last: Any = None

    def send(self, type_: str, **fields: Any) -> dict[str, Any] | None:
        with self.app.app_context():
            decision = self.app.extensions["aiflow"].extension.dispatch(event(type_, self.id, **fields))
        self.last = decision
        return decision.action.to_dict() if decision.action is not None else None

    def start(self) -> dict[str, Any] | None:
        return self.send("session_start")

    def say(self, text: str, **fields: Any) -> dict[str, Any] | None:
        return self.send("user_speak", text=text, **fields)

    def text(self, text: str, **fields: Any) -> str | None:
        action = self.say(text, **fields)
        return action.get("text") if action else None

    def speech_ended(self) -> dict[str, Any] | None:
        return self.send("assistant_speech_ended")


def started(app: Flask) -> Call:
    call = Call(app)
    call.start()
    return call


def is_transfer_to(action: dict[str, Any] | None, target: str) -> bool:
    return action is not None and action["type"] == "transfer" and action["target_phone_number"] == target


# -- loading and configuration -------------------------------------------------------


def test_found_through_its_entry_point() -> None:
    app = make_app(AIFLOW_LOAD_ENTRY_POINTS=True, AIFLOW_SKILLS=["menu"], AIFLOW_MENU=copy.deepcopy(MENU))
    info = app.extensions["aiflow"].registry.get("menu")
    assert (info.package, info.version, info.priority) == ("flask-aiflow-menu", "0.1.0", 50)
    assert is_transfer_to(started(app).say("Billing, please"), "+4930111")


def test_registered_after_start_up_it_reads_its_configuration_on_first_use() -> None:
    app = make_app(AIFLOW_MENU=copy.deepcopy(MENU))
    app.extensions["aiflow"].registry.register(flask_aiflow_menu)
    assert is_transfer_to(started(app).say("billing"), "+4930111")


def test_without_configuration_the_menu_stays_idle() -> None:
    app = make_app(flask_aiflow_menu, make_skill("echo", user_speak=says("echo")))
    call = started(app)
    assert call.text("billing") == "echo"
    assert call.text("main menu") == "echo"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.pop("prompt"), 'AIFLOW_MENU["prompt"]: missing'),
        (lambda c: c["options"][0]["transfer"].update(target="030 111"),
         'AIFLOW_MENU["options"][0]["transfer"]["target"]: expected a phone number in E.164 format'),
        (lambda c: c["options"][1]["menu"]["options"][0].update(say=""),
         'AIFLOW_MENU["options"][1]["menu"]["options"][0]["say"]["text"]: expected a non-empty string'),
        (lambda c: c.update(optoins=[]), "AIFLOW_MENU[\"optoins\"]: unknown key (did you mean 'options'?)"),
        (lambda c: c["options"][2]["keywords"].append("INVOICE!"),
         'AIFLOW_MENU["options"][2]["keywords"][2]: "INVOICE!" is already used by option \'billing\' '
         '(AIFLOW_MENU["options"][0]["keywords"][0])'),
        (lambda c: c["options"][0]["keywords"].append("Mitarbeiter"),
         'AIFLOW_MENU["options"][0]["keywords"][3]: "Mitarbeiter" is already used by global option \'agent\''),
        (lambda c: c["options"][3].update(name="repeat"),
         'AIFLOW_MENU["options"][3]["name"]: "repeat" is already used by the "repeat_keywords" command'),
        (lambda c: c["options"][0].update(stay_in_menu=True),
         'AIFLOW_MENU["options"][0]["stay_in_menu"]: only for options that say something or play a clip'),
        (lambda c: c["options"][3].update(hangup=True),
         'AIFLOW_MENU["options"][3]: needs exactly one of "say" or "audio" or "transfer" or "hangup" (found say, hangup)'),
        (lambda c: c["options"][1].update(say="x"),
         'AIFLOW_MENU["options"][1]: needs exactly one of "menu", "say"'),
        (lambda c: c.update(start="loud"), "AIFLOW_MENU[\"start\"]: expected one of 'silent', 'prompt', 'keyword'"),
        (lambda c: c.update(retries=-1), 'AIFLOW_MENU["retries"]: expected an integer >= 0'),
        (lambda c: c.update(escalation={"say": "hm"}), 'AIFLOW_MENU["escalation"]["say"]: unknown key'),
        (lambda c: c["options"][0].update(keywords=["?!"]), 'AIFLOW_MENU["options"][0]["keywords"][0]: \'?!\' has no words'),
        (lambda c: c.update(barge_in={"strategy": "none", "minimum_characters": 101}),
         'AIFLOW_MENU["barge_in"]["minimum_characters"]: expected an integer from 1 to 100'),
        (lambda c: c.update(options=[]), 'AIFLOW_MENU["options"]: expected at least one entry'),
        (lambda c: c["global_options"][0].update(priority=None), 'AIFLOW_MENU["global_options"][0]["priority"]'),
    ],
)
def test_a_bad_configuration_fails_at_start_up_naming_the_key(change: Any, message: str) -> None:
    config = copy.deepcopy(MENU)
    change(config)
    with pytest.raises(SkillConfigError) as info:
        make_app(flask_aiflow_menu, AIFLOW_MENU=config)
    assert str(info.value).startswith(f"skill 'menu': {message}")


def test_the_same_keyword_in_different_sub_menus_is_fine() -> None:
    config = copy.deepcopy(MENU)
    config["options"][1]["menu"]["options"][0]["keywords"].append("invoice")
    assert load(config) is not None


def test_a_path_that_no_longer_fits_leads_to_the_root() -> None:
    config = load(copy.deepcopy(MENU))
    assert config is not None
    assert config.menu_at([1]) == (config.root.options[1].submenu, (1,))
    for stale in ([0], [7], [1, 0], "x", [True]):
        assert config.menu_at(stale) == (config.root, ())


# -- opening the menu -------------------------------------------------------------------


class TestStart:
    def test_silent_start_holds_the_floor_without_speaking(self) -> None:
        app = menu_app(make_skill("faq", 70, user_speak=says("faq"), session_start=says("Welcome!")))
        call = Call(app)
        assert call.start()["text"] == "Welcome!"
        action = call.say("billing")
        assert is_transfer_to(action, "+4930111")
        assert call.last.winner.priority == FLOOR

    def test_prompt_start_speaks_the_prompt(self) -> None:
        call = Call(menu_app(start="prompt"))
        assert call.start() == {
            "type": "speak",
            "session_id": call.id,
            "text": "Say billing, support or sales.",
            "barge_in": {"strategy": "minimum_characters", "minimum_characters": 3},
            "user_input_timeout_seconds": 8,
        }

    @pytest.mark.parametrize("keyword", ["menu", "Main menu, please.", "HAUPTMENÜ!", "Menü"])
    def test_keyword_start_opens_on_a_main_menu_keyword(self, keyword: str) -> None:
        call = started(menu_app(make_skill("faq", 20, user_speak=says("faq")), start="keyword"))
        assert call.text("billing") == "faq"  # not open yet: no routing, no floor
        assert call.text(keyword) == "Say billing, support or sales."
        assert is_transfer_to(call.say("billing"), "+4930111")


class TestReopenAfterPrompt:
    """Another skill (the LLM skill's ``open_menu``) says the root prompt: the caller's reply goes to the menu."""

    def handing_back(self, **overrides: Any) -> Call:
        hand_back = make_skill("assistant", 20, user_speak=says("Say billing, support or sales."))
        return started(menu_app(hand_back, start="keyword", **overrides))

    def test_the_reply_to_the_prompt_said_by_another_skill_is_routed(self) -> None:
        call = self.handing_back(reopen_after_prompt=True)
        assert call.text("what can I do?") == "Say billing, support or sales."
        call.send("assistant_speak", text="Say billing, support or sales.")
        assert is_transfer_to(call.say("billing"), "+4930111")

    def test_only_right_after_the_prompt(self) -> None:
        call = self.handing_back(reopen_after_prompt=True)
        call.say("what can I do?")
        call.send("assistant_speak", text="Say billing, support or sales.")
        call.send("assistant_speak", text="Something else entirely.")
        assert call.text("billing") == "Say billing, support or sales."  # the other skill answers

    def test_a_reply_that_is_no_choice_is_left_to_the_others(self) -> None:
        call = self.handing_back(reopen_after_prompt=True)
        call.say("what can I do?")
        call.send("assistant_speak", text="Say billing, support or sales.")
        assert call.text("what is the weather like?") == "Say billing, support or sales."  # the other skill
        call.send("assistant_speak", text="Say billing, support or sales.")
        assert is_transfer_to(call.say("invoice"), "+4930111")

    def test_off_by_default(self) -> None:
        call = self.handing_back()
        call.say("what can I do?")
        call.send("assistant_speak", text="Say billing, support or sales.")
        assert call.text("billing") == "Say billing, support or sales."

    def test_a_bad_value_fails_at_start_up(self) -> None:
        with pytest.raises(SkillConfigError, match=r'AIFLOW_MENU\["reopen_after_prompt"\]: expected true or false'):
            menu_app(reopen_after_prompt="yes")


# -- choosing ---------------------------------------------------------------------------------


class TestChoosing:
    @pytest.mark.parametrize(
        "said",
        ["billing", "Billing!", "I have a question about my INVOICE.", "Abrechnung", "abrechnung!", "Rechnung?"],
    )
    def test_keywords_and_synonyms_whole_words_any_case(self, said: str) -> None:
        assert is_transfer_to(started(menu_app()).say(said), "+4930111")

    @pytest.mark.parametrize("said", ["rebilling", "invoices", "Abrechnungen", "billings"])
    def test_parts_of_words_do_not_match(self, said: str) -> None:
        assert started(menu_app()).text(said) == "Sorry, I didn't catch that. Say billing, support or sales."

    def test_sharp_s_and_umlauts(self) -> None:
        assert started(menu_app()).text("Strasse") == "Internet or telephone?"
        call = started(menu_app())
        call.say("support")
        assert call.text("Telefon") == "Check the cable."
        assert call.text("Hauptmenü") == "Say billing, support or sales."

    @pytest.mark.parametrize(
        ("said", "reply"),
        [
            ("one", "transfer"), ("1", "transfer"), ("eins", "transfer"), ("Option one.", "transfer"),
            ("two", "Internet or telephone?"), ("Zwei, bitte", "Internet or telephone?"), ("Taste 2", "Internet or telephone?"),
            ("press four", "We are open from nine to five."), ("vier", "We are open from nine to five."),
        ],
    )
    def test_spoken_digits_pick_by_position(self, said: str, reply: str) -> None:
        action = started(menu_app()).say(said)
        assert action is not None
        assert (action["type"] if reply == "transfer" else action.get("text")) == reply

    @pytest.mark.parametrize("said", ["I have one question", "one or two", "five", "nine"])
    def test_digits_only_count_alone_and_in_range(self, said: str) -> None:
        assert started(menu_app()).text(said).startswith("Sorry, I didn't catch that.")

    def test_a_choice_spoken_while_the_prompt_plays_counts(self) -> None:
        call = Call(menu_app(start="prompt"))
        call.start()
        call.send("assistant_speak", text="Say billing, support or sales.")
        assert is_transfer_to(call.say("billing", barged_in=True), "+4930111")

    def test_the_longest_phrase_decides(self) -> None:
        config = copy.deepcopy(MENU)
        config["options"][3]["keywords"] = ["hours", "opening hours today"]
        call = started(menu_app(options=config["options"]))
        # "opening hours today" (3 words) beats "today"-less matches of other options
        assert call.text("help with opening hours today") == "We are open from nine to five."

    def test_two_options_at_once_are_ambiguous_and_reprompted(self) -> None:
        call = started(menu_app())
        assert call.text("billing or sales") == "Sorry, I didn't catch that. Say billing, support or sales."
        assert "ambiguous" in call.last.winner.reason

    def test_hangup_option_says_goodbye_then_hangs_up(self) -> None:
        call = started(menu_app())
        assert call.text("sales") == "Thanks, goodbye!"
        assert call.speech_ended()["type"] == "hangup"

    def test_a_spoken_answer_closes_the_menu(self) -> None:
        call = started(menu_app(make_skill("faq", user_speak=says("faq"))))
        assert call.text("opening hours") == "We are open from nine to five."
        assert "menu released the floor" in call.last.notes
        assert call.text("billing") == "faq"

    def test_a_closed_menu_opens_again_on_a_main_menu_keyword(self) -> None:
        call = started(menu_app())
        call.say("opening hours")
        assert call.text("main menu") == "Say billing, support or sales."
        assert call.last.winner.priority == 50  # opened at its own priority, then holds the floor
        assert is_transfer_to(call.say("billing"), "+4930111")
        assert call.last.winner.priority == FLOOR

    def test_stay_in_menu_answers_then_prompts_again(self) -> None:
        call = started(menu_app())
        call.say("support")
        assert call.text("phone") == "Check the cable."
        assert call.speech_ended()["text"] == "Internet or telephone?"
        assert call.text("router") == "Please restart your router."

    def test_audio_options_from_a_file_and_base64(self, tmp_path: Path) -> None:
        (tmp_path / "jingle.wav").write_bytes(wav_bytes(frames=10))
        config = copy.deepcopy(MENU)
        config["options"][3] = {"name": "jingle", "audio": str(tmp_path / "jingle.wav")}
        config["options"].append({"name": "notice", "audio": {"base64": base64.b64encode(wav_bytes(frames=20)).decode(),
                                                              "barge_in": {"strategy": "none"}}})
        app = menu_app(options=config["options"])
        action = started(app).say("jingle")
        assert action["type"] == "audio" and base64.b64decode(action["audio"]) == wav_bytes(frames=10)
        action = started(app).say("five")
        assert base64.b64decode(action["audio"]) == wav_bytes(frames=20) and action["barge_in"] == {"strategy": "none"}

    def test_a_wrong_clip_fails_at_start_up(self, tmp_path: Path) -> None:
        (tmp_path / "cd.wav").write_bytes(wav_bytes(rate=44100))
        config = copy.deepcopy(MENU)
        config["options"][3] = {"name": "jingle", "audio": "cd.wav"}
        app = Flask("menu_audio", root_path=str(tmp_path))
        from flask_aiflow import AiFlow

        app.config.update(AIFLOW_SHARED_SECRET="s", AIFLOW_LOAD_ENTRY_POINTS=False, AIFLOW_MENU=config)
        with pytest.raises(SkillConfigError, match=r'AIFLOW_MENU\["options"\]\[3\]\["audio"\]\["file"\]: .*44100 Hz'):
            AiFlow(app, skills=[flask_aiflow_menu])
        config["options"][3]["audio"] = "missing.wav"
        app = Flask("menu_audio2", root_path=str(tmp_path))
        app.config.update(AIFLOW_SHARED_SECRET="s", AIFLOW_LOAD_ENTRY_POINTS=False, AIFLOW_MENU=config)
        with pytest.raises(SkillConfigError, match="cannot read .*missing.wav"):
            AiFlow(app, skills=[flask_aiflow_menu])


# -- navigation -------------------------------------------------------------------------------


class TestNavigation:
    def test_sub_menu_prompt_carries_its_own_timeout(self) -> None:
        action = started(menu_app()).say("support")
        assert action["text"] == "Internet or telephone?"
        assert action["user_input_timeout_seconds"] == 5
        assert action["barge_in"] == {"strategy": "minimum_characters", "minimum_characters": 3}

    def test_the_app_default_voice_applies_below_the_menu_s_own(self) -> None:
        tts = {"provider": "azure", "language": "de-DE", "voice": "de-DE-KatjaNeural"}
        app = menu_app(AIFLOW_DEFAULT_TTS=tts, AIFLOW_DEFAULT_BARGE_IN={"strategy": "none"})
        action = started(app).say("support")
        assert action["tts"] == tts
        assert action["barge_in"] == {"strategy": "minimum_characters", "minimum_characters": 3}  # the menu's own

    def test_sub_menu_options_and_digits_are_its_own(self) -> None:
        call = started(menu_app())
        call.say("support")
        assert call.text("billing").startswith("Sorry")  # a root option is not offered here
        assert call.text("one") == "Please restart your router."

    @pytest.mark.parametrize("said", ["repeat", "Could you repeat that?", "nochmal", "Wiederholen bitte"])
    def test_repeat(self, said: str) -> None:
        call = started(menu_app())
        call.say("support")
        assert call.text(said) == "Internet or telephone?"

    @pytest.mark.parametrize("said", ["back", "go back", "zurück"])
    def test_back(self, said: str) -> None:
        call = started(menu_app())
        call.say("support")
        assert call.text(said) == "Say billing, support or sales."
        assert call.text(said) == "Say billing, support or sales."  # at the top, back stays there
        assert is_transfer_to(call.say("billing"), "+4930111")

    @pytest.mark.parametrize("said", ["main menu", "Hauptmenü", "menu"])
    def test_main_menu_from_a_sub_menu(self, said: str) -> None:
        call = started(menu_app())
        call.say("support")
        assert call.text(said) == "Say billing, support or sales."
        assert call.text("two") == "Internet or telephone?"

    def test_main_menu_beats_menu_by_length_and_back_by_rank(self) -> None:
        call = started(menu_app(main_menu_keywords=["menu", "main menu"]))
        call.say("support")
        assert call.text("the main menu") == "Say billing, support or sales."
        assert call.last.winner.reason == "menu: main menu ('main menu')"
        call.say("support")
        assert call.text("go back to the main menu") == "Say billing, support or sales."
        assert call.last.winner.reason == "menu: main menu ('main menu')"


# -- no match --------------------------------------------------------------------------------


class TestNoMatch:
    def test_reprompts_then_says_goodbye_and_hangs_up(self) -> None:
        call = started(menu_app())
        reprompt = call.say("pizza")
        assert reprompt["text"] == "Sorry, I didn't catch that. Say billing, support or sales."
        assert reprompt["user_input_timeout_seconds"] == 8  # silence escalation keeps working in the menu
        assert call.text("pizza") == "Sorry, I didn't catch that. Say billing, support or sales."
        assert call.text("pizza") == "Sorry, I could not understand you. Goodbye!"
        assert call.last.winner.then[0].type == "hangup"
        assert call.speech_ended()["type"] == "hangup"

    def test_a_good_answer_resets_the_tries(self) -> None:
        call = started(menu_app(retries=1))
        call.say("pizza")
        assert call.text("support") == "Internet or telephone?"
        assert call.text("pizza") == "Sorry, I didn't catch that. Internet or telephone?"
        assert call.say("pizza")["text"] == "Sorry, I could not understand you. Goodbye!"

    def test_escalation_to_a_person(self) -> None:
        call = started(menu_app(retries=0, escalation={"transfer": {**AGENT, "announce": "Let me get you a person."}}))
        assert call.text("pizza") == "Let me get you a person."
        assert is_transfer_to(call.speech_ended(), "+1234567890")

    def test_configured_no_match_text_and_an_ssml_prompt(self) -> None:
        call = started(menu_app(no_match="Das habe ich nicht verstanden.", prompt={"ssml": "<speak>Billing?</speak>"}))
        assert call.text("pizza") == "Das habe ich nicht verstanden."
        assert call.speech_ended()["ssml"] == "<speak>Billing?</speak>"

    def test_a_turn_lost_to_a_higher_skill_does_not_count(self) -> None:
        bye = make_skill("bye", 90, user_speak=lambda event, call: "Bye!" if "bye" in event.text else None)
        # faq answers anything at GENERIC: an INTENT-band answer would beat the menu's no-match (the floor rule)
        call = started(menu_app(bye, make_skill("faq", 20, user_speak=says("faq")), retries=1))
        call.say("pizza")
        assert call.text("pizza bye") == "Bye!"  # the escalation lost: not counted, menu still open
        assert call.text("pizza").startswith("Sorry, I could not understand you")
        assert call.speech_ended()["type"] == "hangup"


# -- global options and the floor -----------------------------------------------------------------


class TestGlobalOptions:
    @pytest.mark.parametrize("said", ["agent", "Transfer me!", "Einen Mitarbeiter, bitte."])
    def test_from_the_top(self, said: str) -> None:
        call = started(menu_app())
        assert is_transfer_to(call.say(said), "+1234567890")
        assert call.last.winner.priority == SAFETY

    def test_from_a_sub_menu_and_over_an_ambiguous_answer(self) -> None:
        call = started(menu_app())
        call.say("support")
        assert is_transfer_to(call.say("internet or agent"), "+1234567890")

    def test_when_the_menu_is_closed_and_over_other_skills(self) -> None:
        call = started(menu_app(make_skill("faq", 70, user_speak=says("faq")), start="keyword"))
        assert is_transfer_to(call.say("agent please"), "+1234567890")

    def test_re_weighting_moves_global_options_too(self) -> None:
        app = menu_app(make_skill("guard", 95, user_speak=says("guard")), AIFLOW_SKILL_PRIORITIES={"menu": 40})
        call = started(app)
        assert call.text("agent") == "guard"  # SAFETY 100 - 10 = 90 < 95
        assert call.text("billing") == "guard"

    def test_a_global_answer_that_does_not_end_the_call_keeps_the_menu_open(self) -> None:
        options = [{"name": "hours", "keywords": ["when are you open"], "say": "Nine to five.", "priority": 60}]
        call = started(menu_app(global_options=options))
        assert call.text("When are you open?") == "Nine to five."
        assert is_transfer_to(call.say("billing"), "+4930111")


class TestFloor:
    def test_an_open_menu_outranks_ordinary_intents(self) -> None:
        call = started(menu_app(make_skill("faq", 79, user_speak=says("faq"))))
        assert call.text("opening hours") == "We are open from nine to five."
        assert call.last.winner.skill == "menu" and call.last.winner.floor == "match"

    def test_the_menus_no_match_yields_to_an_intent_but_beats_generic_answers(self) -> None:
        # the floor rule: the holder's re-prompt ranks below other skills' INTENT-band
        # answers and above GENERIC ones, and the menu stays open
        call = started(menu_app(make_skill("faq", 79, user_speak=says("faq"))))
        assert call.text("pizza") == "faq"
        assert call.text("opening hours") == "We are open from nine to five."
        chat = started(menu_app(make_skill("chat", 49, user_speak=says("chat"))))
        assert chat.text("pizza").startswith("Sorry")
        assert chat.last.winner.skill == "menu" and chat.last.winner.floor == "reprompt"

    def test_a_closing_answer_that_lost_closes_the_menu_anyway(self) -> None:
        # The menu releases the floor with a closing answer; the release sticks
        # even though "bye" wins, so the menu is closed from then on.
        bye = make_skill("bye", 90, user_speak=lambda event, call: "Bye!" if "bye" in event.text else None)
        call = started(menu_app(bye, make_skill("faq", user_speak=says("faq"))))
        assert call.text("opening hours, bye") == "Bye!"
        assert call.text("billing") == "faq"

    def test_an_answer_that_ends_the_call_gives_the_floor_back_next_turn(self) -> None:
        call = started(menu_app(make_skill("faq", user_speak=says("faq"))))
        assert call.text("sales") == "Thanks, goodbye!"
        assert not any("released" in note for note in call.last.notes)
        assert call.text("billing", barged_in=True) == "faq"  # the caller talked over the farewell
        assert "menu released the floor" in call.last.notes

    def test_calls_do_not_share_state(self) -> None:
        app = menu_app()
        first, second = started(app), started(app)
        first.say("support")
        second.say("pizza")
        assert first.text("one") == "Please restart your router."
        assert is_transfer_to(second.say("one"), "+4930111")


def test_a_transfer_s_caller_id_defaults_to_the_option_name_and_the_target() -> None:
    config = copy.deepcopy(MENU)
    config["options"][0]["transfer"] = {"target": "+4930111"}
    config["escalation"] = {"transfer": {"target": "+4930999"}}
    built = load(config)
    assert built is not None
    billing = built.root.options[0].outcome
    assert billing is not None and billing.action.to_dict() == {
        "type": "transfer",
        "target_phone_number": "+4930111",
        "caller_id_name": "billing",
        "caller_id_number": "+4930111",
    }
    escalation = built.escalation.action.to_dict()
    assert (escalation["caller_id_name"], escalation["caller_id_number"]) == ("+4930999", "+4930999")
    agent = built.global_options[0].outcome.action.to_dict()
    assert agent["caller_id_name"] == AGENT["caller_id_name"]  # a configured name stays


def test_the_configuration_schema_comes_from_the_model() -> None:
    schema = flask_aiflow_menu.SKILL.schema()
    assert schema["title"] == "AIFLOW_MENU"
    option = schema["$defs"]["OptionModel"]
    assert option["required"] == ["name"] and "menu" in option["properties"]
