"""gunicorn settings for flask-aiflow in production: WebSocket calls (and webhooks).

    gunicorn -c examples/deploy/gunicorn.conf.py

Worker class gevent: a WebSocket is held for the whole call, and in the
benchmark (README, "Performance") gevent served 1,000 concurrent calls at one
event per second each with a p99 of a few milliseconds and less CPU than
gthread, which needs a thread (two, with simple-websocket's reader) per open
call and passes every message between them under the GIL. A gevent worker is
one thread for all its calls: give each worker its core (one worker per core).

Shutdown (SIGTERM): the master stops accepting connections and tells the
workers to stop. A webhook request in flight is finished (up to
``graceful_timeout``). Each open WebSocket call finishes the event it is
handling, sends that answer, and closes with 1001 "going away" (see
flask_aiflow/shutdown.py); idle calls close within a second. Calls are
therefore cut at an event boundary, never in the middle of one; to keep calls
up across a deploy, drain first (stop routing new calls to the instance and
wait for its calls to end) and send SIGTERM afterwards.

Environment:
    AIFLOW_APP         the WSGI app, "module:attribute" (default: ivr_app:app from examples/)
    AIFLOW_BIND        address to listen on (default: 127.0.0.1:8000; put TLS in front)
    WEB_CONCURRENCY    worker processes (default: one per core)
    AIFLOW_SHARED_SECRET, AIFLOW_REDIS_URL, ...: read by the app itself
    PROMETHEUS_MULTIPROC_DIR  with AIFLOW_METRICS: one /metrics over all workers

Several workers: a WebSocket call stays on one worker for its whole life, so
the in-memory store is correct for WebSocket-only traffic. Webhook events of
one call land on any worker: serve webhooks with several workers only with a
shared store (Redis).
"""

import multiprocessing
import os
from pathlib import Path
from typing import Any

wsgi_app = os.environ.get("AIFLOW_APP", "ivr_app:app")
pythonpath = str(Path(__file__).resolve().parent.parent)  # examples/, where the example apps live
bind = os.environ.get("AIFLOW_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))

worker_class = "gevent"
# Open calls per worker (each WebSocket is one call; webhooks use one briefly).
worker_connections = 2000
# Seconds a worker may go silent before the master restarts it. gevent workers
# report from their own loop, so a long call does not count.
timeout = 30
# Seconds in-flight requests get after SIGTERM (WebSocket calls close sooner).
graceful_timeout = 30
keepalive = 5
# Never restart workers after N requests: that would close live calls.
max_requests = 0

loglevel = "info"
accesslog = None  # an access line per event is costly; flask-aiflow logs decisions at debug
errorlog = "-"


def post_worker_init(worker: Any) -> None:
    """In each worker, after gunicorn's own signal handlers: SIGTERM also ends WebSocket calls cleanly."""
    # Imported here, in the worker, after gevent has patched the standard library.
    from flask_aiflow.web import shutdown

    shutdown.install_sigterm_hook()


def child_exit(server: Any, worker: Any) -> None:
    """With Prometheus multiprocess mode on (PROMETHEUS_MULTIPROC_DIR), forget a dead worker's gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from flask_aiflow.metrics import mark_process_dead

        mark_process_dead(worker.pid)
