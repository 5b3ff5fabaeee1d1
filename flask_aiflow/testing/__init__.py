"""Test and try skills without a phone: the call simulator and its helpers.

See :mod:`flask_aiflow.testing.simulator` for the rules the simulator
follows, and :mod:`flask_aiflow.testing.pytest_plugin` for the fixtures.
"""

from flask_aiflow.testing.apps import TEST_SECRET, make_test_app
from flask_aiflow.testing.errors import (
    CallEndedError,
    ExpectationError,
    ProtocolViolation,
    SimulationError,
    TransportError,
)
from flask_aiflow.testing.rules import BargeInVerdict, barge_in_verdict, speech_duration_ms
from flask_aiflow.testing.simulator import CallSimulator, Playback, SimulatedCall
from flask_aiflow.testing.turns import Exchange, Turn

__all__ = [
    "BargeInVerdict",
    "CallEndedError",
    "CallSimulator",
    "Exchange",
    "ExpectationError",
    "Playback",
    "ProtocolViolation",
    "SimulatedCall",
    "SimulationError",
    "TEST_SECRET",
    "TransportError",
    "Turn",
    "barge_in_verdict",
    "make_test_app",
    "speech_duration_ms",
]
