"""Call state in Redis, for apps served by several worker processes or hosts.

Chosen with ``AIFLOW_STATE_STORE = "redis://host:6379/0"`` (needs the extra
``flask-aiflow[redis]``), or passed as ``AiFlow(store=RedisStore(client))``.

Keys (all under ``AIFLOW_REDIS_PREFIX``, default ``aiflow:``):

``{prefix}call:{id}``
    the call record (JSON text); ``SET ... EX ttl`` on every event, so a call
    that never sends ``session_end`` expires ``AIFLOW_STATE_TTL`` seconds after
    its last event.
``{prefix}transcript:{id}``
    the call's last turns (a list, trimmed to the limit), written in the same
    ``MULTI`` as the record and expiring with it.
``{prefix}live``
    a sorted set of live call ids scored by their expiry time, for
    :meth:`RedisStore.records`; entries go at ``session_end``, and expired ones
    are trimmed on every write.
``{prefix}lock:{id}``
    the per-call lock, see below.
``{prefix}node:{node}`` / ``{prefix}ack:{message id}``
    the pub/sub channel of each process serving WebSockets, and the
    acknowledgements of forwarded actions (:class:`RedisRelay`).

The per-call lock is redis-py's :class:`redis.lock.Lock`: ``SET key token NX PX
ttl`` to take it, a Lua compare-and-delete to release it (so a holder only
ever deletes its own token), a bounded wait to get it and a TTL on the key, so
a process that dies while holding it releases it by expiry. It is a
single-instance lock (not Redlock): correct for one Redis primary, which is
what holds the state anyway. The lock TTL (``AIFLOW_LOCK_TIMEOUT``) must be
longer than the slowest event; an event that outlives it is logged as an
error, because another event of the call may then have run at the same time.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import redis
from redis.exceptions import LockError

from flask_aiflow.calls.push import NO_NODE, TIMED_OUT, Deliver, Relay
from flask_aiflow.calls.store import CallBusy, CallRecord, StateStore, Turn

logger = logging.getLogger("flask_aiflow")


class RedisStore(StateStore):
    """Call records, transcripts, live calls and the per-call lock in Redis.

    :param client: a ``redis.Redis`` client; created with
        ``decode_responses=True`` by :meth:`from_url` (a client without it
        works too).
    :param prefix: put before every key.
    :param lock_ttl: seconds a call's lock lives at most (longer than the
        slowest event).
    :param lock_wait: seconds to wait for a call's lock before giving up
        with :class:`~flask_aiflow.calls.store.CallBusy`.
    :param lock_poll: seconds between two tries while waiting for a lock.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "aiflow:",
        lock_ttl: float = 10.0,
        lock_wait: float = 5.0,
        lock_poll: float = 0.002,
    ) -> None:
        if lock_ttl <= 0 or lock_wait < 0:
            raise ValueError("lock_ttl must be > 0 and lock_wait >= 0")
        #: redis-py's own annotations mix in its asyncio client's types, so
        #: the client is used untyped here.
        self.client: Any = client
        self.prefix = prefix
        self.lock_ttl = lock_ttl
        self.lock_wait = lock_wait
        self.lock_poll = lock_poll
        self._live_key = f"{prefix}live"
        self._relay: RedisRelay | None = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisStore:
        """A store on a new client for ``url`` (query options as redis-py's ``from_url``)."""
        return cls(redis.Redis.from_url(url, decode_responses=True), **options)

    def _key(self, kind: str, session_id: str) -> str:
        return f"{self.prefix}{kind}:{session_id}"

    @contextmanager
    def lock(self, session_id: str) -> Iterator[None]:
        lock = self.client.lock(
            self._key("lock", session_id),
            timeout=self.lock_ttl,
            sleep=self.lock_poll,
            blocking_timeout=self.lock_wait,
            thread_local=False,
        )
        if not lock.acquire():
            raise CallBusy(f"call {session_id}: its lock was not free within {self.lock_wait} s")
        try:
            yield
        finally:
            try:
                lock.release()
            except LockError:
                logger.error(
                    "call %s: handling an event took longer than the lock TTL (%s s, AIFLOW_LOCK_TIMEOUT); "
                    "another event of this call may have run at the same time",
                    session_id,
                    self.lock_ttl,
                )

    def load(self, session_id: str) -> str | None:
        text = self.client.get(self._key("call", session_id))
        return None if text is None else _text(text)

    def save(self, session_id: str, data: str, ttl: int, *, turns: Sequence[Turn] = (), turn_limit: int = 0) -> None:
        now = time.time()
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self._key("call", session_id), data, ex=ttl)
        pipe.zadd(self._live_key, {session_id: now + ttl})
        pipe.zremrangebyscore(self._live_key, "-inf", now)
        pipe.expire(self._live_key, ttl)
        key = self._key("transcript", session_id)
        if turns and turn_limit > 0:
            pipe.rpush(key, *(json.dumps(turn, separators=(",", ":")) for turn in turns))
            pipe.ltrim(key, -turn_limit, -1)
        pipe.expire(key, ttl)  # the transcript lives exactly as long as the record
        pipe.execute()

    def delete(self, session_id: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self._key("call", session_id), self._key("transcript", session_id))
        pipe.zrem(self._live_key, session_id)
        pipe.execute()

    def transcript(self, session_id: str) -> list[Turn]:
        texts = self.client.lrange(self._key("transcript", session_id), 0, -1)
        return [json.loads(text) for text in texts]

    def records(self) -> Iterator[tuple[str, CallRecord]]:
        now = time.time()
        ids = self.client.zrangebyscore(self._live_key, now, "+inf")
        if not ids:
            return
        texts = self.client.mget([self._key("call", _text(sid)) for sid in ids])
        for session_id, text in zip(ids, texts):
            if text is None:
                continue  # ended or expired since the set was read
            try:
                record = CallRecord.loads(text)
            except (ValueError, KeyError, TypeError) as exc:
                logger.error("call %s: stored state is unreadable (%s); left out of live calls", session_id, exc)
                continue
            yield _text(session_id), record

    def relay(self) -> RedisRelay:
        if self._relay is None:
            self._relay = RedisRelay(self.client, self.prefix)
        return self._relay

    def ping(self) -> bool:
        return bool(self.client.ping())

    def close(self) -> None:
        if self._relay is not None:
            self._relay.close()
        self.client.close()


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


class RedisRelay(Relay):
    """Forwards pushed actions to the process holding a call's WebSocket, over Redis pub/sub.

    Each process that serves WebSockets subscribes to its own channel
    ``{prefix}node:{node}`` (started lazily on its first connection, so after
    gunicorn has forked). A forwarded action is published there; ``PUBLISH``
    answers how many subscribers got it (0: the holder is gone). The holder
    sends the action on the socket and pushes its outcome to
    ``{prefix}ack:{message id}``, which the sender waits on with ``BLPOP``.
    """

    #: seconds an unread acknowledgement is kept
    ACK_TTL = 30

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client: Any = client
        self.prefix = prefix
        self._lock = threading.Lock()
        self._pid = -1
        self._node = ""
        self._listener: _Listener | None = None

    @property
    def node(self) -> str:
        self._check_fork()
        return self._node

    def _check_fork(self) -> None:
        """A forked process (a gunicorn worker) gets its own node id and listener."""
        pid = os.getpid()
        if pid != self._pid:
            with self._lock:
                if pid != self._pid:
                    self._node = f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}"
                    self._listener = None
                    self._pid = pid

    def start(self, deliver: Deliver) -> None:
        self._check_fork()
        if self._listener is not None and self._listener.is_alive():
            return
        with self._lock:
            if self._listener is None or not self._listener.is_alive():
                listener = _Listener(self, deliver)
                listener.subscribe()
                listener.start()
                self._listener = listener

    def channel(self, node: str) -> str:
        return f"{self.prefix}node:{node}"

    def forward(self, node: str, session_id: str, text: str, timeout: float) -> str:
        message_id = uuid.uuid4().hex
        ack_key = f"{self.prefix}ack:{message_id}"
        message = json.dumps({"id": message_id, "session_id": session_id, "action": text})
        if not self.client.publish(self.channel(node), message):
            return NO_NODE
        reply = self.client.blpop([ack_key], timeout=timeout)
        if reply is None:
            return TIMED_OUT
        return _text(reply[1])

    def acknowledge(self, message_id: str, outcome: str) -> None:
        key = f"{self.prefix}ack:{message_id}"
        pipe = self.client.pipeline(transaction=False)
        pipe.rpush(key, outcome)
        pipe.expire(key, self.ACK_TTL)
        pipe.execute()

    def close(self) -> None:
        listener = self._listener
        if listener is not None:
            listener.stop()
            self._listener = None


class _Listener(threading.Thread):
    """The subscriber thread of one process: delivers forwarded actions to local sockets."""

    def __init__(self, relay: RedisRelay, deliver: Deliver) -> None:
        super().__init__(name="aiflow-relay", daemon=True)
        self.relay = relay
        self.deliver = deliver
        self.channel = relay.channel(relay.node)
        self.pubsub = relay.client.pubsub()
        self._stopped = threading.Event()

    def subscribe(self, timeout: float = 5.0) -> None:
        """Subscribe and wait for Redis to confirm, so publishes from now on reach us."""
        self.pubsub.subscribe(self.channel)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.pubsub.get_message(timeout=deadline - time.monotonic())
            if message is not None and message["type"] == "subscribe":
                return
        raise TimeoutError(f"Redis did not confirm the subscription to {self.channel} in {timeout} s")

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                message = self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None and message["type"] == "message":
                    self._handle(message["data"])
            except redis.RedisError as exc:
                # redis-py reconnects and re-subscribes on the next call
                logger.warning("aiflow relay: Redis error on %s: %s; retrying", self.channel, exc)
                self._stopped.wait(0.5)
            except Exception:  # noqa: BLE001 - the listener must outlive one bad message
                logger.exception("aiflow relay: failed to handle a forwarded action")
        try:
            self.pubsub.close()
        except redis.RedisError:
            pass

    def _handle(self, data: str | bytes) -> None:
        message = json.loads(data)
        outcome = self.deliver(message["session_id"], message["action"])
        self.relay.acknowledge(message["id"], outcome)
