"""The app the multi-process tests serve: state that shows a lost update or a wrong worker.

``counter`` holds the floor for the whole call and counts caller turns and
silences in its state; its answers say the counts, so a worker that did not
see the previous event answers differently. ``chatter`` proposes at a higher
priority than ``counter``'s own, so it wins the moment the floor is lost.
``listener`` counts the assistant's utterances without proposing anything.
Every response carries the serving worker's pid (``X-Worker-Pid``).

Configured from the environment: ``AIFLOW_STATE_STORE`` (default memory) and
``AIFLOW_REDIS_PREFIX``. Test routes under ``/test/`` push actions, list live
calls and show which process holds a call's WebSocket.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

from flask_aiflow import AiFlow, CallNotConnected, Candidate, get_state, hangup, hookimpl, live_calls, send, speak
from tests.apps.served import served_config
from tests.apps.worker_pid import tell_the_worker

TIMEOUT_SECONDS = 5
MAX_SILENCES = 3


class Counter:
    AIFLOW_NAME = "counter"
    AIFLOW_PRIORITY = 50

    @hookimpl
    def aiflow_session_start(self, event: Any, call: Any) -> Any:
        call.take_floor()
        call.state.update(turns=0, silences=0)
        return speak("Welcome. Say something.", user_input_timeout_seconds=TIMEOUT_SECONDS)

    @hookimpl
    def aiflow_user_speak(self, event: Any, call: Any) -> Any:
        if "bye" in event.text.lower():
            call.release_floor()
            return Candidate(speak("Goodbye!"), priority=90, then=[hangup()])
        call.state["turns"] = call.state.get("turns", 0) + 1
        call.state["silences"] = 0
        heard = len(call.transcript)
        return speak(
            f"Turn {call.state['turns']}: you said {event.text}. {heard} turns so far.",
            user_input_timeout_seconds=TIMEOUT_SECONDS,
        )

    @hookimpl
    def aiflow_user_input_timeout(self, event: Any, call: Any) -> Any:
        silences = call.state["silences"] = call.state.get("silences", 0) + 1
        if silences >= MAX_SILENCES:
            call.release_floor()
            return Candidate(speak("I hear nothing. Goodbye."), priority=90, then=[hangup()])
        return speak(f"Are you still there? ({silences} of {MAX_SILENCES})", user_input_timeout_seconds=TIMEOUT_SECONDS)


class Chatter:
    AIFLOW_NAME = "chatter"
    AIFLOW_PRIORITY = 60

    @hookimpl
    def aiflow_user_speak(self, event: Any, call: Any) -> str:
        return "chatter: nobody holds the floor"


class Listener:
    AIFLOW_NAME = "listener"

    @hookimpl
    def aiflow_assistant_speak(self, event: Any, call: Any) -> None:
        call.state["spoken"] = call.state.get("spoken", 0) + 1

    @hookimpl
    def aiflow_assistant_speech_ended(self, event: Any, call: Any) -> None:
        return None


app = Flask(__name__)
app.config.update(served_config())
aiflow = AiFlow(app, skills=[Counter(), Chatter(), Listener()])


app.wsgi_app = tell_the_worker(app.wsgi_app)  # type: ignore[method-assign]


@app.post("/test/send/<session_id>")
def push_action(session_id: str) -> Any:
    """Push the posted action (JSON body) into the call: as an agent's dashboard would."""
    try:
        delivered = send(session_id, request.get_json())
    except CallNotConnected as exc:
        return jsonify(error="not_connected", reason=exc.reason), 404
    return jsonify(delivered=delivered)


@app.get("/test/live")
def list_live_calls() -> Any:
    return jsonify([call.to_dict() for call in live_calls()])


@app.get("/test/holder/<session_id>")
def holder(session_id: str) -> Any:
    """Which process holds the call's WebSocket, from the record's route."""
    from flask_aiflow.calls.store import CallRecord

    text = get_state().store.load(session_id)
    node = CallRecord.loads(text).meta.get("node") if text else None
    return jsonify(node=node, pid=int(node.split(":")[1]) if node else None)


@app.get("/test/state/<session_id>")
def call_state(session_id: str) -> Any:
    from flask_aiflow.calls.store import CallRecord

    text = get_state().store.load(session_id)
    if text is None:
        return jsonify(None)
    record = CallRecord.loads(text)
    return jsonify(skills=record.skills, floor=record.floor, meta=record.meta)
