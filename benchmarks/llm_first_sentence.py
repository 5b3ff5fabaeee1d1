"""Time to the first spoken sentence with the LLM skill, against the model's own time to it.

    .venv/bin/python -m benchmarks --only llm        # or: python -m benchmarks.llm_first_sentence

The stand-in model (plugins/llm/tests/standin.py, real HTTP and SSE on
loopback) streams a reply word by word, ``DELAY`` seconds apart. Two
measurements, interleaved over many rounds:

- **model**: the ``openai`` client alone, from the request until the first
  sentence is complete (the same sentence splitter decides): what any client
  of this model waits;
- **call**: a ``user_speak`` posted to the app's webhook (Flask test client,
  the whole pipeline: state, skills, ranking, the ``Deferred`` hand-over to
  the work pool, the LLM skill's request and stream) until the response
  carrying that first sentence is back.

The difference of the medians is our overhead (target: <= 5 ms). A reply
that misses the event budget would be answered with the filler instead; such
rounds are counted, not timed.
"""

from __future__ import annotations

import itertools
import statistics
import sys
from time import perf_counter
from typing import Any

import flask_aiflow_llm
import openai
from flask import Flask
from flask_aiflow_llm.sentences import SentenceSplitter

from flask_aiflow import AiFlow
from plugins.llm.tests.standin import Reply, StandIn, words

REPLY = "Sure, we are open from nine to five on weekdays. On Saturdays we close at noon."
FIRST = "Sure, we are open from nine to five on weekdays."
#: Seconds between two streamed words: a brisk model (about 100 tokens per second).
DELAY = 0.01
SECRET = "bench-secret"


def _app(base_url: str) -> Flask:
    app = Flask("llm_bench")
    app.config.update(
        AIFLOW_SHARED_SECRET=SECRET,
        AIFLOW_LOAD_ENTRY_POINTS=False,
        AIFLOW_LLM={"model": "standin-model", "base_url": base_url, "api_key": "unused"},
    )
    AiFlow(app, skills=[flask_aiflow_llm])
    return app


def _model_seconds(client: openai.OpenAI) -> float:
    started = perf_counter()
    stream = client.chat.completions.create(
        model="standin-model", messages=[{"role": "user", "content": "when are you open?"}], stream=True
    )
    splitter = SentenceSplitter()
    try:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content and splitter.feed(chunk.choices[0].delta.content):
                return perf_counter() - started
    finally:
        stream.close()
    raise RuntimeError("the stand-in sent no complete sentence")


_ids = itertools.count()


def _event(type_: str, session_id: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "session": {"id": session_id}, **fields}


def _call_seconds(app: Flask) -> float | None:
    """Seconds from posting user_speak to the response with the first sentence; None for a filler."""
    client = app.test_client()
    headers = {"X-API-TOKEN": SECRET}
    session_id = f"bench-{next(_ids)}"
    client.post("/webhook", json=_event("session_start", session_id), headers=headers)
    started = perf_counter()
    response = client.post("/webhook", json=_event("user_speak", session_id, text="when are you open?"),
                           headers=headers)
    elapsed = perf_counter() - started
    client.post("/webhook", json=_event("session_end", session_id), headers=headers)
    body = response.get_json(silent=True) or {}
    return elapsed if body.get("text") == FIRST else None


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 30 if quick else 200
    standin = StandIn().start()
    standin.default = Reply(chunks=words(REPLY), delay=DELAY)
    try:
        app = _app(standin.base_url)
        client = openai.OpenAI(base_url=standin.base_url, api_key="unused", max_retries=0)
        for _ in range(5):  # warm up: connections, imports, the work pool
            _model_seconds(client)
            _call_seconds(app)
        model, call, fillers = [], [], 0
        for _ in range(rounds):
            model.append(_model_seconds(client))
            seconds = _call_seconds(app)
            if seconds is None:
                fillers += 1
            else:
                call.append(seconds)
    finally:
        standin.stop()
    return {"rounds": rounds, "delay": DELAY, "model": model, "call": call, "fillers": fillers}


def _ms(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else values[0] * 1000


def report(results: dict[str, Any]) -> str:
    model, call = results["model"], results["call"]
    if not call:
        return "### LLM skill: time to the first sentence\n\nevery round got the filler; no figures"
    model_median = statistics.median(model) * 1000
    call_median = statistics.median(call) * 1000
    return "\n".join([
        "### LLM skill: time to the first sentence",
        "",
        f"{results['rounds']} interleaved rounds, the stand-in streaming a word every {results['delay'] * 1000:g} ms;"
        f" {results['fillers']} round(s) answered with the filler instead.",
        "",
        "| | median ms | p90 ms |",
        "| --- | ---: | ---: |",
        f"| model alone (openai client, first sentence complete) | {model_median:.2f} | {_ms(model, 90):.2f} |",
        f"| call (user_speak -> response with the first sentence) | {call_median:.2f} | {_ms(call, 90):.2f} |",
        f"| **our overhead** (difference of the medians) | **{call_median - model_median:.2f}** | |",
    ])


if __name__ == "__main__":
    print(report(run(quick="--quick" in sys.argv)))
