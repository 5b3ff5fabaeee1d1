"""What the per-event time budget costs: dispatch with and without it.

    .venv/bin/python benchmarks/budget_overhead.py [--events 20000] [--skills 5]

Dispatches the same user_speak event of one call through the full pipeline
(state load and save, every skill, ranking, signals) with
``AIFLOW_EVENT_BUDGET_MS = None`` (skills run inline), ``= 800`` (skills run
in a worker thread while the request thread waits) and ``= 800`` with skills
that declare ``AIFLOW_INLINE = True`` (no hand-over), interleaved over
several rounds, and prints the median microseconds per event of each and the
differences. The skills are trivial, so the figures are the framework's own.
"""

from __future__ import annotations

import argparse
import statistics
from time import perf_counter
from types import SimpleNamespace

from flask import Flask

from flask_aiflow import AiFlow, hookimpl
from flask_aiflow.protocol.events import parse_event


def make_skill(index: int, inline: bool) -> SimpleNamespace:
    def user_speak(event, call):  # noqa: ANN001, ANN202
        return f"skill {index} heard {event.text}" if index == 0 else None

    return SimpleNamespace(
        AIFLOW_NAME=f"skill{index}",
        AIFLOW_PRIORITY=50 + index,
        AIFLOW_INLINE=inline,
        aiflow_user_speak=hookimpl(user_speak),
    )


def make_app(skills: int, budget_ms: float | None, inline: bool = False) -> Flask:
    app = Flask(f"overhead_{budget_ms}_{inline}")
    app.config.update(
        AIFLOW_SHARED_SECRET="x",
        AIFLOW_LOAD_ENTRY_POINTS=False,
        AIFLOW_EVENT_BUDGET_MS=budget_ms,
    )
    AiFlow(app, skills=[make_skill(i, inline) for i in range(skills)])
    return app


def per_event_us(app: Flask, events: int) -> float:
    state = app.extensions["aiflow"]
    event = parse_event({"type": "user_speak", "text": "hello", "session": {"id": "bench-call"}})
    with app.app_context():
        state.handle(parse_event({"type": "session_start", "session": {"id": "bench-call"}}), "direct")
        for _ in range(200):  # warm up (and start the worker thread)
            state.handle(event, "direct")
        started = perf_counter()
        for _ in range(events):
            state.handle(event, "direct")
        return (perf_counter() - started) / events * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--skills", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    apps = {
        "no budget": make_app(args.skills, None),
        "budget, worker": make_app(args.skills, 800),
        "budget, AIFLOW_INLINE skills": make_app(args.skills, 800, inline=True),
    }
    results: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(args.rounds):
        for name, app in apps.items():
            results[name].append(per_event_us(app, args.events))
    medians = {name: statistics.median(values) for name, values in results.items()}
    base = medians["no budget"]
    print(f"{args.skills} skills, {args.events} events x {args.rounds} rounds, median us per event:")
    for name, value in medians.items():
        extra = "" if name == "no budget" else f"  ({value - base:+.1f} us)"
        print(f"  {name:30} {value:7.1f}{extra}")


if __name__ == "__main__":
    main()
