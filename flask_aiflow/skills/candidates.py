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

from collections.abc import Callable, Mapping, Sequence
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


@dataclass(frozen=True, slots=True)
class Deferred:
    """Slow work a skill hands to the core, and what the caller hears meanwhile.

    Returned from an event hook like a :class:`Candidate`; it ranks like one
    (at ``priority``). Only a winning ``Deferred`` has its work started::

        @hookimpl
        def aiflow_user_speak(event, call):
            return Deferred(
                work=lambda: crm.lookup(call.session.from_phone_number),
                filler="One moment, let me check that.",
            )

    :param work: called without arguments in a bounded pool of worker threads
        (in a copy of the hook's context, so ``current_app`` works). It
        returns what a hook may return: a string, an action, a
        :class:`Candidate` (its ``then`` follow after it), a list of these
        (said one after another) or None. A generator (or any iterator) is a
        stream: each item is said after the previous one, the first as soon
        as it is ready; when a newer caller turn makes it stale it is closed.
    :param filler: said at once, while the work runs (a string, an action or
        its dict). None: wait for the work up to the rest of the event
        budget, and say ``AIFLOW_DEFERRED_FILLER`` only if it is not done by
        then.
    :param deadline: seconds the work may take for its answer (for a stream:
        for each item); past it the caller gets ``on_failure``. None:
        ``AIFLOW_DEFERRED_DEADLINE``.
    :param priority: as :class:`Candidate`; also the rank of its answers.
    :param reason: a short note for the decision record ("crm lookup").
    :param interrupt: over WebSocket, push the first answer at once and cut
        the filler short (a ``barge_in`` first); False: after the filler ends.
    :param still_relevant: decides, when the caller speaks while the work is
        pending, whether its answer is still wanted: ``(event, call) -> bool``.
        None (the default): a newer caller turn drops it. Only asked in the
        process running the work; elsewhere the default applies.
    :param on_failure: said (or done: a transfer) when the work raises, says
        nothing, or misses its deadline. None: ``AIFLOW_DEFERRED_APOLOGY``.
    """

    work: Callable[[], Any]
    filler: Action | str | Mapping[str, Any] | None = None
    deadline: float | None = None
    priority: int | None = None
    reason: str = ""
    interrupt: bool = False
    still_relevant: Callable[[Any, Any], bool] | None = None
    on_failure: Action | str | Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not callable(self.work):
            raise ValueError(f"work must be callable, got {self.work!r}")
        if self.priority is not None:
            check_priority(self.priority)
        deadline = self.deadline
        if deadline is not None and (
            isinstance(deadline, bool) or not isinstance(deadline, int | float) or not 0 < deadline < float("inf")
        ):
            raise ValueError(f"deadline must be a positive number of seconds or None, got {deadline!r}")
        if self.still_relevant is not None and not callable(self.still_relevant):
            raise ValueError(f"still_relevant must be callable or None, got {self.still_relevant!r}")
