"""Ranking: which of an event's proposals wins, and which rule decided.

:func:`rank` is a pure function of the proposals, the floor holder and the
configured skill order: no app, no store, no clock. It returns new records
(the ones passed in are never changed), best first, the winner marked ``won``
and every other ``outranked`` by it.

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
from dataclasses import dataclass, replace

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
from flask_aiflow.skills.candidates import FLOOR, INTENT

#: Where the floor holder's re-prompt ranks: the top of the GENERIC band,
#: ahead of every other proposal at this priority.
REPROMPT_PRIORITY = INTENT - 1


@dataclass(frozen=True, slots=True)
class Ranking:
    """The outcome of ranking one event's proposals."""

    #: best first; the winner's ``outcome`` is ``won``, the others' ``outranked``
    candidates: list[CandidateRecord]
    winner: CandidateRecord | None
    #: which rule decided (a ``RULE_*`` text of :mod:`flask_aiflow.decision`)
    rule: str


@dataclass(frozen=True, slots=True)
class _Standing:
    """One candidate with everything it is sorted by."""

    candidate: CandidateRecord
    order: int
    index: int

    @property
    def reprompt_slot(self) -> bool:
        return self.candidate.floor == FLOOR_REPROMPT

    def sort_key(self) -> tuple[int, bool, int, str, int]:
        """Ascending sorts best first: higher priority, the re-prompt slot, then order, name, index."""
        return (-self.candidate.priority, not self.reprompt_slot, self.order, self.candidate.skill, self.index)


def apply_floor(candidate: CandidateRecord, holder: str | None) -> CandidateRecord:
    """The candidate as the floor places it (see the module docstring).

    A follow-up keeps the priority it won with.
    """
    if holder is None or candidate.skill != holder or candidate.followup:
        return candidate
    if candidate.reprompt:
        return replace(candidate, priority=REPROMPT_PRIORITY, floor=FLOOR_REPROMPT)
    if candidate.priority < FLOOR:
        return replace(candidate, priority=FLOOR, floor=FLOOR_MATCH)
    return candidate


def rank(
    candidates: Sequence[CandidateRecord], *, holder: str | None, order_of: Callable[[str], int]
) -> Ranking:
    """Rank one event's proposals.

    :param candidates: in proposal order (a due follow-up first).
    :param holder: the skill holding the floor, or None.
    :param order_of: a skill's place in the configured order (lower first).
    """
    placed = [apply_floor(candidate, holder) for candidate in candidates]
    if not placed:
        return Ranking([], None, RULE_NONE)
    if len(placed) == 1:
        winner = replace(placed[0], outcome=WON)
        return Ranking([winner], winner, RULE_ONLY)
    standings = sorted(
        (_Standing(candidate, order_of(candidate.skill), index) for index, candidate in enumerate(placed)),
        key=_Standing.sort_key,
    )
    winner = replace(standings[0].candidate, outcome=WON)
    losers = [replace(s.candidate, outcome=OUTRANKED, lost_to=winner.skill) for s in standings[1:]]
    return Ranking([winner, *losers], winner, _deciding_rule(standings[0], standings[1]))


def ignore_all(candidates: Sequence[CandidateRecord]) -> Ranking:
    """``session_end`` takes no action: every proposal is ignored."""
    return Ranking([replace(candidate, outcome=IGNORED) for candidate in candidates], None, RULE_SESSION_END)


def _deciding_rule(first: _Standing, second: _Standing) -> str:
    """The first sort criterion on which the winner and the runner-up differ."""
    winner, runner_up = first.candidate, second.candidate
    if winner.priority != runner_up.priority:
        if winner.floor == FLOOR_MATCH:
            return RULE_FLOOR
        if winner.floor == FLOOR_REPROMPT:
            return RULE_REPROMPT_AHEAD
        if runner_up.floor == FLOOR_REPROMPT and winner.priority < FLOOR:
            return RULE_REPROMPT_YIELDS
        return RULE_PRIORITY
    if first.reprompt_slot != second.reprompt_slot:
        return RULE_REPROMPT_AHEAD
    if first.order != second.order:
        return RULE_ORDER
    if winner.skill != runner_up.skill:
        return RULE_NAME
    return RULE_INDEX
