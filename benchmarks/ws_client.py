"""WebSocket load client: many concurrent calls, each sending one event per second.

Runs in its own process (``python -m benchmarks.ws_client ...``) so its work is
not counted against the server; it still shares the machine's cores. One
asyncio task per call: it connects (connections are opened at a bounded rate),
plays a call script at one event per second (the calls' seconds are staggered
so the load is even), and a reader task timestamps every action that comes
back. An action belongs to the event sent last on that connection (events are
a second apart; actions take milliseconds), so event->action latency is the
time between the two. Prints one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import websockets

#: How a call begins: the greeting, then a choice in the IVR's menu.
OPENING: tuple[tuple[str, dict[str, Any]], ...] = (
    ("session_start", {}),
    ("assistant_speak", {"text": "Welcome", "duration_ms": 2400, "speech_started_at": 1700000000000}),
    ("assistant_speech_ended", {}),
    ("user_speak", {"text": "support please"}),
)

#: The steady part of a call, repeated: a question the menu answers, then a silence.
TURN: tuple[tuple[str, dict[str, Any]], ...] = (
    ("assistant_speak", {"text": "Which one?", "duration_ms": 1800, "speech_started_at": 1700000004000}),
    ("assistant_speech_ended", {}),
    ("user_speak", {"text": "my router is broken"}),
    ("assistant_speak", {"text": "Please restart", "duration_ms": 2500, "speech_started_at": 1700000008000}),
    ("assistant_speech_ended", {}),
    ("user_input_timeout", {}),
)


def message(event_type: str, session_id: str, fields: dict[str, Any]) -> str:
    session = {"id": session_id, "account_id": "account-bench", "phone_number": "+4930123456",
               "direction": "inbound", "from_phone_number": "+4917099999", "to_phone_number": "+4930123456"}
    return json.dumps({"type": event_type, **fields, "session": session}, separators=(",", ":"))


@dataclass
class Totals:
    connected: int = 0
    completed: int = 0
    dropped: int = 0
    sent: int = 0
    replies: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, exc: BaseException) -> None:
        key = f"{type(exc).__name__}: {exc}"[:120]
        self.errors[key] = self.errors.get(key, 0) + 1


async def play_call(n: int, args: argparse.Namespace, t0: float, totals: Totals) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, t0 + n / args.connect_rate - loop.time()))
    session_id = f"ws-{args.tag}-{n}"
    measure_from = t0 + args.calls / args.connect_rate + 1.0  # after the ramp
    stop_at = measure_from + args.seconds
    last_sent = [0.0]
    try:
        async with websockets.connect(
            args.url,
            additional_headers={"X-API-TOKEN": args.secret},
            open_timeout=30,
            ping_interval=None,
            close_timeout=5,
            compression=None,
        ) as ws:
            totals.connected += 1

            async def read() -> None:
                async for _ in ws:
                    now = loop.time()
                    if last_sent[0] >= measure_from:
                        totals.replies += 1
                        totals.latencies_ms.append((now - last_sent[0]) * 1000)

            reader = asyncio.create_task(read())
            # stagger: call n sends at its own fraction of every second
            next_at = loop.time() + (n % 1000) / 1000
            index = 0
            while loop.time() < stop_at:
                await asyncio.sleep(max(0.0, next_at - loop.time()))
                if index < len(OPENING):
                    event_type, fields = OPENING[index]
                else:
                    event_type, fields = TURN[(index - len(OPENING)) % len(TURN)]
                last_sent[0] = loop.time()
                await ws.send(message(event_type, session_id, fields))
                if last_sent[0] >= measure_from:
                    totals.sent += 1
                index += 1
                next_at += 1.0
                if reader.done():
                    raise ConnectionError("the server closed the connection")
            await ws.send(message("session_end", session_id, {}))
            await asyncio.sleep(0.2)
            reader.cancel()
            totals.completed += 1
    except Exception as exc:  # noqa: BLE001 - every failure is a dropped call, counted and named
        totals.dropped += 1
        totals.error(exc)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    totals = Totals()
    t0 = asyncio.get_running_loop().time() + 0.2
    started = time.monotonic()
    await asyncio.gather(*(play_call(n, args, t0, totals) for n in range(args.calls)))
    latencies = sorted(totals.latencies_ms)

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))] if latencies else float("nan")

    return {
        "calls": args.calls, "connected": totals.connected, "completed": totals.completed,
        "dropped": totals.dropped, "sent": totals.sent, "replies": totals.replies,
        "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": latencies[-1] if latencies else float("nan"),
        "wall_s": time.monotonic() - started, "errors": totals.errors,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time after the ramp")
    parser.add_argument("--connect-rate", type=float, default=200.0, help="new connections per second")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--tag", default="x")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
