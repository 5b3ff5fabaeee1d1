"""The in-memory store: isolation of loaded records, expiry, and the record codec."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from flask_aiflow import AiFlow
from flask_aiflow.calls.store import CallRecord, MemoryStore, StateStore

from .helpers import event, make_app, make_skill


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


#: A record as the release before the msgspec record wrote it (``json.dumps`` of a dict):
#: a Redis store keeps such records across an upgrade, so they must read the same.
STORED_BEFORE = (
    '{"v":1,"skills":{"menu":"{\\"level\\":\\"main\\"}"},"floor":{"skill":"menu","since":1.0,"turns":2},'
    '"meta":{"from":"+4930111"},"pending":{"skill":"goodbye","priority":90,"actions":[{"type":"hangup"}]},'
    '"deferred":null}'
)


def test_the_record_text_is_the_format_stored_before() -> None:
    assert CallRecord.loads(STORED_BEFORE) == record()
    assert record().dumps() == STORED_BEFORE


@pytest.mark.parametrize(
    "text",
    ["{not json", "[]", '{"v":1,"skills":{"menu":{"level":"main"}}}', '{"v":1,"floor":"menu"}', '{"v":1,"meta":null}'],
)
def test_an_unreadable_record_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        CallRecord.loads(text)


def test_lock_is_per_call_and_reusable() -> None:
    store = MemoryStore()

    def free_for_another_thread() -> bool:
        """Whether another thread could take the call's lock now (it gives it back at once)."""
        result: list[bool] = []

        def attempt() -> None:
            lock = store.lock("s")
            result.append(lock.acquire(blocking=False))
            if result[0]:
                lock.release()

        thread = threading.Thread(target=attempt)
        thread.start()
        thread.join()
        return result[0]

    with store.lock("s"):
        assert not free_for_another_thread()
    assert free_for_another_thread()
    with store.lock("s"):  # reusable
        assert not free_for_another_thread()


class TextOnlyStore(StateStore):
    """A store with only the four text methods, as a third-party store might have."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self._locks = MemoryStore()

    def lock(self, session_id: str) -> Any:
        return self._locks.lock(session_id)

    def load(self, session_id: str) -> str | None:
        return self.texts.get(session_id)

    def save(self, session_id: str, data: str, ttl: int, *, turns: Any = (), turn_limit: int = 0) -> None:
        self.texts[session_id] = data  # keeps no transcript

    def delete(self, session_id: str) -> None:
        self.texts.pop(session_id, None)


def test_a_store_with_only_text_methods_keeps_state_between_events() -> None:
    def counter(event: Any, call: Any) -> str:
        call.state["n"] = call.state.get("n", 0) + 1
        return f"turn {call.state['n']}"

    store = TextOnlyStore()
    app = make_app(aiflow=AiFlow(skills=[make_skill("a", session_start=counter, user_speak=counter)], store=store))
    with app.app_context():
        app.extensions["aiflow"].extension.dispatch(event("session_start", "s"))
        decision = app.extensions["aiflow"].extension.dispatch(event("user_speak", "s"))
    assert decision.action.text == "turn 2"
    assert CallRecord.loads(store.texts["s"]).skills == {"a": '{"n":2}'}
    with app.app_context():
        app.extensions["aiflow"].extension.dispatch(event("session_end", "s"))
    assert "s" not in store.texts
