"""Ending a call whose WebSocket closed without ``session_end``.

The reference asks apps to "be prepared for unexpected disconnections" and to
"clean up on session_end". When a WebSocket closes while it still carries a
call (no ``session_end`` came on it), the call gets ``AIFLOW_DISCONNECT_GRACE``
seconds to come back on a new connection. If none brought an event of it by
then, the same cleanup as for ``session_end`` runs: every skill's
``aiflow_session_end`` (with a ``session_end`` event that carries only the
session id), the call's record and transcript are deleted (so it leaves the
live calls), and ``call_ended`` is sent with ``reason="disconnected"``.

Exactly once, however many workers serve the app: each connection that closes
remembers when the call's last event was handled (``last_event_at`` in its
stored record). When the grace period is over, the cleanup takes the call's
transaction (the store's lock, so with Redis this works across workers and
hosts) and *claims* the call by marking its record, but only while

- the record still exists (no ``session_end`` came meanwhile),
- it still names this process as the holder of the call's WebSocket
  (``meta["node"]``, written with every WebSocket event when a relay serves
  several processes): a call that came back on a connection to another
  worker is that worker's to watch,
- this process holds no other open connection for the call,
- it shows no event newer than the one remembered, and
- no other closed connection has claimed it.

The claim is written in the same transaction, so of two closed connections
of one call only one runs the cleanup.

A new connection counts once it has carried an event of the call; one that
stays silent through the whole grace period is not noticed. A connection
closed because this process is stopping is not watched (the service
reconnects elsewhere, and this process's timers stop with it); such a call
expires with ``AIFLOW_STATE_TTL`` if it never comes back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from flask_aiflow.calls.store import CallBusy
from flask_aiflow.protocol.events import Session, SessionEnd
from flask_aiflow.web.shutdown import shutting_down

if TYPE_CHECKING:
    from flask_aiflow.extension import AiFlowState

logger = logging.getLogger("flask_aiflow")

#: What ``call_ended`` reports as the reason for a call ended here.
DISCONNECTED = "disconnected"
#: The mark in a call's record (``meta``) that one closed connection has claimed its cleanup.
CLAIM = "ending"


def watch(state: AiFlowState, session_ids: Iterable[str]) -> list[str]:
    """A WebSocket closed while carrying these calls: end each one after the grace period.

    Call it where a connection's loop ends, inside the app (or request)
    context, before the connection's calls are forgotten. Does nothing when
    ``AIFLOW_DISCONNECT_GRACE`` is None or the process is stopping. Returns
    the calls it watches (those still on record).
    """
    grace = state.settings.disconnect_grace
    if grace is None or shutting_down():
        return []
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    watched = []
    for session_id in list(session_ids):
        seen = _last_event_at(state, session_id)
        if seen is _GONE:
            continue
        watched.append(session_id)
        logger.info(
            "call %s: its WebSocket closed without session_end; ending it in %g s unless it comes back",
            session_id,
            grace,
            extra={"session_id": session_id},
        )
        timer = threading.Timer(grace, _expire, args=(app, state, session_id, seen))
        timer.name = "aiflow-disconnect"
        timer.daemon = True
        timer.start()
    return watched


_GONE = object()


def _last_event_at(state: AiFlowState, session_id: str) -> Any:
    """When the call's last event was handled, per its record; ``_GONE`` without one."""
    try:
        record = state.store.load_record(session_id)
    except ValueError:
        return _GONE
    if record is None:
        return _GONE
    return record.meta.get("last_event_at")


def _expire(app: Flask, state: AiFlowState, session_id: str, seen: Any) -> None:
    """The grace period is over: end the call unless it came back, ended, or is claimed."""
    try:
        with app.app_context():
            if end_if_abandoned(state, session_id, seen):
                logger.info(
                    "call %s: ended after its WebSocket closed without session_end",
                    session_id,
                    extra={"session_id": session_id},
                )
    except Exception:  # noqa: BLE001 - a timer thread has nobody to report to but the log
        logger.exception("call %s: ending the disconnected call failed", session_id, extra={"session_id": session_id})


def end_if_abandoned(state: AiFlowState, session_id: str, seen: Any) -> bool:
    """Run the ``session_end`` cleanup once, if the call is still as its connection left it.

    :param seen: the record's ``last_event_at`` when the connection closed.
    :returns: True when this call ran the cleanup, False when it left the
        call alone (the reason is logged).
    """
    if state.hub.holds(session_id):
        return _skip(session_id, "a new connection to this process carries it")
    relay = state.hub.relay
    here = relay.node if relay is not None else None
    try:
        with state.store.transaction(session_id) as txn:
            try:
                record = txn.load()
            except ValueError:
                return _skip(session_id, "its stored state is unreadable")
            if record is None:
                return _skip(session_id, "it has ended meanwhile")
            if record.meta.get(CLAIM):
                return _skip(session_id, "another closed connection is ending it")
            if record.meta.get("node") != here:
                return _skip(session_id, "it came back on a connection to another process")
            if record.meta.get("last_event_at") != seen:
                return _skip(session_id, "it came back on a new connection")
            record.meta[CLAIM] = DISCONNECTED
            txn.save(record, state.settings.state_ttl)
    except CallBusy:
        return _skip(session_id, "one of its events is being handled")
    state.handle(SessionEnd(Session(session_id)), "websocket", end_reason=DISCONNECTED)
    return True


def _skip(session_id: str, why: str) -> bool:
    logger.info("call %s: not ended after its WebSocket closed: %s", session_id, why, extra={"session_id": session_id})
    return False


__all__ = ["CLAIM", "DISCONNECTED", "end_if_abandoned", "watch"]
