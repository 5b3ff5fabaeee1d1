"""A test skill that exercises every rule the call simulator plays by.

Its answers are visible over every transport, so the same scenario checks
the simulator in process, over real HTTP and over a real WebSocket.
"""

from flask_aiflow import CallNotConnected, barge_in, hangup, hookimpl, send, speak, transfer

GREETING = "Welcome to the front desk. How can I help?"
GREETING_BARGE_IN = {"strategy": "minimum_characters", "minimum_characters": 5, "allow_after_ms": 500}


@hookimpl
def aiflow_session_start(call):
    return speak(GREETING, user_input_timeout_seconds=5, barge_in=GREETING_BARGE_IN)


@hookimpl
def aiflow_user_speak(event, call):
    text = event.text.lower()
    if event.barged_in:
        if "quiet" in text:  # under 'manual' the app decides: stop the prompt
            return barge_in()
        if "hmm" in text:  # ... or let it play on
            return None
        return f"You interrupted me: {event.text}"
    if "push" in text:  # a second message while handling one event (WebSocket only)
        try:
            send(call.session_id, "Pushed while you spoke.")
        except CallNotConnected:
            pass
        return "Answered after the push."
    if "patient" in text:  # answered at its end by a speak without a timeout
        call.state["nudge"] = True
        return speak("Tell me when you are ready.", user_input_timeout_seconds=3)
    if "bye" in text:
        call.state["leaving"] = True
        return "Goodbye!"
    if "agent" in text:
        return transfer("+4921155555000", caller_id_name="Front desk", caller_id_number="+4921155555555")
    if "important" in text:
        return speak("This notice cannot be interrupted.", barge_in={"strategy": "none"})
    if "manual" in text:
        return speak("Only I decide when this stops.", barge_in={"strategy": "manual"})
    if "cut" in text:
        call.state["cut"] = True
        return speak("I will cut myself short.", barge_in={"strategy": "manual"})
    if "default" in text:
        return speak("This prompt has the service's default barge-in.")
    return f"You said: {event.text}"


@hookimpl
def aiflow_assistant_speak(event, call):
    if call.state.pop("cut", False):
        return barge_in()
    return None


@hookimpl
def aiflow_assistant_speech_ended(call):
    if call.state.get("leaving"):
        return hangup()
    if call.state.pop("nudge", False):
        return speak("Take your time.")
    return None


@hookimpl
def aiflow_user_input_timeout(call):
    call.state["timeouts"] = call.state.get("timeouts", 0) + 1
    if call.state["timeouts"] >= 2:
        return hangup()
    return speak("Are you still there?", user_input_timeout_seconds=5)
