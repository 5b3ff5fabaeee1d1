"""What every benchmark shares: the call script, statistics, server processes, tables."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
SECRET = "bench-secret"
PYTHON = sys.executable

#: One call as the platform plays it: greeting, a menu choice, silence, an
#: unmatched question, a farewell. (event type, extra fields)
CALL_SCRIPT: tuple[tuple[str, dict[str, Any]], ...] = (
    ("session_start", {}),
    ("assistant_speak", {"text": "Welcome", "duration_ms": 2400, "speech_started_at": 1700000000000}),
    ("assistant_speech_ended", {}),
    ("user_speak", {"text": "support please"}),
    ("assistant_speak", {"text": "Connecting", "duration_ms": 1800, "speech_started_at": 1700000004000}),
    ("assistant_speech_ended", {}),
    ("user_input_timeout", {}),
    ("assistant_speak", {"text": "Still there?", "duration_ms": 1500, "speech_started_at": 1700000012000}),
    ("assistant_speech_ended", {}),
    ("user_speak", {"text": "tell me about topic7", "barged_in": True}),
    ("assistant_speak", {"text": "Sorry", "duration_ms": 2000, "speech_started_at": 1700000016000}),
    ("assistant_speech_ended", {}),
    ("user_speak", {"text": "thanks goodbye"}),
    ("assistant_speak", {"text": "Goodbye", "duration_ms": 1200, "speech_started_at": 1700000020000}),
    ("assistant_speech_ended", {}),
    ("session_end", {}),
)


def session(session_id: str) -> dict[str, Any]:
    return {
        "id": session_id,
        "account_id": "account-bench",
        "phone_number": "+4930123456",
        "direction": "inbound",
        "from_phone_number": "+4917099999",
        "to_phone_number": "+4930123456",
    }


def event(event_type: str, session_id: str, **fields: Any) -> dict[str, Any]:
    return {"type": event_type, **fields, "session": session(session_id)}


def call_events(session_id: str) -> list[dict[str, Any]]:
    """The whole :data:`CALL_SCRIPT` for one call, as wire-form dicts."""
    return [event(kind, session_id, **fields) for kind, fields in CALL_SCRIPT]


def call_bodies(session_id: str) -> list[bytes]:
    return [json.dumps(e, separators=(",", ":")).encode() for e in call_events(session_id)]


# -- statistics ------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest-rank on sorted data."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- tables ----------------------------------------------------------------------


def client_errors(runs: Sequence[dict[str, Any]]) -> list[str]:
    """Report lines for the load clients' errors over ``runs`` (none when there were none)."""
    errors = {kind: count for run in runs for kind, count in run["errors"].items()}
    if not errors:
        return []
    return ["", "Client errors: " + "; ".join(f"{kind} x{count}" for kind, count in errors.items())]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (also readable as plain text)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths)) + " |"]
    lines.append("| " + " | ".join("-" * w for w in widths) + " |")
    for row in cells[1:]:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# -- server processes ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for a server under test: the secret, no Redis, quiet logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIFLOW_", "FLASK_AIFLOW_"))}
    env.update(AIFLOW_SHARED_SECRET=SECRET, AI_FLOW_SHARED_SECRET=SECRET, PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def server(
    name: str,
    command: Sequence[str],
    port: int,
    *,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    ready_path: str = "/health",
) -> Iterator[Server]:
    """Run one server process for the duration of the block; stop it with SIGTERM."""
    log_dir = BENCH / "logs"
    log_dir.mkdir(exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env or bench_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        srv = Server(name, port, process, log_path)
        try:
            wait_until_up(srv, ready_path)
            yield srv
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_until_up(srv: Server, path: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if srv.process.poll() is not None:
            raise RuntimeError(f"{srv.name} exited with {srv.process.returncode}; see {srv.log}")
        try:
            urllib.request.urlopen(srv.url + path, timeout=1).read()
            return
        except urllib.error.HTTPError:
            return  # it answers, that is all we need
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{srv.name} did not come up in {timeout} s; see {srv.log}")


@contextmanager
def redis_server(unix_socket: str | None = None) -> Iterator[int]:
    """A private, empty redis-server on a free port (no persistence), also on ``unix_socket`` if given."""
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed: apt-get install -y redis-server")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        socket_options = ["--unixsocket", unix_socket, "--unixsocketperm", "700"] if unix_socket else []
        process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", tmp, *socket_options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.05)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=10)
