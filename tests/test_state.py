"""The in-memory store: isolation of loaded records, expiry, and the record codec."""

from __future__ import annotations

from flask_aiflow.state import CallRecord, MemoryStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record() -> CallRecord:
    return CallRecord(
        skills={"menu": '{"level":"main"}'},
        floor={"skill": "menu", "since": 1.0, "turns": 2},
        meta={"from": "+4930111"},
        pending={"skill": "goodbye", "priority": 90, "actions": [{"type": "hangup"}]},
    )


def test_loaded_record_is_a_copy() -> None:
    store = MemoryStore()
    store.save_record("s", record(), ttl=60)
    loaded = store.load_record("s")
    assert loaded == record()
    loaded.skills["menu"] = "{}"
    loaded.floor["turns"] = 0
    loaded.meta["last_event"] = "user_speak"
    assert store.load_record("s") == record()


def test_records_expire_after_their_ttl() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    store.save_record("s", record(), ttl=60)
    clock.now += 59
    assert store.load_record("s") is not None
    clock.now += 2
    assert store.load_record("s") is None
    assert len(store) == 0


def test_saving_refreshes_the_ttl_and_sweep_drops_expired() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    store.save_record("a", record(), ttl=60)
    store.save_record("b", record(), ttl=60)
    clock.now += 50
    store.save_record("a", record(), ttl=60)
    clock.now += 20
    assert store.sweep() == 1
    assert store.load_record("a") is not None and store.load_record("b") is None


def test_text_interface_round_trips_through_the_codec() -> None:
    store = MemoryStore()
    store.save("s", record().dumps(), ttl=60)
    assert CallRecord.loads(store.load("s")) == record()
    store.delete("s")
    assert store.load("s") is None


def test_lock_is_per_call_and_reusable() -> None:
    store = MemoryStore()
    with store.lock("s"):
        assert store.lock("s").locked()
    assert not store.lock("s").locked()
