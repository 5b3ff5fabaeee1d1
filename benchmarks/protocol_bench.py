"""What one event costs to decode and validate, and one answer to encode.

The issue-10 targets: decoding and validating a ``user_speak`` body in at
most 2 µs, encoding an action (with the session id added) in at most 1 µs.
Beside them, the floors: ``json.loads`` of the same body, msgspec's typed
decode alone (what the declarations cost without the untyped check of the
whole body), and ``json.dumps`` of the action's dict (the path before
:func:`~flask_aiflow.protocol.actions.encode_action`).
"""

import gc
import json
import timeit
from collections.abc import Callable
from typing import Any

import msgspec

from flask_aiflow.protocol.actions import BargeInConfig, encode_action, speak
from flask_aiflow.protocol.events import WireEvent, load_event, parse_event

from .common import session, table

SESSION_ID = "550e8400-e29b-41d4-a716-446655440000"
USER_SPEAK = json.dumps(
    {"type": "user_speak", "text": "I would like to know my balance please", "session": session(SESSION_ID)}
).encode()
SESSION_END = json.dumps({"type": "session_end", "session": {"id": SESSION_ID}}).encode()
ANSWER = speak("Welcome! Say billing, support or sales.", barge_in=BargeInConfig(minimum_characters=3))

TARGETS = {"event": 2.0, "action": 1.0}


def best_us(work: Callable[[], Any], number: int, repeats: int) -> float:
    """Microseconds per call, best of ``repeats`` (the least disturbed run on a shared machine)."""
    work()
    gc.collect()
    return min(timeit.repeat(work, number=number, repeat=repeats)) / number * 1e6


def run(quick: bool = False) -> dict[str, Any]:
    number, repeats = (5_000, 5) if quick else (50_000, 15)
    typed = msgspec.json.Decoder(WireEvent)
    as_dict = json.loads(USER_SPEAK)
    cases = [
        ("event", "load_event(user_speak body)", lambda: load_event(USER_SPEAK)),
        ("event", "load_event(session_end body)", lambda: load_event(SESSION_END)),
        ("event", "parse_event(decoded dict)", lambda: parse_event(as_dict)),
        ("event", "floor: json.loads(user_speak body)", lambda: json.loads(USER_SPEAK)),
        ("event", "floor: msgspec typed decode alone", lambda: typed.decode(USER_SPEAK)),
        ("action", "encode_action(speak, session_id)", lambda: encode_action(ANSWER, SESSION_ID)),
        ("action", "before: json.dumps(with_session().to_dict())",
         lambda: json.dumps(ANSWER.with_session(SESSION_ID).to_dict(), separators=(",", ":"))),
        ("action", "build: speak(text, barge_in=...)",
         lambda: speak("Welcome! Say billing, support or sales.", barge_in=BargeInConfig(minimum_characters=3))),
    ]
    return {
        "number": number,
        "repeats": repeats,
        "cases": [{"kind": kind, "what": what, "us": best_us(work, number, repeats)} for kind, what, work in cases],
    }


def report(results: dict[str, Any]) -> str:
    rows = []
    for case in results["cases"]:
        target = TARGETS[case["kind"]] if not case["what"].startswith(("floor", "before", "build")) else None
        verdict = "" if target is None else f"<= {target:g}: {'met' if case['us'] <= target else 'missed'}"
        rows.append([case["what"], case["us"], verdict])
    return "\n".join([
        f"Protocol, µs per call (best of {results['repeats']} runs of {results['number']:,})",
        "",
        table(["what", "µs", "target"], rows),
    ])
