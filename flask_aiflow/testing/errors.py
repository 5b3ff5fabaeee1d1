"""What can go wrong while simulating a call."""

from __future__ import annotations


class SimulationError(Exception):
    """The simulated call cannot go on as asked (a misuse or a broken app)."""


class CallEndedError(SimulationError):
    """Something was to be sent on a call that has already ended."""


class TransportError(SimulationError):
    """The app refused or failed an event (wrong secret, 4xx/5xx, connection lost)."""


class ProtocolViolation(SimulationError):
    """The app answered something the AI Flow service would not accept."""


class ExpectationError(AssertionError):
    """An ``expect_*`` helper found something else than expected."""
