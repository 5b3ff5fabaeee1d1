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
``aiflow_skill_state``
                   ``aiflow_skill_state(call, skill)``: the ``call.state`` that
                   skill keeps for a call the fixtures started (in process),
                   as a dict (empty when it keeps none, or the call ended)
=================  ===============================================================

Every connection a fixture opened is closed after the test. ::

    def test_opening_hours(aiflow_call):
        call = aiflow_call("opening_hours")
        call.say("When are you open?").expect_speech(containing="nine")
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from flask_aiflow.extension import get_state
from flask_aiflow.testing.apps import make_test_app
from flask_aiflow.testing.simulator import DEFAULT_FROM, DEFAULT_TO, CallSimulator, SimulatedCall


@pytest.fixture
def aiflow_app() -> Callable[..., Flask]:
    """Build a Flask app with flask-aiflow and exactly the given skills."""
    return make_test_app


class _Simulators:
    """``call_simulator(target, **options)``; remembers the simulators it made."""

    def __init__(self) -> None:
        self.made: list[CallSimulator] = []

    def __call__(self, target: Flask | str, **options: Any) -> CallSimulator:
        simulator = CallSimulator(target, **options)
        self.made.append(simulator)
        return simulator

    def app_of(self, call: SimulatedCall) -> Flask:
        for simulator in self.made:
            if any(made is call for made in simulator.calls):
                if not isinstance(simulator.target, Flask):
                    raise TypeError("a skill's state can be read only for a call to an app in this process")
                return simulator.target
        raise LookupError("this call was not started by the aiflow_call or call_simulator fixture")


@pytest.fixture
def call_simulator() -> Iterator[Callable[..., CallSimulator]]:
    """Make call simulators for an app or a URL; their calls are closed afterwards."""
    simulators = _Simulators()
    yield simulators
    for simulator in simulators.made:
        simulator.close()


def skill_state(app: Flask, session_id: str, skill: str) -> dict[str, Any]:
    """The ``call.state`` skill ``skill`` keeps for call ``session_id`` of ``app`` ({} if none)."""
    with get_state(app).store.transaction(session_id) as txn:
        record = txn.load()
    if record is None or skill not in record.skills:
        return {}
    state: dict[str, Any] = json.loads(record.skills[skill])
    return state


@pytest.fixture
def aiflow_skill_state(call_simulator: _Simulators) -> Callable[[SimulatedCall, str], dict[str, Any]]:
    """Read what a skill keeps in ``call.state`` for a call the fixtures started::

        def test_it_counts(aiflow_call, aiflow_skill_state):
            call = aiflow_call("opening_hours")
            call.say("When are you open?")
            assert aiflow_skill_state(call, "opening_hours") == {"answered": 1}
    """

    def read(call: SimulatedCall, skill: str) -> dict[str, Any]:
        return skill_state(call_simulator.app_of(call), call.session_id, skill)

    return read


@pytest.fixture
def aiflow_call(call_simulator: _Simulators) -> Callable[..., SimulatedCall]:
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
