"""Worker threads that run an event's skills so the caller can stop waiting.

A Python thread cannot be interrupted, so a per-event time budget needs the
skills to run somewhere other than the thread that must answer: the request
thread hands the event's skill calls to a worker and waits with a timeout.
When the budget is spent it takes what has finished and answers; the worker
finishes the late skill in its own time and throws its result away.

The pool is shared by the whole process and starts its threads lazily, one
more whenever none is idle, up to :data:`MAX_WORKERS`. A worker stuck in a
skill that never returns stays busy; if every worker is stuck,
:meth:`WorkerPool.submit` refuses the task and the event is answered without
its skills (the decision says so), instead of piling up threads without end.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable
from queue import SimpleQueue
from time import perf_counter
from typing import Any

#: The most threads the process-wide pool starts.
MAX_WORKERS = 64


class Batch:
    """One event's skill calls, run in order by a worker.

    ``step(index)`` runs call ``index`` and returns its result. The worker
    stops at the first call after :meth:`cancel`; results handed over after
    the cancel are never seen by the waiting thread, because both sides
    touch :attr:`results` only under one lock.
    """

    __slots__ = ("step", "count", "results", "current", "current_started", "cancelled", "error", "_lock", "_done", "_context")

    def __init__(self, step: Callable[[int], Any], count: int) -> None:
        self.step = step
        self.count = count
        self.results: list[Any] = []
        self.current = -1
        self.current_started = 0.0
        self.cancelled = False
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._done = threading.Lock()
        self._done.acquire()
        # Flask's app and request contexts (and the log session id) are
        # context variables: the worker runs in a copy of the caller's.
        self._context = contextvars.copy_context()

    def run(self) -> None:
        """Worker side: run every call unless cancelled; never raises. Then call :meth:`finish`."""
        try:
            self._context.run(self._run)
        except BaseException as exc:  # noqa: BLE001 - reported to the waiting thread
            self.error = exc

    def finish(self) -> None:
        """Wake the waiting thread."""
        self._done.release()

    def _run(self) -> None:
        for index in range(self.count):
            with self._lock:
                if self.cancelled:
                    return
                self.current = index
                self.current_started = perf_counter()
            result = self.step(index)
            with self._lock:
                if self.cancelled:
                    return
                self.results.append(result)

    def wait(self, timeout: float) -> bool:
        """Caller side: True when every call finished within ``timeout`` seconds.

        On False the batch is cancelled: :attr:`results` then holds exactly
        the calls that finished in time and no longer changes, and
        :attr:`current` is the index of the call that was still running
        (started at :attr:`current_started`) when it equals
        ``len(results)``.
        """
        if self._done.acquire(timeout=max(timeout, 0.0)):
            if self.error is not None:
                raise self.error
            return True
        with self._lock:
            self.cancelled = True
            finished = len(self.results) == self.count
        if finished and self.error is None:
            return True
        return False


class WorkerPool:
    """Threads waiting for batches; grows on demand up to ``max_workers``."""

    def __init__(self, max_workers: int = MAX_WORKERS) -> None:
        self.max_workers = max_workers
        self._queue: SimpleQueue[Batch | None] = SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0

    def submit(self, batch: Batch) -> bool:
        """Hand ``batch`` to a worker; False when every worker is busy and none may start."""
        with self._lock:
            if self._idle:
                self._idle -= 1
            elif self._threads < self.max_workers:
                self._threads += 1
                thread = threading.Thread(target=self._work, name=f"aiflow-skills-{self._threads}", daemon=True)
                thread.start()
            else:
                return False
        self._queue.put(batch)
        return True

    def _work(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            batch.run()
            # Count this worker idle before waking the waiting thread, so that
            # the thread it wakes does not have to wait for the GIL meanwhile.
            with self._lock:
                self._idle += 1
            batch.finish()

    @property
    def threads(self) -> int:
        return self._threads

    @property
    def busy(self) -> int:
        with self._lock:
            return self._threads - self._idle


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def pool() -> WorkerPool:
    """The process-wide pool (created on first use, anew in a forked child)."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = WorkerPool()
    return _pool


def _forget_pool() -> None:
    # Threads do not survive fork(): a child (a gunicorn worker forked from a
    # preloading master) starts its own pool.
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
