"""The configuration the apps served in worker processes share (gunicorn or granian, started by a test)."""

from __future__ import annotations

import os
from typing import Any


def served_config(**extra: Any) -> dict[str, Any]:
    """The tests' shared secret, no installed skills, and the state store (and Redis key prefix) that
    the test starting the server put in the environment; ``extra`` adds or overrides keys."""
    return {
        "AIFLOW_SHARED_SECRET": "test-secret",
        "AIFLOW_LOAD_ENTRY_POINTS": False,
        "AIFLOW_STATE_STORE": os.environ.get("AIFLOW_STATE_STORE", "memory"),
        "AIFLOW_REDIS_PREFIX": os.environ.get("AIFLOW_REDIS_PREFIX", "aiflow:"),
        **extra,
    }
