"""Per-event dispatch cost with 5 trivial skills, memory store (and Redis when asked).

Measures what the scale-out features (transcript, live-call fields, routing
meta) add to every event. Run before and after a change and compare:

    .venv/bin/python benchmarks/scale_overhead.py            # memory store
    .venv/bin/python benchmarks/scale_overhead.py redis://127.0.0.1:6379/0

Prints the best and the median round, in microseconds per event, for a call
that cycles user_speak -> assistant_speak -> assistant_speech_ended (the
transcript full at its limit). The best round is the figure to compare: the
others are slowed by whatever else the machine is doing.
"""

from __future__ import annotations

import statistics
import sys
import time
from types import SimpleNamespace
from typing import Any

from flask import Flask

from flask_aiflow import AiFlow, hookimpl, parse_event


def skill(index: int) -> Any:
    def user_speak(event: Any, call: Any) -> Any:
        call.state["turns"] = call.state.get("turns", 0) + 1
        return f"skill {index} heard {event.text}" if index == 0 else None

    def assistant_speak(event: Any, call: Any) -> None:
        return None

    return SimpleNamespace(
        AIFLOW_NAME=f"s{index}",
        aiflow_user_speak=hookimpl(user_speak),
        aiflow_assistant_speak=hookimpl(assistant_speak),
    )


def make_app(store_url: str) -> Flask:
    app = Flask("bench")
    app.config.update(
        AIFLOW_SHARED_SECRET="x",
        AIFLOW_LOAD_ENTRY_POINTS=False,
        AIFLOW_STATE_STORE=store_url,
    )
    app.config["AIFLOW_SKILL_ORDER"] = [f"s{i}" for i in range(5)]
    AiFlow(app, skills=[skill(i) for i in range(5)])
    return app


def events(session_id: str) -> list[Any]:
    session = {"id": session_id, "from_phone_number": "+4917099999", "to_phone_number": "+4930123456"}
    return [
        parse_event({"type": "user_speak", "text": "I would like to know my balance please", "session": session}),
        parse_event(
            {
                "type": "assistant_speak",
                "text": "Your balance is forty two euros. Anything else?",
                "duration_ms": 1200,
                "speech_started_at": 1700000000000,
                "session": session,
            }
        ),
        parse_event({"type": "assistant_speech_ended", "session": session}),
    ]


def main() -> None:
    store_url = sys.argv[1] if len(sys.argv) > 1 else "memory"
    app = make_app(store_url)
    state = app.extensions["aiflow"]
    n = 3000 if store_url == "memory" else 600
    rounds = []
    with app.app_context():
        start = parse_event({"type": "session_start", "session": {"id": "bench-call"}})
        state.pipeline.decide(start, "direct")
        cycle = events("bench-call")
        for _ in range(200):  # warm up, and fill the transcript to its limit
            for item in cycle:
                state.pipeline.decide(item, "direct")
        for _ in range(15):
            began = time.perf_counter()
            for _ in range(n // 3):
                for item in cycle:
                    state.pipeline.decide(item, "direct")
            rounds.append((time.perf_counter() - began) / (n // 3 * 3) * 1e6)
    print(f"store={store_url} skills=5 events/round={n // 3 * 3}")
    print(f"best {min(rounds):.1f} us/event, median {statistics.median(rounds):.1f} us/event over {len(rounds)} rounds")


if __name__ == "__main__":
    main()
