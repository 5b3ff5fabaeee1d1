"""WebSocket: a closed loop against the reference's Node ``ws`` example, and 100, 500 and 1,000 paced calls.

Closed loop (:mod:`benchmarks.ws_closed_client`): 500 calls at once, each
sending 60 ``user_speak`` events one after the other as fast as they are
answered, against the IVR app under gunicorn with the production
configuration (``examples/deploy/gunicorn.conf.py``, gevent) and against
the reference's Node.js example (``benchmarks/ws_node``, the ``ws`` package)
on the same machine; the figure is answered events per second. Each server
is measured with two clients, the same way: the Python one (asyncio,
``websockets``) and ``benchmarks/ws_node/closed_client.js`` (Node, ``ws``),
which needs about half the CPU per event; on two shared cores the client's
CPU is taken from the server's, and the Python client alone can send little
more than the Node server answers. Beside events per second, the server's
and the client's CPU per answered event (from /proc and the client's rusage)
show where the time goes independently of the machine's load.

Paced:

For each gunicorn worker class (gevent, gthread) and each number of calls, a
fresh server runs the IVR app with the production configuration
(``examples/deploy/gunicorn.conf.py``; gthread replaces its worker class) and a separate client process
(:mod:`benchmarks.ws_client`) opens the calls at a bounded rate, then measures
event->action latency for a fixed time. A dropped call is a connection that
failed to open or closed before its call ended. The server's CPU use and its
peak resident memory (all its processes; idle before the calls in brackets)
are read from /proc; CPU 100% is one core.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .common import PYTHON, ROOT, SECRET, bench_env, client_errors, free_port, server, table, verdict
from .http_bench import ivr_target

WORKERS = 2
DEPLOY_CONFIG = ROOT / "examples" / "deploy" / "gunicorn.conf.py"
WORKER_CLASSES = ("gevent", "gthread")
LEVELS = (100, 500, 1000)
#: Target from the issue, at 1,000 calls.
MAX_P99_MS = 50.0
#: Closed loop: calls, events per call, and the target ratio to the Node example.
CLOSED_CALLS, CLOSED_EVENTS = 500, 60
MIN_CLOSED_VS_NODE = 1.0
NODE_DIR = Path(__file__).resolve().parent / "ws_node"


def gunicorn_command(worker_class: str, port: int) -> list[str]:
    """The production config (examples/deploy/gunicorn.conf.py), with the worker class to compare."""
    command = [PYTHON, "-m", "gunicorn", "-c", str(DEPLOY_CONFIG), "--bind", f"127.0.0.1:{port}",
               "--workers", str(WORKERS), "--log-level", "warning"]
    if worker_class == "gthread":  # a WebSocket holds its thread for the whole call: one per call, and spare
        command += ["--worker-class", "gthread", "--threads", "1100"]
    return command


def cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every process in a process group."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields[2] is pgrp (field 5 of stat)
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def rss_mib(pgid: int) -> float:
    """Resident memory of every process in a process group, MiB."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class PeakRss:
    """Samples a process group's RSS in a thread; ``peak`` is the largest seen."""

    def __init__(self, pgid: int) -> None:
        self.pgid = pgid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, rss_mib(self.pgid))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_level(worker_class: str, calls: int, seconds: float) -> dict[str, Any]:
    module_app, _ = ivr_target()
    port = free_port()
    env = bench_env(PYTHONPATH=f"{ROOT}:{ROOT / 'examples'}", AIFLOW_APP=module_app)
    with server(f"ws_{worker_class}_{calls}", gunicorn_command(worker_class, port), port, env=env) as srv:
        cpu_before = cpu_seconds(srv.process.pid)
        idle_rss = rss_mib(srv.process.pid)
        with PeakRss(srv.process.pid) as rss:
            client = subprocess.run(
                [PYTHON, "-m", "benchmarks.ws_client", f"ws://127.0.0.1:{port}/ws", "--calls", str(calls),
                 "--seconds", str(seconds), "--secret", SECRET, "--tag", f"{worker_class}{calls}"],
                cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=seconds + calls / 50 + 120,
            )
        cpu = cpu_seconds(srv.process.pid) - cpu_before
    if client.returncode != 0:
        raise RuntimeError(f"ws_client failed: {client.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(client.stdout.strip().splitlines()[-1])
    result["server_cpu_percent"] = 100 * cpu / result["wall_s"]
    result["server_rss_mib"] = rss.peak
    result["idle_rss_mib"] = idle_rss
    result["worker_class"] = worker_class
    return result


#: The closed-loop clients: the Python one and the Node one (same calls, messages and output).
CLOSED_CLIENTS = ("python", "node")


def closed_client_command(client: str, url: str, calls: int, events: int, tag: str) -> list[str]:
    options = ["--calls", str(calls), "--events", str(events), "--secret", SECRET, "--tag", tag]
    if client == "node":
        return ["node", str(NODE_DIR / "closed_client.js"), url, *options]
    return [PYTHON, "-m", "benchmarks.ws_closed_client", url, *options]


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def closed_loop(name: str, command: list[str], port: int, calls: int, events: int, client: str = "python",
                **server_args: Any) -> dict[str, Any]:
    """One closed-loop run against a server started with ``command``, with the CPU each side spent."""
    with server(f"ws_closed_{name}_{client}", command, port, **server_args) as srv:
        server_before, client_before = cpu_seconds(srv.process.pid), children_cpu_seconds()
        run = subprocess.run(
            closed_client_command(client, f"ws://127.0.0.1:{port}/ws", calls, events, name),
            cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=600,
        )
        client_cpu = children_cpu_seconds() - client_before  # the client has been waited for; the server not yet
        server_cpu = cpu_seconds(srv.process.pid) - server_before
    if run.returncode != 0:
        raise RuntimeError(f"closed-loop client ({client}) failed: {run.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    answered = max(1, result["answered"])
    result.update(server=name, client=client, server_us_per_event=1e6 * server_cpu / answered,
                  client_us_per_event=1e6 * client_cpu / answered)
    return result


def run_closed(quick: bool) -> list[dict[str, Any]]:
    """The IVR app (production gunicorn config) and the Node example, one after the other, with each client."""
    calls, events = (100, 20) if quick else (CLOSED_CALLS, CLOSED_EVENTS)
    if not (NODE_DIR / "node_modules" / "ws").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True)
    module_app, _ = ivr_target()
    env = bench_env(PYTHONPATH=f"{ROOT}:{ROOT / 'examples'}", AIFLOW_APP=module_app)
    results = []
    for client in CLOSED_CLIENTS:
        port = free_port()
        results.append(closed_loop("gunicorn", gunicorn_command("gevent", port), port, calls, events, client, env=env))
        port = free_port()
        results.append(closed_loop("node", ["node", "server.js"], port, calls, events, client,
                                   env=bench_env(PORT=str(port)), cwd=NODE_DIR, ready_path="/"))
    return results


def run(quick: bool = False, worker_classes: Sequence[str] = WORKER_CLASSES,
        levels: Sequence[int] = LEVELS) -> dict[str, Any]:
    seconds = 6.0 if quick else 20.0
    closed = run_closed(quick)
    if quick:
        levels = [level for level in levels if level in (100, 1000)]
    runs = [run_level(kind, calls, seconds) for kind in worker_classes for calls in levels]
    return {"seconds": seconds, "workers": WORKERS, "ivr_label": ivr_target()[1], "runs": runs, "closed": closed}


def report_closed(closed: list[dict[str, Any]]) -> str:
    rows = [[r.get("client", "python"), r["server"], r["calls"], r["events_per_call"], r["answered"], r["dropped"],
             r["events_per_s"], r["p50_ms"], r["p99_ms"], r.get("server_us_per_event", float("nan")),
             r.get("client_us_per_event", float("nan"))] for r in closed]
    lines = [
        f"WebSocket closed loop: {closed[0]['calls']} calls at once, {closed[0]['events_per_call']} user_speak events"
        " each, the next sent when the last is answered; IVR app under gunicorn (examples/deploy/gunicorn.conf.py,"
        f" gevent, {WORKERS} workers) against the reference's Node.js `ws` example (benchmarks/ws_node), each with"
        " the Python client and the Node client",
        "",
        table(["client", "server", "calls", "events/call", "answered", "dropped", "events/s", "p50 ms", "p99 ms",
               "server CPU µs/event", "client CPU µs/event"], rows),
        "",
    ]
    by_client: dict[str, dict[str, dict[str, Any]]] = {}
    for r in closed:
        by_client.setdefault(r.get("client", "python"), {})[r["server"]] = r
    for client, runs in by_client.items():
        ratio = runs["gunicorn"]["events_per_s"] / runs["node"]["events_per_s"]
        lines.append(f"IVR app / Node example, {client} client: {ratio:.2f}x (target >= {MIN_CLOSED_VS_NODE:.1f}x:"
                     f" {verdict(ratio >= MIN_CLOSED_VS_NODE)})")
    return "\n".join(lines)


def report(results: dict[str, Any]) -> str:
    rows = []
    for r in results["runs"]:
        target = ""
        if r["calls"] == 1000:
            ok = r["p99_ms"] < MAX_P99_MS and r["dropped"] == 0
            target = f"p99 < {MAX_P99_MS:.0f} ms, none dropped: {verdict(ok)}"
        rows.append([r["worker_class"], r["calls"], r["sent"], r["replies"], r["p50_ms"], r["p99_ms"],
                     r["dropped"], f"{r['server_cpu_percent']:.0f}%",
                     f"{r['server_rss_mib']:.0f} ({r['idle_rss_mib']:.0f})", target])
    lines = [
        *([report_closed(results["closed"]), ""] if "closed" in results else []),
        f"WebSocket: gunicorn with examples/deploy/gunicorn.conf.py, {results['workers']} workers,"
        f" IVR app = {results['ivr_label']};"
        f" each call sends one event per second; {results['seconds']:.0f} s measured after all calls are open",
        "",
        table(["worker class", "calls", "events", "actions", "p50 ms", "p99 ms", "dropped", "server CPU",
               "server MiB (idle)", "target"],
              rows),
    ]
    lines += client_errors(results["runs"])
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(report(run(quick="--quick" in sys.argv)))
