"""A slow third-party skill: an order lookup in a "CRM" handed to the core as a ``Deferred``.

The lookup waits for its gate: a file named after the call in
``$AIFLOW_TEST_GATE_DIR`` (so a test in another process can open it), at
most 10 seconds. The file's content says what the CRM does: ``ok`` answers,
``raise`` fails. Without a gate directory the lookup answers at once.

What the caller says picks the variant:

=====================  ======================================================
"where is my order"    filler, then the answer
"order, cut in"        as above, but the answer cuts the filler short
"order in a hurry"     deadline 0.3 s
"order quickly"        no filler: answered within the event budget
"order details"        a stream of three sentences
"order, still wanted"  the answer stays wanted when the caller speaks again
"order story"          a stream whose second sentence waits for the gate
                       ``<session>-more``; it marks ``<session>-closed`` when
                       it is closed (a barge-in cancels it)
"order, goodbye"       the answer, then a hang-up
=====================  ======================================================

``$AIFLOW_TEST_HURRY_DEADLINE`` overrides the 0.3 s of "in a hurry".
"""

import os
import time
from pathlib import Path

from flask_aiflow import Candidate, Deferred, hangup, hookimpl

AIFLOW_NAME = "orders"
AIFLOW_PRIORITY = 60

FILLER = "One moment, let me check that."
ANSWER = "Your order has shipped."
#: the text of the order lookup that says goodbye and hangs up after it
FAREWELL = "Your order has shipped. Goodbye!"


def gate(session_id):
    """Wait for the test to open this call's gate; its content."""
    directory = os.environ.get("AIFLOW_TEST_GATE_DIR")
    if not directory:
        return "ok"
    path = Path(directory, session_id)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_text().strip() or "ok"
        time.sleep(0.01)
    return "closed"


def lookup(session_id):
    outcome = gate(session_id)
    if outcome == "raise":
        raise ConnectionError("the CRM is down")
    if outcome == "closed":
        return None
    return ANSWER


def details(session_id):
    gate(session_id)
    yield "Your order has shipped."
    yield "It left our warehouse yesterday."
    yield "It arrives tomorrow."


def story(session_id):
    directory = os.environ.get("AIFLOW_TEST_GATE_DIR")
    try:
        gate(session_id)
        yield "Your order has shipped."
        gate(session_id + "-more")
        yield "And here is more about it."
    finally:
        if directory:
            Path(directory, session_id + "-closed").touch()


@hookimpl
def aiflow_user_speak(event, call):
    text = event.text.lower()
    session_id = event.session.id
    if "order" not in text:
        return None
    if "cut in" in text:
        return Deferred(work=lambda: lookup(session_id), filler=FILLER, interrupt=True, reason="crm lookup")
    if "hurry" in text:
        deadline = float(os.environ.get("AIFLOW_TEST_HURRY_DEADLINE", "0.3"))
        return Deferred(work=lambda: lookup(session_id), filler=FILLER, deadline=deadline, reason="crm lookup")
    if "quickly" in text:
        return Deferred(work=lambda: ANSWER, reason="quick lookup")
    if "story" in text:
        return Deferred(work=lambda: story(session_id), filler=FILLER, reason="crm story")
    if "details" in text:
        return Deferred(work=lambda: details(session_id), filler=FILLER, reason="crm details")
    if "still wanted" in text:
        return Deferred(
            work=lambda: lookup(session_id), filler=FILLER, still_relevant=lambda event, call: True, reason="crm lookup"
        )
    if "goodbye" in text:
        return Deferred(
            work=lambda: [Candidate(FAREWELL, then=[hangup()])] if lookup(session_id) else None,
            filler=FILLER,
            reason="crm lookup, then goodbye",
        )
    return Deferred(work=lambda: lookup(session_id), filler=FILLER, reason="crm lookup")
