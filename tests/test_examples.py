"""The example apps work as the README says."""

from __future__ import annotations

import importlib
import runpy
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from flask_aiflow import SkillConfigError
from flask_aiflow.testing import CallSimulator

from .server import ROOT

EXAMPLES = ROOT / "examples"


def test_the_minimal_app_is_under_15_lines_and_echoes(monkeypatch: pytest.MonkeyPatch) -> None:
    path = EXAMPLES / "app.py"
    assert len(path.read_text().splitlines()) < 15
    monkeypatch.setenv("AIFLOW_SHARED_SECRET", "dev-secret")
    app = runpy.run_path(str(path))["app"]
    call = CallSimulator(app).start_call()
    call.say("hello").expect_speech(containing="You said: hello")


@pytest.fixture
def assistant(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The factory example's package, imported as ``assistant`` the way ``flask --app`` would."""
    monkeypatch.syspath_prepend(str(EXAMPLES / "factory"))
    module = importlib.import_module("assistant")
    try:
        yield module
    finally:
        for name in [n for n in sys.modules if n == "assistant" or n.startswith("assistant.")]:
            del sys.modules[name]


def test_the_factory_builds_independent_apps(assistant: ModuleType) -> None:
    first = assistant.create_app({"TESTING": True, "AIFLOW_SHARED_SECRET": "one"})
    second = assistant.create_app({"TESTING": True, "AIFLOW_SHARED_SECRET": "two"})
    assert first.extensions["aiflow"] is not second.extensions["aiflow"]
    names = [info.name for info in first.extensions["aiflow"].registry.enabled()]
    assert sorted(names) == ["front_desk", "greeter"]


def test_the_factory_app_in_a_call(assistant: ModuleType) -> None:
    app = assistant.create_app({"TESTING": True, "AIFLOW_SHARED_SECRET": "s"})
    call = CallSimulator(app).start_call()
    call.greeting.expect_speech(containing="Welcome to Example Corp")
    call.silence().expect_speech(containing="Are you still there?")
    call.say("Can I talk to a person?").expect_transfer(to="+4921155555000").expect_winner("front_desk")
    assert call.ended


def test_the_factory_app_gives_up_after_two_silences(assistant: ModuleType) -> None:
    call = CallSimulator(assistant.create_app({"TESTING": True, "AIFLOW_SHARED_SECRET": "s"})).start_call()
    call.silence()
    call.silence().expect_hangup()
    assert call.end_reason == "the app hung up"


def test_the_factory_checks_its_skill_configuration(assistant: ModuleType) -> None:
    with pytest.raises(SkillConfigError, match="FRONT_DESK_NUMBER"):
        assistant.create_app({"TESTING": True, "FRONT_DESK_NUMBER": "0211 555"})
