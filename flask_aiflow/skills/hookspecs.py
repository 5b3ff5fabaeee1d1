"""The hook specifications a skill implements.

A skill is a pluggy plugin: a module, class or object with functions named
like the specs below and marked with :data:`hookimpl`. Implement only the
hooks you need, and accept only the arguments you use (pluggy passes a subset
by name)::

    from flask_aiflow import hookimpl

    @hookimpl
    def aiflow_user_speak(event, call):
        if "opening hours" in event.text.lower():
            return "We are open from nine to five."

Every event hook receives the same two arguments:

- ``event``: the typed, immutable event (:mod:`flask_aiflow.protocol.events`);
- ``call``: this skill's view of the call (:class:`flask_aiflow.calls.call.Call`):
  its own state, the floor, the session.

and may return, for the dispatcher to rank:

- ``None``: no proposal;
- a ``str``: speak it with the app's default TTS and barge-in settings;
- an action (:mod:`flask_aiflow.protocol.actions`) or its wire-form ``dict``: proposed
  at the skill's priority;
- a :class:`~flask_aiflow.skills.candidates.Candidate`: an action with an explicit
  priority and a reason;
- a :class:`~flask_aiflow.skills.candidates.Deferred`: slow work for the core's
  pool, with what the caller hears meanwhile (ranked with its filler; the
  answer follows, see :mod:`flask_aiflow.calls.deferred`);
- a list or tuple of the above: several proposals.

The highest priority wins (see :mod:`flask_aiflow.skills.candidates` for the bands);
a skill's state changes are kept when it wins or proposes nothing, and
discarded when its proposal loses, so a skill never acts on a turn it did not
get. Hooks are called one by one, each isolated: an exception or an invalid
return excludes that skill's proposals from this event only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from flask import Flask

    from flask_aiflow.calls.call import Call
    from flask_aiflow.protocol.events import (
        AssistantSpeak,
        AssistantSpeechEnded,
        SessionEnd,
        SessionStart,
        UserInputTimeout,
        UserSpeak,
    )

PROJECT_NAME = "aiflow"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

#: What an event hook may return; see the module docstring.
HookResult = Any


@hookspec
def aiflow_startup(app: Flask) -> None:
    """Check this skill's configuration once, when the app starts.

    Called from ``init_app`` for every enabled skill. Read your configuration
    from ``app.config`` and raise :class:`~flask_aiflow.SkillConfigError`
    with a clear message when it is wrong: start-up then fails and names the
    skill. Any other exception disables this skill only, and is logged.

    :param app: the Flask application being initialised.
    """


@hookspec
def aiflow_session_start(event: SessionStart, call: Call) -> HookResult:
    """A call begins.

    The usual answer is a greeting (``speak``) or an announcement (``audio``).
    The call's state is new and empty here.

    :param event: the ``session_start`` event, with the caller's and the
        called numbers in ``event.session``.
    :param call: this skill's view of the call.
    """


@hookspec
def aiflow_user_speak(event: UserSpeak, call: Call) -> HookResult:
    """The caller said something (after speech-to-text).

    ``event.text`` is what was recognised; ``event.barged_in`` is true when
    the caller interrupted the assistant. When no skill proposes anything,
    the configured fallback answers, so the caller never gets dead air.

    :param event: the ``user_speak`` event (the deprecated ``user_barge_in``
        arrives here too, with ``barged_in=True``).
    :param call: this skill's view of the call.
    """


@hookspec
def aiflow_assistant_speak(event: AssistantSpeak, call: Call) -> HookResult:
    """The assistant started speaking (may be omitted by some TTS models).

    Mostly for tracking: ``event.duration_ms`` and ``event.speech_started_at``
    say how long and since when. Returning an action is allowed but rare.

    :param event: the ``assistant_speak`` event.
    :param call: this skill's view of the call.
    """


@hookspec
def aiflow_assistant_speech_ended(
    event: AssistantSpeechEnded, call: Call
) -> HookResult:
    """The assistant finished speaking; the service now waits for the caller.

    The place for an action that must follow speech, such as hanging up once
    a farewell has been spoken.

    :param event: the ``assistant_speech_ended`` event.
    :param call: this skill's view of the call.
    """


@hookspec
def aiflow_user_input_timeout(event: UserInputTimeout, call: Call) -> HookResult:
    """The caller said nothing within ``user_input_timeout_seconds``.

    Fires only after a ``speak`` that set ``user_input_timeout_seconds``.
    Typical answers re-prompt (re-arming the timeout), transfer or hang up.

    :param event: the ``user_input_timeout`` event.
    :param call: this skill's view of the call.
    """


@hookspec
def aiflow_session_end(event: SessionEnd, call: Call) -> None:
    """The call ended. Clean up; any returned value is ignored.

    Every skill's implementation runs (the protocol allows no action here);
    afterwards the call's state is deleted.

    :param event: the ``session_end`` event.
    :param call: this skill's view of the call, with its final state.
    """


#: The event hook for each protocol event type.
EVENT_HOOKS: dict[str, str] = {
    "session_start": "aiflow_session_start",
    "user_speak": "aiflow_user_speak",
    "assistant_speak": "aiflow_assistant_speak",
    "assistant_speech_ended": "aiflow_assistant_speech_ended",
    "user_input_timeout": "aiflow_user_input_timeout",
    "session_end": "aiflow_session_end",
}
