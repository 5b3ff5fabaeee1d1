"""Forwarding pushed actions between processes over Redis pub/sub.

Used by :class:`~flask_aiflow.calls.redis_store.RedisStore` (see
:class:`RedisRelay`). On a Redis Cluster the relay uses sharded pub/sub
(``SSUBSCRIBE``/``SPUBLISH``, Redis 7 or Valkey): a node's channel lives on
the shard that owns its slot, instead of every message being broadcast to
every node of the cluster.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

import redis

from flask_aiflow.calls.push import NO_NODE, TIMED_OUT, Deliver, Relay

logger = logging.getLogger("flask_aiflow")


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

    def __init__(self, client: Any, prefix: str, *, sharded: bool = False) -> None:
        self.client: Any = client
        self.prefix = prefix
        #: sharded pub/sub (a Redis Cluster) instead of the plain kind
        self.sharded = sharded
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
        publish = self.client.spublish if self.sharded else self.client.publish
        if not publish(self.channel(node), message):
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
        if self.relay.sharded:
            self.pubsub.ssubscribe(self.channel)
        else:
            self.pubsub.subscribe(self.channel)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self._next(timeout=deadline - time.monotonic(), ignore_subscribe_messages=False)
            if message is not None and message["type"] in ("subscribe", "ssubscribe"):
                return
        raise TimeoutError(f"Redis did not confirm the subscription to {self.channel} in {timeout} s")

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                message = self._next(timeout=1.0, ignore_subscribe_messages=True)
                if message is not None and message["type"] in ("message", "smessage"):
                    self._handle(message["data"])
            except redis.RedisError as exc:
                # redis-py reconnects and re-subscribes on the next call
                logger.warning("aiflow relay: Redis error on %s: %s; retrying", self.channel, exc)
                self._stopped.wait(0.5)
            except Exception:  # the listener must outlive one bad message
                logger.exception("aiflow relay: failed to handle a forwarded action")
        try:
            self.pubsub.close()
        except redis.RedisError:
            pass

    def _next(self, *, timeout: float, ignore_subscribe_messages: bool) -> Any:
        if self.relay.sharded:
            return self.pubsub.get_sharded_message(ignore_subscribe_messages=ignore_subscribe_messages, timeout=timeout)
        return self.pubsub.get_message(ignore_subscribe_messages=ignore_subscribe_messages, timeout=timeout)

    def _handle(self, data: str | bytes) -> None:
        message = json.loads(data)
        outcome = self.deliver(message["session_id"], message["action"])
        self.relay.acknowledge(message["id"], outcome)


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value
