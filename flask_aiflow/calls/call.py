"""A skill's view of a live call, handed to every event hook as ``call``."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from flask_aiflow.protocol.actions import Speak
from flask_aiflow.protocol.events import AssistantSpeak, UserSpeak

if TYPE_CHECKING:
    from flask_aiflow.calls.store import CallRecord, StateStore, Turn
    from flask_aiflow.protocol.actions import Action
    from flask_aiflow.protocol.events import Event, Session

_TAG = re.compile(r"<[^>]*>")


def transcript_turn(event: UserSpeak | AssistantSpeak) -> Turn | None:
    """The transcript turn an event adds, or None.

    ``{"role": "caller"|"assistant", "text": ..., "at": unix seconds}``; a
    caller turn that interrupted the assistant has ``"barged_in": true``; an
    assistant turn spoken from SSML has the SSML's text without its tags.
    """
    if isinstance(event, UserSpeak):
        if event.barged_in:
            return {"role": "caller", "text": event.text, "at": time.time(), "barged_in": True}
        return {"role": "caller", "text": event.text, "at": time.time()}
    text = _spoken(event.text, event.ssml)
    if not text:
        return None
    at = event.speech_started_at / 1000 if event.speech_started_at else time.time()
    return {"role": "assistant", "text": text, "at": at}


#: In a call's ``meta``: the text of the assistant turn last recorded from a
#: speak action, until its ``assistant_speak`` arrives (which then adds no
#: second turn for it), a newer answer replaces it or the caller speaks.
SAID = "said"


def speech_turns(turn: Turn | None, record: CallRecord, answer: Action | None) -> list[Turn]:
    """The transcript turns one event adds, given the turn of the event itself and the app's answer.

    The assistant's side comes from the speak actions the app sends, so the
    transcript is whole even when the service omits ``assistant_speak``
    (the reference: "may be omitted for some TTS models"). An
    ``assistant_speak`` adds a turn only for speech not recorded that way
    (an action pushed with ``send()``): pass its turn through
    :func:`unrecorded` first.
    """
    turns = [turn] if turn is not None else []
    if turn is not None and turn["role"] == "caller":
        record.meta.pop(SAID, None)
    if isinstance(answer, Speak):
        text = _spoken(answer.text, answer.ssml)
        if text:
            turns.append({"role": "assistant", "text": text, "at": time.time()})
            record.meta[SAID] = text
    return turns


def unrecorded(turn: Turn | None, record: CallRecord) -> Turn | None:
    """``turn``, the event's own, or None when it is an ``assistant_speak`` of the speech already
    recorded from the app's last answer (which is then no longer awaited)."""
    if turn is not None and turn["role"] == "assistant" and record.meta.get(SAID) == turn["text"]:
        del record.meta[SAID]
        return None
    return turn


def _spoken(text: str | None, ssml: str | None) -> str:
    return text if text is not None else _TAG.sub("", ssml or "").strip()


class TranscriptSource:
    """One event's view of the call's transcript, read from the store on first use only."""

    __slots__ = ("_store", "_session_id", "_current", "_limit", "_turns")

    def __init__(self, store: StateStore, session_id: str, current: Turn | None, limit: int) -> None:
        self._store = store
        self._session_id = session_id
        self._current = current
        self._limit = limit
        self._turns: list[Turn] | None = None

    def turns(self) -> list[Turn]:
        """The turns, oldest first; the caller must not change them."""
        if self._turns is None:
            if not self._limit:
                self._turns = []
            else:
                turns = self._store.transcript(self._session_id)
                if self._current is not None:
                    turns.append(self._current)
                self._turns = turns[-self._limit :]
        return self._turns

#: A skill's state as compact JSON text and back, with msgspec's C codec: it
#: runs for every skill that reads its state, once each way. It stores what
#: JSON can hold (and, as their JSON form, tuples and sets as lists and NaN
#: as null); any other object is refused with a ``TypeError``.
_encode_state = msgspec.json.Encoder()
_decode_state = msgspec.json.Decoder()

#: A floor change a skill asked for in one event: ("take", turns) or ("release", None).
FloorChange = tuple[str, int | None]


@dataclass(frozen=True, slots=True)
class Floor:
    """Who holds the floor: the skill that asked and waits for the answer.

    :param skill: the holder's name.
    :param since: when it took the floor (Unix time, seconds).
    :param turns_left: how many more caller turns the holder may let pass
        without proposing anything before the floor is released on its own;
        None for no limit.
    """

    skill: str
    since: float
    turns_left: int | None

    @classmethod
    def from_record(cls, data: dict[str, Any] | None) -> Floor | None:
        if data is None:
            return None
        return cls(skill=data["skill"], since=data["since"], turns_left=data["turns"])


class Call:
    """One skill's view of one call during one event.

    ``state`` is this skill's own namespace (a dict that must stay JSON
    serialisable). Changes to it, and a floor taken here, are kept when this
    skill's proposal wins or when it proposes nothing; they are discarded when
    its proposal loses. Releasing the floor always sticks.

    The state is decoded from the record's JSON text on first use, so every
    event works on a fresh copy; after the hook, :meth:`state_change` encodes
    it again and compares the texts, which notices every change, nested or
    not, without watching the dict.
    """

    __slots__ = ("skill", "event", "_record", "_state", "_floor_op", "_transcript")

    def __init__(
        self, skill: str, event: Event, record: CallRecord, transcript: TranscriptSource | None = None
    ) -> None:
        self.skill = skill
        self.event = event
        self._record = record
        self._state: dict[str, Any] | None = None
        self._floor_op: FloorChange | None = None
        self._transcript = transcript

    @property
    def session(self) -> Session:
        return self.event.session

    @property
    def session_id(self) -> str:
        return self.event.session.id

    @property
    def state(self) -> dict[str, Any]:
        """This skill's state for this call (empty on the first event)."""
        if self._state is None:
            text = self._record.skills.get(self.skill)
            self._state = _decode_state.decode(text) if text else {}
        return self._state

    @property
    def meta(self) -> dict[str, Any]:
        """Facts about the call: ``started_at``, ``from``, ``to``, ``last_event``,
        ``last_event_at``, ``transport``."""
        return dict(self._record.meta)

    @property
    def transcript(self) -> list[dict[str, Any]]:
        """The conversation so far, oldest first, including this event's turn.

        Each turn is ``{"role": "caller" | "assistant", "text": ..., "at": unix
        seconds}`` (caller turns from ``user_speak``, assistant turns from
        ``assistant_speak``), at most ``AIFLOW_TRANSCRIPT_LIMIT`` of them. A
        fresh copy: changing it changes nothing. Read from the store on first
        use in an event, so a skill that never reads it costs nothing.
        """
        if self._transcript is None:
            return []
        return [dict(turn) for turn in self._transcript.turns()]

    # -- the floor ---------------------------------------------------------

    @property
    def floor(self) -> Floor | None:
        """Who holds the floor now, or None."""
        return Floor.from_record(self._record.floor)

    @property
    def holds_floor(self) -> bool:
        floor = self._record.floor
        return floor is not None and floor["skill"] == self.skill

    def take_floor(self, *, turns: int | None = None) -> bool:
        """Hold the floor: this skill's proposals rank at least at ``FLOOR``.

        Returns False (and changes nothing) when another skill holds it.

        :param turns: how many caller turns this skill may let pass without a
            proposal before the floor is released automatically (None: no
            limit). Taking the floor again re-arms the count.
        """
        floor = self._record.floor
        if floor is not None and floor["skill"] != self.skill:
            return False
        if turns is not None and (isinstance(turns, bool) or not isinstance(turns, int) or turns < 1):
            raise ValueError(f"turns must be an int >= 1 or None, got {turns!r}")
        self._floor_op = ("take", turns)
        return True

    def release_floor(self) -> bool:
        """Give up the floor; returns False when this skill did not hold it."""
        if not self.holds_floor and not (self._floor_op and self._floor_op[0] == "take"):
            return False
        self._floor_op = ("release", None)
        return True

    # -- read by the pipeline after the hook ---------------------------------

    def state_change(self) -> tuple[bool, str | None]:
        """``(changed, text)``: whether the hook changed the state, and the state as JSON (None when empty).

        Raises ``TypeError`` or ``ValueError`` for a state that cannot be stored.
        """
        if self._state is None:
            return False, None  # never read, so never changed
        try:
            text = _encode_state.encode(self._state).decode() if self._state else None
        except RecursionError:
            raise ValueError("state contains a circular reference or nests too deep") from None
        return text != self._record.skills.get(self.skill), text

    def floor_change(self) -> FloorChange | None:
        """The floor change this skill asked for in this event, if any."""
        return self._floor_op
