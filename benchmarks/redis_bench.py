"""Redis: the IVR app on the in-memory store, a Redis and a Redis Cluster, side by side.

The same app (examples/ivr_app.py) under granian with two worker processes on
three stores, all running at once, each measured in turn by ``wrk`` round
after round (order rotating): as fast as answered, and paced at a fixed rate
for latency. With two workers the in-memory store sees only part of each call
(the app warns); it is the ceiling a networked store is held against. The
Redis runs without persistence; the cluster has three primaries with a
replica each, all on this machine. "redis (unix socket)" is the same Redis
reached over its Unix socket, as an app on Redis's own host can.

A fourth target, "floor" (benchmarks/floor_app.py), is the in-memory store
plus two bare round trips per event to the same Redis, with no client library,
script or record codec: the distance from memory to the floor is what two
round trips cost on the machine, from the floor to "redis" what the store
adds on top.

Besides the speed: the commands each event sends to Redis (``INFO
commandstats`` over a run, less what the scripts call inside Redis; two
scripts per event make two round trips), and the memory a live call takes
in Redis (``used_memory`` with a few thousand calls left open mid-call).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from .common import BENCH, ROOT, bench_env, call_events, free_port, redis_server, server, table, verdict
from .http_bench import (
    CALLS_IN_FLIGHT,
    PACED_RATE,
    Target,
    ivr_target,
    preflight,
    python_command,
    run_wrk,
    write_events_file,
)

#: Targets from the issue: the Redis store against the in-memory one.
MIN_THROUGHPUT_VS_MEMORY = 0.6
MAX_PACED_P99_VS_MEMORY = 2.0
#: What the store's scripts call inside Redis (also counted by INFO commandstats).
SCRIPT_COMMANDS = {"get", "set", "del", "incr", "pexpire", "pttl", "expire", "rpush", "ltrim"}
#: Calls left open to weigh a call's memory.
MEMORY_CALLS = 2000
#: The in-memory store plus two bare round trips to the Redis per event (benchmarks/floor_app.py):
#: what any store of two round trips per event pays at least.
FLOOR = "floor"
#: The same Redis reached over its Unix socket (a Redis on the app's own host): no TCP on either side.
UNIX = "redis (unix socket)"


def _client(port: int) -> Any:
    import redis

    return redis.Redis(host="127.0.0.1", port=port, decode_responses=True)


def _wait(what: str, check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def redis_cluster() -> Iterator[list[int]]:
    """Three primaries and three replicas on free ports; yields the ports (primaries first once created)."""
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        raise RuntimeError("redis-server and redis-cli are needed: apt-get install -y redis-server")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        ports = [free_port() for _ in range(6)]
        for number, port in enumerate(ports):
            directory = Path(tmp) / str(number)
            directory.mkdir()
            process = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(directory), "--cluster-enabled", "yes", "--cluster-port", str(free_port())],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stack.callback(process.wait, 10)
            stack.callback(process.terminate)
            _wait(f"redis-server on {port}", lambda p=port: _client(p).ping())
        subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{port}" for port in ports),
                        "--cluster-replicas", "1", "--cluster-yes"], check=True, capture_output=True)
        _wait("the cluster", lambda: all(_client(p).cluster("info")["cluster_state"] == "ok" for p in ports))
        yield ports


def primaries(ports: list[int]) -> list[int]:
    return [port for port in ports if _client(port).info("replication")["role"] == "master"]


def reset_stats(ports: list[int]) -> None:
    for port in ports:
        _client(port).config_resetstat()


def client_commands(ports: list[int]) -> dict[str, int]:
    """Commands sent by clients since the last reset, summed over ``ports``."""
    counts: dict[str, int] = {}
    for port in ports:
        for name, value in _client(port).info("commandstats").items():
            command = name.removeprefix("cmdstat_")
            if command not in SCRIPT_COMMANDS:
                counts[command] = counts.get(command, 0) + int(value["calls"])
    return counts


def memory_per_call(url: str, ports: list[int]) -> float:
    """Bytes of Redis memory per live call, with the calls left open after their fourth event."""
    import os

    os.environ.setdefault("AIFLOW_SHARED_SECRET", "bench-secret")
    sys.path[:0] = [str(ROOT), str(ROOT / "examples")]
    from ivr_app import create_app  # type: ignore[import-not-found]

    app = create_app({"AIFLOW_STATE_STORE": url, "AIFLOW_REDIS_PREFIX": "mem:", "AIFLOW_SHARED_SECRET": "s"})
    client = app.test_client()

    def used() -> int:
        return sum(int(_client(port).info("memory")["used_memory"]) for port in ports)

    before = used()
    for number in range(MEMORY_CALLS):
        for data in call_events(f"memory-call-{number}")[:4]:
            client.post("/webhook", json=data, headers={"X-API-TOKEN": "s"})
    return (used() - before) / MEMORY_CALLS


def run(quick: bool = False) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    rounds, seconds = (1, 2) if quick else (5, 4)
    events = write_events_file()
    ivr, _ = ivr_target()
    path = f"{ROOT}:{ROOT / 'examples'}:{BENCH}"
    with ExitStack() as stack:
        unix_socket = str(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "redis.sock")
        single_port = stack.enter_context(redis_server(unix_socket))
        cluster_ports = stack.enter_context(redis_cluster())
        stores = {
            "memory": ("", []),
            "redis": (f"redis://127.0.0.1:{single_port}/0", [single_port]),
            UNIX: (f"unix://{unix_socket}?db=0", [single_port]),
            "redis cluster": (f"redis+cluster://127.0.0.1:{cluster_ports[0]}", primaries(cluster_ports)),
        }
        targets: dict[str, Target] = {}
        for name, (url, _) in stores.items():
            port = free_port()
            extra = {"AIFLOW_REDIS_URL": url} if url else {}
            targets[name] = Target("granian", name, python_command("granian", ivr, port), port,
                                   env=bench_env(PYTHONPATH=path, **extra))
        port = free_port()  # the floor: two bare round trips per event, nothing else (benchmarks/floor_app.py)
        targets[FLOOR] = Target("granian", FLOOR, python_command("granian", "floor_app:app", port), port,
                                env=bench_env(PYTHONPATH=path, FLOOR_REDIS_URL=f"redis://127.0.0.1:{single_port}"))
        for name, target in targets.items():
            stack.enter_context(server(f"redis_bench_{name.replace(' ', '_')}", target.command, target.port,
                                       env=target.env, cwd=target.cwd))
        for target in targets.values():
            preflight(target)
            run_wrk(target, 1, events, f"warm{target.port}")
        commands: dict[str, dict[str, float]] = {}
        order = list(targets)
        for round_no in range(rounds):
            shift = round_no % len(order)
            for name in order[shift:] + order[:shift]:
                target, ports = targets[name], stores.get(name, ("", []))[1]
                reset_stats(ports)
                result = run_wrk(target, seconds, events, f"r{round_no}p{target.port}")
                target.runs.append(result)
                if ports and round_no == 0:
                    counts = client_commands(ports)
                    counts.pop("info", None)
                    counts.pop("config|resetstat", None)
                    commands[name] = {k: v / result["requests"] for k, v in sorted(counts.items())}
                target.paced.append(run_wrk(target, max(2, seconds - 1), events, f"q{round_no}p{target.port}",
                                            PACED_RATE))
        memory = {name: memory_per_call(url, ports) for name, (url, ports) in stores.items() if url and name != UNIX}
    return {
        "rounds": rounds,
        "seconds": seconds,
        "calls_in_flight": CALLS_IN_FLIGHT,
        "paced_rate": PACED_RATE,
        "commands_per_request": commands,
        "memory_per_call": memory,
        "targets": [
            {"store": name, "rps": t.figure("rps"), "p50_ms": t.figure("p50_us") / 1000,
             "p99_ms": t.figure("p99_us") / 1000, "paced_p50_ms": t.figure("p50_us", True) / 1000,
             "paced_p99_ms": t.figure("p99_us", True) / 1000,
             "errors": sum(r["errors"] for r in t.runs + t.paced), "runs": t.runs, "paced": t.paced}
            for name, t in targets.items()
        ],
    }


def report(results: dict[str, Any]) -> str:
    by = {t["store"]: t for t in results["targets"]}
    memory = by["memory"]
    rows = []
    for name, t in by.items():
        tput = t["rps"] / memory["rps"]
        p99 = t["paced_p99_ms"] / memory["paced_p99_ms"]
        rows.append([
            name, t["rps"], t["p50_ms"], t["p99_ms"], t["paced_p50_ms"], t["paced_p99_ms"], t["errors"],
            "-" if name == "memory" else f"{tput:.2f} ({verdict(tput >= MIN_THROUGHPUT_VS_MEMORY)})",
            "-" if name == "memory" else f"{p99:.2f} ({verdict(p99 <= MAX_PACED_P99_VS_MEMORY)})",
        ])
    command_rows = [
        [name, f"{sum(counts.values()):.2f}", ", ".join(f"{k} {v:.2f}" for k, v in counts.items())]
        for name, counts in results["commands_per_request"].items()
    ]
    memory_rows = [[name, f"{size:,.0f}"] for name, size in results["memory_per_call"].items()]
    return "\n".join([
        f"Redis store: the IVR app under granian (2 workers) on three stores, wrk with"
        f" {results['calls_in_flight']} calls in flight, {results['seconds']} s per run, median of"
        f" {results['rounds']} interleaved rounds; paced: about {results['paced_rate']:,} requests per second."
        " Redis and the cluster (3 primaries, 3 replicas) run on the same machine, without persistence."
        " floor: the in-memory store plus two bare round trips to the Redis per event (no client library,"
        " script or codec; benchmarks/floor_app.py), what any two-round-trip store pays at least.",
        "",
        table(["store", "req/s", "p50 ms", "p99 ms", "paced p50 ms", "paced p99 ms", "errors",
               f"req/s vs memory (>= {MIN_THROUGHPUT_VS_MEMORY})",
               f"paced p99 vs memory (<= {MAX_PACED_P99_VS_MEMORY})"], rows),
        "",
        "Commands sent to Redis per request (INFO commandstats over the first saturated run, without what the"
        " scripts run inside Redis; every command of a request goes in one of its two round trips):",
        "",
        table(["store", "commands per request", "by command"], command_rows),
        "",
        f"Redis memory per live call ({MEMORY_CALLS:,} calls left open after four events; the cluster's figure"
        " counts the primaries only):",
        "",
        table(["store", "bytes per call"], memory_rows),
    ])


if __name__ == "__main__":
    print(report(run(quick="--quick" in sys.argv)))
