"""``flask aiflow new-skill NAME``: a ready-to-install skill package.

The package has the layout of the built-in skills: ``<module>/__init__.py``
re-exports the skill, ``<module>/skill.py`` declares it (name, priority band,
configuration key and model, with :class:`flask_aiflow.skills.declare.Skill`)
and holds its hooks, ``<module>/config.py`` holds its configuration model.
Beside it: ``setup.cfg`` (metadata and the ``flask_aiflow.skills`` entry
point), ``pyproject.toml`` (the build backend), a README and tests that pass
as generated: they prove the installed skill is discovered through its
entry point, answers its trigger, and names the key of a configuration mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*$")

#: Prefixes a distribution name may start with already; the skill's name is the rest.
PREFIXES = ("flask-aiflow-", "aiflow-")


@dataclass(frozen=True, slots=True)
class SkillNames:
    """Every name derived from the one the author typed (``opening-hours``).

    A name that already starts with ``flask-aiflow-`` or ``aiflow-`` is kept
    as the distribution's name, and the skill is named after the rest
    (``flask-aiflow-hotline-hours``: skill ``hotline_hours``).
    """

    skill: str  # entry-point name, what AIFLOW_SKILLS lists: opening_hours
    module: str  # aiflow_opening_hours
    distribution: str  # aiflow-opening-hours (also the directory)
    words: str  # what the caller says to trigger the skill: opening hours
    config_key: str  # AIFLOW_OPENING_HOURS
    model: str  # OpeningHoursConfig

    @classmethod
    def from_name(cls, name: str) -> SkillNames:
        if not NAME_PATTERN.match(name):
            raise ValueError(
                f"{name!r} is not a usable skill name: use letters and digits, separated by '-' or '_', "
                "starting with a letter (e.g. opening-hours)"
            )
        slug = name.lower().replace("_", "-")
        distribution = f"aiflow-{slug}"
        for prefix in PREFIXES:
            if slug.startswith(prefix):
                distribution, slug = slug, slug.removeprefix(prefix)
                break
        if not NAME_PATTERN.match(slug) or slug in ("aiflow", "flask-aiflow"):
            raise ValueError(f"{name!r} is not a usable skill name: name the skill after the prefix (e.g. aiflow-opening-hours)")
        skill = slug.replace("-", "_")
        return cls(
            skill=skill,
            module=distribution.replace("-", "_"),
            distribution=distribution,
            words=slug.replace("-", " "),
            config_key=f"AIFLOW_{skill.upper()}",
            model="".join(part.title() for part in slug.split("-")) + "Config",
        )


SETUP_CFG = """\
[metadata]
name = {distribution}
version = 0.1.0
description = A flask-aiflow skill: {words}
long_description = file: README.md
long_description_content_type = text/markdown

[options]
packages = find:
python_requires = >=3.10
install_requires =
    flask-aiflow

[options.extras_require]
test =
    pytest

[options.packages.find]
include = {module}, {module}.*

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

INIT_MODULE = '''\
"""A flask-aiflow skill: {words}.

Installed, this package is found through the "flask_aiflow.skills" entry point
in setup.cfg; every app with flask-aiflow then asks it about each event. The
hooks are in skill.py, the configuration model ({config_key}) in config.py.
"""

from .config import {model}
from .skill import AIFLOW_INLINE, AIFLOW_NAME, AIFLOW_PRIORITY, SKILL, aiflow_startup, aiflow_user_speak

__all__ = [
    "AIFLOW_INLINE",
    "AIFLOW_NAME",
    "AIFLOW_PRIORITY",
    "SKILL",
    "{model}",
    "aiflow_startup",
    "aiflow_user_speak",
]
'''

CONFIG_MODULE = '''\
"""{config_key}: this skill's configuration, checked once when the app starts.

A mistake stops the app with an error naming the key, e.g.
{config_key}["triggers"][0]: expected a string, got 3 (number).
Every key has a default, so the skill also works without {config_key}.
"""

from flask_aiflow.skills.models import ConfigModel, NonEmptyStr


class {model}(ConfigModel):
    """The {config_key} mapping."""

    #: What the caller says to reach this skill (any of them, case-insensitive).
    triggers: tuple[NonEmptyStr, ...] = ("{words}",)
    #: What the skill answers.
    answer: NonEmptyStr = "This is the {words} skill. Replace this answer with yours."
'''

MODULE = '''\
"""The {words} skill's hooks.

Implement more hooks as you need them: aiflow_session_start(event, call),
aiflow_user_speak(event, call), aiflow_assistant_speak(event, call),
aiflow_assistant_speech_ended(event, call), aiflow_user_input_timeout(event, call)
and aiflow_session_end(event, call). Decorate them with @SKILL.hook.
"""

from flask_aiflow import INTENT
from flask_aiflow.skills.declare import Skill

from .config import {model}

#: Name, priority band (INTENT: ordinary intent handling), inline (quick and
#: pure: no network, disk or locks) and configuration ({config_key}).
SKILL = Skill(
    "{skill}", priority=INTENT, inline=True, config_key="{config_key}", model={model}, needs_config=False
)
#: The attributes flask-aiflow's registry reads.
AIFLOW_NAME, AIFLOW_PRIORITY, AIFLOW_INLINE = SKILL.declaration
#: Checks {config_key} once per app, at start-up.
aiflow_startup = SKILL.startup


@SKILL.hook
def aiflow_user_speak(event, call):
    """Answer when the caller says a trigger; stay silent otherwise.

    Returning None lets the other skills (or the fallback) answer. A string
    is spoken with the app's default voice; return flask_aiflow.speak(...),
    transfer(...) or hangup() for more control. call.state is this skill's
    own memory for this call.
    """
    config = SKILL.config  # the checked {config_key} of the current app
    said = event.text.lower()
    if any(trigger.lower() in said for trigger in config.triggers):
        call.state["answered"] = call.state.get("answered", 0) + 1
        return config.answer
    return None
'''

TEST_MODULE = '''\
"""Tests for the {words} skill, with the fixtures of flask-aiflow's pytest plugin."""

import pytest

from flask_aiflow import SkillConfigError


def test_the_skill_is_discovered_through_its_entry_point(aiflow_app):
    app = aiflow_app("{skill}")
    skill = app.extensions["aiflow"].registry.get("{skill}")
    assert skill is not None and skill.enabled
    assert skill.hooks == ("aiflow_startup", "aiflow_user_speak")


def test_it_answers_its_trigger(aiflow_call, aiflow_skill_state):
    call = aiflow_call("{skill}")
    turn = call.say("Tell me about {words}, please.")
    turn.expect_speech(containing="{words} skill").expect_winner("{skill}")
    assert aiflow_skill_state(call, "{skill}") == {{"answered": 1}}


def test_its_configuration(aiflow_call):
    call = aiflow_call("{skill}", {config_key}={{"triggers": ["hotline"], "answer": "We are here."}})
    call.say("Is the hotline open?").expect_speech(containing="We are here.")


def test_a_configuration_mistake_stops_the_app(aiflow_app):
    with pytest.raises(SkillConfigError, match=r'{config_key}\\["triggers"\\]\\[0\\]: expected a string'):
        aiflow_app("{skill}", {config_key}={{"triggers": [3]}})


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

Configure it in your app (every key is optional):

```python
app.config["{config_key}"] = {{"triggers": ["{words}"], "answer": "..."}}
```

If the app sets an `AIFLOW_SKILLS` allow-list, add `"{skill}"` to it.
Try it in a simulated call: `flask --app yourapp aiflow call`, then say "{words}".
`flask --app yourapp aiflow schema --skill {skill}` prints the JSON Schema of `{config_key}`.
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
        "config_key": names.config_key,
        "model": names.model,
    }
    (root / "tests").mkdir(parents=True)
    (root / names.module).mkdir()
    (root / "setup.cfg").write_text(SETUP_CFG.format(**values), encoding="utf-8")
    (root / "pyproject.toml").write_text(PYPROJECT_TOML, encoding="utf-8")
    (root / names.module / "__init__.py").write_text(INIT_MODULE.format(**values), encoding="utf-8")
    (root / names.module / "skill.py").write_text(MODULE.format(**values), encoding="utf-8")
    (root / names.module / "config.py").write_text(CONFIG_MODULE.format(**values), encoding="utf-8")
    (root / "tests" / f"test_{names.skill}.py").write_text(TEST_MODULE.format(**values), encoding="utf-8")
    (root / "README.md").write_text(README.format(**values), encoding="utf-8")
    return root


__all__ = ["SkillNames", "create_skill_package"]
