"""Priority bands and the candidate a skill proposes.

Every skill may propose actions for an event; the dispatcher ranks the
proposals and sends only the winner. Priorities are plain integers arranged in
named bands (inclusive bounds), so that skills written by different people
rank predictably against each other:

========  =========  ===========================================================
band      priority   meant for
========  =========  ===========================================================
SAFETY    100+       abuse handling, "get me a person" everywhere, compliance
FLOOR     80-99      the skill that asked the caller something and waits for it
INTENT    50-79      ordinary intent handling (the default for a skill)
GENERIC   20-49      generic replies, chit-chat
FALLBACK  0-19       fallbacks (the configured fallback answers at 0)
========  =========  ===========================================================

The floor holder (the skill that asked the caller something) gets the first
chance to *handle* the answer, not the right to refuse it to everyone else:
its proposals rank at least ``FLOOR``, except those it marks as a re-prompt
(``Candidate(..., reprompt=True)`` or :func:`reprompt`): "please say billing,
support or sales" ranks below every ``INTENT``-band proposal of another skill
and above every ``GENERIC`` and ``FALLBACK`` one (see
:mod:`flask_aiflow.skills.ranking`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask_aiflow.protocol.actions import Action

SAFETY = 100
FLOOR = 80
INTENT = 50
GENERIC = 20
FALLBACK = 0

BANDS: tuple[tuple[str, int], ...] = (
    ("SAFETY", SAFETY),
    ("FLOOR", FLOOR),
    ("INTENT", INTENT),
    ("GENERIC", GENERIC),
    ("FALLBACK", FALLBACK),
)


def band_of(priority: int) -> str:
    """Name the band a priority falls in (``"FALLBACK"`` for 0-19)."""
    for name, lower in BANDS:
        if priority >= lower:
            return name
    return "FALLBACK"


def check_priority(value: Any, *, what: str = "priority") -> int:
    """Return ``value`` if it is a valid priority, else raise ``ValueError``.

    A bool or None is an error rather than a silent 1/0 or a default, and 0
    stays 0 (an earlier framework turned a declared 0 into 101).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an int >= 0, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must be an int >= 0, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Candidate:
    """An action a skill proposes, with the priority it asks for.

    :param action: the proposed action (its ``session_id`` may be left unset).
    :param priority: overrides the skill's default priority when given.
    :param reason: a short note for the decision record ("menu option 2").
    :param then: follow-up actions, each delivered on a following
        ``assistant_speech_ended`` if this candidate wins (an HTTP response
        carries one action): e.g. ``Candidate(speak("Bye!"), then=[hangup()])``.
        Any other action sent in between cancels the rest.
    :param reprompt: this answer does not handle what the caller said; it
        asks again ("please say billing, support or sales"). From the floor
        holder, it ranks below every ``INTENT``-band proposal of another
        skill instead of at ``FLOOR``; from any other skill it changes nothing.
    """

    action: Action | str | Mapping[str, Any]
    priority: int | None = None
    reason: str = ""
    then: Sequence[Action | str | Mapping[str, Any]] = ()
    reprompt: bool = False

    def __post_init__(self) -> None:
        if self.priority is not None:
            check_priority(self.priority)
        if not isinstance(self.reprompt, bool):
            raise ValueError(f"reprompt must be True or False, got {self.reprompt!r}")
        if isinstance(self.then, str | Mapping) or not isinstance(self.then, Sequence):
            raise ValueError(f"then must be a list of actions, got {self.then!r}")
        object.__setattr__(self, "then", tuple(self.then))


def reprompt(answer: Candidate | Action | str | Mapping[str, Any], *, reason: str = "") -> Candidate:
    """Mark ``answer`` as a re-prompt or no-match answer (see :attr:`Candidate.reprompt`).

    ``answer`` is what a hook may return for one proposal; a :class:`Candidate`
    keeps its priority, reason (unless ``reason`` is given) and follow-ups::

        return reprompt("Sorry, please say billing, support or sales.", reason="menu: no match")
    """
    if isinstance(answer, Candidate):
        return replace(answer, reprompt=True, reason=reason or answer.reason)
    return Candidate(answer, reason=reason, reprompt=True)
