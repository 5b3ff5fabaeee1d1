"""Run an app in a real server process (gunicorn) for end-to-end tests, or in a thread (werkzeug)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running gunicorn: its base URL, the arbiter process, its log file and the environment it was given."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path | None
    env: dict[str, str] = field(default_factory=dict)

    def worker_pids(self) -> list[int]:
        """The arbiter's live child processes: its workers (Linux /proc)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return sorted(int(child) for child in children)

    def wait_for_workers(self, count: int, timeout: float = 20.0) -> list[int]:
        """Wait until the arbiter has ``count`` workers that answer (after a kill, say)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == count:
                return pids
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not get back to {count} workers in {timeout} s")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def wait_for_log(self, text: str, count: int = 1, timeout: float = 20.0) -> list[str]:
        """The log lines containing ``text``, once there are ``count`` of them (workers boot at their own pace)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.log().splitlines() if text in line]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve the WSGI ``app`` with werkzeug's threaded server in a thread of this process; yields the base URL.

    No process is started, so tests using it stay in the quick set. The
    server's loop looks for a shutdown every 10 ms (werkzeug's default is
    half a second, which every test module using it would wait at its end).
    """
    port = free_port()
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


@contextmanager
def serve(
    app: str,
    *,
    workers: int = 1,
    threads: int = 16,
    env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
    log_path: Path | None = None,
) -> Iterator[Server]:
    """Serve ``app`` ("module:attr") with gunicorn gthread; yields the :class:`Server`."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", str(threads),
        "--graceful-timeout", "2",
        *extra_args,
        app,
    ]
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    except BaseException:
        if log_path:
            log.close()  # type: ignore[union-attr]
        raise
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield Server(base, process, log_path, dict(env or {}))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if log_path:
            log.close()  # type: ignore[union-attr]


@contextmanager
def gunicorn(app: str, **options: Any) -> Iterator[str]:
    """Serve ``app`` ("module:attr") with gunicorn gthread; yields the base URL."""
    with serve(app, **options) as server:
        yield server.url


def wait_until_up(base: str, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            requests.get(f"{base}/health", timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            # not listening yet, or still importing the app (slow on a busy machine)
            time.sleep(0.05)
    raise RuntimeError(f"server at {base} did not come up in {timeout} s")
