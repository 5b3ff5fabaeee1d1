"""blinker signals sent by flask-aiflow.

Every signal is sent with the Flask application as sender, like Flask's own
signals, so a receiver can subscribe for one app only::

    from flask_aiflow import signals

    @signals.action_chosen.connect_via(app)
    def log_winner(app, decision, **extra):
        ...

=================  ============================================================
signal             keyword arguments
=================  ============================================================
event_received     ``event``, ``transport`` ("webhook" or "websocket")
event_rejected     ``status`` (HTTP-like code), ``reason``, ``transport``
event_ignored      ``event_type``, ``transport`` (an unknown event type)
action_chosen      ``event``, ``action``, ``decision``
no_action          ``event``, ``decision``
skill_failed       ``event``, ``skill``, ``failure``
call_started       ``event``, ``session``
call_ended         ``event``, ``session``, ``reason`` (``"session_end"``, or
                   ``"disconnected"`` for a call whose WebSocket closed without
                   one, ended after ``AIFLOW_DISCONNECT_GRACE``)
deferred_done      ``session_id``, ``skill``, ``outcome``, ``seconds``, ``message``
=================  ============================================================

They are sent from here only, by the ``report_*`` functions below, which
also write the matching log lines: the pipeline reports each decision once,
the web layer each refused or ignored message.

``deferred_done`` reports how slow work (a skill's ``Deferred``) ended:
``outcome`` is ``answered``, ``raised``, ``timeout`` (missed its deadline),
``empty`` (nothing to say), ``invalid`` (not an answer), ``dropped`` (a newer
caller turn made it stale) or ``ended`` (the call ended first); ``seconds``
since it started. It is sent from whichever thread learns the outcome (a
worker of the pool, the deadline clock, or the one handling an event).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from blinker import Namespace, Signal
from flask import current_app

if TYPE_CHECKING:
    from flask_aiflow.decision import Decision
    from flask_aiflow.protocol.events import Event

logger = logging.getLogger("flask_aiflow")

aiflow_signals = Namespace()

event_received = aiflow_signals.signal("event-received")
event_rejected = aiflow_signals.signal("event-rejected")
event_ignored = aiflow_signals.signal("event-ignored")
action_chosen = aiflow_signals.signal("action-chosen")
no_action = aiflow_signals.signal("no-action")
skill_failed = aiflow_signals.signal("skill-failed")
call_started = aiflow_signals.signal("call-started")
call_ended = aiflow_signals.signal("call-ended")
deferred_done = aiflow_signals.signal("deferred-done")



def report_received(event: Event, transport: str) -> None:
    """An event passed authentication and validation and is about to be handled."""
    _send(event_received, event=event, transport=transport)


def report_decision(event: Event, decision: Decision, end_reason: str = "session_end") -> None:
    """An event has been handled: the skills' failures, the call's start or end, the action or none.

    The whole decision goes to the debug log in one line. ``end_reason`` is
    what ``call_ended`` reports for a ``session_end``.
    """
    for failure in decision.failures:
        _send(skill_failed, event=event, skill=failure.skill, failure=failure)
    if event.type == "session_start":
        _send(call_started, event=event, session=event.session)
    if decision.action is not None:
        _send(action_chosen, event=event, action=decision.action, decision=decision)
    else:
        _send(no_action, event=event, decision=decision)
    if event.type == "session_end":
        _send(call_ended, event=event, session=event.session, reason=end_reason)
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("call %s: decision %s", event.session.id, decision.summary())


def report_rejected(status: int, reason: str, transport: str) -> None:
    """A request or message was refused (``status`` is HTTP-like)."""
    logger.info("%s rejected (%d): %s", transport, status, reason)
    _send(event_rejected, status=status, reason=reason, transport=transport)


def report_ignored(event_type: str, transport: str) -> None:
    """An event of a type this version does not know was ignored (the service may add types)."""
    logger.info("ignored an event of unknown type %r", event_type)
    _send(event_ignored, event_type=event_type, transport=transport)


def _send(signal: Signal, **data: Any) -> None:
    """Send ``signal`` with the current app as sender; skipped when nobody listens, as blinker suggests."""
    if signal.receivers:
        signal.send(current_app._get_current_object(), **data)  # type: ignore[attr-defined]
