"""Memory per live call, in the in-memory store and in Redis.

N calls are started and left live halfway through (greeting, a menu turn, a
silence), with the five built-in skills keeping their state. In-memory: the
Python heap growth (tracemalloc) divided by N. Redis: ``used_memory`` from
``INFO memory`` of a private ``redis-server`` before and after, divided by N.

Both run the five built-in skills with their state, and the store keeps
each call's transcript (its default, 50 turns) besides the record.
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

from flask import Flask

from flask_aiflow.protocol.events import load_event

from .common import call_bodies, redis_server, table
from .skills import base_app

#: Events played per call before it is left live (greeting ... silence prompt).
LIVE_PREFIX = 9


def play_live_calls(app: Flask, calls: int, tag: str) -> None:
    state = app.extensions["aiflow"]
    with app.app_context():
        for n in range(calls):
            for body in call_bodies(f"{tag}-{n}")[:LIVE_PREFIX]:
                state.handle(load_event(body), "bench")


def memory_store_bytes(calls: int) -> tuple[float, int]:
    app, _ = base_app(builtins=True)
    store = app.extensions["aiflow"].store
    play_live_calls(app, 50, "warm")  # caches, interned strings, first allocations
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    play_live_calls(app, calls, "mem")
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    live = len(store) if hasattr(store, "__len__") else calls
    return (after - before) / calls, live


def used_memory(client: Any) -> int:
    return int(client.info("memory")["used_memory"])


def redis_bytes(calls: int) -> float:
    import redis

    with redis_server() as port:
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        app, _ = base_app(builtins=True, redis_url=url)
        play_live_calls(app, 20, "warm")
        before = used_memory(client)
        play_live_calls(app, calls, "mem")
        after = used_memory(client)
        client.close()
        app.extensions["aiflow"].store.close()
    return (after - before) / calls


def record_size(calls: int = 200) -> float:
    app, _ = base_app(builtins=True)
    play_live_calls(app, calls, "size")
    store = app.extensions["aiflow"].store
    return sum(len(store.load(f"size-{n}") or "") for n in range(calls)) / calls


def run(quick: bool = False) -> dict[str, Any]:
    calls = 2000 if quick else 10000
    per_call, live = memory_store_bytes(calls)
    results: dict[str, Any] = {"calls": calls, "memory_bytes": per_call, "memory_live": live,
                               "record_chars": record_size()}
    try:
        results["redis_bytes"] = redis_bytes(calls)
        results["redis_label"] = "used_memory growth (INFO memory): record, transcript, live-calls index"
    except Exception as exc:  # noqa: BLE001 - report why Redis was not measured, keep the rest
        results["redis_bytes"], results["redis_label"] = float("nan"), f"not measured: {exc}"
    return results


def report(results: dict[str, Any]) -> str:
    rows = [
        ["in-memory store", f"{results['memory_bytes']:,.0f}", f"heap growth (tracemalloc), {results['memory_live']:,} live"],
        ["Redis", f"{results['redis_bytes']:,.0f}", results["redis_label"]],
    ]
    return "\n".join([
        f"Memory per live call: {results['calls']:,} calls left live after {LIVE_PREFIX} events, five skills with state;"
        f" the call record is {results['record_chars']:,.0f} characters as JSON",
        "",
        table(["store", "bytes per call", "how"], rows),
    ])


if __name__ == "__main__":
    import sys

    print(report(run(quick="--quick" in sys.argv)))
