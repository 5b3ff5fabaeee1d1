"""Pushing actions into live calls: ``send(session_id, action)`` from anywhere in the app.

The AI Flow service keeps one WebSocket open per call for the WebSocket
transport; an action sent on it at any time is carried out (a manual
``barge_in`` from an agent's dashboard, an announcement). This module keeps
track of the connections this process holds (:class:`ConnectionHub`) and
delivers an action to one of them, or, through a :class:`Relay`, to the
process that holds it.

Routing: while a call's events arrive over a WebSocket, its record says which
process holds the connection (``meta["node"]``, written with the record, so it
expires with the call and needs no extra write). ``send`` delivers locally
when this process holds the connection; otherwise it reads that node id and
asks the relay to forward the action there; the holder sends it and answers
with an acknowledgement.

Outcomes: ``True`` when a live connection took the action; ``False`` when the
connection was known but the delivery could not be confirmed (the socket
failed, or no acknowledgement came in time); :class:`CallNotConnected` when
no open WebSocket is known for the call (a webhook call, an ended call, an
unknown id, or a holder that has gone).
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flask_aiflow.protocol.actions import Action, Speak, action_from_dict, encode_action

if TYPE_CHECKING:
    from flask_aiflow.calls.store import StateStore
    from flask_aiflow.config import Settings

logger = logging.getLogger("flask_aiflow")

#: What a holder answers to a forwarded action.
DELIVERED = "delivered"
NOT_HERE = "not_here"
SEND_FAILED = "failed"
#: What a relay reports when nobody answered.
NO_NODE = "no_node"
TIMED_OUT = "timeout"


class CallNotConnected(LookupError):
    """No open WebSocket connection is known for this call."""

    def __init__(self, session_id: str, reason: str) -> None:
        super().__init__(f"call {session_id!r} is not connected: {reason}")
        self.session_id = session_id
        self.reason = reason


class LiveConnection:
    """One WebSocket connection; sends are serialised, so any thread may send."""

    __slots__ = ("ws", "sessions", "_lock")

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        #: the calls whose events arrived on this connection (normally one)
        self.sessions: set[str] = set()
        self._lock = threading.Lock()

    def send(self, text: str) -> None:
        with self._lock:
            self.ws.send(text)

    def close(self, reason: int, message: str) -> None:
        """Close the connection with a status code, after any send in progress."""
        with self._lock:
            self.ws.close(reason=reason, message=message)


#: Called by a relay for each forwarded action: (session id, action JSON) -> outcome.
Deliver = Callable[[str, str], str]


class Relay(ABC):
    """Carries actions between the processes that serve one app's WebSockets."""

    @property
    @abstractmethod
    def node(self) -> str:
        """This process's id, as written into the records of the calls it holds."""

    @abstractmethod
    def start(self, deliver: Deliver) -> None:
        """Start listening for actions forwarded to this process (idempotent).

        Must have subscribed when it returns, so that a node id written into
        a record afterwards can be reached at once.
        """

    @abstractmethod
    def forward(self, node: str, session_id: str, text: str, timeout: float) -> str:
        """Hand an action to ``node`` and wait for its answer: one of the outcome constants."""

    def close(self) -> None:
        """Stop listening."""


class ConnectionHub:
    """The WebSocket connections this process holds, by session id."""

    def __init__(self, relay: Relay | None) -> None:
        self.relay = relay
        self._connections: dict[str, LiveConnection] = {}
        self._lock = threading.Lock()

    def register(self, session_id: str, connection: LiveConnection) -> str | None:
        """``connection`` carries this call's events; returns the route to write into its record.

        Called for every event of the call; only the first one does any work.
        """
        relay = self.relay
        if session_id in connection.sessions and self._connections.get(session_id) is connection:
            return relay.node if relay is not None else None
        route = None
        if relay is not None:
            relay.start(self.deliver)
            route = relay.node
        with self._lock:
            self._connections[session_id] = connection
        connection.sessions.add(session_id)
        return route

    def unregister(self, session_id: str, connection: LiveConnection) -> None:
        with self._lock:
            if self._connections.get(session_id) is connection:
                del self._connections[session_id]
        connection.sessions.discard(session_id)

    def close(self, connection: LiveConnection) -> None:
        """The connection closed: forget every call it carried."""
        for session_id in list(connection.sessions):
            self.unregister(session_id, connection)

    def holds(self, session_id: str) -> bool:
        return session_id in self._connections

    def deliver(self, session_id: str, text: str) -> str:
        """Send ``text`` on this process's connection for the call: an outcome constant."""
        connection = self._connections.get(session_id)
        if connection is None:
            return NOT_HERE
        try:
            connection.send(text)
        except Exception as exc:  # noqa: BLE001 - a closed socket, reported as not delivered
            logger.warning("call %s: pushing an action failed: %s: %s", session_id, type(exc).__name__, exc)
            return SEND_FAILED
        return DELIVERED


def coerce_action(action: Action | Mapping[str, Any] | str, session_id: str, settings: Settings) -> Action:
    """An action for this call from what ``send`` was given (as a hook may return it)."""
    if isinstance(action, str):
        result: Action = Speak(text=action, tts=settings.default_tts, barge_in=settings.default_barge_in)
    elif isinstance(action, Action):
        result = action
    elif isinstance(action, Mapping):
        result = action_from_dict(action)
    else:
        raise TypeError(f"send() takes an action, an action dict or a string, not {type(action).__name__}")
    if result.session_id is None:
        return result.with_session(session_id)
    if result.session_id != session_id:
        raise ValueError(f"the action is for session {result.session_id!r}, not {session_id!r}")
    return result


def push(
    hub: ConnectionHub,
    store: StateStore,
    session_id: str,
    action: Action,
    timeout: float,
) -> bool:
    """Deliver ``action`` to the call's WebSocket, wherever it is held (see the module doc)."""
    text = encode_action(action, session_id).decode()  # the bytes the webhook would answer, as text
    if hub.holds(session_id):
        outcome = hub.deliver(session_id, text)
        if outcome != NOT_HERE:
            return outcome == DELIVERED
    relay = hub.relay
    if relay is None:
        raise CallNotConnected(session_id, "no open WebSocket for it in this process")
    node = _route(store, session_id)
    if node is None:
        raise CallNotConnected(session_id, "no open WebSocket is known for it")
    if node == relay.node:
        raise CallNotConnected(session_id, "its WebSocket, held by this process, has closed")
    outcome = relay.forward(node, session_id, text, timeout)
    if outcome in (NO_NODE, NOT_HERE):
        raise CallNotConnected(session_id, "the process that held its WebSocket no longer holds it")
    return outcome == DELIVERED


def _route(store: StateStore, session_id: str) -> str | None:
    try:
        record = store.load_record(session_id)
    except ValueError:
        return None
    if record is None:
        return None
    meta = record.meta
    if meta.get("transport") != "websocket":
        return None
    node = meta.get("node")
    return node if isinstance(node, str) else None
