"""Two events of one call at the same moment must not lose either update.

An ``assistant_speak`` racing a barge-in ``user_speak``: each handler reads
the call record, changes its own skill's state and writes the record back.
Without the per-call lock one write overwrites the other. These tests race
them for real, in threads and in separate processes, against a real
redis-server, and check that every update survived.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from flask_aiflow import AiFlow
from flask_aiflow.calls.redis_store import RedisStore
from flask_aiflow.calls.store import CallRecord, StateStore

from .helpers import event, make_app, make_skill

ITERATIONS = 60
#: Each handler dawdles this long between reading and writing, so that
#: without a lock the two events of an iteration really overlap.
DAWDLE = 0.002


def counting_skills() -> list[Any]:
    def count(key: str) -> Callable[..., None]:
        def hook(event: Any, call: Any) -> None:
            seen = call.state.get(key, 0)
            time.sleep(DAWDLE)
            call.state[key] = seen + 1

        return hook

    return [
        make_skill("speech", assistant_speak=count("spoken")),
        make_skill("caller", user_speak=count("barge_ins")),
    ]


def racing_events(session_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        event("assistant_speak", session_id, text="Let me read you the whole menu..."),
        event("user_speak", session_id, text="agent", barged_in=True),
    )


def counts(store: Any, session_id: str) -> tuple[int, int]:
    import json

    record = CallRecord.loads(store.load(session_id))
    spoken = json.loads(record.skills.get("speech", "{}")).get("spoken", 0)
    barge_ins = json.loads(record.skills.get("caller", "{}")).get("barge_ins", 0)
    return spoken, barge_ins


def race_in_threads(app: Any, session_id: str, iterations: int) -> None:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def play(data: dict[str, Any]) -> None:
        try:
            with app.app_context():
                for _ in range(iterations):
                    barrier.wait(timeout=30)
                    app.extensions["aiflow"].extension.dispatch(data)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=play, args=(data,)) for data in racing_events(session_id)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


class UnlockedRedisStore(RedisStore):
    """The Redis store without its lock: what the race does to an unguarded read-modify-write."""

    # the generic transaction (lock, load, save one by one) with a lock that locks nothing
    transaction = StateStore.transaction

    @contextmanager
    def lock(self, session_id: str) -> Any:
        yield


def redis_app(url: str, prefix: str, store: RedisStore | None = None) -> Any:
    aiflow = AiFlow(skills=counting_skills(), store=store)
    return make_app(
        aiflow=aiflow,
        AIFLOW_STATE_STORE=url,
        AIFLOW_REDIS_PREFIX=prefix,
        AIFLOW_FALLBACK=None,
        AIFLOW_LOCK_WAIT=30.0,
    )


def test_threads_racing_on_one_call_lose_no_update(any_redis_url: str, redis_prefix: str) -> None:
    app = redis_app(any_redis_url, redis_prefix)
    race_in_threads(app, "race-threads", ITERATIONS)
    assert counts(app.extensions["aiflow"].store, "race-threads") == (ITERATIONS, ITERATIONS)


def test_without_the_lock_the_same_race_loses_updates(any_redis_url: str, redis_prefix: str) -> None:
    """The race above is real: the same test against an unlocked store loses updates."""
    store = UnlockedRedisStore.from_url(any_redis_url, prefix=redis_prefix)
    app = redis_app(any_redis_url, redis_prefix, store=store)
    race_in_threads(app, "race-unlocked", ITERATIONS)
    spoken, barge_ins = counts(store, "race-unlocked")
    print(f"unlocked: {spoken} + {barge_ins} of {2 * ITERATIONS} updates survived")
    assert spoken + barge_ins < 2 * ITERATIONS


def _race_process(url: str, prefix: str, which: int, barrier: Any, iterations: int) -> None:
    """One process of the race: its own app, its own Redis connections."""
    app = redis_app(url, prefix)
    data = racing_events("race-processes")[which]
    with app.app_context():
        for _ in range(iterations):
            barrier.wait(timeout=60)
            app.extensions["aiflow"].extension.dispatch(data)


def test_processes_racing_on_one_call_lose_no_update(any_redis_url: str, redis_prefix: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    processes = [
        context.Process(target=_race_process, args=(any_redis_url, redis_prefix, which, barrier, ITERATIONS))
        for which in (0, 1)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0, 0]
    store = RedisStore.from_url(any_redis_url, prefix=redis_prefix)
    try:
        assert counts(store, "race-processes") == (ITERATIONS, ITERATIONS)
    finally:
        store.close()


def test_racing_turns_all_reach_the_transcript(any_redis_url: str, redis_prefix: str) -> None:
    app = make_app(
        AIFLOW_STATE_STORE=any_redis_url,
        AIFLOW_REDIS_PREFIX=redis_prefix,
        AIFLOW_TRANSCRIPT_LIMIT=4,
        AIFLOW_FALLBACK=None,
    )
    race_in_threads(app, "race-transcript", 2)
    with app.app_context():
        turns = app.extensions["aiflow"].extension.transcript("race-transcript")
    assert sorted(turn["role"] for turn in turns) == ["assistant", "assistant", "caller", "caller"]
