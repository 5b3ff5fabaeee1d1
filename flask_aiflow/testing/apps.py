"""Apps for tests: flask-aiflow with exactly the skills under test."""

from __future__ import annotations

import itertools
import os
from importlib.metadata import entry_points
from typing import Any

from flask import Flask

from flask_aiflow.extension import AiFlow, get_state
from flask_aiflow.skills.registry import ENTRY_POINT_GROUP, SkillError

#: The shared secret of test apps (the simulator sends it by itself).
TEST_SECRET = "aiflow-test-secret"

_counter = itertools.count()


def make_test_app(*skills: Any, aiflow: AiFlow | None = None, **config: Any) -> Flask:
    """A Flask app in testing mode with flask-aiflow and only ``skills``.

    A skill given as an object or module is registered directly; one given
    as a string is the name of an *installed* skill, loaded through its
    ``flask_aiflow.skills`` entry point as in production (so a test can
    prove that a package's skill is discovered). No other installed skill
    is enabled. ``aiflow`` sets the app up with that extension object
    (built with its own skills or store) instead of a new one with the
    ``skills`` objects. ``config`` sets any Flask or ``AIFLOW_*`` key.

    A test app does not end calls whose WebSocket closed without
    ``session_end`` (``AIFLOW_DISCONNECT_GRACE`` is None unless given), so
    that a call one test leaves open never ends during a later one.

    :raises LookupError: a named skill is not installed.
    :raises SkillError: a named skill is installed but failed to load or start.
    """
    names = [skill for skill in skills if isinstance(skill, str)]
    objects = [skill for skill in skills if not isinstance(skill, str)]
    app = _bare_app(f"aiflow_test_app_{next(_counter)}")
    app.config.update(
        TESTING=True,
        AIFLOW_SHARED_SECRET=TEST_SECRET,
        AIFLOW_LOAD_ENTRY_POINTS=bool(names),
        AIFLOW_DISCONNECT_GRACE=None,
    )
    if names:
        app.config["AIFLOW_SKILLS"] = names
    app.config.update(config)
    if aiflow is None:
        aiflow = AiFlow(skills=objects)
    elif objects:
        raise TypeError("make_test_app(aiflow=...) takes skills only by name; give the objects to AiFlow(skills=...)")
    aiflow.init_app(app)
    registry = get_state(app).registry
    for name in names:
        info = registry.get(name)
        if info is None:
            installed = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
            raise LookupError(
                f"no installed skill is named {name!r} (entry-point group {ENTRY_POINT_GROUP!r}; "
                f"installed: {', '.join(installed) or 'none'}). Is its package installed?"
            )
        if not info.enabled:
            raise SkillError(f"skill {name!r} is installed but not enabled: {info.status}")
    return app


def _bare_app(name: str) -> Flask:
    """A Flask app whose folders are the working directory's, as for a name Flask cannot import, and no static route.

    Given the folders, Flask does not look the (made-up) module up on
    ``sys.path`` twice: that took most of the app's construction (~0.7 ms),
    and test suites build hundreds of apps.
    """
    root = os.getcwd()
    return Flask(name, root_path=root, instance_path=os.path.join(root, "instance"), static_folder=None)


__all__ = ["TEST_SECRET", "make_test_app"]
