"""Serve the webhook in production with granian, the fastest server in the benchmark.

    python examples/deploy/granian_webhook.py

granian is a Rust HTTP server with a WSGI interface; in the benchmark
(README, "Performance") it served the IVR app's webhook faster than gunicorn
sync and gthread on the same machine. It does not serve WebSockets for WSGI
apps: for AI Flow's WebSocket transport use gunicorn.conf.py beside this file.

Shutdown (SIGTERM or SIGINT): granian stops accepting connections and lets
each worker finish the requests in flight, for up to ``workers_kill_timeout``
seconds, before it kills a worker that is still busy.

Environment:
    AIFLOW_APP         the WSGI app, "module:attribute" (default: ivr_app:app from examples/)
    AIFLOW_HOST        address to listen on (default: 127.0.0.1; put TLS in front)
    AIFLOW_PORT        port (default: 8000)
    WEB_CONCURRENCY    worker processes (default: one per core)
    AIFLOW_SHARED_SECRET, AIFLOW_REDIS_URL, ...: read by the app itself

Webhook events of one call land on any worker: with more than one worker the
app needs a shared store (Redis) for its call state.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from granian import Granian
from granian.constants import Interfaces

EXAMPLES = Path(__file__).resolve().parent.parent


def server() -> Any:  # granian.Granian, the server class
    return Granian(
        os.environ.get("AIFLOW_APP", "ivr_app:app"),
        address=os.environ.get("AIFLOW_HOST", "127.0.0.1"),
        port=int(os.environ.get("AIFLOW_PORT", "8000")),
        interface=Interfaces.WSGI,
        workers=int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1)),
        working_dir=EXAMPLES,
        # Requests in flight get this many seconds after SIGTERM.
        workers_kill_timeout=30,
        # A worker that dies is replaced; one that grows past 512 MiB is recycled gracefully.
        respawn_failed_workers=True,
        workers_max_rss=512,
        log_access=False,
    )


if __name__ == "__main__":
    server().serve()
