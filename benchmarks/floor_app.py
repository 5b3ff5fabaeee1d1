"""The floor for the Redis benchmark: the IVR app on the in-memory store plus two bare round trips per event.

Each event first sends a ``GET`` and, once handled, a ``SET`` of a record-sized
value to Redis, on a socket of its own thread, written and read by hand: no
client library, no scripts, no record codec. Any store that takes two round
trips per event pays at least this much, so the distance from here to the
in-memory store is what the round trips themselves cost on the machine, and
the distance from here to the Redis store is what the client, the scripts and
the record's codec add. (Call state stays in each worker's memory, as with the
in-memory store: a benchmark instrument, not a store to use.)
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import ivr_app  # type: ignore[import-not-found]
from flask import Flask

from flask_aiflow import AiFlow
from flask_aiflow.calls.store import CallTransaction, MemoryStore

_URL = urlsplit(os.environ["FLOOR_REDIS_URL"])
#: about the size of the IVR app's call record
_RECORD = b"x" * 450
_GET = b"*2\r\n$3\r\nGET\r\n$11\r\nfloor:bench\r\n"
_SET = b"*3\r\n$3\r\nSET\r\n$11\r\nfloor:bench\r\n$%d\r\n%s\r\n" % (len(_RECORD), _RECORD)


class FloorStore(MemoryStore):
    """The in-memory store, with a bare round trip to Redis before and after each event."""

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()

    def _round_trip(self, command: bytes) -> None:
        sock = getattr(self._local, "sock", None)
        if sock is None:
            sock = self._local.sock = socket.create_connection((_URL.hostname, _URL.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(command)
        reply = sock.recv(4096)
        while not reply.endswith(b"\r\n"):
            reply += sock.recv(4096)

    @contextmanager
    def transaction(self, session_id: str) -> Iterator[CallTransaction]:
        self._round_trip(_GET)
        with super().transaction(session_id) as txn:
            yield txn
        self._round_trip(_SET)


app = Flask(__name__)
app.config["AIFLOW_SHARED_SECRET"] = os.environ.get("AIFLOW_SHARED_SECRET")
app.config.update(ivr_app.CONFIG)
AiFlow(app, store=FloorStore())
