"""Graceful shutdown for calls on WebSockets.

A webhook event is one request, and servers finish the requests in flight
when they are told to stop (gunicorn's ``graceful_timeout``, granian's
workers-kill-timeout). A WebSocket carries a whole call, minutes long, so a
stopping worker would wait out its grace period and then cut every open call,
possibly in the middle of an event. After :func:`begin_shutdown`, every call
served by this process instead finishes the event it is handling, sends that
answer, and closes its connection with status 1001 (going away); idle calls
close within :data:`POLL_SECONDS`.

Under gunicorn, call :func:`install_sigterm_hook` from the ``post_worker_init``
server hook (``examples/deploy/gunicorn.conf.py`` does), so the worker's
SIGTERM starts this before gunicorn's own graceful stop.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any

#: How often a waiting WebSocket loop looks whether the process is stopping.
POLL_SECONDS = 1.0

#: WebSocket close status sent to calls when the server stops.
GOING_AWAY = 1001

_stopping = threading.Event()


def begin_shutdown() -> None:
    """Tell every WebSocket call in this process to close after its current event."""
    _stopping.set()


def shutting_down() -> bool:
    """True once :func:`begin_shutdown` has been called in this process."""
    return _stopping.is_set()


def reset() -> None:
    """Forget a shutdown (for tests that run several in one process)."""
    _stopping.clear()


def install_sigterm_hook() -> None:
    """Make SIGTERM call :func:`begin_shutdown`, then whatever handled it before.

    Call it in the worker process after the server installed its own signal
    handlers: gunicorn's ``post_worker_init(worker)`` hook is that place.
    """
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> Any:
        begin_shutdown()
        if callable(previous):
            return previous(signum, frame)
        if previous == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
        return None

    signal.signal(signal.SIGTERM, on_sigterm)
