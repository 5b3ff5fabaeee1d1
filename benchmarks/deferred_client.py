"""Load client of the slow-work benchmark: concurrent WebSocket calls, one event per second each.

Each call repeats a 4-second cycle (the calls' cycles are staggered):

0. ``user_speak`` "order ..." with ``--slow`` (answered by a filler, and the
   slow work starts), else "hello" (answered at once);
1. ``assistant_speech_ended`` (the filler has ended: the work's answer is
   pushed when it is ready);
2. and 3. ``user_speak`` "hello" / "hello again", answered at once: the
   *other events*, whose latency is measured.

Prints one JSON object: latencies of the other events, of the fillers, the
time from a question to its pushed answer, and how many answers arrived per
question (exactly one each is right). The first cycle, while the calls
connect, is not measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from typing import Any

import websockets


def message(event_type: str, session_id: str, **fields: Any) -> str:
    session = {"id": session_id, "account_id": "bench", "phone_number": "+4930123456", "direction": "inbound",
               "from_phone_number": "+4917099999", "to_phone_number": "+4930123456"}
    return json.dumps({"type": event_type, **fields, "session": session}, separators=(",", ":"))


class Totals:
    def __init__(self) -> None:
        self.other_ms: list[float] = []
        self.filler_ms: list[float] = []
        self.answer_s: list[float] = []
        self.questions = 0
        self.answers = 0
        self.errors: dict[str, int] = {}


async def call(
    url: str, secret: str, slow: bool, offset: float, measure_from: float, until: float, totals: Totals
) -> None:
    session_id = uuid.uuid4().hex
    async with websockets.connect(url, additional_headers={"X-API-TOKEN": secret}, max_size=None) as ws:
        await ws.send(message("session_start", session_id))
        sent: dict[str, float] = {}

        async def read() -> None:
            async for raw in ws:
                now = time.perf_counter()
                text = json.loads(raw).get("text", "")
                if text.startswith("You said"):
                    started = sent.pop("other", None)
                    if started is not None and started >= measure_from:
                        totals.other_ms.append((now - started) * 1000)
                elif text.startswith("One moment"):
                    if sent["question"] >= measure_from:
                        totals.filler_ms.append((now - sent["question"]) * 1000)
                elif text.startswith("Your order") and sent["question"] >= measure_from:
                    totals.answers += 1
                    totals.answer_s.append(now - sent["question"])

        reader = asyncio.create_task(read())
        await asyncio.sleep(offset)
        step = 0
        while time.perf_counter() < until:
            slot = step % 4
            if slot == 0:
                sent["question"] = time.perf_counter()
                if slow and sent["question"] >= measure_from:
                    totals.questions += 1
                text = "order status" if slow else "hello there"
                await ws.send(message("user_speak", session_id, text=text))
            elif slot == 1:
                await ws.send(message("assistant_speech_ended", session_id))
            else:
                sent["other"] = time.perf_counter()
                await ws.send(message("user_speak", session_id, text="hello" if slot == 2 else "hello again"))
            step += 1
            await asyncio.sleep(1.0)
        # the last question's filler ends, and its answer (if any) arrives
        await ws.send(message("assistant_speech_ended", session_id))
        await asyncio.sleep(ANSWER_GRACE)
        await ws.send(message("session_end", session_id))
        reader.cancel()


#: Seconds of the first cycle, not measured: the calls connect meanwhile.
WARM_UP = 4.0
#: Seconds to wait for the last answers at the end.
ANSWER_GRACE = 3.0


async def main(url: str, secret: str, calls: int, seconds: float, slow: bool) -> Totals:
    totals = Totals()
    measure_from = time.perf_counter() + WARM_UP
    until = measure_from + seconds
    tasks = [
        asyncio.create_task(call(url, secret, slow, WARM_UP * index / calls, measure_from, until, totals))
        for index in range(calls)
    ]
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, BaseException):
            key = f"{type(result).__name__}: {result}"[:120]
            totals.errors[key] = totals.errors.get(key, 0) + 1
    return totals


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--slow", action="store_true")
    args = parser.parse_args()
    totals = asyncio.run(main(args.url, args.secret, args.calls, args.seconds, args.slow))
    print(json.dumps({
        "calls": args.calls,
        "slow": args.slow,
        "other_events": len(totals.other_ms),
        "other_p50_ms": round(percentile(totals.other_ms, 0.50), 2),
        "other_p99_ms": round(percentile(totals.other_ms, 0.99), 2),
        "other_max_ms": round(max(totals.other_ms, default=float("nan")), 2),
        "filler_p99_ms": round(percentile(totals.filler_ms, 0.99), 2),
        "questions": totals.questions,
        "answers": totals.answers,
        "answer_p50_s": round(percentile(totals.answer_s, 0.50), 3),
        "answer_p99_s": round(percentile(totals.answer_s, 0.99), 3),
        "errors": totals.errors,
    }))
