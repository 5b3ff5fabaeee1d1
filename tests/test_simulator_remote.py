"""The simulator against a running server, given the URLs the README prints.

A server's base URL gets the route's path appended; the route's own URL
(``http://host:5000/webhook``, ``ws://host:5000/ws``) is taken as it is; a
refused secret says how to pass one. The server runs in a thread of this
process (werkzeug's), so these tests stay in the quick set, except the calls
over a WebSocket, which wait out the simulator's quiet periods.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flask_aiflow.testing import CallSimulator
from flask_aiflow.testing.errors import TransportError
from flask_aiflow.testing.transports import remote_url

from .helpers import make_app
from .server import serve_in_thread
from .skills import frontdesk

SECRET = "remote-secret"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread(make_app(frontdesk, AIFLOW_SHARED_SECRET=SECRET, AIFLOW_FALLBACK=None)) as url:
        yield url


@pytest.mark.parametrize(
    ("target", "path", "websocket", "expected"),
    [
        ("http://h:5000", "/webhook", False, "http://h:5000/webhook"),
        ("http://h:5000/", "/webhook", False, "http://h:5000/webhook"),
        ("http://h:5000/webhook", "/webhook", False, "http://h:5000/webhook"),
        ("http://h:5000", "/ws", True, "ws://h:5000/ws"),
        ("https://h", "/ws", True, "wss://h/ws"),
        ("ws://h:5000/ws", "/ws", True, "ws://h:5000/ws"),
        ("http://h:5000/ws", "/ws", True, "ws://h:5000/ws"),
        ("http://h:5000/aiflow", "/ws", True, "ws://h:5000/aiflow/ws"),
        ("https://h/aiflow/ws", "/ws", True, "wss://h/aiflow/ws"),
    ],
)
def test_remote_url_takes_a_base_or_the_routes_own_url(target: str, path: str, websocket: bool, expected: str) -> None:
    assert remote_url(target, path, websocket=websocket) == expected


#: Over a remote WebSocket the simulator waits out a quiet period after each event (the protocol has no
#: "no action" message), about 0.3 s per step: those cases wait on the clock, so they are in the slow set.
QUIET = pytest.mark.slow


@pytest.mark.parametrize(
    ("transport", "suffix"),
    [
        ("webhook", ""),
        ("webhook", "/webhook"),
        pytest.param("websocket", "", marks=QUIET),
        pytest.param("websocket", "/ws", marks=QUIET),
        pytest.param("websocket", "ws", marks=QUIET),
    ],
)
def test_a_call_over_the_url_the_readme_prints(base_url: str, transport: str, suffix: str) -> None:
    target = base_url + suffix if suffix != "ws" else base_url.replace("http://", "ws://") + "/ws"
    sim = CallSimulator(target, transport=transport, secret=SECRET)
    try:
        call = sim.start_call()
        call.greeting.expect_speech(containing="front desk")
        call.hang_up()
    finally:
        sim.close()


@pytest.mark.parametrize("transport", ["webhook", "websocket"])
def test_a_wrong_secret_says_how_to_pass_one(base_url: str, transport: str) -> None:
    sim = CallSimulator(base_url, transport=transport, secret="wrong")
    try:
        with pytest.raises(TransportError, match=r"HTTP 401.*CallSimulator\(url, secret=\.\.\.\).*X-API-TOKEN"):
            sim.start_call()
    finally:
        sim.close()
