"""The decision record: what every skill proposed for an event and why one won.

One is made for every dispatched event. It is logged at debug level in one
line and sent with the ``action_chosen`` / ``no_action`` signals, so "which
skill answered, and why?" never needs a packet capture.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask_aiflow.protocol.actions import Action

#: How the floor placed a holder's candidate (:attr:`CandidateRecord.floor`).
FLOOR_MATCH = "match"
FLOOR_REPROMPT = "reprompt"

#: Why a candidate did not win.
WON = "won"
OUTRANKED = "outranked"
IGNORED = "ignored"  # proposals on session_end, where no action is allowed

#: The failure kind of a skill still running when the event's budget was spent.
TOO_SLOW = "too_slow"

#: How a winner was decided.
RULE_ONLY = "only candidate"
RULE_PRIORITY = "higher priority"
RULE_ORDER = "configured skill order"
RULE_NAME = "skill name"
RULE_INDEX = "proposal order within the skill"
RULE_FLOOR = "floor: the holder's answer ranks at least FLOOR"
RULE_REPROMPT_YIELDS = "floor: the holder's re-prompt ranks below another skill's INTENT-band match"
RULE_REPROMPT_AHEAD = "floor: the holder's re-prompt ranks above GENERIC and FALLBACK"
RULE_FALLBACK = "fallback: no skill proposed anything"
RULE_NONE = "no candidates"
RULE_SESSION_END = "session_end never answers"


@dataclass(slots=True)
class CandidateRecord:
    """One proposal as ranked (built by :func:`flask_aiflow.skills.ranking.rank`)."""

    skill: str
    #: the priority it ranked at (after re-weighting and the floor rule)
    priority: int
    action: Action
    reason: str = ""
    outcome: str = OUTRANKED
    lost_to: str | None = None
    #: follow-up actions to deliver on later ``assistant_speech_ended`` events
    then: tuple[Action, ...] = ()
    #: True for a follow-up of an earlier winner, delivered now
    followup: bool = False
    #: the skill marked it as a re-prompt or no-match answer
    reprompt: bool = False
    #: how the floor placed it: ``"match"`` (raised to FLOOR), ``"reprompt"`` or None
    floor: str | None = None
    #: slow work: the skill's ``Deferred`` (its action is the filler), or a
    #: marker for an answer of earlier work (see :mod:`flask_aiflow.calls.deferred`)
    deferred: Any = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "skill": self.skill,
            "priority": self.priority,
            "action": self.action.to_dict(),
            "outcome": self.outcome,
        }
        if self.reason:
            data["reason"] = self.reason
        if self.lost_to:
            data["lost_to"] = self.lost_to
        if self.then:
            data["then"] = [action.to_dict() for action in self.then]
        if self.followup:
            data["followup"] = True
        if self.reprompt:
            data["reprompt"] = True
        if self.floor is not None:
            data["floor"] = self.floor
        if self.deferred is not None:
            data["deferred"] = True
        return data


@dataclass(frozen=True, slots=True)
class SkillFailure:
    """A skill that was excluded from this event, and why.

    ``kind`` is one of ``raised``, ``invalid_action``, ``bad_return``,
    ``bad_state``, ``too_slow``. ``seconds`` is the time the skill had taken
    when it was given up on (``too_slow`` only).
    """

    skill: str
    kind: str
    message: str
    seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"skill": self.skill, "kind": self.kind, "message": self.message}
        if self.seconds is not None:
            data["ms"] = round(self.seconds * 1000, 3)
        return data


@dataclass(slots=True)
class Decision:
    """What happened to one event, built once when the event has been handled."""

    event_type: str
    session_id: str
    candidates: list[CandidateRecord] = field(default_factory=list)
    failures: list[SkillFailure] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    winner: CandidateRecord | None = None
    action: Action | None = None
    rule: str = RULE_NONE
    notes: list[str] = field(default_factory=list)
    #: skills never asked because the budget was spent before their turn
    not_run: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event_type,
            "session_id": self.session_id,
            "action": self.action.to_dict() if self.action is not None else None,
            "winner": self.winner.skill if self.winner is not None else None,
            "rule": self.rule,
            "candidates": [c.to_dict() for c in self.candidates],
            "failures": [f.to_dict() for f in self.failures],
            "timings_ms": {k: round(v * 1000, 3) for k, v in self.timings.items()},
            "notes": list(self.notes),
            "not_run": list(self.not_run),
            "ms": round(self.seconds * 1000, 3),
        }

    def summary(self) -> str:
        """The whole decision in one log line."""
        return json.dumps(self.to_dict(), separators=(",", ":"), default=str)
