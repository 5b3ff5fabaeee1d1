"""flask_aiflow.skills.declare and .models: a skill declared with its configuration model."""

from __future__ import annotations

import re
import sys
import types
from typing import Annotated, Any, Literal

import msgspec
import pytest
from flask import Flask

from flask_aiflow import FLOOR, INTENT, Call, SkillConfigError, UserSpeak
from flask_aiflow.skills.config import KeyPath
from flask_aiflow.skills.declare import Skill, SkillNotConfiguredError
from flask_aiflow.skills.models import ConfigModel, NonEmptyStr, PhoneNumber, config_schema, convert

from .helpers import SECRET, event, make_app

ROOT = KeyPath("AIFLOW_DEMO")


class Line(ConfigModel):
    answer: NonEmptyStr


class Demo(ConfigModel):
    answer: NonEmptyStr
    mode: Literal["short", "long"] = "short"
    repeat: Annotated[int, msgspec.Meta(ge=1)] = 1
    seconds: Annotated[float, msgspec.Meta(gt=0)] = 1.5
    words: tuple[NonEmptyStr, ...] = ()
    lines: dict[PhoneNumber, Line] = {}
    hangup: bool | str = False


def error_of(value: Any, model: Any = Demo) -> str:
    with pytest.raises(SkillConfigError) as info:
        convert(value, model, ROOT)
    return str(info.value)


class TestConvert:
    """msgspec's errors become the project's: the exact key path and what was found."""

    def test_a_good_value(self) -> None:
        demo = convert({"answer": "Hi", "lines": {"+4930123": {"answer": "Hallo"}}}, Demo, ROOT)
        assert (demo.answer, demo.lines["+4930123"].answer, demo.repeat) == ("Hi", "Hallo", 1)

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ([], "AIFLOW_DEMO: expected a mapping, got an array"),
            ({}, 'AIFLOW_DEMO["answer"]: missing'),
            ({"answer": "a", "answr": 1}, "AIFLOW_DEMO[\"answr\"]: unknown key (did you mean 'answer'?)"),
            ({"answer": "a", "xyz": 1}, 'AIFLOW_DEMO["xyz"]: unknown key (allowed: answer, mode, repeat, seconds, words, lines, hangup)'),
            ({"answer": 5}, 'AIFLOW_DEMO["answer"]: expected a string, got 5 (number)'),
            ({"answer": " "}, 'AIFLOW_DEMO["answer"]: expected a non-empty string, got " " (string)'),
            ({"answer": "a", "mode": "loud"}, "AIFLOW_DEMO[\"mode\"]: expected one of 'short', 'long', got 'loud'"),
            ({"answer": "a", "repeat": 0}, 'AIFLOW_DEMO["repeat"]: expected an integer >= 1, got 0 (number)'),
            ({"answer": "a", "repeat": True}, 'AIFLOW_DEMO["repeat"]: expected an integer, got true (boolean)'),
            ({"answer": "a", "repeat": "2"}, 'AIFLOW_DEMO["repeat"]: expected an integer, got "2" (string)'),
            ({"answer": "a", "seconds": 0}, 'AIFLOW_DEMO["seconds"]: expected a number > 0, got 0 (number)'),
            ({"answer": "a", "words": "hi"}, 'AIFLOW_DEMO["words"]: expected a list of strings, got "hi" (string)'),
            ({"answer": "a", "words": ["hi", 3]}, 'AIFLOW_DEMO["words"][1]: expected a string, got 3 (number)'),
            ({"answer": "a", "hangup": 1}, 'AIFLOW_DEMO["hangup"]: expected true or false or a string, got 1 (number)'),
            (
                {"answer": "a", "lines": {"+4930123": {"answer": "x"}, "030 123": {"answer": "y"}}},
                'AIFLOW_DEMO["lines"]["030 123"]: expected a phone number in E.164 format',
            ),
            (
                {"answer": "a", "lines": {"+4930123": {"answer": "x"}, "+4930999": {"answer": 7}}},
                'AIFLOW_DEMO["lines"]["+4930999"]["answer"]: expected a string, got 7 (number)',
            ),
            ({"answer": "a", "lines": {"+4930123": {}}}, 'AIFLOW_DEMO["lines"]["+4930123"]["answer"]: missing'),
            ({"answer": "a", "lines": {"+4930123\n": {"answer": "x"}}}, 'AIFLOW_DEMO["lines"]["+4930123\\n"]: expected a phone'),
        ],
    )
    def test_errors_name_the_key(self, value: Any, message: str) -> None:
        assert error_of(value).startswith(message)

    def test_the_schema_comes_from_the_same_model(self) -> None:
        schema = config_schema(Demo, "AIFLOW_DEMO")
        assert (schema["$id"], schema["title"], schema["$ref"]) == ("urn:aiflow:config:AIFLOW_DEMO", "AIFLOW_DEMO", "#/$defs/Demo")
        demo = schema["$defs"]["Demo"]
        assert demo["required"] == ["answer"] and demo["additionalProperties"] is False
        assert demo["properties"]["repeat"] == {"type": "integer", "minimum": 1, "default": 1}
        assert demo["properties"]["lines"]["propertyNames"]["pattern"].startswith("^\\+[1-9]")


# -- the declarative helper --------------------------------------------------------


class Answer(ConfigModel):
    text: NonEmptyStr
    priority_boost: bool = False


def declared(**options: Any) -> tuple[Skill[Any], Any]:
    """A skill module-like object declared with the helper, answering ``AIFLOW_ANSWER["text"]``."""
    skill: Skill[Any] = Skill("answer", priority=FLOOR, inline=True, config_key="AIFLOW_ANSWER", model=Answer, **options)
    calls: list[str] = []

    class Module:
        AIFLOW_NAME, AIFLOW_PRIORITY, AIFLOW_INLINE = skill.declaration
        aiflow_startup = staticmethod(skill.startup)

        @staticmethod
        @skill.hook
        def aiflow_user_speak(event: UserSpeak, call: Call) -> Any:
            calls.append(event.text)
            settings = skill.config
            return settings if isinstance(settings, str) else settings.text

    Module.calls = calls  # type: ignore[attr-defined]
    return skill, Module


def say(app: Flask, text: str) -> Any:
    response = app.test_client().post(
        "/webhook", json=event("user_speak", "s", text=text), headers={"X-API-TOKEN": SECRET}
    )
    return response.get_json()


class TestSkill:
    def test_declaration_is_what_the_registry_reads(self) -> None:
        skill, module = declared()
        assert skill.declaration == ("answer", FLOOR, True)
        info = make_app(module, AIFLOW_ANSWER={"text": "Hi"}).extensions["aiflow"].registry.get("answer")
        assert (info.name, info.priority, info.inline) == ("answer", FLOOR, True)
        assert info.hooks == ("aiflow_startup", "aiflow_user_speak")

    def test_configured_it_answers_from_its_parsed_configuration(self) -> None:
        skill, module = declared()
        app = make_app(module, AIFLOW_ANSWER={"text": "We open at nine."}, AIFLOW_FALLBACK="Pardon?")
        assert app.extensions["aiflow_answer"] == Answer(text="We open at nine.")  # parsed once, at start-up
        assert say(app, "when?")["text"] == "We open at nine."
        assert skill.settings(app) == Answer(text="We open at nine.")

    def test_not_configured_its_hooks_do_not_run(self) -> None:
        skill, module = declared()
        app = make_app(module, AIFLOW_FALLBACK="Pardon?")
        assert say(app, "when?")["text"] == "Pardon?"
        assert module.calls == []
        assert skill.settings(app) is None
        with app.app_context(), pytest.raises(SkillNotConfiguredError, match="AIFLOW_ANSWER is not set"):
            skill.config  # noqa: B018

    def test_a_mistake_stops_the_app_naming_the_key(self) -> None:
        _, module = declared()
        with pytest.raises(SkillConfigError, match=r"^skill 'answer': AIFLOW_ANSWER\[\"text\"\]: expected a string, got 3"):
            make_app(module, AIFLOW_ANSWER={"text": 3})

    def test_build_turns_the_model_into_what_the_hooks_use(self) -> None:
        built: list[Flask] = []

        def build(model: Answer, app: Flask) -> str:
            built.append(app)
            return model.text.upper()

        _, module = declared(build=build)
        app = make_app(module, AIFLOW_ANSWER={"text": "loud"})
        assert say(app, "x")["text"] == "LOUD"
        assert say(app, "x")["text"] == "LOUD"
        assert built == [app]  # once per app, never per event

    def test_without_needing_configuration_the_model_defaults_apply(self) -> None:
        class Defaults(ConfigModel):
            text: str = "Default answer."

        skill: Skill[Any] = Skill("dflt", config_key="AIFLOW_DFLT", model=Defaults, needs_config=False)

        class Module:
            AIFLOW_NAME = skill.name
            aiflow_startup = staticmethod(skill.startup)

            @staticmethod
            @skill.hook
            def aiflow_user_speak() -> Any:
                return skill.config.text

        assert say(make_app(Module), "x")["text"] == "Default answer."
        assert say(make_app(Module, AIFLOW_DFLT={"text": "Mine."}), "x")["text"] == "Mine."

    def test_registered_after_start_up_it_parses_on_first_use(self) -> None:
        _, module = declared()
        app = make_app(AIFLOW_ANSWER={"text": "Late."})
        app.extensions["aiflow"].registry.register(module)
        assert "aiflow_answer" not in app.extensions
        assert say(app, "x")["text"] == "Late."

    def test_bad_declarations(self) -> None:
        with pytest.raises(ValueError, match="priority must be an int >= 0"):
            Skill("x", priority=-1)
        with pytest.raises(ValueError, match="both config_key and model"):
            Skill("x", config_key="AIFLOW_X")
        assert Skill("x").declaration == ("x", INTENT, False)
        with pytest.raises(SkillNotConfiguredError):
            Skill("x").schema()


# -- the README's example and table ------------------------------------------------


def test_the_readme_skill_example_gives_the_errors_it_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    from .server import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("# config.py\nfrom flask_aiflow.skills.models")
    code = readme[start : readme.index("```", start)]
    module = types.ModuleType("readme_hours")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # msgspec resolves the model's annotations through it
    exec(compile(code.replace("from .config import HoursConfig", ""), "README", "exec"), vars(module))  # noqa: S102
    with pytest.raises(SkillConfigError) as info:
        make_app(module, AIFLOW_HOURS={"answr": "..."})
    assert f"`{info.value}`" in readme
    with pytest.raises(SkillConfigError) as info:
        make_app(module, AIFLOW_HOURS={"answer": 5})
    assert f"`{str(info.value).removeprefix(chr(115) + 'kill ' + repr('hours') + ': ')}`" in readme
    app = make_app(module, AIFLOW_HOURS={"answer": "Nine to five."})
    assert say(app, "When are you open?")["text"] == "Nine to five."


def test_the_readme_names_the_text_helpers_with_their_signatures() -> None:
    import inspect

    from flask_aiflow.skills import text

    from .server import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("normalize", "words", "contains_phrase", "find_phrase", "PhraseSet"):
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}("))
        documented = re.findall(r"(\w+):", row.split("`")[1])
        assert documented == list(inspect.signature(getattr(text, name)).parameters), name
