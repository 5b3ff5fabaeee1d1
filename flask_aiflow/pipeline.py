"""The pipeline from one event to at most one action.

For each event the dispatcher locks the call, loads its record, asks every
enabled skill's hook for this event type one by one (each isolated: an
exception, a wrong return value or unstorable state excludes that skill and
is recorded), ranks all proposals, keeps the winner, commits state for the
winner and for the skills that proposed nothing, and saves the record. Both
transports (webhook and WebSocket) call :meth:`Dispatcher.dispatch`, so a
skill never knows which one carried the event.

Time budget (``AIFLOW_EVENT_BUDGET_MS``): the skill calls of one event run
in a worker thread (:mod:`flask_aiflow.skills.pool`) while the dispatching thread
waits at most the rest of the budget. When it runs out, the skills that
finished are ranked as usual; the one still running is recorded as a
``too_slow`` failure with its elapsed time, the ones after it as not run. A
late skill writes only to its own :class:`_Run`, which nobody reads once the
budget is spent, and the record is copied before it is committed to, so the
late skill's view of the call never changes under it and nothing of the late
skill reaches the stored call state, before or after the call's lock is
released.

Ranking: highest priority first; ties break by the configured skill order
(``AIFLOW_SKILL_ORDER``, else ``AIFLOW_SKILLS``), then by skill name, then by
the order of proposals within one skill. Never by load order or chance.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from flask_aiflow.protocol.actions import Action, InvalidActionError, Speak, action_from_dict
from flask_aiflow.calls.call import Call, TranscriptSource, transcript_turn
from flask_aiflow.skills.candidates import FLOOR, Candidate, Deferred
from flask_aiflow.calls import deferred as slow
from flask_aiflow.skills import pool as skillpool
from flask_aiflow.config import Settings
from flask_aiflow.decision import (
    IGNORED,
    OUTRANKED,
    RULE_FALLBACK,
    RULE_INDEX,
    RULE_NAME,
    RULE_NONE,
    RULE_ONLY,
    RULE_ORDER,
    RULE_PRIORITY,
    RULE_SESSION_END,
    TOO_SLOW,
    WON,
    CandidateRecord,
    Decision,
    SkillFailure,
)
from flask_aiflow.protocol.events import AssistantSpeak, AssistantSpeechEnded, Event, SessionEnd, SessionStart, UserSpeak
from flask_aiflow.skills.hookspecs import EVENT_HOOKS
from flask_aiflow.logs import session_id_var
from flask_aiflow.skills.registry import BoundHook, SkillInfo, SkillRegistry
from flask_aiflow.calls.store import CallRecord, CallTransaction, StateStore, Turn

logger = logging.getLogger("flask_aiflow")


class _Rejected(Exception):
    """A skill's return value cannot be used: (kind, message)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(slots=True)
class _Run:
    """One skill's part in one event."""

    skill: SkillInfo
    call: Call
    candidates: list[CandidateRecord] = field(default_factory=list)
    failure: SkillFailure | None = None
    state_text: str | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.failure is not None


class Dispatcher:
    """Turns events into decisions for one app."""

    def __init__(
        self, registry: SkillRegistry, store: StateStore, settings: Settings, deferrals: slow.Deferrals | None = None
    ) -> None:
        self.registry = registry
        self.store = store
        self.settings = settings
        #: slow work handed over by skills (a Deferred), and its answers
        self.deferrals = deferrals if deferrals is not None else slow.Deferrals(store, settings)
        #: per hook: the bound hooks last seen, and whether every one of them is inline
        self._inline: dict[str, tuple[tuple[BoundHook, ...], bool]] = {}

    def dispatch(self, event: Event, transport: str = "direct", route: str | None = None) -> Decision:
        """Handle one event; the decision says which action (if any) to send.

        :param transport: what carried the event (``webhook``, ``websocket``,
            ``direct``), kept in the call's meta for the live-calls registry.
        :param route: for WebSocket events, the id of the process holding the
            connection, so that ``send`` can reach it from anywhere.
        """
        started = perf_counter()
        session_id = event.session.id
        decision = Decision(event.type, session_id)
        turn = None
        if self.settings.transcript_limit and isinstance(event, (UserSpeak, AssistantSpeak)):
            turn = transcript_turn(event)
        # handle() has usually set it already; setting it again costs a context copy
        token = session_id_var.set(session_id) if session_id_var.get(None) != session_id else None
        try:
            with self.store.transaction(session_id) as txn:
                record = self._load(txn, event, decision)
                if record.floor is not None:  # saves a call on most events
                    self._drop_stale_floor(record, decision)
                transcript = TranscriptSource(self.store, session_id, turn, self.settings.transcript_limit)
                # slow work in flight: its answer may be due, or a newer caller turn drops it
                due = self.deferrals.due(event, record, decision, transport) if record.deferred else slow.NOTHING
                hook_name = EVENT_HOOKS[event.type]
                hooks = () if due.polled else self.registry.hooks_for(hook_name)
                if self.settings.event_budget is None or self._all_inline(hook_name, hooks):
                    # nothing to hand over to a worker (the built-in skills are all inline)
                    runs = [self._run(hook, event, record, transcript) for hook in hooks]
                    self._collect(runs, decision)
                    unfinished: frozenset[str] = frozenset()
                else:
                    runs, unfinished, record = self._run_within_budget(
                        hooks, event, record, transcript, decision, started
                    )
                self._decide(event, runs, record, decision, due)
                if decision.winner is not None and decision.winner.deferred is not None:
                    self.deferrals.settle(event, record, decision, transport, started)
                self._commit(event, runs, record, decision, unfinished)
                self._persist(txn, event, record, transport, route, turn)
        finally:
            if token is not None:
                session_id_var.reset(token)
        decision.seconds = perf_counter() - started
        return decision

    def _run_within_budget(
        self,
        hooks: tuple[BoundHook, ...],
        event: Event,
        record: CallRecord,
        transcript: TranscriptSource,
        decision: Decision,
        started: float,
    ) -> tuple[list[_Run], frozenset[str], CallRecord]:
        """Run the skills in a worker; stop waiting when the budget is spent.

        Skills that declare ``AIFLOW_INLINE = True`` (quick, pure computation)
        run in this thread meanwhile (when every skill of the event does,
        :meth:`dispatch` does not come here at all). Returns the finished runs in skill
        order, the names of the skills that did not finish, and the record to
        commit to (a copy when a skill is late, so the late skill's view of
        the call never changes under it).
        """
        guarded = tuple(hook for hook in hooks if not hook.skill.inline)
        budget = self.settings.event_budget
        assert budget is not None
        batch = skillpool.Batch(lambda index: self._run(guarded[index], event, record, transcript), len(guarded))
        submitted = skillpool.pool().submit(batch)
        # the inline skills run while the worker wakes up
        inline = {hook.skill.name: self._run(hook, event, record, transcript) for hook in hooks if hook.skill.inline}
        if not submitted:
            logger.error(
                "call %s: every skill worker is busy with skills that overran their budget; "
                "%s answered without asking %s",
                event.session.id,
                event.type,
                ", ".join(hook.skill.name for hook in guarded),
            )
            runs = self._in_order(hooks, inline)
            self._collect(runs, decision)
            self._not_run(guarded, decision, "no free skill worker (skills overran earlier budgets)")
            return runs, frozenset(hook.skill.name for hook in guarded), record
        finished = batch.wait(budget - (perf_counter() - started))
        done: list[_Run] = batch.results
        runs = self._in_order(hooks, inline, done) if inline else done
        self._collect(runs, decision)
        if finished:
            return runs, frozenset(), record
        late = len(done) if batch.current == len(done) else None
        if late is not None:
            hook = guarded[late]
            elapsed = perf_counter() - batch.current_started
            message = (
                f"still running after {elapsed * 1000:.1f} ms when the event's "
                f"{budget * 1000:g} ms budget was spent; its answer is ignored"
            )
            logger.warning(
                "call %s: skill %r is too slow in %s: %s", event.session.id, hook.skill.name, event.type, message
            )
            decision.failures.append(SkillFailure(hook.skill.name, TOO_SLOW, message, elapsed))
            decision.timings[hook.skill.name] = elapsed
        skipped = guarded[len(done) + (late is not None) :]
        if skipped:
            self._not_run(skipped, decision, "the budget was spent")
        unfinished = frozenset(hook.skill.name for hook in guarded[len(done) :])
        return runs, unfinished, record.copy()

    def _all_inline(self, hook_name: str, hooks: tuple[BoundHook, ...]) -> bool:
        """True when every skill of ``hooks`` is inline; worked out once per set of bound hooks."""
        known = self._inline.get(hook_name)
        if known is None or known[0] is not hooks:  # the registry rebinds when skills change
            known = self._inline[hook_name] = (hooks, all(hook.skill.inline for hook in hooks))
        return known[1]

    @staticmethod
    def _in_order(hooks: tuple[BoundHook, ...], inline: dict[str, _Run], done: Sequence[_Run] = ()) -> list[_Run]:
        """The finished runs in the skills' order."""
        by_name = {**inline, **{run.skill.name: run for run in done}}
        return [by_name[hook.skill.name] for hook in hooks if hook.skill.name in by_name]

    @staticmethod
    def _not_run(hooks: tuple[BoundHook, ...], decision: Decision, why: str) -> None:
        names = [hook.skill.name for hook in hooks]
        decision.not_run.extend(names)
        decision.notes.append(f"not run ({why}): {', '.join(names)}")

    @staticmethod
    def _collect(runs: list[_Run], decision: Decision) -> None:
        """Copy each finished run's timing and failure into the decision, in skill order."""
        for run in runs:
            decision.timings[run.skill.name] = run.seconds
            if run.failure is not None:
                decision.failures.append(run.failure)

    # -- the record ----------------------------------------------------------

    def _load(self, txn: CallTransaction, event: Event, decision: Decision) -> CallRecord:
        if isinstance(event, SessionStart):
            return self._new_record(event)
        try:
            record = txn.load()
        except ValueError as exc:
            logger.error("call %s: stored state is unreadable (%s); started afresh", event.session.id, exc)
            decision.notes.append("stored state was unreadable: started afresh")
            return self._new_record(event)
        if record is None:
            decision.notes.append("no state for this call: started afresh")
            return self._new_record(event)
        return record

    def _drop_stale_floor(self, record: CallRecord, decision: Decision) -> None:
        if record.floor is None:
            return
        holder = self.registry.get(record.floor["skill"])
        if holder is None or not holder.enabled:
            decision.notes.append(f"floor released: {record.floor['skill']} is not enabled")
            record.floor = None

    @staticmethod
    def _new_record(event: Event) -> CallRecord:
        session = event.session
        return CallRecord(
            meta={
                "started_at": time.time(),
                "from": session.from_phone_number,
                "to": session.to_phone_number,
            }
        )

    def _persist(
        self, txn: CallTransaction, event: Event, record: CallRecord, transport: str, route: str | None, turn: Turn | None
    ) -> None:
        if isinstance(event, SessionEnd):
            txn.delete()
            return
        meta = record.meta
        meta["last_event"] = event.type
        meta["last_event_at"] = time.time()
        meta["transport"] = transport
        if route is not None:
            meta["node"] = route
        elif "node" in meta:
            del meta["node"]
        txn.save(record, self.settings.state_ttl, turn=turn, turn_limit=self.settings.transcript_limit)

    # -- asking the skills ---------------------------------------------------

    def _run(self, hook: BoundHook, event: Event, record: CallRecord, transcript: TranscriptSource) -> _Run:
        """Ask one skill; everything it causes is kept in the returned run.

        It may run in a worker thread after the budget is spent, so it must
        write nothing but the run (and the log).
        """
        skill = hook.skill
        call = Call(skill.name, event, record, transcript)
        run = _Run(skill, call)
        started = perf_counter()
        try:
            result = hook.invoke(event, call)
        except Exception as exc:  # noqa: BLE001 - one skill never takes down a call
            run.seconds = perf_counter() - started
            logger.exception("call %s: skill %r raised in %s", event.session.id, skill.name, event.type)
            run.failure = SkillFailure(skill.name, "raised", f"{type(exc).__name__}: {exc}")
            return run
        run.seconds = perf_counter() - started
        if self.settings.trace:
            logger.debug("trace call %s: %s.%s -> %r", event.session.id, skill.name, EVENT_HOOKS[event.type], result)
        touched = call.touched_state
        if result is None and not touched:
            return run  # the common case: an observer that neither proposed nor touched state
        try:
            if result is not None:
                run.candidates = self._candidates(result, run, event, record)
            if touched:
                run.state_text = self._state_text(run)
        except _Rejected as exc:
            logger.error("call %s: skill %r: %s", event.session.id, skill.name, exc.message)
            run.candidates = []
            run.failure = SkillFailure(skill.name, exc.kind, exc.message)
        return run

    @staticmethod
    def _state_text(run: _Run) -> str | None:
        try:
            return run.call.state_text()
        except (TypeError, ValueError) as exc:
            raise _Rejected("bad_state", f"state is not JSON-serialisable: {exc}") from None

    def _candidates(self, result: Any, run: _Run, event: Event, record: CallRecord) -> list[CandidateRecord]:
        if result is None:
            return []
        items = result if isinstance(result, (list, tuple)) else (result,)
        skill = run.skill
        holds_floor = record.floor is not None and record.floor["skill"] == skill.name
        candidates = []
        for item in items:
            priority, reason = skill.priority, ""
            then: Sequence[Action | str | Mapping[str, Any]] = ()
            deferred = None
            if isinstance(item, Candidate):
                if item.priority is not None:
                    priority = max(0, item.priority + skill.shift)
                reason, then, item = item.reason, item.then, item.action
            elif isinstance(item, Deferred):  # slow work: ranked with its filler, started if it wins
                if item.priority is not None:
                    priority = max(0, item.priority + skill.shift)
                deferred, reason = item, item.reason
                item = item.filler if item.filler is not None else self.settings.deferred_filler
            if holds_floor:
                priority = max(priority, FLOOR)
            action = self._action(item, event)
            followups = tuple([self._action(next_item, event) for next_item in then]) if then else ()
            candidates.append(CandidateRecord(skill.name, priority, action, reason, then=followups, deferred=deferred))
        return candidates

    def _action(self, item: Any, event: Event) -> Action:
        session_id = event.session.id
        try:
            if isinstance(item, Action):  # the usual answer, so tested first
                action = item
            elif isinstance(item, str):
                # built bound to the call: no copy through with_session
                return Speak(
                    session_id=session_id,
                    text=item,
                    tts=self.settings.default_tts,
                    barge_in=self.settings.default_barge_in,
                )
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
        if action.session_id is None:
            return action.with_session(session_id)
        if action.session_id != session_id:
            raise _Rejected(
                "invalid_action",
                f"action is for session {action.session_id!r}, not this call ({session_id!r})",
            )
        return action

    # -- ranking -------------------------------------------------------------

    def _decide(
        self, event: Event, runs: list[_Run], record: CallRecord, decision: Decision, due: slow.Due = slow.NOTHING
    ) -> None:
        ranked = [c for run in runs for c in run.candidates]
        if due.candidate is not None:
            ranked.insert(0, due.candidate)
        if isinstance(event, SessionEnd):
            for candidate in ranked:
                candidate.outcome = IGNORED
            decision.candidates = ranked
            decision.rule = RULE_SESSION_END
            return
        if record.pending is not None:  # follow-ups are rare: skip the call without them
            followup = self._followup(event, record, decision)
            if followup is not None:
                ranked.insert(0, followup)
        rule = RULE_ONLY
        if len(ranked) > 1:  # one candidate or none (the common case) needs no ranking
            keyed = [(-c.priority, *self._order(c.skill), index, c) for index, c in enumerate(ranked)]
            keyed.sort()  # the index is unique, so the candidate itself is never compared
            ranked = [k[4] for k in keyed]
            rule = self._tie_rule(keyed[0], keyed[1])
        decision.candidates = ranked
        if not ranked:
            fallback = self.settings.fallback
            if fallback is not None and event.type in self.settings.fallback_events and not due.polled:
                decision.action = fallback.with_session(event.session.id)
                decision.rule = RULE_FALLBACK
            else:
                decision.rule = RULE_NONE
            return
        winner = ranked[0]
        winner.outcome = WON
        decision.winner = winner
        decision.action = winner.action
        decision.rule = rule
        for loser in ranked[1:]:
            loser.outcome = OUTRANKED
            loser.lost_to = winner.skill

    def _order(self, name: str) -> tuple[int, str]:
        info = self.registry.get(name)
        return (info.order if info is not None else len(self.settings.skill_order), name)

    def _followup(self, event: Event, record: CallRecord, decision: Decision) -> CandidateRecord | None:
        """The next follow-up of an earlier winner, due now that speech ended."""
        pending = record.pending
        if pending is None or not isinstance(event, AssistantSpeechEnded):
            return None
        try:
            first, *rest = (action_from_dict(data) for data in pending["actions"])
        except (InvalidActionError, ValueError, KeyError, TypeError) as exc:
            logger.error("call %s: dropped unreadable follow-ups: %s", event.session.id, exc)
            record.pending = None
            decision.notes.append("follow-ups were unreadable: dropped")
            return None
        return CandidateRecord(
            pending["skill"],
            pending["priority"],
            first.with_session(event.session.id),
            "follow-up",
            then=tuple(rest),
            followup=True,
        )

    @staticmethod
    def _tie_rule(first: tuple[Any, ...], second: tuple[Any, ...]) -> str:
        for position, rule in ((0, RULE_PRIORITY), (1, RULE_ORDER), (2, RULE_NAME)):
            if first[position] != second[position]:
                return rule
        return RULE_INDEX

    # -- committing state ------------------------------------------------------

    def _commit(
        self, event: Event, runs: list[_Run], record: CallRecord, decision: Decision, unfinished: frozenset[str]
    ) -> None:
        winner = decision.winner
        holder = record.floor["skill"] if record.floor is not None else None
        if decision.action is not None:  # without an action, pending follow-ups stay as they are
            self._update_followups(record, decision)
        skills = record.skills
        for run in runs:
            if run.failure is not None:
                continue
            call = run.call
            change = call.floor_change()
            if not call.touched_state and change is None:
                continue  # the common case: nothing of this skill's to keep
            name = run.skill.name
            candidates = run.candidates
            # kept when it proposed nothing or its proposal won (compared by identity)
            kept = not candidates or winner is not None and any(candidate is winner for candidate in candidates)
            if change is not None:
                self._change_floor(name, change, kept, record, decision)
            if kept and call.touched_state:
                if run.state_text is None:
                    skills.pop(name, None)
                else:
                    skills[name] = run.state_text
        if holder is not None and holder not in unfinished and isinstance(event, UserSpeak):
            # a holder that did not get to answer in time keeps its turns
            self._count_turn(holder, runs, record, decision)

    @staticmethod
    def _update_followups(record: CallRecord, decision: Decision) -> None:
        """Sending an action starts its winner's follow-ups and cancels any others."""
        if decision.action is None:
            return  # nothing was said: pending follow-ups stay due
        winner = decision.winner
        if record.pending is not None and (winner is None or not winner.followup):
            decision.notes.append(f"follow-ups of {record.pending['skill']} cancelled by a new action")
        if winner is None or not winner.then:
            record.pending = None
            return
        record.pending = {
            "skill": winner.skill,
            "priority": winner.priority,
            "actions": [action.to_dict() for action in winner.then],
        }

    @staticmethod
    def _change_floor(
        name: str, change: tuple[str, int | None], kept: bool, record: CallRecord, decision: Decision
    ) -> None:
        op, turns = change
        floor = record.floor
        if op == "release":
            if floor is not None and floor["skill"] == name:
                record.floor = None
                decision.notes.append(f"{name} released the floor")
        elif kept:
            since = floor["since"] if floor is not None else time.time()
            record.floor = {"skill": name, "since": since, "turns": turns}
            decision.notes.append(f"{name} holds the floor")

    @staticmethod
    def _count_turn(holder: str, runs: list[_Run], record: CallRecord, decision: Decision) -> None:
        """A caller turn in which the floor holder proposed nothing uses up one of its turns."""
        run = next((run for run in runs if run.skill.name == holder), None)
        floor = record.floor
        if floor is None or floor["skill"] != holder:
            return
        if run is not None and (run.call.floor_change() is not None or (run.candidates and not run.failed)):
            return
        if floor["turns"] is None:
            return
        floor["turns"] -= 1
        if floor["turns"] <= 0:
            record.floor = None
            decision.notes.append(f"floor released: {holder} let its last turn pass")
