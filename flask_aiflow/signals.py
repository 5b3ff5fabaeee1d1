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
call_ended         ``event``, ``session``
deferred_done      ``session_id``, ``skill``, ``outcome``, ``seconds``, ``message``
=================  ============================================================

``deferred_done`` reports how slow work (a skill's ``Deferred``) ended:
``outcome`` is ``answered``, ``raised``, ``timeout`` (missed its deadline),
``empty`` (nothing to say), ``invalid`` (not an answer), ``dropped`` (a newer
caller turn made it stale) or ``ended`` (the call ended first); ``seconds``
since it started. It is sent from whichever thread learns the outcome (a
worker of the pool, the deadline clock, or the one handling an event).
"""

from __future__ import annotations

from blinker import Namespace

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
