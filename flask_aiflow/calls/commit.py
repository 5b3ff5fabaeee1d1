"""Committing an event to the call's record: a pure function from the old record to the new one.

What is kept of one event (see :class:`~flask_aiflow.calls.call.Call`):

- a skill's state change and a floor it took, when its proposal won or it
  proposed nothing (a skill that lost simply proposes again later);
- a released floor, always; nothing at all of a skill that failed;
- the winner's follow-ups, which replace (and so cancel) any pending ones
  whenever an action is sent;
- a caller turn in which the floor holder proposed nothing uses up one of
  its turns (a holder that did not get to answer in time keeps them).

The old record is never changed, so skills still reading it (a late one in
a worker thread) see it as it was.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from msgspec.structs import replace

from flask_aiflow.calls.store import CallRecord
from flask_aiflow.decision import CandidateRecord
from flask_aiflow.protocol.actions import Action
from flask_aiflow.protocol.events import Event, UserSpeak
from flask_aiflow.skills.asking import Run


@dataclass(slots=True)
class Committed:
    """The call's new record, and notes for the decision record (built once, never changed)."""

    record: CallRecord
    notes: tuple[str, ...] = ()


def commit(
    record: CallRecord,
    event: Event,
    runs: Sequence[Run],
    winner: CandidateRecord | None,
    action: Action | None,
    unfinished: Collection[str],
    *,
    now: float,
) -> Committed:
    """The record after ``event``: ``winner`` (None for the fallback) sent ``action`` (None: nothing sent)."""
    notes: list[str] = []
    pending = record.pending
    if action is not None:  # without an action, pending follow-ups stay due
        if pending is not None and (winner is None or not winner.followup):
            notes.append(f"follow-ups of {pending['skill']} cancelled by a new action")
        pending = _followups_of(winner)
    skills = record.skills
    holder = record.floor["skill"] if record.floor is not None else None
    floor = record.floor
    for run in runs:
        if run.failure is not None or (not run.state_changed and run.floor_change is None):
            continue
        # kept when it proposed nothing, or one of its proposals (not an earlier follow-up) won
        kept = not run.proposals or (winner is not None and winner.skill == run.skill and not winner.followup)
        if run.floor_change is not None:
            floor, note = _changed_floor(floor, run.skill, run.floor_change, kept, now)
            if note:
                notes.append(note)
        if kept and run.state_changed:
            skills = _with_state(skills, run.skill, run.state)
    if holder is not None and holder not in unfinished and isinstance(event, UserSpeak):
        floor, note = _count_turn(floor, holder, runs)
        if note:
            notes.append(note)
    return Committed(replace(record, skills=skills, floor=floor, pending=pending), tuple(notes))


def _with_state(skills: dict[str, str], skill: str, text: str | None) -> dict[str, str]:
    """A new mapping of the skills' states with ``skill``'s replaced (None: removed)."""
    others = {name: state for name, state in skills.items() if name != skill}
    return others if text is None else {**others, skill: text}


def _followups_of(winner: CandidateRecord | None) -> dict[str, Any] | None:
    if winner is None or not winner.then:
        return None
    return {"skill": winner.skill, "priority": winner.priority, "actions": [action.to_dict() for action in winner.then]}


def _changed_floor(
    floor: dict[str, Any] | None, skill: str, change: tuple[str, int | None], kept: bool, now: float
) -> tuple[dict[str, Any] | None, str | None]:
    op, turns = change
    if op == "release":
        if floor is not None and floor["skill"] == skill:
            return None, f"{skill} released the floor"
        return floor, None
    if not kept:
        return floor, None
    since = floor["since"] if floor is not None else now
    return {"skill": skill, "since": since, "turns": turns}, f"{skill} holds the floor"


def _count_turn(floor: dict[str, Any] | None, holder: str, runs: Sequence[Run]) -> tuple[dict[str, Any] | None, str | None]:
    """A caller turn in which the floor holder proposed nothing uses up one of its turns."""
    if floor is None or floor["skill"] != holder or floor["turns"] is None:
        return floor, None
    run = next((run for run in runs if run.skill == holder), None)
    if run is not None and (run.floor_change is not None or (run.proposals and run.failure is None)):
        return floor, None
    turns = floor["turns"] - 1
    if turns <= 0:
        return None, f"floor released: {holder} let its last turn pass"
    return {**floor, "turns": turns}, None
