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

Besides the record, a store keeps each call's bounded transcript (appended in
the same write as the record, read only when a skill asks for it) and can
list the live calls. Which store an app uses is configuration
(``AIFLOW_STATE_STORE``: ``"memory"``, a ``redis://`` or a ``redis+cluster://`` URL, see
:func:`store_from_config`).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from flask_aiflow.calls.push import Relay

RECORD_VERSION = 1

#: One transcript turn: ``{"role": "caller" | "assistant", "text": ..., "at": unix seconds}``.
Turn = dict[str, Any]


class CallBusy(RuntimeError):
    """A call's lock could not be had in time: another event of it is still being handled."""


class StoreUnavailable(RuntimeError):
    """The state store cannot be reached right now (a networked store that is down or failing over).

    The event is answered 503 with ``Retry-After``; the store reconnects by itself.
    """


class CallRecord(msgspec.Struct):
    """Everything kept about one call between two of its events.

    A msgspec struct: its JSON form (``v`` first, then the fields) is encoded
    and decoded by msgspec's C codec, and a changed copy
    (``msgspec.structs.replace``) costs no more than the copy itself.
    """

    #: the format's version, written first
    v: int = RECORD_VERSION
    #: skill name -> that skill's state, as JSON text.
    skills: dict[str, str] = msgspec.field(default_factory=dict)
    #: who holds the floor: {"skill", "since", "turns"} or None.
    floor: dict[str, Any] | None = None
    #: facts about the call: numbers, start time, last event.
    meta: dict[str, Any] = msgspec.field(default_factory=dict)
    #: follow-ups of the last winner: {"skill", "priority", "actions": [wire dicts]}.
    pending: dict[str, Any] | None = None
    #: slow work in flight and its answers (see :mod:`flask_aiflow.calls.deferred`).
    deferred: dict[str, Any] | None = None

    def dumps(self) -> str:
        return _encode_record(self).decode()

    def copy(self) -> CallRecord:
        """A copy whose dicts can be changed without touching this one.

        Skill states are immutable strings and ``pending`` and ``deferred``
        are only ever replaced, never changed in place, so one level of
        copying suffices.
        """
        return msgspec.structs.replace(
            self,
            skills=dict(self.skills),
            floor=dict(self.floor) if self.floor is not None else None,
            meta=dict(self.meta),
        )

    @classmethod
    def loads(cls, text: str | bytes) -> CallRecord:
        """The record stored as ``text``; raises ``ValueError`` for anything else."""
        return _decode_record(text)


_encode_record = msgspec.json.Encoder().encode
_decode_record = msgspec.json.Decoder(CallRecord).decode


class CallTransaction:
    """One event's hold on a call: taken with its lock, ended by one write.

    The pipeline handles an event inside ``with store.transaction(session_id)
    as txn``: it reads the record with :meth:`load`, then either
    :meth:`save` or :meth:`delete` once. This default carries each step out
    at once (the store's lock is held around it, see :class:`_LockedTransaction`);
    a networked store may override :meth:`StateStore.transaction` to fold the
    lock into the load and the release into the write (two round trips per
    event).
    """

    def __init__(self, store: StateStore, session_id: str) -> None:
        self.store = store
        self.session_id = session_id

    def load(self) -> CallRecord | None:
        """The call's record (a copy the caller may change), or None for a new or expired call.

        Raises ``ValueError`` for a stored record that cannot be read.
        """
        return self.store.load_record(self.session_id)

    def save(self, record: CallRecord, ttl: int, *, turns: Sequence[Turn] = (), turn_limit: int = 0) -> None:
        """Keep the record (and append transcript turns) for ``ttl`` seconds."""
        self.store.save_record(self.session_id, record, ttl, turns=turns, turn_limit=turn_limit)

    def delete(self) -> None:
        """Forget the call: its ``session_end`` arrived."""
        self.store.delete(self.session_id)


class _LockedTransaction(CallTransaction):
    """The default :meth:`StateStore.transaction`: the store's :meth:`~StateStore.lock` held for the ``with`` block."""

    def __init__(self, store: StateStore, session_id: str) -> None:
        super().__init__(store, session_id)
        self._lock: AbstractContextManager[Any] | None = None

    def __enter__(self) -> CallTransaction:
        lock = self.store.lock(self.session_id)
        lock.__enter__()
        self._lock = lock
        return self

    def __exit__(self, *exc_info: Any) -> None:
        assert self._lock is not None, "the transaction was not entered"
        lock, self._lock = self._lock, None
        lock.__exit__(*exc_info)


class StateStore(ABC):
    """Where call records live between events.

    Implementations store opaque text per session id, expire it after a TTL
    (refreshed on every save) and provide a per-call lock that is held while
    one event of that call is handled.
    """

    @abstractmethod
    def lock(self, session_id: str) -> Any:
        """A context manager that serialises the handling of one call's events."""

    def transaction(self, session_id: str) -> AbstractContextManager[CallTransaction]:
        """Hold the call's lock while one event of it is handled (see :class:`CallTransaction`).

        Raises :class:`CallBusy` when the lock cannot be had in time.
        """
        return _LockedTransaction(self, session_id)

    @abstractmethod
    def load(self, session_id: str) -> str | None:
        """The stored record text, or None for an unknown or expired call."""

    @abstractmethod
    def save(self, session_id: str, data: str, ttl: int, *, turns: Sequence[Turn] = (), turn_limit: int = 0) -> None:
        """Store a call's record text for ``ttl`` seconds.

        :param turns: transcript turns (JSON-safe dicts, never changed
            afterwards) to append in the same write; the call's transcript
            then keeps its last ``turn_limit`` turns and expires with the
            record.
        """

    @abstractmethod
    def delete(self, session_id: str) -> None:
        """Forget a call (its ``session_end`` arrived): record and transcript."""

    def transcript(self, session_id: str) -> list[Turn]:
        """The call's transcript turns, oldest first (the caller must not change them).

        A store that keeps no transcript returns an empty list.
        """
        return []

    def records(self) -> Iterator[tuple[str, CallRecord]]:
        """Every live (not ended, not expired) call: ``(session id, record)``.

        Unreadable records are left out. A store that cannot list its calls
        yields nothing.
        """
        return iter(())

    def relay(self) -> Relay | None:
        """How actions reach WebSocket connections held by other processes.

        None (the default) means pushing works within this process only.
        """
        return None

    def load_record(self, session_id: str) -> CallRecord | None:
        """The call's record (a copy the caller may change), or None.

        Raises ``ValueError`` for a stored record that cannot be read.
        """
        text = self.load(session_id)
        if text is None:
            return None
        return CallRecord.loads(text)

    def save_record(
        self, session_id: str, record: CallRecord, ttl: int, *, turns: Sequence[Turn] = (), turn_limit: int = 0
    ) -> None:
        """Store a call's record (and transcript turns, as :meth:`save`); stores that keep objects may override this."""
        self.save(session_id, record.dumps(), ttl, turns=turns, turn_limit=turn_limit)

    def ping(self) -> bool:
        """True when the store can be reached (for the health route)."""
        return True

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""

    #: True for a store that only this process can see (warned about under several workers).
    process_local: bool = False


class MemoryStore(StateStore):
    """The default store: a dict in this process.

    Correct for one process (with any number of threads). Behind several
    worker processes or hosts, consecutive webhook events of one call land on
    different processes, so use a shared store such as Redis there.
    """

    #: Locks are striped: a fixed number shared by hash, so nothing needs
    #: cleaning up when calls end, and two calls rarely share one. A stripe is
    #: re-entrant: a thread holding one call's lock that takes another call's
    #: sharing its stripe (app code handling another call's event from inside
    #: a hook, say) would otherwise wait for itself forever.
    LOCK_STRIPES = 256
    #: Expired records are swept after this many saves.
    SWEEP_EVERY = 1024

    process_local = True

    def __init__(self, *, clock: Any = time.monotonic) -> None:
        # Records are kept as objects, not JSON: every skill's state inside is
        # already JSON text (checked when committed), and the rest is built by
        # the dispatcher from JSON-safe values, so nothing is lost by skipping
        # the codec, and every event saves a few microseconds.
        #: session id -> (record, expiry on ``clock``, transcript turns or None)
        self._records: dict[str, tuple[CallRecord, float, deque[Turn] | None]] = {}
        self._locks = [threading.RLock() for _ in range(self.LOCK_STRIPES)]
        self._clock = clock
        self._saves = 0

    def lock(self, session_id: str) -> threading.RLock:
        # A lock without a bounded wait: in one process a holder cannot die
        # and leave it taken.
        return self._locks[hash(session_id) % self.LOCK_STRIPES]

    def _get(self, session_id: str) -> CallRecord | None:
        entry = self._records.get(session_id)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            self._records.pop(session_id, None)
            return None
        return entry[0]

    def load(self, session_id: str) -> str | None:
        record = self._get(session_id)
        return None if record is None else record.dumps()

    def save(self, session_id: str, data: str, ttl: int, *, turns: Sequence[Turn] = (), turn_limit: int = 0) -> None:
        self.save_record(session_id, CallRecord.loads(data), ttl, turns=turns, turn_limit=turn_limit)

    def load_record(self, session_id: str) -> CallRecord | None:
        record = self._get(session_id)
        return None if record is None else record.copy()

    def save_record(
        self, session_id: str, record: CallRecord, ttl: int, *, turns: Sequence[Turn] = (), turn_limit: int = 0
    ) -> None:
        entry = self._records.get(session_id)
        kept = entry[2] if entry is not None else None
        if turns and turn_limit > 0:
            if kept is None or kept.maxlen != turn_limit:
                kept = deque(kept or (), maxlen=turn_limit)
            kept.extend(turns)
        self._records[session_id] = (record, self._clock() + ttl, kept)
        self._saves += 1
        if self._saves % self.SWEEP_EVERY == 0:
            self.sweep()

    def delete(self, session_id: str) -> None:
        self._records.pop(session_id, None)

    def transcript(self, session_id: str) -> list[Turn]:
        entry = self._records.get(session_id)
        if entry is None or entry[2] is None or entry[1] <= self._clock():
            return []
        return list(entry[2])

    def records(self) -> Iterator[tuple[str, CallRecord]]:
        now = self._clock()
        for session_id, (record, expires_at, _) in list(self._records.items()):
            if expires_at > now:
                yield session_id, record.copy()

    def sweep(self) -> int:
        """Drop expired records; returns how many went."""
        now = self._clock()
        expired = [sid for sid, entry in list(self._records.items()) if entry[1] <= now]
        for sid in expired:
            self._records.pop(sid, None)
        return len(expired)

    def __len__(self) -> int:
        return len(self._records)


def store_from_config(url: str, *, prefix: str, lock_ttl: float, lock_wait: float) -> StateStore:
    """The store an ``AIFLOW_STATE_STORE`` value names: ``"memory"`` or a Redis URL.

    ``lock_ttl`` and ``lock_wait`` apply to the Redis lock (see
    :class:`~flask_aiflow.calls.redis_store.RedisStore`).

    Raises :class:`~flask_aiflow.config.ConfigurationError` for any other value,
    and for a Redis URL when redis-py is not installed.
    """
    from flask_aiflow.config import ConfigurationError

    if url == "memory":
        return MemoryStore()
    if url.startswith(("redis://", "rediss://", "unix://", "redis+cluster://", "rediss+cluster://")):
        try:
            from flask_aiflow.calls.redis_store import RedisStore
        except ImportError as exc:
            raise ConfigurationError(
                f"AIFLOW_STATE_STORE is a Redis URL, but redis-py is not installed ({exc}). "
                "Install the extra: pip install 'flask-aiflow[redis]'"
            ) from None
        return RedisStore.from_url(url, prefix=prefix, lock_ttl=lock_ttl, lock_wait=lock_wait)
    raise ConfigurationError(
        "AIFLOW_STATE_STORE must be 'memory' or a redis://, rediss://, unix:// or redis+cluster:// URL, "
        f"got {url!r}"
    )
