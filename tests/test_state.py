"""The state stores: the in-memory store's record path and the text path every store has."""

from __future__ import annotations

from typing import Any

from flask_aiflow import AiFlow, MemoryStore, StateStore
from flask_aiflow.state import CallRecord

from .conftest import event, make_app
from .helpers import make_skill


class TextOnlyStore(StateStore):
    """A store that implements only the four text methods, as a third-party store might."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    def lock(self, session_id: str) -> Any:
        return MemoryStore().lock(session_id)

    def load(self, session_id: str) -> str | None:
        return self.texts.get(session_id)

    def save(self, session_id: str, data: str, ttl: int) -> None:
        self.texts[session_id] = data

    def delete(self, session_id: str) -> None:
        self.texts.pop(session_id, None)


def counter(event: Any, call: Any) -> str:
    call.state["n"] = call.state.get("n", 0) + 1
    return f"turn {call.state['n']}"


def dispatch(app: Any, data: dict[str, Any]) -> Any:
    with app.app_context():
        return app.extensions["aiflow"].extension.dispatch(data)


class TestMemoryStore:
    def test_load_record_hands_out_a_copy(self) -> None:
        store = MemoryStore()
        store.save_record("s", CallRecord(skills={"a": '{"n":1}'}, floor={"skill": "a", "since": 1.0, "turns": 2}), 60)
        first = store.load_record("s")
        assert first is not None
        first.skills["a"] = '{"n":99}'
        first.floor["turns"] = 0  # type: ignore[index]
        first.meta["x"] = 1
        again = store.load_record("s")
        assert again == CallRecord(skills={"a": '{"n":1}'}, floor={"skill": "a", "since": 1.0, "turns": 2})

    def test_text_and_record_paths_agree(self) -> None:
        store = MemoryStore()
        record = CallRecord(skills={"a": '{"n":1}'}, meta={"from": "+49"})
        store.save_record("r", record, 60)
        assert CallRecord.loads(store.load("r") or "") == record
        store.save("t", record.dumps(), 60)
        assert store.load_record("t") == record
        assert store.load("t") == record.dumps()

    def test_records_expire(self) -> None:
        now = [100.0]
        store = MemoryStore(clock=lambda: now[0])
        store.save_record("s", CallRecord(), 10)
        assert store.load_record("s") is not None
        now[0] = 110.0
        assert store.load_record("s") is None and store.load("s") is None and len(store) == 0

    def test_the_lock_serialises_one_call(self) -> None:
        store = MemoryStore()
        with store.lock("s"):
            assert not store.lock("s").acquire(blocking=False)
        assert store.lock("s").acquire(blocking=False)
        store.lock("s").release()

    def test_unreadable_text_starts_the_call_afresh(self) -> None:
        app = make_app(make_skill("a", user_speak=counter))
        app.extensions["aiflow"].store.save("s", "not json", 60)
        decision = dispatch(app, event("user_speak", "s"))
        assert decision.action.text == "turn 1"
        assert any("unreadable" in note for note in decision.notes)


def test_a_store_with_only_text_methods_keeps_state_between_events() -> None:
    store = TextOnlyStore()
    app = make_app(aiflow=AiFlow(skills=[make_skill("a", session_start=counter, user_speak=counter)], store=store))
    dispatch(app, event("session_start", "s"))
    assert dispatch(app, event("user_speak", "s")).action.text == "turn 2"
    assert CallRecord.loads(store.texts["s"]).skills == {"a": '{"n":2}'}
    dispatch(app, event("session_end", "s"))
    assert "s" not in store.texts
