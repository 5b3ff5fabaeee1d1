"""pytest fixtures for skill authors (registered through the ``pytest11`` entry point).

=================  ===============================================================
fixture            gives
=================  ===============================================================
``aiflow_app``     ``aiflow_app(*skills, **config)``: a Flask app with only these
                   skills (objects, modules, or names of installed skills)
``call_simulator`` ``call_simulator(app_or_url, **options)``: a
                   :class:`~flask_aiflow.testing.CallSimulator`
``aiflow_call``    ``aiflow_call(*skills, from_=..., to=..., transport=..., **config)``:
                   a call already started against an app with only these skills
                   (or pass ``app=`` to call an existing app)
=================  ===============================================================

Every connection a fixture opened is closed after the test. ::

    def test_opening_hours(aiflow_call):
        call = aiflow_call("opening_hours")
        call.say("When are you open?").expect_speech(containing="nine")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from flask_aiflow.testing.apps import make_test_app
from flask_aiflow.testing.simulator import DEFAULT_FROM, DEFAULT_TO, CallSimulator, SimulatedCall


@pytest.fixture
def aiflow_app() -> Callable[..., Flask]:
    """Build a Flask app with flask-aiflow and exactly the given skills."""
    return make_test_app


@pytest.fixture
def call_simulator() -> Iterator[Callable[..., CallSimulator]]:
    """Make call simulators for an app or a URL; their calls are closed afterwards."""
    simulators: list[CallSimulator] = []

    def make(target: Flask | str, **options: Any) -> CallSimulator:
        simulator = CallSimulator(target, **options)
        simulators.append(simulator)
        return simulator

    yield make
    for simulator in simulators:
        simulator.close()


@pytest.fixture
def aiflow_call(call_simulator: Callable[..., CallSimulator]) -> Callable[..., SimulatedCall]:
    """Start a call against an app with only the given skills (or ``app=``)."""

    def start(
        *skills: Any,
        app: Flask | None = None,
        from_: str = DEFAULT_FROM,
        to: str = DEFAULT_TO,
        transport: str = "webhook",
        **config: Any,
    ) -> SimulatedCall:
        if app is None:
            app = make_test_app(*skills, **config)
        elif skills or config:
            raise TypeError("aiflow_call(app=...) takes no skills or configuration; build the app with them")
        return call_simulator(app, transport=transport).start_call(from_=from_, to=to)

    return start
