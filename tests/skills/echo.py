"""A test skill: echoes the caller at INTENT, counts turns in its state."""

from flask_aiflow import hookimpl

AIFLOW_PRIORITY = 50


@hookimpl
def aiflow_session_start(call):
    call.state["turns"] = 0
    return "Welcome to the echo line."


@hookimpl
def aiflow_user_speak(event, call):
    call.state["turns"] = call.state.get("turns", 0) + 1
    return f"You said: {event.text}"
