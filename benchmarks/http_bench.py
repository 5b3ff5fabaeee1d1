"""HTTP: the IVR app against a bare Flask webhook and the reference's Express example.

Every target runs at once on its own port, each measured in turn by ``wrk``
(one thread, a fixed number of keep-alive connections, a fixed duration),
round after round, the order rotating each round; a target's figure is its
median over the rounds. Python apps run under four servers (gunicorn sync,
gthread and gevent, and granian), two worker processes each; the Express
example runs as the reference has it, one Node process. With two workers the
IVR app's in-memory store sees only part of each call (the app warns about it);
"ivr+redis" is the same app on the Redis store, the correct setup for several
workers. gunicorn gevent is
the WebSocket deployment (examples/deploy/gunicorn.conf.py) serving webhooks
too. The load generator
shares the machine's two cores with the server under test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import (
    BENCH,
    PYTHON,
    ROOT,
    SECRET,
    bench_env,
    call_events,
    free_port,
    median,
    redis_server,
    server,
    table,
    verdict,
)

WORKERS = 2
THREADS = 8
#: Enough connections that gunicorn's two workers get similar shares of them (a
#: keep-alive connection stays with the worker that accepted it).
CONNECTIONS = 32
#: Calls played side by side (round robin), so one call's events are never sent at once.
CALLS_IN_FLIGHT = 4 * CONNECTIONS
#: The fixed load for the latency comparison: every target can serve it.
PACED_RATE = 1000

#: Targets from the issue.
MIN_THROUGHPUT_VS_BARE = 1.0
MAX_P99_VS_BARE = 1.2
MIN_THROUGHPUT_VS_EXPRESS = 1.7


def ivr_target() -> tuple[str, str]:
    """The IVR example ("module:app") and a label; the echo example until the IVR app exists."""
    if (ROOT / "examples" / "ivr_app.py").exists():
        return "ivr_app:app", "examples/ivr_app.py"
    return "app:app", "examples/app.py (examples/ivr_app.py is not there yet)"


@dataclass
class Target:
    server: str
    app: str
    command: list[str]
    port: int
    cwd: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
    paced: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.app} @ {self.server}"

    def figure(self, key: str, paced: bool = False) -> float:
        return median([run[key] for run in (self.paced if paced else self.runs)])


def python_command(server_kind: str, module_app: str, port: int) -> list[str]:
    bind = ["--bind", f"127.0.0.1:{port}"]
    if server_kind == "gunicorn sync":
        return [PYTHON, "-m", "gunicorn", *bind, "--workers", str(WORKERS), "--worker-class", "sync",
                "--log-level", "warning", module_app]
    if server_kind == "gunicorn gthread":
        return [PYTHON, "-m", "gunicorn", *bind, "--workers", str(WORKERS), "--worker-class", "gthread",
                "--threads", str(THREADS), "--log-level", "warning", module_app]
    if server_kind == "gunicorn gevent":  # examples/deploy/gunicorn.conf.py, the WebSocket deployment
        return [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "examples" / "deploy" / "gunicorn.conf.py"), *bind,
                "--workers", str(WORKERS), "--log-level", "warning", module_app]
    if server_kind == "granian":
        return [PYTHON, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(WORKERS), "--no-access-log", "--log-level", "warning", module_app]
    raise ValueError(server_kind)


SERVERS = ("gunicorn sync", "gunicorn gthread", "gunicorn gevent", "granian")
#: Where the IVR app also runs on the Redis store (correct with several workers).
REDIS_SERVERS = ("gunicorn gevent", "granian")


def build_targets(servers: Sequence[str], redis_url: str | None) -> list[Target]:
    ivr, _ = ivr_target()
    path = f"{ROOT}:{ROOT / 'examples'}:{BENCH}"
    targets = []
    for kind in servers:
        apps: list[tuple[str, str, dict[str, str]]] = [("ivr", ivr, {}), ("bare", "bare_app:app", {})]
        if redis_url and kind in REDIS_SERVERS:
            apps.insert(1, ("ivr+redis", ivr, {"AIFLOW_REDIS_URL": redis_url}))
        for app_name, module_app, extra in apps:
            port = free_port()
            targets.append(Target(kind, app_name, python_command(kind, module_app, port), port,
                                  env=bench_env(PYTHONPATH=path, **extra)))
    port = free_port()
    express = BENCH / "express"
    targets.append(Target("node", "express", ["node", "server.js"], port, cwd=express,
                          env=bench_env(PORT=str(port))))
    return targets


def ensure_express() -> None:
    express = BENCH / "express"
    if not (express / "node_modules" / "express").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=express, check=True)


def write_events_file() -> Path:
    """One event per line with {SID} for the session id, for wrk_calls.lua."""
    path = BENCH / "logs" / "call_events.txt"
    path.parent.mkdir(exist_ok=True)
    lines = [json.dumps(e, separators=(",", ":")).replace('"SIDPLACEHOLDER"', '"{SID}"')
             for e in call_events("SIDPLACEHOLDER")]
    path.write_text("\n".join(lines) + "\n")
    return path


def preflight(target: Target) -> None:
    """Play one call by hand: every answer must be a 200 with JSON or a 204."""
    import urllib.request

    for data in call_events(f"preflight-{target.port}"):
        request = urllib.request.Request(
            f"http://127.0.0.1:{target.port}/webhook", data=json.dumps(data).encode(), method="POST",
            headers={"Content-Type": "application/json", "X-API-TOKEN": SECRET})
        with urllib.request.urlopen(request, timeout=5) as response:
            if response.status not in (200, 204):
                raise RuntimeError(f"{target.name}: {data['type']} answered {response.status}")
            if response.status == 200:
                json.loads(response.read())


def run_wrk(target: Target, seconds: float, events: Path, tag: str, rate: int | None = None) -> dict[str, Any]:
    """One wrk run: as fast as the server answers, or paced to about ``rate`` requests per second."""
    script, paced = "wrk_calls.lua", []
    if rate is not None:
        script, paced = "wrk_calls_paced.lua", [str(round(CONNECTIONS * 1000 / rate))]
    command = [
        "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s",
        "-s", str(BENCH / script), f"http://127.0.0.1:{target.port}/webhook",
        "--", str(events), SECRET, tag, str(CALLS_IN_FLIGHT), *paced,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    line = next(line for line in output.splitlines() if line.startswith("{"))
    result: dict[str, Any] = json.loads(line)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors",
                                               "status_errors", "timeouts"))
    return result


def in_process_us(calls: int, repeats: int) -> dict[str, float]:
    """µs per request inside each Flask app, called as WSGI directly (no server, no sockets): best run."""
    import importlib.util
    import io
    import os

    os.environ.setdefault("AIFLOW_SHARED_SECRET", SECRET)

    def load(name: str, path: Path) -> Any:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.app

    ivr_path = ROOT / "examples" / ivr_target()[0].replace(":app", ".py")
    apps = {"bare": load("bench_bare_app", BENCH / "bare_app.py"), "ivr": load("bench_ivr_wsgi", ivr_path)}
    # The same IVR app with its webhook served through the Flask view (AIFLOW_WEBHOOK_FAST_PATH off).
    os.environ["FLASK_AIFLOW_WEBHOOK_FAST_PATH"] = "false"
    try:
        apps["ivr_view"] = load("bench_ivr_view_wsgi", ivr_path)
    finally:
        del os.environ["FLASK_AIFLOW_WEBHOOK_FAST_PATH"]

    def environ(body: bytes) -> dict[str, Any]:
        return {"REQUEST_METHOD": "POST", "PATH_INFO": "/webhook", "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "CONTENT_LENGTH": str(len(body)),
                "CONTENT_TYPE": "application/json", "HTTP_X_API_TOKEN": SECRET, "REMOTE_ADDR": "127.0.0.1",
                "wsgi.input_terminated": True}  # as gunicorn and granian set it

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        return None

    best = {name: float("inf") for name in apps}
    clock = time.perf_counter
    for round_no in range(repeats):
        for name, app in apps.items():
            environs = [environ(json.dumps(e, separators=(",", ":")).encode())
                        for n in range(calls) for e in call_events(f"wsgi-{name}-{round_no}-{n}")]
            started = clock()
            for env in environs:
                b"".join(app(env, start_response))
            best[name] = min(best[name], (clock() - started) / len(environs) * 1e6)
    return best


def run(quick: bool = False, servers: Sequence[str] = SERVERS) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    ensure_express()
    rounds, seconds = (1, 2) if quick else (5, 4)
    events = write_events_file()
    with ExitStack() as stack:
        try:
            redis_url: str | None = f"redis://127.0.0.1:{stack.enter_context(redis_server())}/0"
        except RuntimeError as exc:
            print(f"(no IVR app on Redis: {exc})", file=sys.stderr)
            redis_url = None
        targets = build_targets(servers, redis_url)
        for target in targets:
            stack.enter_context(server(target.name.replace(" ", "_").replace("@", "at"), target.command,
                                       target.port, env=target.env, cwd=target.cwd))
        for target in targets:
            preflight(target)
            run_wrk(target, 1, events, f"warm{target.port}")
        for round_no in range(rounds):
            shift = round_no % len(targets)
            for target in targets[shift:] + targets[:shift]:
                target.runs.append(run_wrk(target, seconds, events, f"r{round_no}p{target.port}"))
                target.paced.append(run_wrk(target, max(2, seconds - 1), events, f"q{round_no}p{target.port}",
                                            PACED_RATE))
    return {
        "in_process_us": in_process_us(50 if quick else 100, 5 if quick else 15),
        "ivr_label": ivr_target()[1],
        "rounds": rounds,
        "seconds": seconds,
        "connections": CONNECTIONS,
        "paced_rate": PACED_RATE,
        "workers": WORKERS,
        "targets": [
            {"server": t.server, "app": t.app, "rps": t.figure("rps"), "p50_ms": t.figure("p50_us") / 1000,
             "p99_ms": t.figure("p99_us") / 1000, "errors": sum(r["errors"] for r in t.runs + t.paced),
             "paced_rps": t.figure("rps", True), "paced_p50_ms": t.figure("p50_us", True) / 1000,
             "paced_p99_ms": t.figure("p99_us", True) / 1000, "runs": t.runs, "paced": t.paced}
            for t in targets
        ],
    }


def report(results: dict[str, Any]) -> str:
    by = {(t["server"], t["app"]): t for t in results["targets"]}
    rows = [[t["server"], t["app"], t["rps"], t["p50_ms"], t["p99_ms"], t["paced_p50_ms"], t["paced_p99_ms"],
             t["errors"]] for t in results["targets"]]
    express = by[("node", "express")]
    servers = [s for s in SERVERS if (s, "ivr") in by]
    ratio_rows = []
    pairs = [(kind, "ivr") for kind in servers] + [(kind, "ivr+redis") for kind in servers if (kind, "ivr+redis") in by]
    for kind, app_name in pairs:
        ivr, bare = by[(kind, app_name)], by[(kind, "bare")]
        tput = ivr["rps"] / bare["rps"]
        p99 = ivr["p99_ms"] / bare["p99_ms"]
        paced_p99 = ivr["paced_p99_ms"] / bare["paced_p99_ms"]
        vs_express = ivr["rps"] / express["rps"]
        ratio_rows.append([
            kind if app_name == "ivr" else f"{kind} (Redis)",
            f"{tput:.2f} ({verdict(tput >= MIN_THROUGHPUT_VS_BARE)})",
            f"{p99:.2f} ({verdict(p99 <= MAX_P99_VS_BARE)})",
            f"{paced_p99:.2f} ({verdict(paced_p99 <= MAX_P99_VS_BARE)})",
            f"{vs_express:.2f} ({verdict(vs_express >= MIN_THROUGHPUT_VS_EXPRESS)})",
            f"{bare['rps'] / express['rps']:.2f}",
        ])
    best = max(servers, key=lambda kind: by[(kind, "ivr")]["rps"])
    rate = results["paced_rate"]
    lines = [
        f"HTTP webhook: wrk, {results['connections']} keep-alive connections, {results['seconds']} s per run,"
        f" median of {results['rounds']} interleaved rounds; Python servers with {results['workers']} workers;"
        f" IVR app = {results['ivr_label']}; requests play whole calls. Saturated: as fast as answered;"
        f" paced: about {rate:,} requests per second.",
        "",
        table(["server", "app", "req/s", "p50 ms", "p99 ms", "paced p50 ms", "paced p99 ms", "errors"], rows),
        "",
        table(["server", f"IVR/bare req/s (>= {MIN_THROUGHPUT_VS_BARE})",
               f"IVR/bare p99 saturated (<= {MAX_P99_VS_BARE})", f"IVR/bare p99 paced (<= {MAX_P99_VS_BARE})",
               f"IVR/Express req/s (>= {MIN_THROUGHPUT_VS_EXPRESS})", "bare/Express req/s"], ratio_rows),
        "",
        f"Fastest server for the IVR app: {best}.",
    ]
    wsgi = results.get("in_process_us")
    if wsgi:
        view = f", IVR through the Flask view {wsgi['ivr_view']:.1f}" if "ivr_view" in wsgi else ""
        lines += ["", f"Inside the app (called as WSGI, no server, no sockets; best of runs), µs per request:"
                  f" bare {wsgi['bare']:.1f}, IVR {wsgi['ivr']:.1f} on the webhook's fast path{view}"
                  f" (IVR/bare {wsgi['bare'] / wsgi['ivr']:.2f} in requests per second; target >= 1.0:"
                  f" {verdict(wsgi['ivr'] <= wsgi['bare'])})."]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(report(run(quick="--quick" in sys.argv)))
