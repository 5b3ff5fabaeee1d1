"""WebSocket closed-loop client: many calls, each sending its next event as soon as the last is answered.

Runs in its own process (``python -m benchmarks.ws_closed_client URL ...``).
Every call opens its connection first; when all are open, each sends
``--events`` ``user_speak`` events in turn, waiting for the answer to one
before it sends the next (the one event type every server under comparison
answers), then ``session_end``. Prints one JSON object: answered events per
second over the whole loop, and the event->action latency percentiles.
``benchmarks/ws_node/closed_client.js`` does the same in Node, at about a
third of this client's CPU per event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import websockets

from .ws_client import message

#: How long one answer may take before the call counts as dropped.
ANSWER_TIMEOUT = 10.0


async def play_call(n: int, args: argparse.Namespace, start: asyncio.Event, opened: list[int],
                    latencies: list[float], errors: dict[str, int]) -> None:
    session_id = f"closed-{args.tag}-{n}"
    try:
        async with websockets.connect(
            args.url, additional_headers={"X-API-TOKEN": args.secret}, open_timeout=60,
            ping_interval=None, close_timeout=5, compression=None,
        ) as ws:
            opened[0] += 1
            await start.wait()
            clock = time.perf_counter
            for index in range(args.events):
                sent = clock()
                await ws.send(message("user_speak", session_id, {"text": f"question {index} about my order"}))
                await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT)
                latencies.append((clock() - sent) * 1000)
            await ws.send(message("session_end", session_id, {}))
    except Exception as exc:  # noqa: BLE001 - every failure is a dropped call, counted and named
        key = f"{type(exc).__name__}: {exc}"[:120]
        errors[key] = errors.get(key, 0) + 1


async def main(args: argparse.Namespace) -> dict[str, Any]:
    start = asyncio.Event()
    opened = [0]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    tasks = [asyncio.create_task(play_call(n, args, start, opened, latencies, errors)) for n in range(args.calls)]
    deadline = time.monotonic() + 120
    while opened[0] + sum(errors.values()) < args.calls and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    started = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))] if latencies else float("nan")

    return {"calls": args.calls, "events_per_call": args.events, "answered": len(latencies),
            "dropped": sum(errors.values()), "wall_s": wall, "events_per_s": len(latencies) / wall,
            "p50_ms": pct(50), "p99_ms": pct(99), "errors": errors}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--tag", default="x")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
