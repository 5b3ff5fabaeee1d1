"""Prometheus metrics fed by flask-aiflow's blinker signals (``AIFLOW_METRICS = True``).

Needs the ``metrics`` extra (``pip install flask-aiflow[metrics]``, which
brings prometheus-client). Each app gets its own ``CollectorRegistry``, so
several apps in one process (or one test session) never share counters; the
registry is served as Prometheus text at ``AIFLOW_METRICS_PATH``.

=====================================  ==========================  =====================================
metric                                 labels                      fed by
=====================================  ==========================  =====================================
``aiflow_events_total``                ``type``, ``transport``     ``event_received``
``aiflow_events_ignored_total``        ``transport``               ``event_ignored`` (unknown types)
``aiflow_actions_total``               ``type``, ``skill``         ``action_chosen`` (skill
                                                                   ``fallback`` for the fallback)
``aiflow_skill_duration_seconds``      ``skill``                   the decision's timings
``aiflow_skill_failures_total``        ``skill``, ``kind``         ``skill_failed``
``aiflow_dispatch_duration_seconds``   ``type``                    the decision's total time
``aiflow_live_calls``                  (none)                      ``call_started`` / ``call_ended``
``aiflow_rejected_requests_total``     ``status``, ``transport``   ``event_rejected``
=====================================  ==========================  =====================================

Several worker processes: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory before the workers start (prometheus-client's multiprocess mode);
every process then writes its values there and a scrape of any worker
returns the sum over all of them. ``aiflow_live_calls`` is summed over the
live processes (``livesum``); call :func:`mark_process_dead` from gunicorn's
``child_exit`` hook so a dead worker's files are cleaned up. Without
multiprocess mode each process counts only what it served.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from flask_aiflow import signals
from flask_aiflow.config import ConfigurationError
from flask_aiflow.decision import RULE_FALLBACK

if TYPE_CHECKING:
    from flask import Flask

    from flask_aiflow.decision import Decision

__all__ = ["Metrics", "mark_process_dead"]

#: Skill calls are expected to take microseconds to a few hundred milliseconds.
SKILL_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def _prometheus() -> Any:
    try:
        import prometheus_client
    except ImportError:
        raise ConfigurationError(
            "AIFLOW_METRICS = True needs prometheus-client: pip install 'flask-aiflow[metrics]'"
        ) from None
    return prometheus_client


def _multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir"))


class Metrics:
    """The metrics of one app, connected to its signals."""

    def __init__(self, app: Flask) -> None:
        prom = _prometheus()
        self._prom = prom
        self.registry = prom.CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.events = prom.Counter(
            "aiflow_events", "Events dispatched, by type and transport.", ["type", "transport"], registry=registry
        )
        self.ignored = prom.Counter(
            "aiflow_events_ignored", "Events of an unknown type (answered with nothing).", ["transport"],
            registry=registry,
        )
        self.actions = prom.Counter(
            "aiflow_actions", "Actions sent, by type and the skill that proposed them.", ["type", "skill"],
            registry=registry,
        )
        self.skill_seconds = prom.Histogram(
            "aiflow_skill_duration_seconds", "Time one skill took for one event.", ["skill"],
            buckets=SKILL_BUCKETS, registry=registry,
        )
        self.failures = prom.Counter(
            "aiflow_skill_failures", "Skills excluded from an event, by kind (raised, too_slow, ...).",
            ["skill", "kind"], registry=registry,
        )
        self.dispatch_seconds = prom.Histogram(
            "aiflow_dispatch_duration_seconds", "Time from an event to its decision.", ["type"],
            buckets=SKILL_BUCKETS, registry=registry,
        )
        self.live_calls = prom.Gauge(
            "aiflow_live_calls", "Calls between session_start and session_end.",
            multiprocess_mode="livesum", registry=registry,
        )
        self.rejected = prom.Counter(
            "aiflow_rejected_requests", "Requests and messages refused, by status.", ["status", "transport"],
            registry=registry,
        )
        # Strong references: blinker would otherwise drop these bound methods.
        for signal, receiver in (
            (signals.event_received, self._on_event),
            (signals.event_ignored, self._on_ignored),
            (signals.action_chosen, self._on_action),
            (signals.no_action, self._on_no_action),
            (signals.skill_failed, self._on_failure),
            (signals.call_started, self._on_call_started),
            (signals.call_ended, self._on_call_ended),
            (signals.event_rejected, self._on_rejected),
        ):
            signal.connect(receiver, sender=app, weak=False)

    # -- receivers ------------------------------------------------------------------

    def _on_event(self, sender: Any, *, event: Any, transport: str, **_: Any) -> None:
        self.events.labels(event.type, transport).inc()

    def _on_ignored(self, sender: Any, *, transport: str, **_: Any) -> None:
        self.ignored.labels(transport).inc()

    def _on_action(self, sender: Any, *, action: Any, decision: Decision, **_: Any) -> None:
        if decision.winner is not None:
            skill = decision.winner.skill
        else:
            skill = "fallback" if decision.rule == RULE_FALLBACK else "none"
        self.actions.labels(action.type, skill).inc()
        self._observe(decision)

    def _on_no_action(self, sender: Any, *, decision: Decision, **_: Any) -> None:
        self._observe(decision)

    def _observe(self, decision: Decision) -> None:
        for skill, seconds in decision.timings.items():
            self.skill_seconds.labels(skill).observe(seconds)
        self.dispatch_seconds.labels(decision.event_type).observe(decision.seconds)

    def _on_failure(self, sender: Any, *, skill: str, failure: Any, **_: Any) -> None:
        self.failures.labels(skill, failure.kind).inc()

    def _on_call_started(self, sender: Any, **_: Any) -> None:
        self.live_calls.inc()

    def _on_call_ended(self, sender: Any, **_: Any) -> None:
        self.live_calls.dec()

    def _on_rejected(self, sender: Any, *, status: int, transport: str, **_: Any) -> None:
        self.rejected.labels(str(status), transport).inc()

    # -- exposition -------------------------------------------------------------------

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text of this app (of all processes in multiprocess mode)."""
        prom = self._prom
        registry = self.registry
        if _multiprocess():
            from prometheus_client import multiprocess

            registry = prom.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return prom.generate_latest(registry), prom.CONTENT_TYPE_LATEST


def mark_process_dead(pid: int) -> None:
    """For gunicorn's ``child_exit`` hook in multiprocess mode: forget a dead worker's live gauge."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
