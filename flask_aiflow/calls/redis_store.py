"""Call state in Redis, for apps served by several worker processes or hosts.

Chosen with ``AIFLOW_STATE_STORE = "redis://host:6379/0"`` (needs the extra
``flask-aiflow[redis]``), with ``"redis+cluster://host:7000"`` for a Redis
Cluster (or a Valkey cluster: any node serves as the entry point), or passed as
``AiFlow(store=RedisStore(client))``.

Keys (all under ``AIFLOW_REDIS_PREFIX``, default ``aiflow:``). A call's keys
carry its id as a hash tag (``{id}``), so a Redis Cluster keeps them in one
slot and one script can touch them all:

``{prefix}{id}:call``
    the call record (JSON text); written with ``EX ttl`` on every event, so a
    call that never sends ``session_end`` expires ``AIFLOW_STATE_TTL`` seconds
    after its last event.
``{prefix}{id}:transcript``
    the call's last turns (a list, trimmed to the limit), written by the same
    script as the record and expiring with it.
``{prefix}{id}:lock``, ``:waiting``, ``:wake``
    the per-call lock, the number of events waiting for it and the list that
    wakes them (see below).
``{prefix}{id}:listed`` and ``{prefix}{live:N}``
    the live-calls index, spread over :attr:`RedisStore.LIVE_SHARDS` sorted
    sets (each its own slot; a call's shard is fixed by its id). An entry's
    score says until when the call is listed; it is set to two record TTLs
    ahead and refreshed once that is less than one TTL away, so a call's
    entry is written at its first event and then about once per TTL, not on
    every event. ``:listed`` keeps the score, so the event's first script
    knows whether a refresh is due. Entries of calls that expired without
    ``session_end`` are trimmed when their score has passed.
``{prefix}node:{node}`` / ``{prefix}ack:{message id}``
    the pub/sub channel of each process serving WebSockets, and the
    acknowledgements of forwarded actions (:mod:`~flask_aiflow.calls.redis_relay`).

An event costs two round trips when its call is not busy: one script takes
the lock and returns the record (``lua/enter.lua``), one writes the record
and the transcript turn and releases the lock (``lua/leave.lua``), only while
the event's token still holds the lock. Scripts run by their SHA1 and are
loaded again when Redis answers ``NOSCRIPT`` (after a restart or a failover).
Both scripts go over one connection, taken from the client's pool for the
event (on a cluster, the pool of the primary that holds the call's slot) and
written to directly, not through the client's per-command layers (see
:meth:`RedisStore._connection`); on a cluster, a node that no longer holds
the slot or cannot be reached hands the scripts to the cluster client.

An event whose call is busy does not poll: the first script counts it as a
waiter, and the holder's release pushes to the call's wake-up list, on which
waiters block (``BLPOP``) for at most the holder's remaining lock time and
the rest of their own wait (``AIFLOW_LOCK_WAIT``, by default the event
budget). A holder that dies releases the lock by expiry (``AIFLOW_LOCK_TIMEOUT``),
which its waiters wait out. The lock is a single-primary lock, not Redlock:
the primary that holds the lock holds the record too.

Redis being unreachable (stopped, restarting, a cluster failing over) raises
:class:`~flask_aiflow.calls.store.StoreUnavailable`; the client connects again
by itself on the next event.
"""

from __future__ import annotations

import logging
import secrets
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec
import redis
from redis import exceptions as errors
from redis.backoff import NoBackoff
from redis.retry import Retry

from flask_aiflow.calls.redis_relay import RedisRelay
from flask_aiflow.calls.store import (
    CallBusy,
    CallRecord,
    CallTransaction,
    StateStore,
    StoreUnavailable,
    Turn,
)

__all__ = ["CLUSTER_SCHEMES", "RedisRelay", "RedisStore"]

logger = logging.getLogger("flask_aiflow")

#: URL schemes that select the cluster client (the rest of the URL as ``redis://``).
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}

#: Seconds the longest ``BLPOP`` but a lock wait may block (a relayed push's acknowledgement).
SLOWEST_BLPOP = 10.0

#: Errors that mean "Redis cannot be reached right now", not "we asked wrongly".
UNAVAILABLE: tuple[type[Exception], ...] = (
    errors.ConnectionError,
    errors.TimeoutError,
    errors.ClusterDownError,
    errors.ClusterError,
    errors.TryAgainError,
    errors.MasterDownError,
    errors.ReadOnlyError,
    errors.RedisClusterException,
)
#: What sends a cluster's script from the call's connection to the cluster client.
REROUTED: tuple[type[Exception], ...] = (*UNAVAILABLE, errors.AskError)  # MovedError is an AskError


def _script(name: str) -> str:
    return files("flask_aiflow.calls").joinpath("lua", name).read_text(encoding="utf-8")


def _tag(session_id: str) -> str:
    """The session id made safe inside a hash tag (braces escaped, one-to-one)."""
    if "{" not in session_id and "}" not in session_id and "%" not in session_id:
        return session_id
    return session_id.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")


@dataclass(frozen=True, slots=True)
class CallKeys:
    """One call's keys, all in the slot of its hash tag."""

    record: str
    transcript: str
    lock: str
    waiting: str
    wake: str
    listed: str

    @classmethod
    def of(cls, prefix: str, session_id: str) -> CallKeys:
        base = f"{prefix}{{{_tag(session_id)}}}:"
        return cls(*(base + kind for kind in ("call", "transcript", "lock", "waiting", "wake", "listed")))

    def enter(self) -> list[str]:
        return [self.lock, self.record, self.waiting, self.listed]

    def leave(self) -> list[str]:
        return [self.lock, self.record, self.transcript, self.waiting, self.wake, self.listed]


@dataclass(slots=True)
class _Write:
    """What a transaction writes when it ends: ``save`` or ``delete``."""

    mode: str
    record: str = ""
    ttl: int = 0
    turns: tuple[bytes, ...] = ()
    turn_limit: int = 0


class RedisTransaction(CallTransaction):
    """One event's hold on a call: entered with the record read, ended by one script.

    :meth:`save` and :meth:`delete` only note the write; the store carries it
    out, and releases the lock, when the ``with`` block ends without an
    exception. An exception releases the lock and writes nothing.
    """

    def __init__(self, store: RedisStore, session_id: str, keys: CallKeys, token: str,
                 text: str | None, listed: float | None) -> None:
        super().__init__(store, session_id)
        self.keys = keys
        self.token = token
        self.text = text
        self.listed = listed
        self.write: _Write | None = None

    def load(self) -> CallRecord | None:
        if self.text is None:
            return None
        return _parse(self.text)

    def save(self, record: CallRecord, ttl: int, *, turns: Sequence[Turn] = (), turn_limit: int = 0) -> None:
        self.write = _Write("save", record.dumps(), ttl, _turn_texts(turns, turn_limit), turn_limit)

    def delete(self) -> None:
        self.write = _Write("delete")


def _parse(text: str) -> CallRecord:
    try:
        return CallRecord.loads(text)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed call record: {exc!r}") from None


class RedisStore(StateStore):
    """Call records, transcripts, live calls and the per-call lock in Redis (or a Redis Cluster).

    :param client: a ``redis.Redis`` or ``redis.cluster.RedisCluster`` client;
        created with ``decode_responses=True`` by :meth:`from_url` (a client
        without it works too).
    :param prefix: put before every key. It should hold no ``{``: on a
        cluster that would put every key in one slot.
    :param lock_ttl: seconds a call's lock lives at most (longer than the
        slowest event).
    :param lock_wait: seconds an event waits for its call's lock before giving
        up with :class:`~flask_aiflow.calls.store.CallBusy`.
    """

    #: Sorted sets the live-calls index is spread over.
    LIVE_SHARDS = 16

    def __init__(self, client: Any, *, prefix: str = "aiflow:", lock_ttl: float = 10.0, lock_wait: float = 0.8) -> None:
        if lock_ttl <= 0 or lock_wait < 0:
            raise ValueError("lock_ttl must be > 0 and lock_wait >= 0")
        #: redis-py's own annotations mix in its asyncio client's types, so
        #: the client is used untyped here.
        self.client: Any = client
        self.prefix = prefix
        self.lock_ttl = lock_ttl
        self.lock_wait = lock_wait
        self.cluster = isinstance(client, redis.RedisCluster)
        self._lock_ms = max(1, round(lock_ttl * 1000))
        self._enter = client.register_script(_script("enter.lua"))
        self._leave = client.register_script(_script("leave.lua"))
        self._relay: RedisRelay | None = None
        #: a single Redis's pool, which an event takes its connection from (None: see _pool_for)
        self._pool: Any = None if self.cluster or getattr(client, "connection", None) else client.connection_pool

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisStore:
        """A store on a new client for ``url``.

        ``redis+cluster://`` and ``rediss+cluster://`` select the cluster
        client; query options are redis-py's ``from_url`` ones. Failed
        commands are retried once at once (a connection dropped by a Redis
        restart is replaced), not with redis-py's default back-off, so an
        unreachable Redis is reported within the event's budget.
        """
        lock_wait = float(options.get("lock_wait", 0.8))
        client_options: dict[str, Any] = {
            "decode_responses": True,
            "socket_connect_timeout": max(0.1, min(lock_wait, 1.0)),
            # longer than the longest BLPOP: a waiting event's, and a relayed
            # push's wait for its acknowledgement (AIFLOW_PUSH_TIMEOUT)
            "socket_timeout": max(lock_wait, SLOWEST_BLPOP) + 1.0,
            "retry": Retry(NoBackoff(), 1),
        }
        scheme = urlsplit(url).scheme
        if scheme in CLUSTER_SCHEMES:
            plain = urlunsplit(urlsplit(url)._replace(scheme=CLUSTER_SCHEMES[scheme]))
            client: Any = redis.RedisCluster.from_url(plain, **client_options)
        else:
            client = redis.Redis.from_url(url, **client_options)
        return cls(client, **options)

    def keys(self, session_id: str) -> CallKeys:
        return CallKeys.of(self.prefix, session_id)

    def live_key(self, session_id: str) -> str:
        """The live-index shard that lists this call."""
        return self._shard(zlib.crc32(session_id.encode("utf-8", "surrogatepass")) % self.LIVE_SHARDS)

    def _shard(self, number: int) -> str:
        return f"{self.prefix}{{live:{number}}}"

    # -- the lock and the transaction -----------------------------------------

    @contextmanager
    def transaction(self, session_id: str) -> Iterator[CallTransaction]:
        keys = self.keys(session_id)
        token = secrets.token_hex(16)
        with self._connection(session_id, keys) as conn:
            with _unavailable(session_id):
                text, listed = self._acquire(conn, session_id, keys, token)
            txn = RedisTransaction(self, session_id, keys, token, text, listed)
            try:
                yield txn
            except BaseException:
                self._release_quietly(conn, session_id, keys, token)
                raise
            with _unavailable(session_id):
                written = self._finish(conn, session_id, keys, token, txn.write, txn.listed)
        if not written:
            self._lost_lock(session_id)

    @contextmanager
    def lock(self, session_id: str) -> Iterator[None]:
        # a transaction that writes nothing: the same two scripts, its release without a write
        with self.transaction(session_id):
            yield

    @contextmanager
    def _connection(self, session_id: str, keys: CallKeys) -> Iterator[Any]:
        """The connection an event's two scripts go over: one from a pool, held for the event.

        Taking it once per event, and sending the scripts on it directly,
        spares each round trip the client's per-command work (a pool
        checkout and release, its retry and metrics wrappers; on a cluster
        also finding the keys' slot and node), which on a busy host costs as
        much CPU as the round trip itself. On a cluster it is a connection
        to the primary that holds the call's slot, from the cluster client's
        pool for that node; when that node cannot be reached (failing over),
        None: the scripts then go through the cluster client (see
        :meth:`_run`), as they always do for a client that holds a single
        connection.
        """
        pool = conn = None
        with _unavailable(session_id):
            pool = self._pool_for(keys)
            if pool is not None:
                try:
                    conn = pool.get_connection()
                except UNAVAILABLE:
                    if not self.cluster:
                        raise
        try:
            yield conn
        finally:
            if conn is not None:
                pool.release(conn)

    def _pool_for(self, keys: CallKeys) -> Any:
        """The pool of the call's connection (the slot's primary's on a cluster), or None."""
        if not self.cluster:
            return self._pool
        connection = getattr(self.client.get_node_from_key(keys.lock), "redis_connection", None)
        return None if connection is None else connection.connection_pool

    def _run(self, conn: Any, script: Any, keys: list[str], args: list[Any]) -> Any:
        """Run one of the store's scripts, on ``conn`` or (None) through the client.

        On ``conn``, a dropped connection is retried as the client would
        (its ``retry``: once, at once, as :meth:`from_url` sets it up). On a
        cluster, a node that cannot be reached or that no longer holds the
        slot (``MOVED``, ``ASK``, a failover) hands the script to the
        cluster client, which follows the slot and refreshes its map.
        """
        if conn is None:
            return script(keys, args)
        try:
            return conn.retry.call_with_retry(lambda: _evalsha(conn, script, keys, args), lambda _: conn.disconnect())
        except REROUTED:
            if not self.cluster:
                raise
            return script(keys, args)

    def _acquire(self, conn: Any, session_id: str, keys: CallKeys, token: str) -> tuple[str | None, float | None]:
        """Take the lock (waiting for it up to ``lock_wait``); the record text and live stamp."""
        deadline = time.monotonic() + self.lock_wait
        enter_keys = keys.enter()
        args = [token, self._lock_ms]
        while True:
            reply = self._run(conn, self._enter, enter_keys, args)
            if reply[0] == 1:
                text, listed = reply[1], reply[2]
                return (None if text is None else _text(text)), (None if listed is None else float(listed))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CallBusy(f"call {session_id}: its lock was not free within {self.lock_wait:g} s")
            holder_ms = int(reply[1])
            wait = remaining if holder_ms < 0 else min(remaining, holder_ms / 1000)
            # woken by the holder's release, or at the latest when its lock expires
            self.client.blpop([keys.wake], timeout=max(wait, 0.01))

    def _finish(self, conn: Any, session_id: str, keys: CallKeys, token: str, write: _Write | None,
                listed: float | None) -> bool:
        """Carry out the write (if any) and release the lock; False when the lock was lost."""
        if write is None:
            return bool(self._run(conn, self._leave, keys.leave(), [token, "release", "", 0, 0, "", self._lock_ms]))
        return self._write(conn, session_id, keys, token, write, listed)

    def _write(self, conn: Any, session_id: str, keys: CallKeys, token: str, write: _Write,
               listed: float | None) -> bool:
        """One round trip: the script, and the live index when the call enters, leaves or needs a refresh."""
        now = time.time()
        stamp = ""
        index: list[tuple[Any, ...]] = []
        live = self.live_key(session_id)
        if write.mode == "delete":
            index.append(("ZREM", live, session_id))
        elif listed is None or listed - now < write.ttl:
            until = now + 2 * write.ttl
            stamp = repr(until)
            index.append(("ZADD", live, until, session_id))
            index.append(("ZREMRANGEBYSCORE", live, "-inf", now))
        args = [token, write.mode, write.record, write.ttl, write.turn_limit, stamp, self._lock_ms, *write.turns]
        if not index:
            return bool(self._run(conn, self._leave, keys.leave(), args))
        # the call's first and last events (and a refresh about once per TTL):
        # the index's commands go in the same round trip as the script
        script = ("EVALSHA", self._leave.sha, 6, *keys.leave(), *args)
        if conn is None or self.cluster:  # on a cluster, the index's shards are in other slots
            pipe = self.client.pipeline(transaction=False)
            # EVALSHA by name: redis-py refuses pipe.evalsha() on a cluster pipeline, and
            # would ask a node for its keys (COMMAND GETKEYS, a round trip) to route it
            options = {"target_nodes": self.client.get_node_from_key(keys.lock)} if self.cluster else {}
            pipe.execute_command(*script, **options)
            for command in index:
                pipe.execute_command(*command)
            results = pipe.execute(raise_on_error=False)
        else:
            commands = [script, *index]
            results = conn.retry.call_with_retry(lambda: _pipelined(conn, commands), lambda _: conn.disconnect())
        outcome = results[0]
        for result in results[1:]:
            if isinstance(result, Exception):
                raise result
        if isinstance(outcome, errors.NoScriptError):
            outcome = self._run(conn, self._leave, keys.leave(), args)  # loads the script again
        elif isinstance(outcome, Exception):
            raise outcome
        return bool(outcome)

    def _release_quietly(self, conn: Any, session_id: str, keys: CallKeys, token: str) -> None:
        """Release after a failed event; if Redis is gone too, the lock expires by itself."""
        try:
            self._finish(conn, session_id, keys, token, None, None)
        except redis.RedisError as exc:
            logger.warning("call %s: could not release its lock (%s); it expires in %g s",
                           session_id, exc, self.lock_ttl)

    def _lost_lock(self, session_id: str) -> None:
        logger.error(
            "call %s: handling an event took longer than the lock TTL (%s s, AIFLOW_LOCK_TIMEOUT); "
            "its changes were dropped, because another event of this call may have run meanwhile",
            session_id,
            self.lock_ttl,
        )

    # -- the generic store methods ----------------------------------------------

    def load(self, session_id: str) -> str | None:
        with _unavailable(session_id):
            text = self.client.get(self.keys(session_id).record)
        return None if text is None else _text(text)

    def save(self, session_id: str, data: str, ttl: int, *, turns: Sequence[Turn] = (), turn_limit: int = 0) -> None:
        with _unavailable(session_id):
            write = _Write("save", data, ttl, _turn_texts(turns, turn_limit), turn_limit)
            self._write(None, session_id, self.keys(session_id), "", write, None)

    def delete(self, session_id: str) -> None:
        with _unavailable(session_id):
            self._write(None, session_id, self.keys(session_id), "", _Write("delete"), None)

    def transcript(self, session_id: str) -> list[Turn]:
        with _unavailable(session_id):
            texts = self.client.lrange(self.keys(session_id).transcript, 0, -1)
        return [_decode_turn.decode(text) for text in texts]

    def live_ids(self) -> list[str]:
        """The ids in the live-calls index (some may have just ended or expired)."""
        now = time.time()
        pipe = self.client.pipeline(transaction=False)
        for number in range(self.LIVE_SHARDS):
            pipe.zrangebyscore(self._shard(number), now, "+inf")
        return [_text(sid) for ids in pipe.execute() for sid in ids]

    def records(self) -> Iterator[tuple[str, CallRecord]]:
        ids = self.live_ids()
        if not ids:
            return
        record_keys = [self.keys(sid).record for sid in ids]
        texts = self.client.mget_nonatomic(record_keys) if self.cluster else self.client.mget(record_keys)
        for session_id, text in zip(ids, texts):
            if text is None:
                continue  # ended or expired since the index was read
            try:
                record = CallRecord.loads(text)
            except (ValueError, KeyError, TypeError) as exc:
                logger.error("call %s: stored state is unreadable (%s); left out of live calls", session_id, exc)
                continue
            yield session_id, record

    def relay(self) -> RedisRelay:
        if self._relay is None:
            self._relay = RedisRelay(self.client, self.prefix, sharded=self.cluster)
        return self._relay

    def ping(self) -> bool:
        return bool(self.client.ping())

    def close(self) -> None:
        if self._relay is not None:
            self._relay.close()
        self.client.close()


@contextmanager
def _unavailable(session_id: str) -> Iterator[None]:
    """Turn "Redis cannot be reached" into :class:`StoreUnavailable`."""
    try:
        yield
    except UNAVAILABLE as exc:
        raise StoreUnavailable(f"call {session_id}: the state store cannot be reached ({exc})") from exc


def _evalsha(conn: Any, script: Any, keys: list[str], args: list[Any]) -> Any:
    """Run a script on ``conn`` by its SHA1; sent whole (and so loaded again) when Redis answers ``NOSCRIPT``."""
    conn.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
    try:
        return conn.read_response()
    except errors.NoScriptError:
        conn.send_command("EVAL", script.script, len(keys), *keys, *args)
        return conn.read_response()


def _pipelined(conn: Any, commands: list[tuple[Any, ...]]) -> list[Any]:
    """Send ``commands`` in one write; every reply, an error reply as its exception (as a pipeline does)."""
    conn.send_packed_command(conn.pack_commands(commands))
    replies: list[Any] = []
    for _ in commands:
        try:
            replies.append(conn.read_response())
        except errors.ResponseError as exc:
            replies.append(exc)
    return replies


#: Transcript turns to and from the JSON texts the transcript list holds (msgspec's C codec).
_encode_turn = msgspec.json.Encoder()
_decode_turn = msgspec.json.Decoder(dict[str, Any])


def _turn_texts(turns: Sequence[Turn], turn_limit: int) -> tuple[bytes, ...]:
    """Transcript turns as the JSON texts the transcript list holds (none when it keeps none)."""
    if turn_limit <= 0:
        return ()
    return tuple(_encode_turn.encode(turn) for turn in turns)


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value
