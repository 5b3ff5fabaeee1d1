"""Asking the skills: every enabled skill's hook for one event, each isolated.

:func:`ask_skills` calls each hook once and returns what each skill did as
a frozen :class:`Run`: its proposals (checked and bound to the call), the
change it made to its state, the floor change it asked for, or the failure
that excluded it (an exception, a wrong return value, unstorable state).

Time budget (``AIFLOW_EVENT_BUDGET_MS``): the skills that are not declared
``AIFLOW_INLINE`` run in a worker thread (:mod:`flask_aiflow.skills.pool`)
while this thread runs the inline ones and then waits at most the rest of
the budget. When it runs out, the runs that finished count as usual; the
skill still running is recorded as ``too_slow`` with its elapsed time, the
ones after it as not run. A late skill writes only to the run it will
return, which nobody reads once the budget is spent, and the pipeline never
changes the record the skills were given (it builds a new one), so nothing
of a late skill reaches the stored call state.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from flask_aiflow.calls.call import Call, FloorChange, TranscriptSource
from flask_aiflow.calls.store import CallRecord
from flask_aiflow.config import Settings
from flask_aiflow.decision import TOO_SLOW, SkillFailure
from flask_aiflow.protocol.actions import Action, InvalidActionError, Speak, action_from_dict
from flask_aiflow.protocol.events import Event
from flask_aiflow.skills import pool as skillpool
from flask_aiflow.skills.candidates import Candidate, Deferred
from flask_aiflow.skills.hookspecs import EVENT_HOOKS
from flask_aiflow.skills.ranking import Proposal
from flask_aiflow.skills.registry import BoundHook, SkillInfo

logger = logging.getLogger("flask_aiflow")


@dataclass(slots=True)
class Run:
    """What one skill did in one event (built once, never changed)."""

    skill: str
    seconds: float
    proposals: tuple[Proposal, ...] = ()
    failure: SkillFailure | None = None
    #: the hook changed its state; ``state`` is then the new JSON text (None: empty)
    state_changed: bool = False
    state: str | None = None
    floor_change: FloorChange | None = None


@dataclass(slots=True)
class Asked:
    """Every skill's part in one event (built once, never changed)."""

    #: the runs that finished, in skill order
    runs: tuple[Run, ...]
    #: the failures in skill order, a late skill's ``too_slow`` last
    failures: tuple[SkillFailure, ...] = ()
    #: seconds per skill asked
    timings: dict[str, float] = field(default_factory=dict)
    #: skills never asked because the budget was spent before their turn
    not_run: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: skills that did not finish in time (late or not run)
    unfinished: frozenset[str] = frozenset()


class _Rejected(Exception):
    """A skill's return value cannot be used: (kind, message)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def ask_skills(
    hooks: Sequence[BoundHook],
    event: Event,
    record: CallRecord,
    transcript: TranscriptSource,
    settings: Settings,
    started: float,
) -> Asked:
    """Ask every skill of ``hooks`` about ``event``; ``started`` is when the event's budget began."""
    budget = settings.event_budget
    guarded = [hook for hook in hooks if not hook.skill.inline]
    if budget is None or not guarded:  # nothing to hand over to a worker
        return _asked([ask_skill(hook, event, record, transcript, settings) for hook in hooks])
    return _ask_within_budget(hooks, guarded, event, record, transcript, settings, budget, started)


def _asked(
    runs: Sequence[Run],
    *,
    late: SkillFailure | None = None,
    not_run: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
    unfinished: frozenset[str] = frozenset(),
) -> Asked:
    """Gather the runs' failures and timings, a late skill's last."""
    failures = [run.failure for run in runs if run.failure is not None]
    timings = {run.skill: run.seconds for run in runs}
    if late is not None:
        failures.append(late)
        timings[late.skill] = late.seconds or 0.0
    return Asked(tuple(runs), tuple(failures), timings, not_run, notes, unfinished)


def _ask_within_budget(
    hooks: Sequence[BoundHook],
    guarded: Sequence[BoundHook],
    event: Event,
    record: CallRecord,
    transcript: TranscriptSource,
    settings: Settings,
    budget: float,
    started: float,
) -> Asked:
    """Run the guarded skills in a worker and the inline ones here; stop waiting when the budget is spent."""
    batch = skillpool.Batch(lambda index: ask_skill(guarded[index], event, record, transcript, settings), len(guarded))
    submitted = skillpool.pool().submit(batch)
    # the inline skills run while the worker wakes up
    inline = [ask_skill(hook, event, record, transcript, settings) for hook in hooks if hook.skill.inline]
    guarded_names = tuple(hook.skill.name for hook in guarded)
    if not submitted:
        logger.error(
            "call %s: every skill worker is busy with skills that overran their budget; %s answered without asking %s",
            event.session.id,
            event.type,
            ", ".join(guarded_names),
        )
        return _asked(
            inline,
            not_run=guarded_names,
            notes=(_not_run_note("no free skill worker (skills overran earlier budgets)", guarded_names),),
            unfinished=frozenset(guarded_names),
        )
    finished = batch.wait(budget - (perf_counter() - started))
    done: list[Run] = batch.results
    runs = _in_skill_order(hooks, [*inline, *done])
    if finished:
        return _asked(runs)
    late = None
    if batch.current == len(done):  # the skill after the last finished one was still running
        elapsed = perf_counter() - batch.current_started
        name = guarded[len(done)].skill.name
        message = (
            f"still running after {elapsed * 1000:.1f} ms when the event's "
            f"{budget * 1000:g} ms budget was spent; its answer is ignored"
        )
        logger.warning("call %s: skill %r is too slow in %s: %s", event.session.id, name, event.type, message)
        late = SkillFailure(name, TOO_SLOW, message, elapsed)
    skipped = guarded_names[len(done) + (late is not None) :]
    return _asked(
        runs,
        late=late,
        not_run=skipped,
        notes=(_not_run_note("the budget was spent", skipped),) if skipped else (),
        unfinished=frozenset(guarded_names[len(done) :]),
    )


def _in_skill_order(hooks: Sequence[BoundHook], runs: Sequence[Run]) -> list[Run]:
    by_name = {run.skill: run for run in runs}
    return [by_name[hook.skill.name] for hook in hooks if hook.skill.name in by_name]


def _not_run_note(why: str, names: Sequence[str]) -> str:
    return f"not run ({why}): {', '.join(names)}"


def ask_skill(hook: BoundHook, event: Event, record: CallRecord, transcript: TranscriptSource, settings: Settings) -> Run:
    """Ask one skill; everything it causes is in the returned run.

    It may run in a worker thread after the budget is spent, so it writes
    nothing but the run (and the log).
    """
    skill = hook.skill
    call = Call(skill.name, event, record, transcript)
    started = perf_counter()
    try:
        result = hook.invoke(event, call)
    except Exception as exc:  # noqa: BLE001 - one skill never takes down a call
        seconds = perf_counter() - started
        logger.exception("call %s: skill %r raised in %s", event.session.id, skill.name, event.type)
        return Run(skill.name, seconds, failure=SkillFailure(skill.name, "raised", f"{type(exc).__name__}: {exc}"))
    seconds = perf_counter() - started
    if settings.trace:
        logger.debug("trace call %s: %s.%s -> %r", event.session.id, skill.name, EVENT_HOOKS[event.type], result)
    try:
        proposals = _proposals(result, skill, event, settings)
        try:
            changed, state = call.state_change()
        except (TypeError, ValueError) as exc:
            raise _Rejected("bad_state", f"state is not JSON-serialisable: {exc}") from None
    except _Rejected as exc:
        logger.error("call %s: skill %r: %s", event.session.id, skill.name, exc.message)
        return Run(skill.name, seconds, failure=SkillFailure(skill.name, exc.kind, exc.message))
    return Run(skill.name, seconds, proposals, None, changed, state, call.floor_change())


def _proposals(result: Any, skill: SkillInfo, event: Event, settings: Settings) -> tuple[Proposal, ...]:
    """A hook's return value as checked proposals at the skill's priority (before the floor rule)."""
    if result is None:
        return ()
    items = result if isinstance(result, (list, tuple)) else (result,)
    proposals = []
    for item in items:
        if isinstance(item, Candidate):
            proposals.append(
                Proposal(
                    skill.name,
                    skill.priority if item.priority is None else max(0, item.priority + skill.shift),
                    _action(item.action, event, settings),
                    item.reason,
                    then=tuple(_action(then, event, settings).with_session(event.session.id) for then in item.then),
                    reprompt=item.reprompt,
                )
            )
        elif isinstance(item, Deferred):  # slow work: ranked with its filler, started if it wins
            filler = item.filler if item.filler is not None else settings.deferred_filler
            proposals.append(
                Proposal(
                    skill.name,
                    skill.priority if item.priority is None else max(0, item.priority + skill.shift),
                    _action(filler, event, settings),
                    item.reason,
                    deferred=item,
                )
            )
        else:
            proposals.append(Proposal(skill.name, skill.priority, _action(item, event, settings)))
    return tuple(proposals)


def _action(item: Any, event: Event, settings: Settings) -> Action:
    """One proposed action, checked (one bound to another call is refused)."""
    session_id = event.session.id
    try:
        if isinstance(item, Action):
            action = item
        elif isinstance(item, str):
            action = Speak(text=item, tts=settings.default_tts, barge_in=settings.default_barge_in)
        elif isinstance(item, Mapping):
            action = action_from_dict(item)
        else:
            raise _Rejected(
                "bad_return",
                f"returned {type(item).__name__}; expected None, a string, an action, "
                "an action dict, a Candidate, a Deferred or a list of these",
            )
    except InvalidActionError as exc:
        raise _Rejected("invalid_action", f"invalid action: {exc}") from None
    # An unbound action stays unbound: only the one sent is bound to the call
    # (by the pipeline), so losing candidates are never copied.
    if action.session_id is not None and action.session_id != session_id:
        raise _Rejected(
            "invalid_action",
            f"action is for session {action.session_id!r}, not this call ({session_id!r})",
        )
    return action
