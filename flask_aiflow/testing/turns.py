"""What one step of a simulated call produced, and the ``expect_*`` helpers.

Each step of a call (the start, something said, a silence, a barge-in, the
end of speech, a hang-up) is a :class:`Turn`: every event the simulator sent
in that step (the caller's own event and the ``assistant_speak`` /
``assistant_speech_ended`` / ``session_end`` that followed from the app's
answers), each with the app's typed answer and, in process, the decision
record. The ``expect_*`` helpers raise :class:`ExpectationError` (an
``AssertionError``) whose message shows everything that happened, with each
decision's candidates, so a failing test explains itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask_aiflow.decision import Decision
from flask_aiflow.protocol.actions import Action, Audio, BargeIn, Hangup, Speak, Transfer
from flask_aiflow.testing.errors import ExpectationError
from flask_aiflow.testing.rules import speech_duration_ms, spoken_text

_E = TypeVar("_E", bound="Expectations")


@dataclass(slots=True)
class Exchange:
    """One event sent and everything the app sent back while handling it.

    Over a webhook that is at most one action (the response). Over a
    WebSocket the reference sets no limit: besides its answer, a skill may
    push actions into the call with ``send()`` while it handles the event;
    every message is kept, in the order it arrived.
    """

    event: dict[str, Any]
    actions: list[Action] = field(default_factory=list)
    decision: Decision | None = None
    status: int | None = None

    @property
    def action(self) -> Action | None:
        """The app's answer: the last message (pushes made while handling come before it), or None."""
        return self.actions[-1] if self.actions else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "action": self.action.to_dict() if self.action is not None else None,
            "actions": [action.to_dict() for action in self.actions],
            "decision": self.decision.to_dict() if self.decision is not None else None,
            "status": self.status,
        }


# -- describing what happened --------------------------------------------------------


def _quote(text: str, limit: int = 80) -> str:
    return '"' + (text if len(text) <= limit else text[: limit - 3] + "...") + '"'


def describe_action(action: Action | None) -> str:
    """One short line for an action, e.g. ``speak "Hello" (timeout 5 s)``."""
    if action is None:
        return "nothing"
    if isinstance(action, Speak):
        words = f"speak {_quote(spoken_text(action))}" if action.text is not None else f"speak ssml {_quote(action.ssml or '')}"
        extras = []
        if action.user_input_timeout_seconds is not None:
            extras.append(f"timeout {action.user_input_timeout_seconds:g} s")
        if action.barge_in is not None:
            extras.append("barge-in " + ", ".join(f"{k}={v}" for k, v in action.barge_in.to_dict().items()))
        return words + (f" ({'; '.join(extras)})" if extras else "")
    if isinstance(action, Audio):
        return f"audio ({speech_duration_ms(action)} ms)"
    if isinstance(action, Transfer):
        return f"transfer to {action.target_phone_number} (caller id {action.caller_id_name!r} {action.caller_id_number})"
    if isinstance(action, Hangup):
        return "hangup"
    if isinstance(action, BargeIn):
        return "barge_in"
    return action.type


def describe_event(event: dict[str, Any]) -> str:
    kind = event.get("type", "?")
    if kind == "user_speak":
        return f"user_speak {_quote(event.get('text', ''))}" + (" (barged in)" if event.get("barged_in") else "")
    if kind == "assistant_speak":
        return f"assistant_speak ({event.get('duration_ms')} ms)"
    return str(kind)


def describe_decision(decision: Decision) -> list[str]:
    """The decision record as indented lines: rule, every candidate, every failure."""
    winner = decision.winner.skill if decision.winner is not None else None
    lines = [f"decision: {('winner ' + winner + ', ') if winner else ''}rule: {decision.rule}"]
    for candidate in decision.candidates:
        outcome = candidate.outcome if candidate.lost_to is None else f"{candidate.outcome} by {candidate.lost_to}"
        reason = f" [{candidate.reason}]" if candidate.reason else ""
        lines.append(f"  - {candidate.skill} (priority {candidate.priority}) {outcome}: {describe_action(candidate.action)}{reason}")
    for failure in decision.failures:
        lines.append(f"  ! {failure.skill} {failure.kind}: {failure.message}")
    for note in decision.notes:
        lines.append(f"  * {note}")
    return lines


def describe_exchanges(exchanges: Iterable[Exchange], decisions_available: bool) -> str:
    lines = []
    for exchange in exchanges:
        lines.append(f"  -> {describe_event(exchange.event)}")
        if not exchange.actions:
            lines.append("  <- nothing")
        lines.extend(f"  <- {describe_action(action)}" for action in exchange.actions)
        if exchange.decision is not None:
            lines.extend("       " + line for line in describe_decision(exchange.decision))
        elif not decisions_available and exchange.event.get("type") != "session_end":
            lines.append("       (decision record not available over this transport)")
    return "\n".join(lines) if lines else "  (nothing was sent)"


# -- expectations ----------------------------------------------------------------------


class Expectations:
    """``expect_*`` helpers over what the app sent; each returns ``self`` for chaining.

    A :class:`Turn` checks what the app sent during that step; a simulated
    call checks everything the app sent during the whole call.
    """

    def _scope(self) -> tuple[list[Exchange], bool, list[str]]:  # exchanges, decisions available, notes
        raise NotImplementedError

    def _actions(self) -> list[Action]:
        return [action for exchange in self._scope()[0] for action in exchange.actions]

    def describe(self) -> str:
        """Everything the app was sent and answered, with decisions and notes."""
        exchanges, available, notes = self._scope()
        text = describe_exchanges(exchanges, available)
        if notes:
            text += "\n  notes:\n" + "\n".join(f"    - {note}" for note in notes)
        return text

    def _fail(self, expected: str) -> ExpectationError:
        return ExpectationError(f"expected {expected}, but the app's answers were:\n{self.describe()}")

    def expect_speech(self: _E, containing: str | None = None) -> _E:
        """A ``speak`` action was sent (whose text or SSML contains ``containing``, case-insensitive)."""
        speeches = [a for a in self._actions() if isinstance(a, Speak)]
        if containing is None:
            if speeches:
                return self
            raise self._fail("a speak action")
        wanted = containing.casefold()
        if any(wanted in (a.text or a.ssml or "").casefold() for a in speeches):
            return self
        raise self._fail(f"a speak action containing {containing!r}")

    def expect_audio(self: _E) -> _E:
        """An ``audio`` action was sent."""
        if any(isinstance(a, Audio) for a in self._actions()):
            return self
        raise self._fail("an audio action")

    def expect_transfer(self: _E, to: str | None = None) -> _E:
        """A ``transfer`` action was sent (to ``to``, when given)."""
        transfers = [a for a in self._actions() if isinstance(a, Transfer)]
        if transfers and (to is None or any(a.target_phone_number == to for a in transfers)):
            return self
        raise self._fail("a transfer" + (f" to {to}" if to else ""))

    def expect_hangup(self: _E) -> _E:
        """A ``hangup`` action was sent."""
        if any(isinstance(a, Hangup) for a in self._actions()):
            return self
        raise self._fail("a hangup")

    def expect_silence(self: _E) -> _E:
        """The app sent no action at all."""
        if not self._actions():
            return self
        raise self._fail("no action at all")

    def expect_winner(self: _E, skill: str) -> _E:
        """Some decision in scope was won by ``skill`` (in-process transports only)."""
        exchanges, available, _ = self._scope()
        if not available:
            raise ExpectationError("expect_winner needs the decision record, which this transport cannot see")
        if any(e.decision is not None and e.decision.winner is not None and e.decision.winner.skill == skill for e in exchanges):
            return self
        raise self._fail(f"a decision won by skill {skill!r}")


@dataclass(slots=True, eq=False)
class Turn(Expectations):
    """One step of a simulated call and everything it caused.

    :param step: ``start``, ``say``, ``silence``, ``barge_in``,
        ``speech_ends``, ``hang_up`` or ``push`` (an action the app pushed on
        its own: :attr:`main` is then that action, with the event
        ``{"type": "(pushed)"}``).
    :param text: what the caller said (``say``/``barge_in``).
    :param exchanges: every event sent in this step, in order, with its answer.
    :param main: the exchange of the caller's own event (``session_start``,
        ``user_speak``, ``user_input_timeout``, ``assistant_speech_ended``
        or ``session_end``), None when nothing was sent for it.
    :param dropped: why the utterance never reached the app, when it did not.
    :param notes: what the simulator decided on the service's behalf, and why.
    :param ended: the call ended during this step.
    :param playing: the assistant is still speaking after this step.
    """

    step: str
    text: str | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    main: Exchange | None = None
    dropped: str | None = None
    notes: list[str] = field(default_factory=list)
    ended: bool = False
    playing: bool = False
    decisions_available: bool = True

    def _scope(self) -> tuple[list[Exchange], bool, list[str]]:
        return self.exchanges, self.decisions_available, self.notes

    @property
    def delivered(self) -> bool:
        """True when the caller's own event reached the app."""
        return self.main is not None

    @property
    def action(self) -> Action | None:
        """The app's answer to the caller's own event (see :attr:`actions` for all)."""
        return self.main.action if self.main is not None else None

    @property
    def actions(self) -> list[Action]:
        """Every action the app sent during this step, in order."""
        return self._actions()

    @property
    def decision(self) -> Decision | None:
        """The decision on the caller's own event (None when not available or not sent)."""
        return self.main.decision if self.main is not None else None

    @property
    def decisions(self) -> list[Decision]:
        return [e.decision for e in self.exchanges if e.decision is not None]

    @property
    def spoken(self) -> list[str]:
        """What the assistant said during this step (speak actions, SSML without tags)."""
        return [spoken_text(a) for a in self._actions() if isinstance(a, Speak)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "text": self.text,
            "delivered": self.delivered,
            "dropped": self.dropped,
            "notes": list(self.notes),
            "ended": self.ended,
            "playing": self.playing,
            "decisions_available": self.decisions_available,
            "action": self.action.to_dict() if self.action is not None else None,
            "spoken": self.spoken,
            "exchanges": [exchange.to_dict() for exchange in self.exchanges],
        }

    def __str__(self) -> str:
        head = f"{self.step}" + (f" {_quote(self.text)}" if self.text else "")
        return head + "\n" + self.describe()


__all__ = [
    "Exchange",
    "Expectations",
    "Turn",
    "describe_action",
    "describe_decision",
    "describe_event",
    "describe_exchanges",
]
