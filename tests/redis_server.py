"""A throwaway redis-server for the tests, on a free port, without persistence.

The tests that need Redis skip, with the reason, when no ``redis-server`` is on
the PATH, except under CI (the ``CI`` environment variable set), where a
missing server is a failure: CI must test the Redis store, not skip it
(``tests/setup-system.sh`` installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .server import free_port

MISSING = (
    "redis-server is not on the PATH: the Redis store tests need a real one "
    "(run tests/setup-system.sh, or install the redis-server package)"
)


def require_redis_server() -> str:
    """The binary's path; skips the test (fails it under CI) when there is none."""
    path = shutil.which("redis-server")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {MISSING}", pytrace=False)
        pytest.skip(MISSING)
    return path


@contextmanager
def redis_server(binary: str) -> Iterator[str]:
    """Run a redis-server on a free port; yields its URL (database 0)."""
    import redis

    port = free_port()
    workdir = tempfile.mkdtemp(prefix="aiflow-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.02)
        yield url
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
