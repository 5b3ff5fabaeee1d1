"""How many worker processes serve this app: for the start-up warning about process-local state.

The in-memory store is correct in one process only. Behind gunicorn with
``-w 4``, consecutive events of one call land on different workers and each
sees its own empty state; nothing fails loudly, calls just misbehave. So
``init_app`` asks :func:`worker_processes` and warns when it is more than one.

Sources, first match wins:

1. gunicorn: the app is loaded by a gunicorn worker (or by the arbiter with
   ``--preload``), whose ``cfg`` is reachable from the loading call stack:
   every frame's ``self`` that is a gunicorn object with a ``cfg.workers``.
   This sees ``-w``, ``--workers``, ``GUNICORN_CMD_ARGS``, config files and
   ``WEB_CONCURRENCY`` alike, because it reads gunicorn's own resolved
   settings. (An app created lazily inside a request is found the same way:
   the worker is on the stack there too.)
2. uWSGI: ``uwsgi.numproc``.
3. ``WEB_CONCURRENCY``, the common convention for the number of worker
   processes (gunicorn's own default for ``--workers``; Heroku, uvicorn).
"""

from __future__ import annotations

import os
import sys
from typing import Any


def worker_processes() -> tuple[int, str] | None:
    """``(count, source)`` for the number of worker processes, or None when unknown."""
    for probe in (_gunicorn_workers, _uwsgi_workers, _web_concurrency):
        found = probe()
        if found is not None:
            return found
    return None


def _gunicorn_workers() -> tuple[int, str] | None:
    if "gunicorn" not in sys.modules:
        return None
    frame: Any = sys._getframe(1)
    while frame is not None:
        candidate = frame.f_locals.get("self")
        module = type(candidate).__module__ if candidate is not None else ""
        if module.startswith("gunicorn."):
            workers = getattr(getattr(candidate, "cfg", None), "workers", None)
            if isinstance(workers, int) and not isinstance(workers, bool):
                return workers, "gunicorn --workers"
        frame = frame.f_back
    return None


def _uwsgi_workers() -> tuple[int, str] | None:
    uwsgi = sys.modules.get("uwsgi")
    numproc = getattr(uwsgi, "numproc", None)
    if isinstance(numproc, int):
        return numproc, "uWSGI processes"
    return None


def _web_concurrency() -> tuple[int, str] | None:
    value = os.environ.get("WEB_CONCURRENCY", "").strip()
    if value.isdigit():
        return int(value), "WEB_CONCURRENCY"
    return None
