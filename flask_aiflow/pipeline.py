"""The pipeline from one event to at most one action.

Both transports (webhook and WebSocket) hand a decoded, authenticated event
to :meth:`Pipeline.handle`, so a skill never knows which one carried it.
Read :meth:`Pipeline.handle` and :meth:`Pipeline.decide` top-down; each
stage returns values and changes nothing it was given:

1. **load** the call's record inside the call's transaction (its lock);
2. **ask** every enabled skill's hook for this event type
   (:func:`~flask_aiflow.skills.asking.ask_skills`: each isolated, within
   the event's time budget);
3. **rank** the proposals, with a due follow-up first
   (:func:`~flask_aiflow.skills.ranking.rank`, a pure function); when
   nobody proposed anything, ask the **fallback**
   (:mod:`~flask_aiflow.skills.fallback`);
4. **commit**: the new record (:func:`~flask_aiflow.calls.commit.commit`);
5. **persist** it (or forget the call on ``session_end``);
6. **report**: signals and the debug log, once
   (:func:`~flask_aiflow.signals.report_decision`).

The web layer then sends the decision's action.
"""

from __future__ import annotations

import logging
import time
from time import perf_counter

from msgspec.structs import replace

from flask_aiflow import signals
from flask_aiflow.calls.call import TranscriptSource, speech_turns, transcript_turn, unrecorded
from flask_aiflow.calls.commit import commit
from flask_aiflow.calls.deferred import NOTHING, Deferrals, Settling
from flask_aiflow.calls.store import CallRecord, CallTransaction, StateStore, Turn
from flask_aiflow.config import Settings
from flask_aiflow.decision import RULE_FALLBACK, Decision
from flask_aiflow.logs import session_id_var
from flask_aiflow.protocol.actions import Action, InvalidActionError, action_from_dict
from flask_aiflow.protocol.events import (
    AssistantSpeak,
    AssistantSpeechEnded,
    Event,
    SessionEnd,
    SessionStart,
    UserSpeak,
)
from flask_aiflow.skills.asking import Asked, ask_skills
from flask_aiflow.skills.hookspecs import EVENT_HOOKS
from flask_aiflow.skills.ranking import Proposal, Ranking, ignore_all, rank
from flask_aiflow.skills.registry import SkillRegistry

logger = logging.getLogger("flask_aiflow")


class Pipeline:
    """Turns one app's events into decisions."""

    def __init__(
        self, registry: SkillRegistry, store: StateStore, settings: Settings, deferrals: Deferrals | None = None
    ) -> None:
        self.registry = registry
        self.store = store
        self.settings = settings
        #: slow work handed over by skills (a ``Deferred``), and its answers
        self.deferrals = deferrals if deferrals is not None else Deferrals(store, settings)

    def handle(
        self, event: Event, transport: str, route: str | None = None, *, end_reason: str = "session_end"
    ) -> Decision:
        """Decide on one event and report the decision (signals, debug log).

        Must run inside an app context (the app is the signals' sender). Log
        lines written meanwhile carry the call's session id.

        :param transport: what carried the event (``webhook``, ``websocket``,
            ``direct``), kept in the call's meta for the live-calls registry.
        :param route: for WebSocket events, the id of the process holding the
            connection, so that ``send`` can reach it from anywhere.
        """
        token = session_id_var.set(event.session.id)
        try:
            signals.report_received(event, transport)
            decision = self.decide(event, transport, route)
            signals.report_decision(event, decision, end_reason)
            return decision
        finally:
            session_id_var.reset(token)

    def decide(self, event: Event, transport: str, route: str | None = None) -> Decision:
        """Load, ask, rank, commit and persist; the decision says which action (if any) to send."""
        started = perf_counter()
        session_id = event.session.id
        turn = self._transcript_turn(event)
        with self.store.transaction(session_id) as txn:
            record, load_notes = self._load(txn, event)
            turn = unrecorded(turn, record)  # an assistant_speak of an answer already recorded adds nothing
            # slow work in flight: its answer may be due, a poll of ours may have come, or a newer turn drops it
            slow = Settling(session_id)
            due = self.deferrals.due(event, record, slow, transport) if record.deferred else NOTHING
            transcript = TranscriptSource(self.store, session_id, turn, self.settings.transcript_limit)
            hooks = () if due.polled else self.registry.hooks_for(EVENT_HOOKS[event.type])
            asked = ask_skills(hooks, event, record, transcript, self.settings, started)
            followup, record, followup_notes = self._due_followup(event, record)
            ranking = self._rank(event, record, asked, [due.candidate, followup])
            action = ranking.winner.action if ranking.winner is not None else None
            rule = ranking.rule
            if not ranking.candidates and not due.polled:
                fallback = self._fallback(event, record, transcript)
                if fallback is not None:
                    action, rule = fallback, RULE_FALLBACK
            if action is not None:  # the skills' proposals are unbound; the one sent is bound here
                action = action.with_session(session_id)
            if ranking.winner is not None and ranking.winner.deferred is not None:
                slow.winner, slow.action = ranking.winner, action
                self.deferrals.settle(event, record, slow, transport, started)
                action = slow.action
            committed = commit(
                record, event, asked.runs, ranking.winner, action, asked.unfinished, now=time.time()
            )
            turns = speech_turns(turn, committed.record, action) if self.settings.transcript_limit else []
            self._persist(txn, event, committed.record, transport, route, turns)
        return Decision(
            event_type=event.type,
            session_id=session_id,
            candidates=ranking.candidates,
            failures=list(asked.failures),
            timings=asked.timings,
            winner=ranking.winner,
            action=action,
            rule=rule,
            notes=[*load_notes, *asked.notes, *followup_notes, *slow.notes, *committed.notes],
            not_run=list(asked.not_run),
            seconds=perf_counter() - started,
        )

    # -- the stages, in order --------------------------------------------------

    def _transcript_turn(self, event: Event) -> Turn | None:
        if self.settings.transcript_limit and isinstance(event, (UserSpeak, AssistantSpeak)):
            return transcript_turn(event)
        return None

    def _load(self, txn: CallTransaction, event: Event) -> tuple[CallRecord, list[str]]:
        """The call's record, a fresh one for a new call, without a floor held by a disabled skill."""
        if isinstance(event, SessionStart):
            return _new_record(event), []
        try:
            record = txn.load()
        except ValueError as exc:
            logger.error("call %s: stored state is unreadable (%s); started afresh", event.session.id, exc)
            return _new_record(event), ["stored state was unreadable: started afresh"]
        if record is None:
            return _new_record(event), ["no state for this call: started afresh"]
        if record.floor is not None:
            holder = self.registry.get(record.floor["skill"])
            if holder is None or not holder.enabled:
                return replace(record, floor=None), [f"floor released: {record.floor['skill']} is not enabled"]
        return record, []

    @staticmethod
    def _due_followup(event: Event, record: CallRecord) -> tuple[Proposal | None, CallRecord, list[str]]:
        """The next follow-up of an earlier winner, due now that speech ended; unreadable ones are dropped."""
        pending = record.pending
        if pending is None or not isinstance(event, AssistantSpeechEnded):
            return None, record, []
        try:
            first, *rest = (action_from_dict(data) for data in pending["actions"])
        except (InvalidActionError, ValueError, KeyError, TypeError) as exc:
            logger.error("call %s: dropped unreadable follow-ups: %s", event.session.id, exc)
            return None, replace(record, pending=None), ["follow-ups were unreadable: dropped"]
        followup = Proposal(
            pending["skill"],
            pending["priority"],
            first.with_session(event.session.id),
            "follow-up",
            then=tuple(rest),
            followup=True,
        )
        return followup, record, []

    def _rank(self, event: Event, record: CallRecord, asked: Asked, due: list[Proposal | None]) -> Ranking:
        """Rank the skills' proposals, with what is due (an answer of slow work, a follow-up) first."""
        proposals = [proposal for run in asked.runs for proposal in run.proposals]
        if isinstance(event, SessionEnd):
            return ignore_all(proposals)
        proposals[:0] = [proposal for proposal in due if proposal is not None]
        holder = record.floor["skill"] if record.floor is not None else None
        return rank(proposals, holder=holder, order_of=self.registry.order_of)

    def _fallback(self, event: Event, record: CallRecord, transcript: TranscriptSource) -> Action | None:
        """The last-resort skills' answer (the built-in fallback's), when no skill proposed anything."""
        hooks = self.registry.hooks_for(EVENT_HOOKS[event.type], last_resort=True)
        if not hooks:
            return None
        asked = ask_skills(hooks, event, record, transcript, self.settings, perf_counter())
        answers = [proposal for run in asked.runs for proposal in run.proposals]
        return answers[0].action if answers else None

    def _persist(
        self, txn: CallTransaction, event: Event, record: CallRecord, transport: str, route: str | None, turns: list[Turn]
    ) -> None:
        if isinstance(event, SessionEnd):
            txn.delete()
            return
        meta = {**record.meta, "last_event": event.type, "last_event_at": time.time(), "transport": transport}
        if route is not None:
            meta["node"] = route  # the process holding the call's WebSocket
        else:
            meta.pop("node", None)
        record = replace(record, meta=meta)
        txn.save(record, self.settings.state_ttl, turns=turns, turn_limit=self.settings.transcript_limit)


def _new_record(event: Event) -> CallRecord:
    session = event.session
    return CallRecord(
        meta={"started_at": time.time(), "from": session.from_phone_number, "to": session.to_phone_number}
    )
