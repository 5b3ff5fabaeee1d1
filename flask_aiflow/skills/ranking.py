"""Ranking: which of an event's proposals wins, and which rule decided.

:func:`rank` is a pure function of the proposals, the floor holder and the
configured skill order: no app, no store, no clock. It takes the
proposals and returns the decision's candidate records, best first, the
winner marked ``won`` and every other ``outranked`` by it.

The order, highest first:

1. **priority**, after the floor rule: the floor holder's proposals rank at
   least ``FLOOR``; a proposal it marks as a re-prompt ranks at
   :data:`REPROMPT_PRIORITY` (the top of the ``GENERIC`` band) instead, so
   every ``INTENT``-band proposal of another skill beats it, and it beats
   every ``GENERIC`` and ``FALLBACK`` one;
2. at equal priority, the holder's re-prompt before any other proposal;
3. the configured skill order (``AIFLOW_SKILL_ORDER``, else ``AIFLOW_SKILLS``);
4. the skill name;
5. the order of the proposals (a due follow-up comes first, then the skills'
   proposals in skill order, each skill's in the order it returned them).

Never load order or chance. The rule named in the decision is the first of
these on which the winner and the runner-up differ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_aiflow.decision import (
    FLOOR_MATCH,
    FLOOR_REPROMPT,
    IGNORED,
    OUTRANKED,
    RULE_FLOOR,
    RULE_INDEX,
    RULE_NAME,
    RULE_NONE,
    RULE_ONLY,
    RULE_ORDER,
    RULE_PRIORITY,
    RULE_REPROMPT_AHEAD,
    RULE_REPROMPT_YIELDS,
    RULE_SESSION_END,
    WON,
    CandidateRecord,
)
from flask_aiflow.protocol.actions import Action
from flask_aiflow.skills.candidates import FLOOR, INTENT

#: Where the floor holder's re-prompt ranks: the top of the GENERIC band,
#: ahead of every other proposal at this priority.
REPROMPT_PRIORITY = INTENT - 1


@dataclass(slots=True)
class Proposal:
    """One action a skill proposed for this event, checked and bound to the call: what ranking takes."""

    skill: str
    #: the skill's priority after re-weighting, before the floor rule
    priority: int
    action: Action
    reason: str = ""
    then: tuple[Action, ...] = ()
    reprompt: bool = False
    #: a follow-up of an earlier winner, due now
    followup: bool = False
    #: slow work: the skill's ``Deferred`` (the action is its filler), or the
    #: mark of an answer of earlier work (see :mod:`flask_aiflow.calls.deferred`)
    deferred: Any = None


@dataclass(slots=True)
class Ranking:
    """The outcome of ranking one event's proposals (built once, never changed)."""

    #: best first; the winner's ``outcome`` is ``won``, the others' ``outranked``
    candidates: list[CandidateRecord]
    winner: CandidateRecord | None
    #: which rule decided (a ``RULE_*`` text of :mod:`flask_aiflow.decision`)
    rule: str


def placed(proposal: Proposal, holder: str | None) -> tuple[int, str | None]:
    """The priority ``proposal`` ranks at under the floor rule, and how the floor placed it (a ``FLOOR_*`` or None).

    A follow-up keeps the priority it won with.
    """
    if holder is None or proposal.skill != holder or proposal.followup:
        return proposal.priority, None
    if proposal.reprompt:
        return REPROMPT_PRIORITY, FLOOR_REPROMPT
    if proposal.priority < FLOOR:
        return FLOOR, FLOOR_MATCH
    return proposal.priority, None


@dataclass(slots=True)
class _Standing:
    """One proposal with everything it is sorted by."""

    proposal: Proposal
    priority: int
    floor: str | None
    order: int
    index: int

    def sort_key(self) -> tuple[int, bool, int, str, int]:
        """Ascending sorts best first: higher priority, the re-prompt slot, then order, name, index."""
        return (-self.priority, self.floor != FLOOR_REPROMPT, self.order, self.proposal.skill, self.index)

    def record(self, outcome: str, lost_to: str | None = None) -> CandidateRecord:
        return _record(self.proposal, self.priority, self.floor, outcome, lost_to)


def _record(
    proposal: Proposal, priority: int, floor: str | None, outcome: str, lost_to: str | None = None
) -> CandidateRecord:
    return CandidateRecord(
        skill=proposal.skill,
        priority=priority,
        action=proposal.action,
        reason=proposal.reason,
        outcome=outcome,
        lost_to=lost_to,
        then=proposal.then,
        followup=proposal.followup,
        reprompt=proposal.reprompt,
        floor=floor,
        deferred=proposal.deferred,
    )


def rank(proposals: Sequence[Proposal], *, holder: str | None, order_of: Callable[[str], int]) -> Ranking:
    """Rank one event's proposals.

    :param proposals: in proposal order (a due follow-up first).
    :param holder: the skill holding the floor, or None.
    :param order_of: a skill's place in the configured order (lower first).
    """
    if not proposals:
        return Ranking([], None, RULE_NONE)
    if len(proposals) == 1:  # nothing to compare it with
        winner = _record(proposals[0], *placed(proposals[0], holder), WON)
        return Ranking([winner], winner, RULE_ONLY)
    standings = sorted(
        (_Standing(p, *placed(p, holder), order_of(p.skill), index) for index, p in enumerate(proposals)),
        key=_Standing.sort_key,
    )
    winner = standings[0].record(WON)
    losers = [s.record(OUTRANKED, winner.skill) for s in standings[1:]]
    return Ranking([winner, *losers], winner, _deciding_rule(standings[0], standings[1]))


def ignore_all(proposals: Sequence[Proposal]) -> Ranking:
    """``session_end`` takes no action: every proposal is ignored."""
    return Ranking([_record(p, p.priority, None, IGNORED) for p in proposals], None, RULE_SESSION_END)


def _deciding_rule(first: _Standing, second: _Standing) -> str:
    """The first sort criterion on which the winner and the runner-up differ."""
    if first.priority != second.priority:
        if first.floor == FLOOR_MATCH:
            return RULE_FLOOR
        if first.floor == FLOOR_REPROMPT:
            return RULE_REPROMPT_AHEAD
        if second.floor == FLOOR_REPROMPT and first.priority < FLOOR:
            return RULE_REPROMPT_YIELDS
        return RULE_PRIORITY
    if (first.floor == FLOOR_REPROMPT) != (second.floor == FLOOR_REPROMPT):
        return RULE_REPROMPT_AHEAD
    if first.order != second.order:
        return RULE_ORDER
    if first.proposal.skill != second.proposal.skill:
        return RULE_NAME
    return RULE_INDEX
