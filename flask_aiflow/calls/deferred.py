"""Slow work: a skill's :class:`~flask_aiflow.Deferred` runs in a bounded pool; its answers follow.

The pipeline calls two functions of :class:`Deferrals` per event:

- :meth:`Deferrals.due`, before the skills: the answer now due (a candidate,
  like a follow-up), a newer caller turn dropping stale work, the deadline
  checked;
- :meth:`Deferrals.settle`, after the ranking: a winning ``Deferred`` starts
  its work; a delivered answer leaves the queue.

Everything about work in flight lives in the call's record
(``record.deferred``, written under the call's transaction), so with the
Redis store any worker process can deliver what another one computed::

    {"id", "skill", "priority", "reason", "started_at", "deadline", "deadline_at",
     "interrupt", "on_failure": action dict, "queue": [action dicts],
     "finished": bool, "outcome": str | None, "said": int,
     "idle": bool, "speaking": bool, "armed": bool}

How an answer reaches the caller:

- WebSocket: the worker pushes it into the call as soon as the line is free
  (``idle``: the filler has ended), or at once cutting the filler short when
  the skill asked to ``interrupt`` (a ``barge_in`` first). Otherwise it waits
  in ``queue`` and answers the filler's ``assistant_speech_ended``.
- Webhook: the service only ever hears from us in answer to an event. The
  filler's ``speak`` carries a short ``user_input_timeout_seconds``
  (``AIFLOW_DEFERRED_POLL_SECONDS``, ``armed``), so the service calls back
  with ``user_input_timeout`` even when the caller stays silent: a *poll*. A
  poll is answered with the answer when it is ready, else with the hold line
  (``AIFLOW_DEFERRED_HOLD``, armed again), else, past the deadline, with the
  apology. A poll is not the caller's silence: the skills are not asked, so
  the timeout skill neither counts it nor answers it.

A newer caller turn (``user_speak``) makes pending work stale: its record is
dropped and a stream is closed, unless the skill's ``still_relevant`` says
otherwise. Every piece of work has a deadline, enforced by a clock thread in
the process that runs it and, should that process die, by the next event of
the call wherever it lands. Outcomes are sent with the ``deferred_done``
signal and noted in the decision record.
"""

from __future__ import annotations

import contextvars
import dataclasses
import heapq
import itertools
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from queue import SimpleQueue
from time import monotonic, perf_counter
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec
from flask import current_app

from flask_aiflow import signals
from flask_aiflow.calls.call import Call
from flask_aiflow.calls.push import CallNotConnected, ConnectionHub, coerce_action, push
from flask_aiflow.calls.store import CallBusy
from flask_aiflow.decision import CandidateRecord
from flask_aiflow.protocol.actions import Action, BargeIn, InvalidActionError, Speak, action_from_dict
from flask_aiflow.protocol.events import (
    AssistantSpeak,
    AssistantSpeechEnded,
    Event,
    SessionEnd,
    UserInputTimeout,
    UserSpeak,
)
from flask_aiflow.skills.candidates import Candidate, Deferred
from flask_aiflow.skills.ranking import Proposal

if TYPE_CHECKING:
    from flask import Flask

    from flask_aiflow.calls.store import CallRecord, StateStore
    from flask_aiflow.config import Settings

logger = logging.getLogger("flask_aiflow")

#: Outcomes, as sent with ``deferred_done``.
ANSWERED = "answered"
RAISED = "raised"
TIMEOUT = "timeout"
EMPTY = "empty"  # the work had nothing to say
INVALID = "invalid"  # the work returned something that is not an answer
DROPPED = "dropped"  # a newer caller turn made it stale
ENDED = "ended"  # the call ended first

#: Seconds a Deferred without filler may wait for its answer when the app has no event budget.
UNBUDGETED_WAIT = 0.8

WEBSOCKET = "websocket"


@dataclasses.dataclass(slots=True)
class Settling:
    """What the slow-work steps may add to one event's decision.

    The pipeline hands one to :meth:`Deferrals.due` (before the skills) and
    :meth:`Deferrals.settle` (after the ranking) and takes back the notes
    and the action to send.
    """

    session_id: str
    notes: list[str] = dataclasses.field(default_factory=list)
    winner: CandidateRecord | None = None
    action: Action | None = None


class Due(NamedTuple):
    """What pending work means for one event.

    :param candidate: an answer (or the hold line) to rank with the skills' proposals.
    :param polled: the event is a poll of ours, not the caller's silence:
        the skills are not asked and no fallback answers it.
    """

    candidate: Proposal | None = None
    polled: bool = False


NOTHING = Due()


@dataclasses.dataclass(frozen=True, slots=True)
class _DueMark:
    """Marks a candidate made by :meth:`Deferrals.due` (``CandidateRecord.deferred``)."""

    id: str
    hold: bool = False


class Job:
    """Work running in this process (the record holds the rest)."""

    def __init__(self, spec: Deferred, skill: str, session_id: str, deadline: float, app: Flask | None) -> None:
        self.id = uuid.uuid4().hex
        self.spec = spec
        self.skill = skill
        self.session_id = session_id
        self.deadline = deadline
        self.deadline_mono = monotonic() + deadline
        self.started = perf_counter()
        self.app = app
        self.done = False
        self.cancelled = False
        self.stream: Iterator[Any] | None = None
        #: held while the stream makes its next item, so a cancel never closes a running generator
        self.step_lock = threading.Lock()
        # the first answer, handed straight to a dispatcher waiting for it (a Deferred without filler)
        self._handoff = threading.Lock()
        self._inline_wanted = False
        self._inline: tuple[list[Action], bool] | None = None
        self._inline_ready = threading.Event()

    def elapsed(self) -> float:
        return perf_counter() - self.started

    def cancel(self) -> None:
        """Stop at the next item; close the stream now if it is not making one."""
        self.cancelled = True
        stream = self.stream
        if stream is not None and self.step_lock.acquire(blocking=False):
            try:
                _close(stream)
            finally:
                self.step_lock.release()

    def wait_inline(self, timeout: float) -> tuple[list[Action], bool] | None:
        """Dispatcher side: the first answers and whether the work is finished, if ready in time."""
        self._inline_ready.wait(max(timeout, 0.0))
        with self._handoff:
            self._inline_wanted = False
            return self._inline

    def offer_inline(self, actions: list[Action], finished: bool) -> bool:
        """Worker side: True when a waiting dispatcher took the answers."""
        with self._handoff:
            if not self._inline_wanted:
                return False
            self._inline_wanted = False
            self._inline = (actions, finished)
        self._inline_ready.set()
        return True


class Deferrals:
    """Slow work of one app: the pool, the jobs of this process, delivery."""

    def __init__(self, store: StateStore, settings: Settings, hub: ConnectionHub | None = None) -> None:
        self.store = store
        self.settings = settings
        self.hub = hub
        self._jobs: dict[str, Job] = {}
        self._jobs_changed = threading.Condition()
        work_pool(settings.deferred_workers)  # started now, not in the first slow event

    # -- the pipeline's side ---------------------------------------------------------

    def due(self, event: Event, record: CallRecord, decision: Settling, transport: str) -> Due:
        """Before the skills: what pending work means for this event (see the module doc)."""
        entry = record.deferred
        if entry is None:
            return NOTHING
        entry = record.deferred = {**entry, "queue": list(entry["queue"])}
        if isinstance(event, SessionEnd):
            self._drop(entry, record, decision, ENDED, "the call ended")
            return NOTHING
        if isinstance(event, UserSpeak):
            if entry["finished"] and not entry["queue"]:
                record.deferred = None  # everything said: nothing left to drop
            elif not self._still_relevant(entry, event, record):
                self._drop(entry, record, decision, DROPPED, "the caller spoke again")
            else:
                decision.notes.append(f"deferred: {entry['skill']} still relevant after the caller spoke")
            return NOTHING
        if not entry["finished"] and time.time() > entry["deadline_at"]:
            self._fail_entry(entry, TIMEOUT, f"no answer within {entry['deadline']:g} s", decision)
            job = self._jobs.get(entry["id"])
            if job is not None:
                job.cancel()
        queue = entry["queue"]
        if isinstance(event, AssistantSpeak):
            if entry["said"] == 0:
                entry["speaking"] = True
                if entry["interrupt"] and queue:
                    if transport == WEBSOCKET:
                        self._push(event.session.id, BargeIn(session_id=event.session.id))
                    return Due(self._answer(entry, event))
            return NOTHING
        polled = isinstance(event, UserInputTimeout)
        if not isinstance(event, (AssistantSpeechEnded, UserInputTimeout)):
            return NOTHING
        if polled:
            decision.notes.append(f"deferred: a poll for {entry['skill']}'s answer; the skills are not asked")
        if queue:
            return Due(self._answer(entry, event), polled)
        if entry["finished"]:
            if polled or not entry["armed"]:
                record.deferred = None
            return Due(None, polled)
        if transport == WEBSOCKET:
            entry["idle"] = True  # the worker pushes the answer the moment it has one
            return Due(None, polled)
        if polled or not entry["armed"]:
            hold = Proposal(
                entry["skill"],
                entry["priority"],
                self._armed(self.settings.deferred_hold.with_session(event.session.id)),
                f"deferred: still waiting for {entry['skill']}",
                deferred=_DueMark(entry["id"], hold=True),
            )
            return Due(hold, polled)
        return Due(None, polled)

    def settle(self, event: Event, record: CallRecord, decision: Settling, transport: str, started: float) -> None:
        """After the ranking: start a winning Deferred, or take a delivered answer off the queue."""
        winner = decision.winner
        if winner is None or winner.deferred is None:
            return
        if isinstance(winner.deferred, Deferred):
            self._start(winner, event, record, decision, transport, started)
            return
        entry = record.deferred
        mark = winner.deferred
        if entry is None or not isinstance(mark, _DueMark) or entry["id"] != mark.id:
            return
        entry = record.deferred = {**entry, "queue": list(entry["queue"])}
        entry["armed"] = mark.hold
        if mark.hold:
            return
        entry["queue"].pop(0)
        entry["said"] += 1
        entry["idle"] = entry["speaking"] = False
        decision.notes.append(
            f"deferred: answer {entry['said']} of {entry['skill']}, "
            f"{time.time() - entry['started_at']:.3f} s after it started"
        )
        if not entry["queue"] and not entry["finished"] and transport != WEBSOCKET:
            armed = self._armed(decision.action) if decision.action is not None else None
            if armed is not None and armed is not decision.action:
                decision.action = winner.action = armed
                entry["armed"] = True
        if entry["finished"] and not entry["queue"] and not entry["armed"]:
            record.deferred = None

    # -- starting work -----------------------------------------------------------------

    def _start(
        self,
        winner: CandidateRecord,
        event: Event,
        record: CallRecord,
        decision: Settling,
        transport: str,
        started: float,
    ) -> None:
        spec = winner.deferred
        assert isinstance(spec, Deferred)
        session_id = event.session.id
        previous = record.deferred
        if previous is not None:
            self._drop(previous, record, decision, DROPPED, f"new work of {winner.skill} replaced it")
        deadline = spec.deadline if spec.deadline is not None else self.settings.deferred_deadline
        job = Job(spec, winner.skill, session_id, deadline, _current_app())
        try:
            on_failure = (
                self._action(spec.on_failure, session_id) if spec.on_failure is not None else None
            )
        except (InvalidActionError, TypeError, ValueError) as exc:
            logger.error("call %s: skill %r: invalid on_failure (%s); the app's apology is used", session_id, winner.skill, exc)
            on_failure = None
        entry: dict[str, Any] = {
            "id": job.id,
            "skill": winner.skill,
            "priority": winner.priority,
            "reason": winner.reason,
            "started_at": time.time(),
            "deadline": deadline,
            "deadline_at": time.time() + deadline,
            "interrupt": bool(spec.interrupt),
            "on_failure": on_failure.to_dict() if on_failure is not None else None,
            "queue": [],
            "finished": False,
            "outcome": None,
            "said": 0,
            "idle": False,
            "speaking": False,
            "armed": False,
        }
        record.deferred = entry
        with self._jobs_changed:
            self._jobs[job.id] = job
        inline = spec.filler is None
        if inline:
            job._inline_wanted = True
        context = contextvars.copy_context()
        work_pool(self.settings.deferred_workers).submit(lambda: context.run(self._execute, job))
        _clock().schedule(job.deadline_mono, lambda: self._expire(job))
        decision.notes.append(
            f"deferred: {winner.skill} started work ({winner.reason or 'no reason given'}), deadline {deadline:g} s"
        )
        action = decision.action
        if inline:
            budget = self.settings.event_budget or UNBUDGETED_WAIT
            handed = job.wait_inline(budget - (perf_counter() - started))
            if handed is not None:
                actions, finished = handed
                action = actions[0]
                entry["queue"] = [a.to_dict() for a in actions[1:]]
                entry["said"] = 1
                entry["finished"] = finished
                entry["deadline_at"] = time.time() + deadline
                if finished:
                    entry["outcome"] = ANSWERED
                decision.notes.append(f"deferred: {winner.skill} answered within the event budget")
            else:
                decision.notes.append(f"deferred: {winner.skill} not done within the event budget: filler said")
        if action is not None and transport != WEBSOCKET and not (entry["finished"] or entry["queue"]):
            armed = self._armed(action)
            entry["armed"] = armed is not action
            action = armed
        decision.action = winner.action = action  # type: ignore[assignment]
        if entry["finished"] and not entry["queue"] and not entry["armed"]:
            record.deferred = None

    def _armed(self, action: Action) -> Action:
        """``action`` asking the service to call back soon (a speak only; others as they are)."""
        if not isinstance(action, Speak):
            return action
        poll = self.settings.deferred_poll
        current = action.user_input_timeout_seconds
        if current is not None and current <= poll:
            return action
        return msgspec.structs.replace(action, user_input_timeout_seconds=poll)

    # -- running work (pool threads) -------------------------------------------------------

    def _execute(self, job: Job) -> None:
        try:
            if job.cancelled or job.done:
                return  # dropped or past its deadline before a worker was free
            self._run(job)
        except Exception:  # noqa: BLE001 - a pool thread must survive anything
            logger.exception("call %s: deferred work of %r failed", job.session_id, job.id)
        finally:
            with self._jobs_changed:
                self._jobs.pop(job.id, None)
                self._jobs_changed.notify_all()

    def _run(self, job: Job) -> None:
        try:
            result = job.spec.work()
        except Exception as exc:  # noqa: BLE001 - the skill's failure, answered with the apology
            logger.exception("call %s: deferred work raised", job.session_id)
            self._fail(job, RAISED, f"{type(exc).__name__}: {exc}")
            return
        if not _is_stream(result):
            try:
                actions = self._answers(result, job.session_id)
            except (InvalidActionError, TypeError, ValueError) as exc:
                self._fail(job, INVALID, str(exc))
                return
            if not actions:
                self._fail(job, EMPTY, "the work returned nothing to say")
                return
            self._offer(job, actions, finished=True)
            return
        job.stream = iter(result)
        said = 0
        while True:
            try:
                with job.step_lock:
                    if job.cancelled:
                        _close(job.stream)
                        return
                    item = next(job.stream)
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001
                logger.exception("call %s: deferred stream raised", job.session_id)
                self._fail(job, RAISED, f"{type(exc).__name__}: {exc}")
                return
            try:
                actions = self._answers(item, job.session_id)
            except (InvalidActionError, TypeError, ValueError) as exc:
                _close(job.stream)
                self._fail(job, INVALID, str(exc))
                return
            if actions:
                said += 1
                if not self._offer(job, actions, finished=False):
                    job.cancel()
                    _close(job.stream)
                    return
        if not said:
            self._fail(job, EMPTY, "the stream said nothing")
            return
        self._offer(job, [], finished=True)

    def _answers(self, result: Any, session_id: str) -> list[Action]:
        """The actions one result of the work stands for, in the order they are said."""
        if result is None:
            return []
        items = result if isinstance(result, (list, tuple)) else (result,)
        actions: list[Action] = []
        for item in items:
            if isinstance(item, Candidate):
                actions.append(self._action(item.action, session_id))
                actions.extend(self._action(then, session_id) for then in item.then)
            else:
                actions.append(self._action(item, session_id))
        return actions

    def _action(self, item: Any, session_id: str) -> Action:
        if not isinstance(item, (Action, str, Mapping)):
            raise TypeError(f"work returned {type(item).__name__}; expected a string, an action, a Candidate or a list")
        return coerce_action(item, session_id, self.settings)

    def _offer(self, job: Job, actions: list[Action], *, finished: bool) -> bool:
        """Hand answers to the call; False when the call no longer wants them."""
        if actions and job.offer_inline(actions, finished):
            if finished:
                self._finished(job, ANSWERED)
            else:  # a stream: its next item has a deadline of its own
                job.deadline_mono = monotonic() + job.deadline
                _clock().schedule(job.deadline_mono, lambda: self._expire(job))
            return True
        kept = self._update(job, lambda entry, record: self._store_answers(job, entry, record, actions, finished))
        if kept and finished:
            self._finished(job, ANSWERED)
        return kept

    def _store_answers(
        self, job: Job, entry: dict[str, Any], record: CallRecord, actions: list[Action], finished: bool
    ) -> bool:
        if entry["finished"]:
            return False  # past its deadline already: the apology was given
        entry["queue"].extend(action.to_dict() for action in actions)
        if finished:
            entry["finished"] = True
            entry["outcome"] = ANSWERED
        else:
            entry["deadline_at"] = time.time() + job.deadline
            job.deadline_mono = monotonic() + job.deadline
            _clock().schedule(job.deadline_mono, lambda: self._expire(job))
        return True

    def _fail(self, job: Job, outcome: str, message: str) -> None:
        """The work raised, said nothing or missed its deadline: the apology is due."""
        if job.done:
            return
        failed = self._update(job, lambda entry, record: self._fail_in_record(entry, outcome, message))
        if failed:
            self._finished(job, outcome, message)
        else:
            job.done = True

    def _fail_in_record(self, entry: dict[str, Any], outcome: str, message: str) -> bool:
        if entry["finished"]:
            return False  # answered in time (maybe not said yet): no apology
        self._fail_entry(entry, outcome, message, None)
        return True

    def _expire(self, job: Job) -> None:
        """The clock's call: the job's deadline may have passed."""
        if job.done or monotonic() < job.deadline_mono:
            return  # finished, or a stream item moved the deadline on
        job.cancel()
        self._fail(job, TIMEOUT, f"no answer within {job.deadline:g} s")

    def _update(self, job: Job, change: Callable[[dict[str, Any], CallRecord], bool]) -> bool:
        """Change the job's entry in the call's record under its transaction; push what is due."""
        try:
            with self.store.transaction(job.session_id) as txn:
                try:
                    record = txn.load()
                except ValueError:
                    return False
                entry = record.deferred if record is not None else None
                if record is None or entry is None or entry["id"] != job.id:
                    return False  # dropped by a newer turn, or the call ended
                entry = record.deferred = {**entry, "queue": list(entry["queue"])}
                if not change(entry, record):
                    return False
                if record.meta.get("transport") == WEBSOCKET:
                    self._push_due(entry, record, job.session_id)
                txn.save(record, self.settings.state_ttl)
                return True
        except CallBusy as exc:
            logger.error("call %s: deferred work could not reach the call's record: %s", job.session_id, exc)
            return False

    def _push_due(self, entry: dict[str, Any], record: CallRecord, session_id: str) -> None:
        """WebSocket: push the next answer when the line is free, or over the filler if asked."""
        if not entry["queue"]:
            return
        cut_in = entry["said"] == 0 and entry["interrupt"] and entry["speaking"]
        if not (entry["idle"] or cut_in):
            return
        action = action_from_dict(entry["queue"].pop(0)).with_session(session_id)
        if cut_in and not entry["idle"]:
            self._push(session_id, BargeIn(session_id=session_id))
        self._push(session_id, action)
        entry["said"] += 1
        entry["idle"] = entry["speaking"] = False
        if entry["finished"] and not entry["queue"]:
            record.deferred = None

    def _push(self, session_id: str, action: Action) -> None:
        if self.hub is None:
            return
        try:
            if not push(self.hub, self.store, session_id, action, self.settings.push_timeout):
                logger.warning("call %s: a deferred %s was not confirmed by the call's connection", session_id, action.type)
        except CallNotConnected as exc:
            logger.info("call %s: a deferred %s could not be pushed: %s", session_id, action.type, exc.reason)

    def _finished(self, job: Job, outcome: str, message: str = "") -> None:
        job.done = True
        seconds = job.elapsed()
        if outcome == ANSWERED:
            logger.info("call %s: deferred work of %s answered after %.3f s", job.session_id, job.id, seconds)
        else:
            logger.warning("call %s: deferred work %s: %s after %.3f s: %s", job.session_id, job.id, outcome, seconds, message)
        _send_done(job.app, job.session_id, job.skill, outcome, seconds, message)

    # -- the record ------------------------------------------------------------------------

    def _fail_entry(self, entry: dict[str, Any], outcome: str, message: str, decision: Settling | None) -> None:
        """Queue the apology and close the entry (with a note, when an event found it)."""
        apology = entry.get("on_failure") or self.settings.deferred_apology.to_dict()
        entry["queue"].append({key: value for key, value in apology.items() if key != "session_id"})
        entry["finished"] = True
        entry["outcome"] = outcome
        if decision is not None:
            seconds = time.time() - entry["started_at"]
            decision.notes.append(f"deferred: {entry['skill']} {outcome} after {seconds:.3f} s ({message}): apology due")
            _send_done(_current_app(), decision.session_id, entry["skill"], outcome, seconds, message)

    def _drop(self, entry: dict[str, Any], record: CallRecord, decision: Settling, outcome: str, why: str) -> None:
        record.deferred = None
        job = self._jobs.get(entry["id"])
        if job is not None:
            job.done = True
            job.cancel()
        if entry["finished"]:
            return
        seconds = time.time() - entry["started_at"]
        decision.notes.append(f"deferred: {entry['skill']}'s pending answer dropped after {seconds:.3f} s: {why}")
        _send_done(_current_app(), decision.session_id, entry["skill"], outcome, seconds, why)

    def _still_relevant(self, entry: dict[str, Any], event: UserSpeak, record: CallRecord) -> bool:
        job = self._jobs.get(entry["id"])
        if job is None or job.spec.still_relevant is None:
            return False
        try:
            return bool(job.spec.still_relevant(event, Call(entry["skill"], event, record)))
        except Exception:  # noqa: BLE001 - a broken check drops the work, as the default would
            logger.exception("call %s: still_relevant of %r raised; the pending answer is dropped", event.session.id, entry["skill"])
            return False

    def _answer(self, entry: dict[str, Any], event: Event) -> Proposal:
        action = action_from_dict(entry["queue"][0]).with_session(event.session.id)
        reason = "deferred apology" if entry["outcome"] not in (None, ANSWERED) and len(entry["queue"]) == 1 else "deferred answer"
        return Proposal(entry["skill"], entry["priority"], action, reason, deferred=_DueMark(entry["id"]))

    # -- tests and shutdown ------------------------------------------------------------------

    def join(self, timeout: float) -> bool:
        """Wait until no work of this app runs in this process; False when ``timeout`` ran out."""
        deadline = monotonic() + timeout
        with self._jobs_changed:
            while self._jobs:
                left = deadline - monotonic()
                if left <= 0:
                    return False
                self._jobs_changed.wait(left)
        return True

    @property
    def running(self) -> int:
        """Jobs of this app in this process that have not finished."""
        return len(self._jobs)


def _is_stream(result: Any) -> bool:
    return isinstance(result, Iterator)


def _close(stream: Iterator[Any]) -> None:
    close = getattr(stream, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:  # noqa: BLE001 - a generator that fails to close is done anyway
        logger.exception("closing a deferred stream failed")


def _current_app() -> Flask | None:
    try:
        return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
    except RuntimeError:
        return None


def _send_done(app: Flask | None, session_id: str, skill: str, outcome: str, seconds: float, message: str) -> None:
    if app is not None and signals.deferred_done.receivers:
        signals.deferred_done.send(
            app, session_id=session_id, skill=skill, outcome=outcome, seconds=seconds, message=message
        )


class WorkPool:
    """Threads (greenlets under gevent) taking work from one queue; one pool per process.

    The threads start when an app is initialised (in a forked worker: on its
    first slow work), never while an event hands work over: starting a
    thread waits until it runs, and under gevent that wait is a trip through
    every busy greenlet of the process (measured: up to a second under load
    with :class:`concurrent.futures.ThreadPoolExecutor`, which starts threads
    on demand). Work beyond the pool's size waits in the queue, within its
    deadline.
    """

    def __init__(self) -> None:
        self._queue: SimpleQueue[Callable[[], None]] = SimpleQueue()
        self.size = 0

    def grow(self, size: int) -> None:
        """Have at least ``size`` threads."""
        while self.size < size:
            self.size += 1
            threading.Thread(target=self._work, name=f"aiflow-deferred-{self.size}", daemon=True).start()

    def submit(self, work: Callable[[], None]) -> None:
        self._queue.put(work)

    def _work(self) -> None:
        while True:
            work = self._queue.get()
            try:
                work()
            except Exception:  # noqa: BLE001 - a pool thread outlives any work
                logger.exception("deferred work failed")


class _Clock:
    """One thread per process that calls each scheduled callback at its time (deadlines)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def schedule(self, when: float, callback: Callable[[], None]) -> None:
        """Call ``callback`` at ``when`` (``time.monotonic()`` seconds)."""
        with self._changed:
            heapq.heappush(self._heap, (when, next(self._order), callback))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="aiflow-deferred-clock", daemon=True)
                self._thread.start()
            self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._heap:
                    self._changed.wait()
                when, _, callback = self._heap[0]
                delay = when - monotonic()
                if delay > 0:
                    self._changed.wait(delay)
                    continue
                heapq.heappop(self._heap)
            try:
                callback()
            except Exception:  # noqa: BLE001 - the clock must outlive one failure
                logger.exception("a deferred deadline failed")


_the_pool: WorkPool | None = None
_the_clock: _Clock | None = None
_clock_lock = threading.Lock()


def work_pool(size: int) -> WorkPool:
    """This process's pool, with at least ``size`` threads (the largest ``AIFLOW_DEFERRED_WORKERS`` asked)."""
    global _the_pool
    pool = _the_pool
    if pool is None or pool.size < size:
        with _clock_lock:
            if _the_pool is None:
                _the_pool = WorkPool()
            _the_pool.grow(size)
            pool = _the_pool
    return pool


def _clock() -> _Clock:
    global _the_clock
    if _the_clock is None:
        with _clock_lock:
            if _the_clock is None:
                _the_clock = _Clock()
    return _the_clock


def _forget_clock() -> None:
    # Threads do not survive fork(): a child (a gunicorn worker forked from a
    # preloading master) starts its own pool and clock.
    global _the_clock, _the_pool, _clock_lock
    _the_clock = None
    _the_pool = None
    _clock_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_clock)
