"""A test skill that fails in every way a skill can fail."""

from flask_aiflow import hookimpl

AIFLOW_PRIORITY = 90


@hookimpl
def aiflow_session_start(call):
    raise RuntimeError("greeting database is down")


@hookimpl
def aiflow_user_speak(event, call):
    if "invalid" in event.text:
        return {"type": "transfer", "target_phone_number": "(123) 456-7890",
                "caller_id_name": "x", "caller_id_number": "+4930123"}
    if "object" in event.text:
        return 42
    if "state" in event.text:
        call.state["bad"] = object()
        return None
    raise ValueError("boom")
