"""In-process dispatch: microseconds per event, framework pipeline against direct calls.

*Pipeline* is what the webhook does with a body after HTTP: parse and validate
the bytes, lock and load the call's record from the memory store, ask every
skill, rank, validate the winner, commit and save state, send the signals, and
serialise the action to JSON. *Direct* calls the very same hook functions with
a ready event and a call object whose state is a plain dict, which is the
least a hand-written app would do. Overhead = pipeline - direct.
"""

from __future__ import annotations

import gc
import json
import time
from typing import Any

from flask import Flask

from flask_aiflow.calls.call import Call
from flask_aiflow.calls.store import CallRecord
from flask_aiflow.protocol.actions import encode_action
from flask_aiflow.protocol.events import load_event
from flask_aiflow.skills.hookspecs import EVENT_HOOKS
from flask_aiflow.web.routes import parse_message

from .common import CALL_SCRIPT, call_bodies, table, verdict
from .skills import add_keyword_skills, base_app

#: Targets, microseconds per event: the whole pipeline with the five built-in
#: skills (issue 10), the overhead with 20 (the first performance issue).
TARGETS = {5: ("pipeline_us", 15.0), 20: ("overhead_us", 100.0)}


class DirectCall(Call):
    """The real Call API for a hand-written app: state is a plain dict kept between
    events (no JSON, no store), and taking or releasing the floor takes effect at once
    (no ranking decides whether it sticks), so skills take the same branches as in
    the pipeline."""

    __slots__ = ("_plain",)

    def __init__(self, skill: str, event: Any, record: CallRecord, plain: dict[str, Any]) -> None:
        super().__init__(skill, event, record)
        self._plain = plain

    @property
    def state(self) -> dict[str, Any]:
        return self._plain

    def take_floor(self, *, turns: int | None = None) -> bool:
        taken = super().take_floor(turns=turns)
        if taken:
            self._record.floor = {"skill": self.skill, "since": 0.0, "turns": turns}
        return taken

    def release_floor(self) -> bool:
        released = super().release_floor()
        if released:
            self._record.floor = None
        return released


def pipeline(state: Any, body: bytes) -> bytes | None:
    """The webhook's work on one body, minus HTTP (web/webhook.py's ``answer`` without the environ)."""
    event = parse_message(state, body, "webhook")
    decision = state.handle(event, "webhook")
    if decision.action is None:
        return None
    return encode_action(decision.action, decision.session_id)


def time_pipeline(app: Flask, calls: int, tag: str) -> tuple[float, int]:
    """Seconds per event over ``calls`` whole calls, and how many actions came back."""
    state = app.extensions["aiflow"]
    scripts = [call_bodies(f"{tag}-{n}") for n in range(calls)]
    answered = 0
    total = 0.0
    clock = time.perf_counter
    with app.app_context():
        for bodies in scripts:
            started = clock()
            for body in bodies:
                if pipeline(state, body) is not None:
                    answered += 1
            total += clock() - started
    return total / (calls * len(CALL_SCRIPT)), answered


def time_direct(app: Flask, calls: int, tag: str) -> float:
    """Seconds per event calling the same hook functions directly."""
    registry = app.extensions["aiflow"].registry
    total = 0.0
    clock = time.perf_counter
    for n in range(calls):
        events = [load_event(body) for body in call_bodies(f"{tag}-{n}")]
        record = CallRecord()
        plain: dict[str, dict[str, Any]] = {}
        work: list[tuple[Any, tuple[Any, ...]]] = []
        for event in events:
            for hook in registry.hooks_for(EVENT_HOOKS[event.type]):
                name = hook.skill.name
                call = DirectCall(name, event, record, plain.setdefault(name, {}))
                given = {"event": event, "call": call}
                work.append((hook.function, tuple(given[a] for a in hook.argnames)))
        with app.app_context():  # skills read their settings from the app
            started = clock()
            for function, args in work:
                function(*args)
            total += clock() - started
    return total / (calls * len(CALL_SCRIPT))


def time_json_floor(calls: int) -> float:
    """Seconds per event for json.loads + json.dumps alone: what any Python webhook pays."""
    scripts = [call_bodies(f"json-{n}") for n in range(calls)]
    reply = {"type": "speak", "session_id": "x" * 36, "text": "Welcome! Say billing, support or sales."}
    loads, dumps = json.loads, json.dumps
    clock = time.perf_counter
    total = 0.0
    for bodies in scripts:
        started = clock()
        for body in bodies:
            loads(body)
            dumps(reply, separators=(",", ":"))
        total += clock() - started
    return total / (calls * len(CALL_SCRIPT))


def measure(app: Flask, calls: int, repeats: int, tag: str) -> dict[str, Any]:
    time_pipeline(app, max(50, calls // 10), f"warm-{tag}")  # warm caches and allocators
    time_direct(app, max(50, calls // 10), f"warm-{tag}")
    pipe, direct, answered = [], [], 0
    gc.collect()
    for r in range(repeats):
        seconds, answered = time_pipeline(app, calls, f"{tag}-p{r}")
        pipe.append(seconds * 1e6)
        direct.append(time_direct(app, calls, f"{tag}-d{r}") * 1e6)
    # The best run is the least disturbed one (the machine is shared): timeit's rule.
    p, d = min(pipe), min(direct)
    return {"pipeline_us": p, "direct_us": d, "overhead_us": p - d,
            "answered_per_call": answered / calls, "pipeline_runs_us": pipe}


def check_answers(app: Flask) -> None:
    """Fail loudly if the pipeline errs (a bench of a broken pipeline measures nothing)."""
    state = app.extensions["aiflow"]
    with app.app_context():
        for body in call_bodies("check"):
            event = load_event(body)
            decision = state.handle(event, "check")
            if decision.failures:
                raise RuntimeError(f"skill failures in the benchmark app: {decision.failures}")


def run(quick: bool = False) -> dict[str, Any]:
    calls = 150 if quick else 300
    repeats = 5 if quick else 21
    results: dict[str, Any] = {"events_per_call": len(CALL_SCRIPT), "cases": [], "repeats": repeats}
    empty, _ = base_app(builtins=False)
    results["cases"].append({"skills": 0, "extra": "", **measure(empty, calls, repeats, "s0")})
    for inline in (True, False):
        app, label = base_app(builtins=True)
        results["builtin_label"] = label
        check_answers(app)
        extra = "AIFLOW_INLINE" if inline else "in the worker thread"
        if inline:
            results["cases"].append({"skills": 5, "extra": "", **measure(app, calls, repeats, "s5")})
            lean, _ = base_app(builtins=True, AIFLOW_TRANSCRIPT_LIMIT=0, AIFLOW_EVENT_BUDGET_MS=None)
            results["cases"].append({"skills": 5, "extra": "(no transcript, no budget)",
                                     **measure(lean, calls, repeats, "s5lean")})
        add_keyword_skills(app, 15, inline=inline)
        check_answers(app)
        results["cases"].append({"skills": 20, "extra": extra, **measure(app, calls, repeats, f"s20{inline}")})
        add_keyword_skills(app, 80, start=15, inline=inline)
        check_answers(app)
        results["cases"].append(
            {"skills": 100, "extra": extra, **measure(app, max(100, calls // 3), repeats, f"s100{inline}")})
    results["json_floor_us"] = time_json_floor(calls) * 1e6
    return results


def report(results: dict[str, Any]) -> str:
    five = next(case["pipeline_us"] for case in results["cases"] if case["skills"] == 5)
    rows = []
    for case in results["cases"]:
        target = TARGETS.get(case["skills"]) if not case["extra"].startswith("(") else None
        rows.append([
            case["skills"],
            case["extra"],
            case["pipeline_us"],
            case["direct_us"],
            case["overhead_us"],
            f"{target[0].split('_')[0]} <= {target[1]:.0f}: {verdict(case[target[0]] <= target[1])}" if target else "",
        ])
    lines = [
        f"In-process dispatch, µs per event (best of {results['repeats']} runs; {results['events_per_call']}"
        f" events per call; the 5 skills: {results['builtin_label']}; 20 and 100 add keyword skills, either"
        " declaring AIFLOW_INLINE or, the default, run in the time budget's worker thread)",
        "",
        table(["skills", "keyword skills", "pipeline µs", "direct µs", "overhead µs", "target"], rows),
        "",
        f"For scale: json.loads + json.dumps alone cost {results['json_floor_us']:.1f} µs per event; the pipeline"
        f" with the five skills costs {five / results['json_floor_us']:.1f} times that (a ratio that moves less"
        " with the machine's load than the microseconds do).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(report(run(quick="--quick" in sys.argv)))
