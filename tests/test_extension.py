"""init_app, configuration, skill discovery and registration."""

from __future__ import annotations

import logging
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_aiflow import AiFlow, ConfigurationError, SkillError, hookimpl

from .helpers import SECRET, event, make_app, make_skill, says


def test_app_factory_pattern() -> None:
    aiflow = AiFlow(skills=[make_skill("hi", user_speak=says("hi"))])
    app = Flask("factory")
    app.config.update(AIFLOW_SHARED_SECRET=SECRET, AIFLOW_LOAD_ENTRY_POINTS=False)
    aiflow.init_app(app)
    assert app.extensions["aiflow"].extension is aiflow
    assert aiflow.registry(app).get("hi").enabled
    assert app.config["AIFLOW_WEBHOOK_PATH"] == "/webhook"  # defaults filled in


def test_second_init_on_same_app_is_refused() -> None:
    app = make_app()
    with pytest.raises(RuntimeError, match="already been registered"):
        AiFlow().init_app(app)


def test_one_extension_serves_several_apps_independently() -> None:
    aiflow = AiFlow(skills=[make_skill("hi", user_speak=says("hi"))])
    first = make_app(aiflow=aiflow, AIFLOW_FALLBACK="first")
    second = make_app(aiflow=aiflow, AIFLOW_DISABLED_SKILLS=["hi"], AIFLOW_FALLBACK="second")
    with first.app_context():
        assert aiflow.dispatch(event("user_speak", "s")).action.text == "hi"
    with second.app_context():
        assert aiflow.dispatch(event("user_speak", "s")).action.text == "second"


def test_using_the_extension_before_init_app_says_so() -> None:
    aiflow = AiFlow()
    with Flask("x").app_context(), pytest.raises(RuntimeError, match="forget to call 'init_app'"):
        aiflow.dispatch(event("user_speak", "s"))


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("AIFLOW_MAX_EVENT_BYTES", 0, "positive int"),
        ("AIFLOW_MAX_EVENT_BYTES", True, "positive int"),
        ("AIFLOW_WEBHOOK_PATH", "webhook", "starting with '/'"),
        ("AIFLOW_SKILLS", "greeting", "list of skill names"),
        ("AIFLOW_SKILL_PRIORITIES", {"menu": None}, "AIFLOW_SKILL_PRIORITIES['menu']"),
        ("AIFLOW_SKILL_PRIORITIES", {"menu": True}, "int"),
        ("AIFLOW_DEFAULT_TTS", {"provider": "polly"}, "AIFLOW_DEFAULT_TTS"),
        ("AIFLOW_DEFAULT_BARGE_IN", {"strategy": "minimum_characters", "minimum_characters": 101}, "AIFLOW_DEFAULT_BARGE_IN"),
        ("AIFLOW_FALLBACK", "   ", "AIFLOW_FALLBACK"),
        ("AIFLOW_FALLBACK", {"type": "speak"}, "AIFLOW_FALLBACK"),
        ("AIFLOW_FALLBACK_EVENTS", ["session_end"], "cannot take a fallback"),
        ("AIFLOW_STATE_TTL", 0, "AIFLOW_STATE_TTL"),
        ("AIFLOW_SHARED_SECRET", 12345, "AIFLOW_SHARED_SECRET"),
        ("AIFLOW_SHARED_SECRET", ["ok", ""], "non-empty"),
    ],
)
def test_bad_configuration_fails_at_start_naming_the_key(key: str, value: Any, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=None) as info:
        make_app(**{key: value})
    assert key in str(info.value) and fragment in str(info.value)


def test_misspelled_hook_fails_loudly() -> None:
    skill = make_skill("typo")
    skill.aiflow_user_speek = hookimpl(lambda event, call: "x")
    with pytest.raises(SkillError, match="aiflow_user_speek"):
        make_app(skill)


def test_hook_wrappers_are_refused() -> None:
    class Wrapper:
        AIFLOW_NAME = "wrapper"

        @hookimpl(wrapper=True)
        def aiflow_user_speak(self, event: Any, call: Any) -> Any:
            return (yield)

    with pytest.raises(SkillError, match="wrapper"):
        make_app(Wrapper())


def test_duplicate_skill_names_are_refused() -> None:
    with pytest.raises(SkillError, match="already registered"):
        make_app(make_skill("same"), make_skill("same"))


def test_temporary_skill_fixture(app: Flask, temp_skill: Any, post: Any) -> None:
    temp_skill(make_skill("loud", 90, user_speak=says("LOUD")))
    assert post(event("user_speak", "s")).get_json()["text"] == "LOUD"


def test_priority_clash_is_warned_at_start(caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, "flask_aiflow"):
        make_app(make_skill("a", 50, user_speak=says("a")), make_skill("b", 50, user_speak=says("b")))
    assert "a, b all propose at priority 50 for aiflow_user_speak" in caplog.text


def test_no_clash_warning_when_order_configured(caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, "flask_aiflow"):
        make_app(
            make_skill("a", 50, user_speak=says("a")),
            make_skill("b", 50, user_speak=says("b")),
            AIFLOW_SKILL_ORDER=["a", "b"],
        )
    assert "all propose" not in caplog.text


# -- entry points: a real distribution on sys.path -------------------------------


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: Any) -> Any:
    """Install fake skill distributions (dist-info + module) on sys.path."""

    def install(dist: str, name: str, module: str, source: str) -> None:
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        info = tmp_path / f"{dist.replace('-', '_')}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
        (info / "entry_points.txt").write_text(f"[flask_aiflow.skills]\n{name} = {module}\n")

    monkeypatch.syspath_prepend(str(tmp_path))
    yield install
    for module in list(sys.modules):
        if module.startswith("fakeskill_"):
            del sys.modules[module]


GOOD_SKILL = """
    from flask_aiflow import hookimpl
    AIFLOW_PRIORITY = 60

    @hookimpl
    def aiflow_user_speak(event):
        return "from an installed package"
"""


def test_entry_point_skills_are_discovered_with_package_and_version(installed: Any) -> None:
    installed("aiflow-fake-good", "fakegood", "fakeskill_good", GOOD_SKILL)
    app = make_app(AIFLOW_LOAD_ENTRY_POINTS=True, AIFLOW_SKILLS=["fakegood"])
    info = app.extensions["aiflow"].registry.get("fakegood")
    assert (info.package, info.version, info.priority, info.hooks) == (
        "aiflow-fake-good",
        "1.2.3",
        60,
        ("aiflow_user_speak",),
    )
    response = app.test_client().post("/webhook", json=event("user_speak", "s"), headers={"X-API-TOKEN": SECRET})
    assert response.get_json()["text"] == "from an installed package"


def test_skill_that_fails_to_import_disables_itself_only(installed: Any, caplog: Any) -> None:
    installed("aiflow-fake-good", "fakegood", "fakeskill_good", GOOD_SKILL)
    installed("aiflow-fake-bad", "fakebad", "fakeskill_bad", "raise ImportError('missing dependency foo')\n")
    with caplog.at_level(logging.ERROR, "flask_aiflow"):
        app = make_app(AIFLOW_LOAD_ENTRY_POINTS=True, AIFLOW_SKILLS=["fakegood", "fakebad"])
    registry = app.extensions["aiflow"].registry
    assert registry.get("fakegood").enabled
    bad = registry.get("fakebad")
    assert not bad.enabled and "missing dependency foo" in bad.status
    assert "fakebad" in caplog.text


def test_skills_outside_the_allow_list_are_never_imported(installed: Any) -> None:
    installed("aiflow-fake-bad", "fakebad", "fakeskill_bad", "raise SystemExit('imported!')\n")
    app = make_app(AIFLOW_LOAD_ENTRY_POINTS=True, AIFLOW_SKILLS=[])
    info = app.extensions["aiflow"].registry.get("fakebad")
    assert not info.enabled and info.status == "not in AIFLOW_SKILLS"
    assert "fakeskill_bad" not in sys.modules


def test_block_list_applies_to_installed_skills(installed: Any) -> None:
    installed("aiflow-fake-good", "fakegood", "fakeskill_good", GOOD_SKILL)
    app = make_app(AIFLOW_LOAD_ENTRY_POINTS=True, AIFLOW_SKILLS=None, AIFLOW_DISABLED_SKILLS=["fakegood"])
    assert not app.extensions["aiflow"].registry.get("fakegood").enabled


def test_unknown_name_in_allow_list_is_warned(caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, "flask_aiflow"):
        make_app(AIFLOW_SKILLS=["greting"])
    assert "'greting'" in caplog.text
