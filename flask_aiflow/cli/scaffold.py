"""``flask aiflow new-skill NAME``: a ready-to-install skill package.

The package has ``setup.cfg`` (metadata and the ``flask_aiflow.skills``
entry point), ``pyproject.toml`` (the build backend), one module that
starts with ``from flask_aiflow import hookimpl`` and implements one hook,
a README and a test that passes as generated: it proves the installed
skill is discovered through its entry point and answers its trigger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class SkillNames:
    """Every name derived from the one the author typed (``opening-hours``)."""

    skill: str  # entry-point name, what AIFLOW_SKILLS lists: opening_hours
    module: str  # aiflow_opening_hours
    distribution: str  # aiflow-opening-hours (also the directory)
    words: str  # what the caller says to trigger the skill: opening hours

    @classmethod
    def from_name(cls, name: str) -> SkillNames:
        if not NAME_PATTERN.match(name):
            raise ValueError(
                f"{name!r} is not a usable skill name: use letters and digits, separated by '-' or '_', "
                "starting with a letter (e.g. opening-hours)"
            )
        slug = name.lower().replace("_", "-")
        skill = slug.replace("-", "_")
        return cls(skill=skill, module=f"aiflow_{skill}", distribution=f"aiflow-{slug}", words=slug.replace("-", " "))


SETUP_CFG = """\
[metadata]
name = {distribution}
version = 0.1.0
description = A flask-aiflow skill: {words}
long_description = file: README.md
long_description_content_type = text/markdown

[options]
py_modules = {module}
python_requires = >=3.10
install_requires =
    flask-aiflow

[options.extras_require]
test =
    pytest

[options.entry_points]
flask_aiflow.skills =
    {skill} = {module}

[tool:pytest]
testpaths = tests
filterwarnings =
    error
"""

PYPROJECT_TOML = """\
[build-system]
requires = ["setuptools>=64", "wheel"]
build-backend = "setuptools.build_meta"
"""

MODULE = '''\
from flask_aiflow import hookimpl

# A flask-aiflow skill: {words}.
#
# Installed, this module is found through the "flask_aiflow.skills" entry point
# in setup.cfg; every app with flask-aiflow then asks it about each event.
# Implement more hooks as you need them: aiflow_startup(app),
# aiflow_session_start(event, call), aiflow_user_speak(event, call),
# aiflow_assistant_speak(event, call), aiflow_assistant_speech_ended(event, call),
# aiflow_user_input_timeout(event, call) and aiflow_session_end(event, call).

#: Where this skill's proposals rank: 50 is INTENT, ordinary intent handling.
AIFLOW_PRIORITY = 50

#: What the caller says to reach this skill.
TRIGGER = "{words}"


@hookimpl
def aiflow_user_speak(event, call):
    """Answer when the caller mentions the trigger; stay silent otherwise.

    Returning None lets the other skills (or the fallback) answer. A string
    is spoken with the app's default voice; return flask_aiflow.speak(...),
    transfer(...) or hangup() for more control.
    """
    if TRIGGER in event.text.lower():
        call.state["answered"] = call.state.get("answered", 0) + 1
        return "This is the {words} skill. Replace this answer with yours."
    return None
'''

TEST_MODULE = '''\
"""Tests for the {words} skill, with the fixtures of flask-aiflow's pytest plugin."""


def test_the_skill_is_discovered_through_its_entry_point(aiflow_app):
    app = aiflow_app("{skill}")
    skill = app.extensions["aiflow"].registry.get("{skill}")
    assert skill is not None and skill.enabled
    assert skill.hooks == ("aiflow_user_speak",)


def test_it_answers_its_trigger(aiflow_call):
    call = aiflow_call("{skill}")
    turn = call.say("Tell me about {words}, please.")
    turn.expect_speech(containing="{words} skill").expect_winner("{skill}")


def test_it_leaves_everything_else_to_others(aiflow_call):
    call = aiflow_call("{skill}")
    turn = call.say("Something else entirely.")
    assert turn.decision.winner is None  # nobody proposed: the app's fallback answered
'''

README = """\
# {distribution}

A [flask-aiflow](https://pypi.org/project/flask-aiflow/) skill: {words}.

Install it next to your app and flask-aiflow finds it through its entry point:

```sh
pip install -e .
```

Run its tests:

```sh
pip install -e '.[test]' && python -m pytest
```

Try it in a simulated call: `flask --app yourapp aiflow call`, then say "{words}".
"""


def create_skill_package(name: str, directory: Path) -> Path:
    """Write a new skill package into ``directory/<distribution>``; returns that path.

    :raises ValueError: the name is not usable.
    :raises FileExistsError: the target directory exists already.
    """
    names = SkillNames.from_name(name)
    root = Path(directory) / names.distribution
    if root.exists():
        raise FileExistsError(f"{root} exists already; choose another name or --directory")
    values = {
        "skill": names.skill,
        "module": names.module,
        "distribution": names.distribution,
        "words": names.words,
    }
    (root / "tests").mkdir(parents=True)
    (root / "setup.cfg").write_text(SETUP_CFG.format(**values), encoding="utf-8")
    (root / "pyproject.toml").write_text(PYPROJECT_TOML, encoding="utf-8")
    (root / f"{names.module}.py").write_text(MODULE.format(**values), encoding="utf-8")
    (root / "tests" / f"test_{names.skill}.py").write_text(TEST_MODULE.format(**values), encoding="utf-8")
    (root / "README.md").write_text(README.format(**values), encoding="utf-8")
    return root


__all__ = ["SkillNames", "create_skill_package"]
