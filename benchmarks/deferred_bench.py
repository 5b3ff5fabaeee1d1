"""Slow work in flight: 200 concurrent WebSocket calls, with and without slow work, under gunicorn.

Each call sends one event per second in a 4-second cycle
(:mod:`benchmarks.deferred_client`). With slow work, every cycle starts with
a question whose answer takes ``WORK_SECONDS`` in the Deferred pool (about 50
pieces of work in flight at any time); without, the same event is answered at
once. The *other events* (two plain caller turns per cycle) are measured in
both runs: their p99 with slow work in flight must stay within 1.2x of the run
without, and no event may wait for another call's work (none takes as long
as a piece of work).
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from .common import PYTHON, ROOT, SECRET, bench_env, client_errors, free_port, server, table, verdict
from .ws_bench import gunicorn_command

WORKER_CLASSES = ("gevent", "gthread")
CALLS = 200
WORK_SECONDS = 1.0
MAX_RATIO = 1.2


def run_once(worker_class: str, slow: bool, seconds: float) -> dict[str, Any]:
    port = free_port()
    env = bench_env(AIFLOW_APP="benchmarks.deferred_app:app", BENCH_WORK_SECONDS=str(WORK_SECONDS))
    name = f"deferred_{worker_class}_{'slow' if slow else 'quick'}"
    with server(name, gunicorn_command(worker_class, port), port, env=env):
        client = subprocess.run(
            [PYTHON, "-m", "benchmarks.deferred_client", f"ws://127.0.0.1:{port}/ws", "--calls", str(CALLS),
             "--seconds", str(seconds), "--secret", SECRET, *(["--slow"] if slow else [])],
            cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=seconds + 180,
        )
    if client.returncode != 0:
        raise RuntimeError(f"deferred_client failed: {client.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(client.stdout.strip().splitlines()[-1])
    result["worker_class"] = worker_class
    return result


def run(quick: bool = False) -> dict[str, Any]:
    seconds = 8.0 if quick else 24.0
    runs = [run_once(kind, slow, seconds) for kind in WORKER_CLASSES for slow in (False, True)]
    return {"seconds": seconds, "calls": CALLS, "work_seconds": WORK_SECONDS, "runs": runs}


def report(results: dict[str, Any]) -> str:
    rows = []
    by_class: dict[str, dict[bool, dict[str, Any]]] = {}
    for r in results["runs"]:
        by_class.setdefault(r["worker_class"], {})[r["slow"]] = r
    for kind, pair in by_class.items():
        quick, slow = pair[False], pair[True]
        ratio = slow["other_p99_ms"] / quick["other_p99_ms"]
        waited = slow["other_max_ms"] >= 1000 * results["work_seconds"]
        once = slow["answers"] == slow["questions"]
        ok = ratio <= MAX_RATIO and not waited and once
        for r in (quick, slow):
            rows.append([kind, "yes" if r["slow"] else "no", r["other_events"], r["other_p50_ms"], r["other_p99_ms"],
                         r["other_max_ms"], r["filler_p99_ms"] if r["slow"] else "",
                         f"{r['answers']}/{r['questions']}" if r["slow"] else "",
                         r["answer_p50_s"] if r["slow"] else "", r["answer_p99_s"] if r["slow"] else "",
                         "" if not r["slow"] else f"p99 x{ratio:.2f} (<= {MAX_RATIO}), max < work,"
                         f" one answer each: {verdict(ok)}"])
    lines = [
        f"Slow work: gunicorn (examples/deploy/gunicorn.conf.py, 2 workers), {results['calls']} WebSocket calls,"
        f" one event per second each, {results['seconds']:.0f} s; with slow work every call asks a question"
        f" every 4 s whose answer takes {results['work_seconds']:g} s in the Deferred pool",
        "",
        table(["worker class", "slow work", "other events", "p50 ms", "p99 ms", "max ms", "filler p99 ms",
               "answers/questions", "answer p50 s", "answer p99 s", "target"], rows),
    ]
    lines += client_errors(results["runs"])
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(report(run(quick="--quick" in sys.argv)))
