"""Calls between events: the view a skill gets, the stores, live calls and push.

App owners who pick or write a store import it from here::

    from flask_aiflow.calls import MemoryStore, StateStore

The Redis store lives in :mod:`flask_aiflow.calls.redis_store` (it needs the
``redis`` extra).
"""

from flask_aiflow.calls.call import Call, Floor
from flask_aiflow.calls.live import LiveCall
from flask_aiflow.calls.push import CallNotConnected, Relay
from flask_aiflow.calls.store import CallBusy, CallRecord, CallTransaction, MemoryStore, StateStore, StoreUnavailable

__all__ = [
    "Call",
    "CallBusy",
    "CallNotConnected",
    "CallRecord",
    "CallTransaction",
    "Floor",
    "LiveCall",
    "MemoryStore",
    "Relay",
    "StateStore",
    "StoreUnavailable",
]
