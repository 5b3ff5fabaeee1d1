"""Both call-state stores (memory and a real redis-server) behind the same contract."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flask_aiflow import ConfigurationError, hookimpl
from flask_aiflow.calls import CallBusy, MemoryStore
from flask_aiflow.calls.store import CallRecord, StateStore

from .helpers import event, make_app, make_skill
from .server import ROOT

StoreFactory = Callable[..., StateStore]


def record(**meta: Any) -> str:
    """A stored record's text with these facts."""
    return CallRecord(meta=meta).dumps()


@pytest.fixture(
    params=["memory", pytest.param("redis", marks=pytest.mark.redis), pytest.param("cluster", marks=pytest.mark.redis)]
)
def kind(request: Any) -> str:
    return str(request.param)


@pytest.fixture
def make_store(kind: str, request: Any) -> Iterator[StoreFactory]:
    """Makes stores of one kind; Redis ones share the test's prefix and are closed afterwards."""
    made: list[StateStore] = []

    def make(**options: Any) -> StateStore:
        if kind == "memory":
            store: StateStore = MemoryStore(**options)
        else:
            from flask_aiflow.calls.redis_store import RedisStore

            url = request.getfixturevalue("redis_cluster_url" if kind == "cluster" else "redis_url")
            prefix = request.getfixturevalue("redis_prefix")
            store = RedisStore.from_url(url, prefix=prefix, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


def store_config(kind: str, request: Any) -> dict[str, Any]:
    """App config that selects this kind of store the way an app owner would."""
    if kind == "memory":
        return {"AIFLOW_STATE_STORE": "memory"}
    return {
        "AIFLOW_STATE_STORE": request.getfixturevalue("redis_cluster_url" if kind == "cluster" else "redis_url"),
        "AIFLOW_REDIS_PREFIX": request.getfixturevalue("redis_prefix"),
    }


class TestContract:
    def test_save_load_delete(self, make_store: StoreFactory) -> None:
        store = make_store()
        assert store.load("c1") is None and store.load_record("c1") is None
        store.save("c1", record(n=1), 60)
        assert store.load("c1") == record(n=1)
        store.save_record("c1", CallRecord(meta={"n": 2}), 60)
        assert store.load_record("c1").meta == {"n": 2}
        store.delete("c1")
        assert store.load("c1") is None
        store.delete("c1")  # deleting twice is fine

    def test_transcript_is_bounded_and_goes_with_the_call(self, make_store: StoreFactory) -> None:
        store = make_store()
        for number in range(7):
            store.save("c1", record(), 60, turns=[{"n": number}], turn_limit=3)
        store.save("c1", record(), 60)  # an event without a turn keeps the transcript
        assert store.transcript("c1") == [{"n": 4}, {"n": 5}, {"n": 6}]
        assert store.transcript("other") == []
        store.delete("c1")
        assert store.transcript("c1") == []

    def test_records_lists_live_calls_only(self, make_store: StoreFactory) -> None:
        store = make_store()
        for name in "abc":
            store.save(name, record(name=name), 60)
        store.delete("b")
        assert sorted((sid, rec.meta["name"]) for sid, rec in store.records()) == [("a", "a"), ("c", "c")]

    def test_a_call_lock_is_held_against_other_threads_only_for_that_call(self, make_store: StoreFactory, kind: str) -> None:
        holder = make_store()
        waiter = holder if kind == "memory" else make_store()
        locked, done = threading.Event(), threading.Event()
        order: list[str] = []

        def hold() -> None:
            with holder.lock("c1"):
                locked.set()
                with waiter.lock("c2"):  # another call is not held up
                    order.append("other call")
                done.wait(10)
                order.append("first released")

        thread = threading.Thread(target=hold)
        thread.start()
        assert locked.wait(10)
        releaser = threading.Timer(0.05, done.set)
        releaser.start()
        with waiter.lock("c1"):  # waits until the holder lets go
            order.append("second holds")
        thread.join()
        releaser.join()
        assert order == ["other call", "first released", "second holds"]

    def test_two_calls_sharing_a_lock_stripe_can_be_held_by_one_thread(self) -> None:
        store = MemoryStore()
        first = "c0"
        second = next(f"c{n}" for n in itertools.count(1) if store.lock(f"c{n}") is store.lock(first))
        taken: list[str] = []

        def hold_both() -> None:
            with store.lock(first), store.lock(second):
                taken.append(second)

        thread = threading.Thread(target=hold_both, daemon=True)
        thread.start()
        thread.join(10)  # a deadline for a deadlock, not a timing
        assert taken == [second]
        released = threading.Thread(target=lambda: store.lock(first).acquire(timeout=10) and taken.append("again"))
        released.start()
        released.join(10)
        assert taken == [second, "again"]  # both were released: another thread takes the stripe

    def test_redis_lock_wait_is_bounded(self, redis_url: str, redis_prefix: str) -> None:
        from flask_aiflow.calls.redis_store import RedisStore

        holder = RedisStore.from_url(redis_url, prefix=redis_prefix, lock_wait=0.05)
        waiter = RedisStore.from_url(redis_url, prefix=redis_prefix, lock_wait=0.05)
        locked, done = threading.Event(), threading.Event()

        def hold() -> None:
            with holder.lock("c1"):
                locked.set()
                done.wait(10)

        thread = threading.Thread(target=hold)
        thread.start()
        try:
            assert locked.wait(10)
            with pytest.raises(CallBusy, match="c1"):
                with waiter.lock("c1"):
                    pass  # pragma: no cover - never reached
            with waiter.lock("c2"):  # another call is not held up
                pass
        finally:
            done.set()
            thread.join()
            holder.close()
        with waiter.lock("c1"):  # free again once released
            pass
        waiter.close()

    def test_ping(self, make_store: StoreFactory) -> None:
        assert make_store().ping() is True


class TestMemoryExpiry:
    def test_records_expire_after_the_ttl_and_saves_refresh_it(self) -> None:
        now = [1000.0]
        store = MemoryStore(clock=lambda: now[0])
        store.save("c1", record(v="x"), 10, turns=[{"n": 1}], turn_limit=5)
        now[0] += 9
        store.save("c1", record(v="y"), 10)  # refreshed: lives 10 s from now
        now[0] += 9
        assert store.load("c1") == record(v="y") and store.transcript("c1") == [{"n": 1}]
        assert [(sid, rec.meta) for sid, rec in store.records()] == [("c1", {"v": "y"})]
        now[0] += 2
        assert store.load("c1") is None and store.transcript("c1") == [] and list(store.records()) == []


class TestRedis:
    @pytest.fixture
    def store(self, redis_url: str, redis_prefix: str) -> Iterator[Any]:
        from flask_aiflow.calls.redis_store import RedisStore

        store = RedisStore.from_url(redis_url, prefix=redis_prefix, lock_ttl=0.5, lock_wait=3)
        yield store
        store.close()

    def test_keys_are_prefixed_hash_tagged_and_expire_with_the_ttl_refreshed_on_every_save(self, store: Any) -> None:
        client, prefix = store.client, store.prefix
        store.save("c1", record(), 100, turns=[{"n": 1}], turn_limit=5)
        call = f"{prefix}{{c1}}:"
        live = store.live_key("c1")
        assert set(client.keys(f"{prefix}*")) == {f"{call}call", f"{call}transcript", f"{call}listed", live}
        assert live.startswith(f"{prefix}{{live:")
        assert client.keys("*call:*") == []
        assert 0 < client.ttl(f"{call}call") <= 100
        assert 0 < client.ttl(f"{call}transcript") <= 100
        store.save("c1", record(), 1000)
        assert client.ttl(f"{call}call") > 100
        assert client.ttl(f"{call}transcript") > 100

    def test_expired_calls_leave_the_live_index(self, store: Any) -> None:
        store.save("gone", record(), 60)
        live = store.live_key("gone")
        store.client.zadd(live, {"gone": 1.0})  # as if its listing ran out long ago
        store.client.delete(store.keys("gone").record)  # and Redis expired its record
        assert [sid for sid, _ in store.records()] == []
        # another call listed in the same shard trims it
        other = next(f"here{n}" for n in range(1000) if store.live_key(f"here{n}") == live)
        store.save(other, record(), 60)
        assert store.client.zrange(live, 0, -1) == [other]
        assert [sid for sid, _ in store.records()] == [other]

    def test_an_unreadable_record_is_left_out_of_the_live_calls(self, store: Any) -> None:
        store.save("good", record(), 60)
        store.save("bad", "{not json", 60)
        assert [sid for sid, _ in store.records()] == ["good"]

    def test_lock_is_a_token_guarded_key_with_a_ttl(self, store: Any) -> None:
        key = store.keys("c1").lock
        with store.lock("c1"):
            token = store.client.get(key)
            assert token
            assert 0 < store.client.pttl(key) <= 500
            store.client.set(key, "someone-else", px=500)  # our lock expired and was taken over
        # release only deletes its own token: the other holder's lock stays
        assert store.client.get(key) == "someone-else"

    def test_a_holder_that_dies_releases_the_lock_by_expiry(self, store: Any, redis_url: str) -> None:
        script = textwrap.dedent(
            f"""
            import os, signal, sys
            from flask_aiflow.calls.redis_store import RedisStore
            store = RedisStore.from_url({redis_url!r}, prefix={store.prefix!r}, lock_ttl=0.5)
            held = store.lock("c1")
            held.__enter__()
            print("locked", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
            """
        )
        result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert result.stdout.strip() == "locked" and result.returncode == -9
        assert store.client.exists(store.keys("c1").lock)  # left behind by the dead holder
        with store.lock("c1"):  # waits (up to 3 s) until the dead holder's lock expires
            pass

    def test_an_event_that_cannot_get_its_call_lock_is_a_503(self, redis_url: str, redis_prefix: str) -> None:
        from flask_aiflow.calls.redis_store import RedisStore

        app = make_app(AIFLOW_STATE_STORE=redis_url, AIFLOW_REDIS_PREFIX=redis_prefix, AIFLOW_LOCK_WAIT=0.05)
        other_worker = RedisStore.from_url(redis_url, prefix=redis_prefix)
        try:
            with other_worker.lock("busy"):  # another process is still handling this call
                response = app.test_client().post(
                    "/webhook", json=event("user_speak", "busy"), headers={"X-API-TOKEN": "test-secret"}
                )
        finally:
            other_worker.close()
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert response.get_json()["error"] == "busy"

    def test_health_reports_an_unreachable_redis(self, redis_prefix: str) -> None:
        from .server import free_port

        app = make_app(AIFLOW_STATE_STORE=f"redis://127.0.0.1:{free_port()}/0", AIFLOW_REDIS_PREFIX=redis_prefix)
        response = app.test_client().get("/health")
        assert response.status_code == 503
        assert response.get_json()["store"] == "unreachable"


class TestConfiguration:
    def test_memory_is_the_default(self) -> None:
        assert type(make_app().extensions["aiflow"].store) is MemoryStore

    def test_a_redis_url_selects_the_redis_store(self, redis_url: str, redis_prefix: str) -> None:
        from flask_aiflow.calls.redis_store import RedisStore

        app = make_app(AIFLOW_STATE_STORE=redis_url, AIFLOW_REDIS_PREFIX=redis_prefix, AIFLOW_LOCK_TIMEOUT=3, AIFLOW_LOCK_WAIT=1)
        store = app.extensions["aiflow"].store
        assert isinstance(store, RedisStore)
        assert (store.prefix, store.lock_ttl, store.lock_wait) == (redis_prefix, 3.0, 1.0)
        assert app.test_client().get("/health").get_json()["store"] == "ok"

    @pytest.mark.parametrize(
        ("key", "value", "message"),
        [
            ("AIFLOW_STATE_STORE", "postgres://x", "AIFLOW_STATE_STORE must be 'memory' or a redis"),
            ("AIFLOW_STATE_STORE", None, "AIFLOW_STATE_STORE"),
            ("AIFLOW_REDIS_PREFIX", 5, "AIFLOW_REDIS_PREFIX"),
            ("AIFLOW_LOCK_TIMEOUT", 0, "AIFLOW_LOCK_TIMEOUT"),
            ("AIFLOW_LOCK_WAIT", "5", "AIFLOW_LOCK_WAIT"),
            ("AIFLOW_TRANSCRIPT_LIMIT", -1, "AIFLOW_TRANSCRIPT_LIMIT"),
            ("AIFLOW_PUSH_TIMEOUT", True, "AIFLOW_PUSH_TIMEOUT"),
        ],
    )
    def test_bad_values_name_the_key(self, key: str, value: Any, message: str) -> None:
        with pytest.raises(ConfigurationError, match=message):
            make_app(**{key: value})

    @pytest.mark.slow
    def test_a_redis_url_without_redis_installed_is_a_clear_start_up_error(self) -> None:
        script = textwrap.dedent(
            """
            import sys
            sys.modules["redis"] = None  # as if redis-py were not installed
            from tests.helpers import make_app
            try:
                make_app(AIFLOW_STATE_STORE="redis://localhost:6379/0")
            except Exception as exc:
                print(type(exc).__name__, exc)
            """
        )
        result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.stdout.startswith("ConfigurationError AIFLOW_STATE_STORE is a Redis URL, but redis-py is not installed")
        assert "pip install 'flask-aiflow[redis]'" in result.stdout

    def test_an_instance_passed_in_wins_over_the_config(self) -> None:
        from flask_aiflow import AiFlow

        store = MemoryStore()
        app = make_app(aiflow=AiFlow(store=store), AIFLOW_STATE_STORE="redis://unused:1/0")
        assert app.extensions["aiflow"].store is store


class TestThroughTheApp:
    def test_state_and_the_floor_survive_between_events(self, kind: str, request: Any) -> None:
        def count(event: Any, call: Any) -> str:
            call.state["n"] = call.state.get("n", 0) + 1
            call.take_floor(turns=2)
            return f"n={call.state['n']}"

        app = make_app(make_skill("counter", user_speak=count), **store_config(kind, request))
        client = app.test_client()
        sid = str(uuid.uuid4())
        headers = {"X-API-TOKEN": "test-secret"}
        client.post("/webhook", json=event("session_start", sid), headers=headers)
        answers = [client.post("/webhook", json=event("user_speak", sid), headers=headers).get_json()["text"] for _ in range(3)]
        assert answers == ["n=1", "n=2", "n=3"]
        store = app.extensions["aiflow"].store
        assert CallRecord.loads(store.load(sid)).floor["skill"] == "counter"
        client.post("/webhook", json=event("session_end", sid), headers=headers)
        assert store.load(sid) is None

    def test_unstorable_state_is_an_error_naming_the_skill(self, kind: str, request: Any) -> None:
        class Hoarder:
            AIFLOW_NAME = "hoarder"

            @hookimpl
            def aiflow_user_speak(self, event: Any, call: Any) -> None:
                call.state["when"] = object()

        class Counter:
            AIFLOW_NAME = "counter"

            @hookimpl
            def aiflow_user_speak(self, event: Any, call: Any) -> str:
                call.state["n"] = call.state.get("n", 0) + 1
                return "ok"

        app = make_app(Hoarder(), Counter(), **store_config(kind, request))
        sid = str(uuid.uuid4())
        with app.app_context():
            decision = app.extensions["aiflow"].extension.dispatch(event("user_speak", sid))
        assert decision.action.text == "ok"
        [failure] = decision.failures
        assert (failure.skill, failure.kind) == ("hoarder", "bad_state")
        assert "not JSON-serialisable" in failure.message
        record = CallRecord.loads(app.extensions["aiflow"].store.load(sid))
        assert set(record.skills) == {"counter"}  # the good skill's state was stored
