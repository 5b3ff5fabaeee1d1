"""The Redis store at work: round trips, waiting for a busy call, keys, and Redis going away.

Against real redis-servers started by the tests (tests/redis_server.py): the
session's single Redis, and for the stop-and-restart tests one of their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from flask_aiflow.calls import StoreUnavailable
from flask_aiflow.calls.redis_store import RedisStore
from flask_aiflow.calls.store import CallRecord

from .helpers import SECRET, event, make_skill
from .redis_server import RedisProcess, redis_process, require_redis_server

pytestmark = pytest.mark.redis


def counter() -> Any:
    """Counts the caller's turns in its state and says the count."""

    def user_speak(event: Any, call: Any) -> str:
        call.state["turns"] = call.state.get("turns", 0) + 1
        return f"turn {call.state['turns']}"

    return make_skill("counter", user_speak=user_speak)


def post(app: Any, data: dict[str, Any]) -> Any:
    return app.test_client().post("/webhook", json=data, headers={"X-API-TOKEN": SECRET})


#: What the store's scripts call inside Redis (counted in ``INFO commandstats`` too).
SCRIPT_COMMANDS = {"get", "set", "del", "incr", "pexpire", "pttl", "expire", "rpush", "ltrim"}


def command_counts(client: Any) -> dict[str, int]:
    """Commands sent by clients since the last ``CONFIG RESETSTAT`` (from ``INFO commandstats``).

    Leaves out what the scripts call inside Redis and the statistics commands.
    """
    stats = client.info("commandstats")
    counts = {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}
    return {name: n for name, n in counts.items() if name not in SCRIPT_COMMANDS | {"info", "config|resetstat"}}


@pytest.fixture
def store(redis_url: str, redis_prefix: str) -> Iterator[RedisStore]:
    store = RedisStore.from_url(redis_url, prefix=redis_prefix, lock_ttl=5, lock_wait=5)
    yield store
    store.close()


class TestRoundTrips:
    def test_an_event_of_a_call_that_is_not_busy_costs_two_scripts_and_nothing_else(
        self, redis_url: str, redis_app: Any
    ) -> None:
        app = redis_app(redis_url, counter())
        assert post(app, event("session_start", "rt")).status_code in (200, 204)
        client = app.extensions["aiflow"].store.client
        client.config_resetstat()
        for number in range(1, 6):
            response = post(app, event("user_speak", "rt", text="hi"))
            assert response.get_json()["text"] == f"turn {number}"
        counts = command_counts(client)
        # taking the lock with the record, and writing with the release: 2 per event
        assert counts == {"evalsha": 10}

    def test_the_live_index_is_written_when_a_call_starts_and_ends_in_the_same_round_trip(
        self, store: RedisStore
    ) -> None:
        with store.transaction("rt-warm") as txn:  # the scripts are loaded (a fresh Redis answers NOSCRIPT once)
            txn.delete()
        store.client.config_resetstat()
        with store.transaction("rt2") as txn:
            assert txn.load() is None
            txn.save(CallRecord(meta={"n": 1}), 60)
        with store.transaction("rt2") as txn:
            txn.save(CallRecord(meta={"n": 2}), 60)
        with store.transaction("rt2") as txn:
            txn.delete()
        counts = command_counts(store.client)
        # listed at the first write, unlisted at the delete; pipelined with the script
        assert counts == {"evalsha": 6, "zadd": 1, "zremrangebyscore": 1, "zrem": 1}
        assert store.load("rt2") is None and list(store.records()) == []

    def test_scripts_are_loaded_again_after_redis_forgot_them(self, redis_url: str, redis_app: Any) -> None:
        app = redis_app(redis_url, counter())
        assert post(app, event("session_start", "flush")).status_code in (200, 204)
        client = app.extensions["aiflow"].store.client
        client.script_flush()  # as after a restart or a failover to a node without them
        assert post(app, event("user_speak", "flush")).get_json()["text"] == "turn 1"
        client.script_flush()
        assert post(app, event("session_end", "flush")).status_code == 204


class TestTheLock:
    def test_a_waiting_event_is_woken_by_the_release_not_by_polling(self, store: RedisStore, redis_url: str) -> None:
        waiter = RedisStore.from_url(redis_url, prefix=store.prefix, lock_wait=30)
        taken, release = threading.Event(), threading.Event()
        order: list[str] = []

        def hold() -> None:
            with store.transaction("busy") as txn:
                taken.set()
                release.wait(10)
                txn.save(CallRecord(meta={"by": "holder"}), 60)
                order.append("holder saved")

        thread = threading.Thread(target=hold)
        thread.start()
        try:
            assert taken.wait(10)
            store.client.config_resetstat()
            threading.Timer(0.3, release.set).start()
            with waiter.transaction("busy") as txn:
                record = txn.load()
                order.append("waiter loaded")
        finally:
            release.set()
            thread.join()
            waiter.close()
        assert order == ["holder saved", "waiter loaded"]
        assert record is not None and record.meta == {"by": "holder"}
        counts = command_counts(store.client)
        # one try that found the call busy, one wake-up, one try that took the lock
        # (polling every 2 ms would have tried about 150 times)
        assert counts["blpop"] == 1
        assert counts["evalsha"] == 4  # the waiter's two tries, the holder's and the waiter's release

    def test_an_event_that_outlived_its_lock_writes_nothing(self, store: RedisStore, caplog: Any) -> None:
        store.save("late", CallRecord(meta={"v": "before"}).dumps(), 60)
        with caplog.at_level(logging.ERROR, logger="flask_aiflow"), store.transaction("late") as txn:
            # the lock expired and another event of the call took it
            store.client.set(store.keys("late").lock, "another-event", px=5000)
            txn.save(CallRecord(meta={"v": "late"}), 60)
        assert store.load_record("late").meta == {"v": "before"}  # type: ignore[union-attr]
        assert store.client.get(store.keys("late").lock) == "another-event"
        assert "changes were dropped" in caplog.text

    def test_an_event_that_fails_releases_the_lock_and_writes_nothing(self, store: RedisStore) -> None:
        store.save("fails", CallRecord(meta={"v": "before"}).dumps(), 60)
        with pytest.raises(RuntimeError, match="skill blew up"), store.transaction("fails") as txn:
            txn.save(CallRecord(meta={"v": "half-done"}), 60)
            raise RuntimeError("skill blew up")
        assert store.load_record("fails").meta == {"v": "before"}  # type: ignore[union-attr]
        assert not store.client.exists(store.keys("fails").lock)

    def test_the_lock_wait_defaults_to_the_event_budget(self, redis_url: str, redis_app: Any) -> None:
        def store_of(**config: Any) -> Any:
            app = redis_app(redis_url, **config)
            return app.extensions["aiflow"].store

        assert store_of().lock_wait == 0.8  # AIFLOW_EVENT_BUDGET_MS = 800
        assert store_of(AIFLOW_EVENT_BUDGET_MS=300).lock_wait == 0.3
        assert store_of(AIFLOW_EVENT_BUDGET_MS=None).lock_wait == 1.0
        assert store_of(AIFLOW_LOCK_WAIT=2).lock_wait == 2.0


class TestKeys:
    def test_ids_with_braces_keep_their_keys_apart_and_together(self, store: RedisStore) -> None:
        ids = ["a{b}", "a%7Bb%7D", "}x{", "{}", "plain"]
        keys = [store.keys(sid) for sid in ids]
        assert len({k.record for k in keys}) == len(ids)  # no two calls share a key
        for sid, k in zip(ids, keys):
            # exactly one hash tag per key: the part between the first { and the next }
            tag = k.record[k.record.index("{") + 1:]
            tag = tag[: tag.index("}")]
            assert tag and all(key.startswith(f"{store.prefix}{{{tag}}}:") for key in k.leave())
            store.save(sid, CallRecord(meta={"id": sid}).dumps(), 60)
        assert sorted(sid for sid, _ in store.records()) == sorted(ids)

    def test_the_live_index_is_spread_over_shards_and_lists_every_call(self, store: RedisStore) -> None:
        ids = [f"call-{number}" for number in range(64)]
        for sid in ids:
            store.save(sid, CallRecord().dumps(), 60)
        shards = store.client.keys(f"{store.prefix}{{live:*")
        assert len(shards) > RedisStore.LIVE_SHARDS // 2
        assert sorted(sid for sid, _ in store.records()) == sorted(ids)


class TestRedisGoesAway:
    @pytest.fixture
    def server(self) -> Iterator[RedisProcess]:
        with redis_process(require_redis_server()) as server:
            yield server

    def test_a_call_hears_503_while_redis_is_down_and_goes_on_when_it_is_back(
        self, server: RedisProcess, redis_app: Any
    ) -> None:
        app = redis_app(server.url, counter())
        client = app.test_client()
        assert post(app, event("session_start", "outage")).status_code in (200, 204)
        assert post(app, event("user_speak", "outage")).get_json()["text"] == "turn 1"

        server.stop()
        response = post(app, event("user_speak", "outage"))
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert response.get_json()["error"] == "store_unavailable"
        health = client.get("/health")
        assert health.status_code == 503 and health.get_json()["store"] == "unreachable"

        server.start()  # without persistence: the call's state is gone
        response = post(app, event("user_speak", "outage"))
        assert response.status_code == 200
        assert response.get_json()["text"] == "turn 1"  # started afresh
        assert post(app, event("user_speak", "outage")).get_json()["text"] == "turn 2"
        assert client.get("/health").status_code == 200

    def test_the_store_raises_store_unavailable_not_a_redis_error(self, server: RedisProcess, redis_prefix: str) -> None:
        store = RedisStore.from_url(server.url, prefix=redis_prefix)
        try:
            server.stop()
            with pytest.raises(StoreUnavailable, match="c1"), store.transaction("c1"):
                pass  # pragma: no cover - never reached
            with pytest.raises(StoreUnavailable):
                store.load("c1")
            server.start()
            with store.transaction("c1") as txn:
                assert txn.load() is None
        finally:
            store.close()

    def test_a_websocket_event_while_redis_is_down_is_logged_not_answered(
        self, server: RedisProcess, redis_app: Any, caplog: Any
    ) -> None:
        import json

        from flask_aiflow.web.routes import handle_ws_message

        app = redis_app(server.url, counter())
        server.stop()
        with app.app_context(), caplog.at_level(logging.ERROR, logger="flask_aiflow"):
            state = app.extensions["aiflow"]
            reply = handle_ws_message(state, json.dumps(event("user_speak", "ws-outage")), None)
        assert reply is None
        assert "state store cannot be reached" in caplog.text
        assert "Traceback" not in caplog.text
