"""The registry of live calls, read from the store so every worker sees every call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_aiflow.calls.store import CallRecord, StateStore


@dataclass(frozen=True, slots=True)
class LiveCall:
    """One call that has started and not ended (nor expired).

    :param id: the session id.
    :param from_number: the caller's number (``from`` in ``call.meta``).
    :param to_number: the number called.
    :param started_at: Unix time of its first event here.
    :param last_event: the type of its latest event.
    :param last_event_at: Unix time of that event.
    :param floor_holder: the skill holding the floor, or None.
    :param transport: what carried its latest event: ``webhook``, ``websocket`` or ``direct``.
    """

    id: str
    from_number: str | None
    to_number: str | None
    started_at: float | None
    last_event: str | None
    last_event_at: float | None
    floor_holder: str | None
    transport: str | None

    @classmethod
    def from_record(cls, session_id: str, record: CallRecord) -> LiveCall:
        meta = record.meta
        floor = record.floor
        return cls(
            id=session_id,
            from_number=meta.get("from"),
            to_number=meta.get("to"),
            started_at=meta.get("started_at"),
            last_event=meta.get("last_event"),
            last_event_at=meta.get("last_event_at"),
            floor_holder=floor["skill"] if floor else None,
            transport=meta.get("transport"),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the wire names ``from`` and ``to``."""
        return {
            "id": self.id,
            "from": self.from_number,
            "to": self.to_number,
            "started_at": self.started_at,
            "last_event": self.last_event,
            "last_event_at": self.last_event_at,
            "floor_holder": self.floor_holder,
            "transport": self.transport,
        }


def live_calls_in(store: StateStore) -> list[LiveCall]:
    """Every live call in ``store``, oldest first."""
    calls = [LiveCall.from_record(session_id, record) for session_id, record in store.records()]
    calls.sort(key=lambda call: (call.started_at or 0.0, call.id))
    return calls
