"""Run the benchmarks: ``python -m benchmarks [--quick] [--only PART,...]``.

Parts: ``protocol`` (event decode and action encode), ``dispatch`` (in-process pipeline vs direct calls), ``http`` (IVR app,
bare Flask and Express under wrk), ``websocket`` (concurrent calls under
gunicorn), ``ws_split`` (where a WebSocket event's time goes, in one process), ``memory`` (bytes per live call), ``redis`` (the IVR app on the
in-memory store, a Redis and a Redis Cluster side by side), ``deferred`` (200
calls with slow work in flight), ``llm`` (time to the LLM skill's first spoken
sentence against the model's own). Figures and ratios are printed
as Markdown and saved to ``benchmarks/logs/results.md`` and ``results.json``.
These are measurements, not tests: nothing here passes or fails a build.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from importlib.metadata import version

from . import (
    deferred_bench,
    dispatch_bench,
    http_bench,
    llm_first_sentence,
    memory_bench,
    protocol_bench,
    redis_bench,
    ws_bench,
    ws_split,
)
from .common import BENCH

PARTS = {
    "protocol": protocol_bench,
    "dispatch": dispatch_bench,
    "http": http_bench,
    "websocket": ws_bench,
    "ws_split": ws_split,
    "memory": memory_bench,
    "redis": redis_bench,
    "deferred": deferred_bench,
    "llm": llm_first_sentence,
}


def _tool_version(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        return "missing"
    output = subprocess.run(command, capture_output=True, text=True).stdout or ""
    return output.strip().splitlines()[0] if output.strip() else "?"


def machine() -> str:
    def v(name: str) -> str:
        try:
            return version(name)
        except Exception:  # noqa: BLE001
            return "missing"

    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, flask {v('flask')},"
        f" gunicorn {v('gunicorn')}, gevent {v('gevent')}, granian {v('granian')},"
        f" node {_tool_version(['node', '--version'])}, {_tool_version(['wrk', '--version'])[:9]};"
        f" load average at start {load[0]:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs, for trying the setup (noisy figures)")
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts (default: all)")
    parser.add_argument("--servers", default=",".join(http_bench.SERVERS),
                        help="comma-separated Python servers for the http part (default: all)")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}; choose from {', '.join(PARTS)}")

    command = "python -m benchmarks" + (" --quick" if args.quick else "") + (
        f" --only {','.join(parts)}" if parts != list(PARTS) else "") + (
        f" --servers '{args.servers}'" if args.servers != ",".join(http_bench.SERVERS) else "")
    sections = [f"`{command}` on {machine()}"]
    print(sections[0], flush=True)
    results = {}
    for part in parts:
        started = time.monotonic()
        print(f"\n... {part}", file=sys.stderr, flush=True)
        if part == "http":
            servers = tuple(s.strip() for s in args.servers.split(",") if s.strip())
            results[part] = http_bench.run(quick=args.quick, servers=servers)
        else:
            results[part] = PARTS[part].run(quick=args.quick)
        text = PARTS[part].report(results[part])
        print(f"\n{text}\n({part}: {time.monotonic() - started:.0f} s)", flush=True)
        sections.append(text)
    logs = BENCH / "logs"
    logs.mkdir(exist_ok=True)
    (logs / "results.md").write_text("\n\n".join(sections) + "\n")
    (logs / "results.json").write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
