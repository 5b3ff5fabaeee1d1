"""Per-call state and the stores that keep it between events.

A call's state lives from its ``session_start`` to its ``session_end`` (or,
for a call that never sends one, until it has been idle for the TTL). It is a
:class:`CallRecord`: each skill's own namespace, stored as JSON text so that
every skill reads a fresh copy and a value that cannot be stored fails in
development with the in-memory store exactly as it would with Redis, plus the
floor and some facts about the call.

A store is small on purpose (:class:`StateStore`): lock a call, load, save,
delete. The dispatcher holds a call's lock while it handles one event, so two
events of the same call (an ``assistant_speak`` racing a barge-in
``user_speak``) never lose each other's updates.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

RECORD_VERSION = 1


@dataclass(slots=True)
class CallRecord:
    """Everything kept about one call between two of its events."""

    #: skill name -> that skill's state, as JSON text.
    skills: dict[str, str] = field(default_factory=dict)
    #: who holds the floor: {"skill", "since", "turns"} or None.
    floor: dict[str, Any] | None = None
    #: facts about the call: numbers, start time, last event.
    meta: dict[str, Any] = field(default_factory=dict)
    #: follow-ups of the last winner: {"skill", "priority", "actions": [wire dicts]}.
    pending: dict[str, Any] | None = None

    def dumps(self) -> str:
        return json.dumps(
            {
                "v": RECORD_VERSION,
                "skills": self.skills,
                "floor": self.floor,
                "meta": self.meta,
                "pending": self.pending,
            },
            separators=(",", ":"),
        )

    def copy(self) -> CallRecord:
        """A copy whose dicts can be changed without touching this one.

        Skill states are immutable strings and ``pending`` is only ever
        replaced, never changed in place, so one level of copying suffices.
        """
        floor = self.floor
        return CallRecord(
            skills=dict(self.skills),
            floor=dict(floor) if floor is not None else None,
            meta=dict(self.meta),
            pending=self.pending,
        )

    @classmethod
    def loads(cls, text: str | bytes) -> CallRecord:
        data = json.loads(text)
        return cls(
            skills=data["skills"], floor=data["floor"], meta=data["meta"], pending=data.get("pending")
        )


class StateStore(ABC):
    """Where call records live between events.

    Implementations store opaque text per session id, expire it after a TTL
    (refreshed on every save) and provide a per-call lock that is held while
    one event of that call is handled.
    """

    @abstractmethod
    def lock(self, session_id: str) -> Any:
        """A context manager that serialises the handling of one call's events."""

    @abstractmethod
    def load(self, session_id: str) -> str | None:
        """The stored record text, or None for an unknown or expired call."""

    @abstractmethod
    def save(self, session_id: str, data: str, ttl: int) -> None:
        """Store a call's record text for ``ttl`` seconds."""

    @abstractmethod
    def delete(self, session_id: str) -> None:
        """Forget a call (its ``session_end`` arrived)."""

    def load_record(self, session_id: str) -> CallRecord | None:
        """The call's record (a copy the caller may change), or None.

        Raises ``ValueError`` for a stored record that cannot be read.
        """
        text = self.load(session_id)
        if text is None:
            return None
        try:
            return CallRecord.loads(text)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed call record: {exc!r}") from None

    def save_record(self, session_id: str, record: CallRecord, ttl: int) -> None:
        """Store a call's record; stores that keep objects may override this."""
        self.save(session_id, record.dumps(), ttl)

    def ping(self) -> bool:
        """True when the store can be reached (for the health route)."""
        return True

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""


class MemoryStore(StateStore):
    """The default store: a dict in this process.

    Correct for one process. Behind several worker processes or hosts,
    consecutive webhook events of one call land on different processes, so
    use a shared store such as Redis there.
    """

    #: Locks are striped: a fixed number shared by hash, so nothing needs
    #: cleaning up when calls end, and two calls rarely share one.
    LOCK_STRIPES = 256
    #: Expired records are swept after this many saves.
    SWEEP_EVERY = 1024

    def __init__(self, *, clock: Any = time.monotonic) -> None:
        # Records are kept as objects, not JSON: every skill's state inside is
        # already JSON text (checked when committed), and the rest is built by
        # the dispatcher from JSON-safe values, so nothing is lost by skipping
        # the codec, and every event saves a few microseconds.
        self._records: dict[str, tuple[CallRecord, float]] = {}
        self._locks = [threading.Lock() for _ in range(self.LOCK_STRIPES)]
        self._clock = clock
        self._saves = 0

    def lock(self, session_id: str) -> threading.Lock:
        return self._locks[hash(session_id) % self.LOCK_STRIPES]

    def _get(self, session_id: str) -> CallRecord | None:
        entry = self._records.get(session_id)
        if entry is None:
            return None
        record, expires_at = entry
        if expires_at <= self._clock():
            self._records.pop(session_id, None)
            return None
        return record

    def load(self, session_id: str) -> str | None:
        record = self._get(session_id)
        return None if record is None else record.dumps()

    def save(self, session_id: str, data: str, ttl: int) -> None:
        self.save_record(session_id, CallRecord.loads(data), ttl)

    def load_record(self, session_id: str) -> CallRecord | None:
        record = self._get(session_id)
        return None if record is None else record.copy()

    def save_record(self, session_id: str, record: CallRecord, ttl: int) -> None:
        self._records[session_id] = (record, self._clock() + ttl)
        self._saves += 1
        if self._saves % self.SWEEP_EVERY == 0:
            self.sweep()

    def delete(self, session_id: str) -> None:
        self._records.pop(session_id, None)

    def sweep(self) -> int:
        """Drop expired records; returns how many went."""
        now = self._clock()
        expired = [sid for sid, (_, expires_at) in list(self._records.items()) if expires_at <= now]
        for sid in expired:
            self._records.pop(sid, None)
        return len(expired)

    def __len__(self) -> int:
        return len(self._records)
