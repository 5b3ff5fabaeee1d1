"""Memory per live call, in the in-memory store and in Redis.

N calls are started and left live halfway through (greeting, a menu turn, a
silence), with the five built-in skills keeping their state. In-memory: the
Python heap growth (tracemalloc) divided by N. Redis: ``used_memory`` from
``INFO memory`` of a private ``redis-server`` before and after, divided by N.

The Redis store is built on another branch (issue 5). When flask-aiflow has a
Redis URL setting (an ``AIFLOW_*REDIS*URL`` key in ``config.DEFAULTS``), the
app uses it and the figure is the real store's. Until then the figure is labelled
an estimate: each call's record stored as one Redis string with a TTL, the
layout of the memory store's text path.
"""

from __future__ import annotations

import gc
import shutil
import socket
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from flask_aiflow.events import load_event

from .common import call_bodies, free_port, table
from .skills import base_app, redis_setting

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


@contextmanager
def redis_server() -> Iterator[int]:
    """A private, empty redis-server on a free port (no persistence)."""
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed: apt-get install -y redis-server")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.05)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=10)


def used_memory(client: Any) -> int:
    return int(client.info("memory")["used_memory"])


def redis_bytes(calls: int) -> tuple[float, str]:
    import redis

    key = redis_setting()
    with redis_server() as port:
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        if key is not None:
            app, _ = base_app(builtins=True, redis_url=url)
            play_live_calls(app, 20, "warm")
            before = used_memory(client)
            play_live_calls(app, calls, "mem")
            label = "Redis store (flask-aiflow)"
        else:
            app, _ = base_app(builtins=True)
            store = app.extensions["aiflow"].store
            play_live_calls(app, calls, "mem")
            records = [store.load(f"mem-{n}") for n in range(calls)]
            before = used_memory(client)
            pipe = client.pipeline(transaction=False)
            for n, text in enumerate(records):
                pipe.set(f"aiflow:call:mem-{n}", text, ex=7200)
            pipe.execute()
            label = "estimate: one Redis string per call (no Redis store on this branch yet)"
        after = used_memory(client)
        client.close()
    return (after - before) / calls, label


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
        results["redis_bytes"], results["redis_label"] = redis_bytes(calls)
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
