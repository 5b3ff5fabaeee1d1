"""The console's simulated calls, kept in the server process between requests."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from typing import Any

from flask import Flask

from flask_aiflow.testing.simulator import CallSimulator, SimulatedCall
from flask_aiflow.testing.turns import Turn

#: Calls kept at once; starting another closes the oldest.
MAX_CALLS = 20

STEPS = ("say", "silence", "barge_in", "speech_ends", "hang_up")


class ConsoleCalls:
    """Simulated calls of one app, by console call id.

    One lock serialises every step: the console is a development tool, and
    a step is a handful of in-process requests.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.calls: OrderedDict[str, SimulatedCall] = OrderedDict()
        self.lock = threading.Lock()

    def start(self, from_: str, to: str) -> tuple[str, SimulatedCall]:
        with self.lock:
            call = CallSimulator(self.app).start_call(from_=from_, to=to)
            call_id = secrets.token_urlsafe(12)
            self.calls[call_id] = call
            while len(self.calls) > MAX_CALLS:
                _, oldest = self.calls.popitem(last=False)
                oldest.close()
            return call_id, call

    def step(self, call_id: str, op: str, **arguments: Any) -> tuple[SimulatedCall, Turn]:
        """Run one step; raises KeyError for an unknown call id."""
        with self.lock:
            call = self.calls[call_id]
            turn: Turn = getattr(call, op)(**arguments)
            if call.ended:
                del self.calls[call_id]
            return call, turn
