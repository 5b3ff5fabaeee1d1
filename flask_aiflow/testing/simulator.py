"""The call simulator: plays the AI Flow service's side of a call against an app.

::

    sim = CallSimulator(app)                      # or a URL; transport="websocket"
    call = sim.start_call(from_="+4915112345678", to="+4921155555555")
    call.greeting.expect_speech(containing="Welcome")
    call.say("when are you open?").expect_speech(containing="nine")
    call.silence()                                # user_input_timeout, if armed
    call.barge_in("stop", after_ms=300)           # delivered or dropped by the rules
    call.hang_up()

It follows the service's rules, not only the wire format:

- after every ``speak``/``audio`` action it sends ``assistant_speak`` (text
  or SSML, a ``duration_ms`` estimated from the text, ``speech_started_at``)
  unless ``assistant_speak=False`` (the reference: it "may be omitted for
  some TTS models"), and the assistant is then *speaking*;
  ``assistant_speech_ended`` is sent
  when that speech ends: on :meth:`SimulatedCall.speech_ends`, or before the
  caller says something (:meth:`~SimulatedCall.say`) or stays silent
  (:meth:`~SimulatedCall.silence`), since both happen after it;
- the answers to those events are carried out like any other;
- a speak with ``user_input_timeout_seconds`` arms the timeout when its
  speech ends (the reference: "timer starts when the assistant finishes
  speaking"); :meth:`~SimulatedCall.silence` then sends
  ``user_input_timeout``, and without one it sends nothing (the turn says
  so); anything the caller says clears it ("timer is cleared when the user
  starts speaking");
- :meth:`~SimulatedCall.barge_in` speaks *during* playback, judged by the
  prompt's barge-in configuration
  (:func:`~flask_aiflow.testing.rules.barge_in_verdict`): under
  ``minimum_characters`` it is dropped, or delivered with ``barged_in=true``
  and interrupts the prompt (which then gets no ``assistant_speech_ended``);
  under ``manual`` it is delivered with ``barged_in=true`` and the prompt
  plays on until the app answers with a ``barge_in`` action; under ``none``
  it is dropped;
- an app ``barge_in`` action interrupts the prompt that is playing;
- over a WebSocket the app may send several messages while it handles one
  event (its answer and actions pushed with ``send()``): all are recorded
  and carried out in order;
- after a ``hangup`` or ``transfer`` the service ends the call with
  ``session_end``; after that nothing more can be sent.

Where the reference is silent the simulator assumes, and a test may choose
otherwise:

- a speak or audio that arrives while another still plays replaces it;
- a new prompt clears an armed input timeout: when the app answers
  ``assistant_speech_ended`` with a speak that sets no timeout, the caller's
  silence then causes nothing (``new_speech_clears_timeout=False``: the
  armed timer runs on and fires after the new prompt);
- ``session_start`` carries the whole session (id, account, numbers,
  direction) and so does every later event (``session_fields="start"``:
  later events carry only the id, as most of the reference's examples do;
  ``"id"``: every event, ``session_start`` too);
- the clock is simulated (starting at the real time, advanced by speech
  durations, ``after_ms`` and timeouts), so tests never sleep.
"""

from __future__ import annotations

import time
import uuid
import weakref
from dataclasses import dataclass
from typing import Any

from flask import Flask

from flask_aiflow.protocol.actions import (
    Action,
    Audio,
    BargeIn,
    Hangup,
    InvalidActionError,
    Speak,
    Transfer,
    action_from_dict,
)
from flask_aiflow.protocol.events import (
    AssistantSpeak,
    AssistantSpeechEnded,
    Direction,
    Event,
    Session,
    SessionEnd,
    SessionStart,
    UserInputTimeout,
    UserSpeak,
)
from flask_aiflow.testing.errors import CallEndedError, ProtocolViolation, SimulationError
from flask_aiflow.testing.rules import barge_in_verdict, speech_duration_ms
from flask_aiflow.testing.transports import TRANSPORTS, Channel, app_secret, open_channel, receive_push
from flask_aiflow.testing.turns import Exchange, Expectations, Turn, describe_action

DEFAULT_FROM = "+4915112345678"
DEFAULT_TO = "+4921155555555"

#: Most events one step may cause; more means the app answers its own
#: speech events with new speech forever.
MAX_EVENTS_PER_STEP = 50

#: What ``session_fields`` may be: the whole session on every event, on
#: ``session_start`` only, or only the id everywhere.
SESSION_FIELDS = ("full", "start", "id")


@dataclass(slots=True)
class Playback:
    """A prompt the assistant is playing."""

    action: Speak | Audio
    duration_ms: int
    started_at_ms: int


class CallSimulator:
    """Places simulated calls to an app (in process) or a server (by URL).

    :param target: a Flask app with flask-aiflow, or a base URL such as
        ``http://127.0.0.1:5000``.
    :param secret: the ``X-API-TOKEN`` to send. For an app it defaults to
        the app's own (first) shared secret.
    :param transport: ``"webhook"`` or ``"websocket"``.
    :param webhook_path: for a URL: the webhook path (default ``/webhook``).
    :param websocket_path: for a URL: the WebSocket path (default ``/ws``).
    :param quiet_seconds: over a real WebSocket, how long to wait for an
        answer before concluding there is none.
    :param settle_seconds: over a real WebSocket, how long to wait after
        each message for another one (actions pushed while an event is
        handled come before its answer).
    :param assistant_speak: send ``assistant_speak`` after each prompt
        starts (False: as for the TTS models that omit it).
    :param new_speech_clears_timeout: a new prompt clears an armed
        ``user_input_timeout_seconds`` (the default; see the module doc).
    :param session_fields: ``"full"``, ``"start"`` or ``"id"``: which events
        carry the whole session rather than only its id (see the module doc);
        :meth:`start_call` may choose per call.
    """

    def __init__(
        self,
        target: Flask | str,
        *,
        secret: str | None = None,
        transport: str = "webhook",
        webhook_path: str = "/webhook",
        websocket_path: str = "/ws",
        quiet_seconds: float = 0.3,
        timeout: float = 10.0,
        settle_seconds: float = 0.05,
        assistant_speak: bool = True,
        new_speech_clears_timeout: bool = True,
        session_fields: str = "full",
    ) -> None:
        _check_session_fields(session_fields)
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be 'webhook' or 'websocket', got {transport!r}")
        if not isinstance(target, (Flask, str)):
            raise TypeError(f"target must be a Flask app or a URL, got {type(target).__name__}")
        if isinstance(target, str) and not target.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError(f"a URL target must start with http:// or https://, got {target!r}")
        if isinstance(target, str) and target.startswith(("ws://", "wss://")) and transport != "websocket":
            raise ValueError(f"{target!r} is a WebSocket URL; use transport='websocket' (or give the http:// base URL)")
        if isinstance(target, Flask) and secret is None:
            secret = app_secret(target)
        self.target = target
        self.secret = secret
        self.transport = transport
        self.webhook_path = webhook_path
        self.websocket_path = websocket_path
        self.quiet_seconds = quiet_seconds
        self.timeout = timeout
        self.settle_seconds = settle_seconds
        self.assistant_speak = assistant_speak
        self.new_speech_clears_timeout = new_speech_clears_timeout
        self.session_fields = session_fields
        self.calls: list[SimulatedCall] = []

    @property
    def in_process(self) -> bool:
        return isinstance(self.target, Flask)

    def start_call(
        self,
        from_: str = DEFAULT_FROM,
        to: str = DEFAULT_TO,
        *,
        session_id: str | None = None,
        account_id: str = "simulator",
        direction: Direction = "inbound",
        session_fields: str | None = None,
    ) -> SimulatedCall:
        """Ring the app: send ``session_start`` and carry out its answer.

        :param session_fields: overrides the simulator's ``session_fields``
            for this call.
        """
        if session_fields is not None:
            _check_session_fields(session_fields)
        session = Session(
            id=session_id or str(uuid.uuid4()),
            account_id=account_id,
            phone_number=to,
            direction=direction,
            from_phone_number=from_,
            to_phone_number=to,
        )
        channel = open_channel(
            self.target,
            self.transport,
            self.secret,
            webhook_path=self.webhook_path,
            websocket_path=self.websocket_path,
            quiet_seconds=self.quiet_seconds,
            timeout=self.timeout,
            settle_seconds=self.settle_seconds,
        )
        call = SimulatedCall(
            session,
            channel,
            assistant_speak=self.assistant_speak,
            new_speech_clears_timeout=self.new_speech_clears_timeout,
            session_fields=session_fields or self.session_fields,
        )
        self.calls.append(call)
        try:
            call._start()
        except BaseException:
            channel.close()
            raise
        return call

    def close(self) -> None:
        """Close every call's connection (without sending ``session_end``)."""
        for call in self.calls:
            call.close()


class SimulatedCall(Expectations):
    """One simulated call; every step returns a :class:`Turn`.

    The ``expect_*`` helpers on the call check everything the app sent
    during the whole call.
    """

    def __init__(
        self,
        session: Session,
        channel: Channel,
        *,
        clock_ms: int | None = None,
        assistant_speak: bool = True,
        new_speech_clears_timeout: bool = True,
        session_fields: str = "full",
    ) -> None:
        _check_session_fields(session_fields)
        self.session = session
        self.channel = channel
        self.assistant_speak = assistant_speak
        self.new_speech_clears_timeout = new_speech_clears_timeout
        self.session_fields = session_fields
        self.turns: list[Turn] = []
        self.playing: Playback | None = None
        #: seconds of an armed user-input timeout, or None
        self.timeout_seconds: float | None = None
        #: when that timer started (the end of the speech that armed it), on the simulated clock
        self.timeout_armed_at_ms: int | None = None
        self.ended = False
        self.end_reason: str | None = None
        self.clock_ms = clock_ms if clock_ms is not None else int(time.time() * 1000)
        # A call that is dropped without being closed still releases its
        # connection (and the thread of an in-process WebSocket).
        self._finalizer = weakref.finalize(self, channel.close)

    @property
    def session_id(self) -> str:
        return self.session.id

    @property
    def greeting(self) -> Turn:
        """The turn of ``session_start``."""
        return self.turns[0]

    @property
    def last_turn(self) -> Turn:
        return self.turns[-1]

    @property
    def decisions_available(self) -> bool:
        return self.channel.decisions_available

    def _scope(self) -> tuple[list[Exchange], bool, list[str]]:
        return (
            [e for turn in self.turns for e in turn.exchanges],
            self.decisions_available,
            [note for turn in self.turns for note in turn.notes],
        )

    def __enter__(self) -> SimulatedCall:
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self.ended and exc[0] is None:
            self.hang_up()
        self.close()

    def close(self) -> None:
        """Close the connection (without sending ``session_end``); safe to repeat."""
        self._finalizer()

    # -- the caller's steps ------------------------------------------------------

    def say(self, text: str) -> Turn:
        """The caller says ``text`` after the assistant has finished speaking."""
        _check_text(text, "say")
        turn = self._begin("say", text)
        self._let_speech_end(turn)
        return self._utter(turn, text, barged_in=False)

    def barge_in(self, text: str, *, after_ms: int = 0) -> Turn:
        """The caller says ``text`` ``after_ms`` into the prompt that is playing.

        Delivered as ``user_speak`` with ``barged_in=true``, or dropped, by
        that prompt's barge-in configuration: under ``minimum_characters``
        a delivered utterance stops the prompt; under ``manual`` it is
        always delivered and the prompt plays on unless the app answers
        with a ``barge_in`` action. When ``after_ms`` is past the end of
        the prompt, the prompt ends first and the utterance arrives as
        ordinary speech.
        """
        _check_text(text, "barge_in")
        if isinstance(after_ms, bool) or not isinstance(after_ms, int) or after_ms < 0:
            raise ValueError(f"after_ms must be an int >= 0, got {after_ms!r}")
        if not self.ended and self.playing is None:
            raise SimulationError("barge_in(): the assistant is not speaking, so nothing can be interrupted; use say()")
        turn = self._begin("barge_in", text)
        playback = self.playing
        assert playback is not None
        if after_ms >= playback.duration_ms:
            turn.notes.append(
                f"the prompt lasts {playback.duration_ms} ms and was over after {after_ms} ms: "
                "the utterance arrives as ordinary speech"
            )
            self._let_speech_end(turn)
            return self._utter(turn, text, barged_in=False)
        verdict = barge_in_verdict(playback.action.barge_in, text, after_ms)
        turn.notes.append(verdict.reason)
        if not verdict.delivered:
            turn.dropped = verdict.reason
            return self._finish(turn)
        if verdict.interrupts:
            self.playing = None
        self.clock_ms = max(self.clock_ms, playback.started_at_ms + after_ms)
        return self._utter(turn, text, barged_in=True)

    def silence(self) -> Turn:
        """The caller says nothing: speech ends, then the armed timeout (if any) fires."""
        turn = self._begin("silence")
        self._let_speech_end(turn)
        if self.ended:
            return self._finish(turn)
        if self.timeout_seconds is None:
            turn.notes.append(
                "no user_input_timeout_seconds is armed (the last speak set none), "
                "so the service sends nothing and the line stays silent"
            )
            return self._finish(turn)
        seconds, self.timeout_seconds = self.timeout_seconds, None
        armed_at = self.timeout_armed_at_ms if self.timeout_armed_at_ms is not None else self.clock_ms
        self.clock_ms = max(self.clock_ms, armed_at + int(seconds * 1000))
        turn.notes.append(f"the caller stayed silent for {seconds:g} s: user_input_timeout")
        turn.main = self._exchange(turn, UserInputTimeout(self._wire_session()))
        return self._finish(turn)

    def speech_ends(self) -> Turn:
        """The prompt that is playing ends: ``assistant_speech_ended``."""
        if not self.ended and self.playing is None:
            raise SimulationError("speech_ends(): the assistant is not speaking")
        turn = self._begin("speech_ends")
        turn.main = self._end_speech(turn)
        return self._finish(turn)

    def wait_for_push(self, timeout: float = 10.0) -> Turn:
        """Wait for an action the app pushes on its own (WebSocket only) and carry it out.

        Slow work answers this way, and so does ``send``. Raises
        :class:`~flask_aiflow.testing.errors.SimulationError` when nothing
        arrives within ``timeout`` seconds.
        """
        turn = self._begin("push")
        body = receive_push(self.channel, timeout)
        if body is None:
            raise SimulationError(f"wait_for_push(): the app pushed nothing within {timeout:g} s")
        try:
            action = action_from_dict(body)
        except InvalidActionError as exc:
            raise ProtocolViolation(f"the app pushed an invalid action ({exc}): {body!r}") from None
        turn.notes.append(f"the app pushed {action.type}")
        turn.main = Exchange({"type": "(pushed)"}, [action])
        turn.exchanges.append(turn.main)
        self._carry_out(turn, action)
        return self._finish(turn)

    def hang_up(self) -> Turn:
        """The caller hangs up: ``session_end``."""
        turn = self._begin("hang_up")
        self.playing = None
        turn.main = self._send(turn, SessionEnd(self._wire_session()))
        self._mark_ended(turn, "the caller hung up")
        return self._finish(turn)

    # -- the service's side --------------------------------------------------------

    def _start(self) -> Turn:
        turn = self._begin("start")
        turn.main = self._exchange(turn, SessionStart(self._wire_session(start=True)))
        return self._finish(turn)

    def _begin(self, step: str, text: str | None = None) -> Turn:
        if self.ended:
            raise CallEndedError(
                f"{step}(): the call has ended ({self.end_reason}); nothing more can be sent. "
                "Start a new one with start_call()."
            )
        turn = Turn(step, text, decisions_available=self.decisions_available)
        self.turns.append(turn)
        return turn

    def _finish(self, turn: Turn) -> Turn:
        turn.playing = self.playing is not None
        if self.ended:
            self.close()
        return turn

    def _utter(self, turn: Turn, text: str, *, barged_in: bool) -> Turn:
        if self.ended:
            turn.dropped = "the call ended before the caller spoke"
            turn.notes.append(turn.dropped)
            return self._finish(turn)
        self.timeout_seconds = None  # any speech clears the timer
        turn.main = self._exchange(turn, UserSpeak(self._wire_session(), text, barged_in))
        return self._finish(turn)

    def _send(self, turn: Turn, event: Event) -> Exchange:
        if len(turn.exchanges) >= MAX_EVENTS_PER_STEP:
            raise ProtocolViolation(
                f"one step caused {MAX_EVENTS_PER_STEP} events: the app keeps answering its own "
                f"speech events with new speech.\n{turn.describe()}"
            )
        data = event.to_dict()
        reply = self.channel.send(data)
        actions: list[Action] = []
        for body in reply.bodies:
            if isinstance(event, SessionEnd):
                raise ProtocolViolation(f"the app answered session_end with {body!r}; no action is allowed there")
            try:
                actions.append(action_from_dict(body))
            except InvalidActionError as exc:
                raise ProtocolViolation(f"the app answered {event.type} with an invalid action ({exc}): {body!r}") from None
        if len(actions) > 1:
            turn.notes.append(f"the app sent {len(actions)} messages while handling {event.type}; all are carried out in order")
        exchange = Exchange(data, actions, reply.decision, reply.status)
        turn.exchanges.append(exchange)
        return exchange

    def _exchange(self, turn: Turn, event: Event) -> Exchange:
        """Send an event and carry out everything the app sent back, in order."""
        exchange = self._send(turn, event)
        for action in exchange.actions:
            if self.ended:
                turn.notes.append(f"the call had ended: {describe_action(action)} was not carried out")
                continue
            self._carry_out(turn, action)
        return exchange

    def _carry_out(self, turn: Turn, action: Action) -> None:
        if isinstance(action, (Speak, Audio)):
            self._play(turn, action)
        elif isinstance(action, Hangup):
            self._end_call(turn, "the app hung up")
        elif isinstance(action, Transfer):
            self._end_call(turn, f"the app transferred the call to {action.target_phone_number}")
        elif isinstance(action, BargeIn):
            if self.playing is None:
                turn.notes.append("the app sent barge_in, but nothing was playing")
            else:
                turn.notes.append("the app's barge_in interrupted the prompt")
                self.playing = None

    def _play(self, turn: Turn, action: Speak | Audio) -> None:
        if self.playing is not None:
            turn.notes.append("a new prompt replaced the one still playing")
        duration = speech_duration_ms(action)
        self.playing = Playback(action, duration, self.clock_ms)
        if self.new_speech_clears_timeout and self.timeout_seconds is not None:
            turn.notes.append("a new prompt cleared the armed user_input_timeout")
            self.timeout_seconds = None
        if not self.assistant_speak:
            return
        text = action.text if isinstance(action, Speak) else None
        ssml = action.ssml if isinstance(action, Speak) else None
        self._exchange(turn, AssistantSpeak(self._wire_session(), duration, self.clock_ms, text, ssml))

    def _end_speech(self, turn: Turn) -> Exchange:
        playback = self.playing
        assert playback is not None
        self.playing = None
        self.clock_ms = max(self.clock_ms, playback.started_at_ms + playback.duration_ms)
        if isinstance(playback.action, Speak) and playback.action.user_input_timeout_seconds is not None:
            self.timeout_seconds = playback.action.user_input_timeout_seconds
            self.timeout_armed_at_ms = self.clock_ms
        return self._exchange(turn, AssistantSpeechEnded(self._wire_session()))

    def _let_speech_end(self, turn: Turn) -> None:
        """Let every prompt play to its end (answers to its end may start new ones)."""
        while self.playing is not None and not self.ended:
            self._end_speech(turn)

    def _end_call(self, turn: Turn, reason: str) -> None:
        turn.notes.append(f"{reason}: the service ends the call with session_end")
        self.playing = None
        self._send(turn, SessionEnd(self._wire_session()))
        self._mark_ended(turn, reason)

    def _mark_ended(self, turn: Turn, reason: str) -> None:
        self.ended = True
        self.end_reason = reason
        self.timeout_seconds = None
        turn.ended = True

    def _wire_session(self, *, start: bool = False) -> Session:
        """The session as this event carries it (see ``session_fields``)."""
        if self.session_fields == "full" or (start and self.session_fields == "start"):
            return self.session
        return Session(self.session.id)


def _check_session_fields(value: Any) -> None:
    if value not in SESSION_FIELDS:
        raise ValueError(f"session_fields must be one of {', '.join(map(repr, SESSION_FIELDS))}, got {value!r}")


def _check_text(text: Any, step: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{step}() needs the words the caller says, got {text!r}; use silence() for nothing")


__all__ = ["DEFAULT_FROM", "DEFAULT_TO", "SESSION_FIELDS", "CallSimulator", "Playback", "SimulatedCall"]
