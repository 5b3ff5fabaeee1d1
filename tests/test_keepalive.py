"""A refused request leaves its connection fit for the next one; a 204 has no Content-Type.

The webhook reads away what is left of a refused request's body (up to
``DISCARD_LIMIT``), so the next request on the same keep-alive connection is
not taken from the middle of it; beyond that it asks the server to close the
connection. Checked against real servers: gunicorn keeps the connection
alive, werkzeug's development server closes every connection after its
response (it does not keep connections alive), so there the next request
goes out on a new one.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from flask_aiflow.web.routes import DISCARD_LIMIT

from .helpers import event, make_app
from .server import gunicorn, serve_in_thread
from .skills import frontdesk

SECRET = "test-secret"  # the secret of tests.apps.simulator_app
JSON_HEADERS = {"Content-Type": "application/json", "X-API-TOKEN": SECRET}


def werkzeug_app(fast_path: bool = True) -> Any:
    return make_app(frontdesk, AIFLOW_SHARED_SECRET=SECRET, AIFLOW_FALLBACK=None, AIFLOW_WEBHOOK_FAST_PATH=fast_path)


@pytest.fixture(
    scope="module",
    params=[
        ("werkzeug", True),
        ("werkzeug", False),
        pytest.param(("gunicorn", True), marks=pytest.mark.server),
        pytest.param(("gunicorn", False), marks=pytest.mark.server),
    ],
    ids=["werkzeug-fast-path", "werkzeug-flask-view", "gunicorn-fast-path", "gunicorn-flask-view"],
)
def server(request: Any) -> Iterator[tuple[str, str, int]]:
    """(name, host, port) of a running server with the front-desk skill, on either way to the webhook."""
    kind, fast_path = request.param
    if kind == "gunicorn":
        env = {"FLASK_AIFLOW_WEBHOOK_FAST_PATH": "true" if fast_path else "false"}
        with gunicorn("tests.apps.simulator_app:app", env=env) as url:
            parts = urlsplit(url)
            assert parts.hostname is not None and parts.port is not None
            yield "gunicorn", parts.hostname, parts.port
        return
    with serve_in_thread(werkzeug_app(fast_path)) as url:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        yield "werkzeug", parts.hostname, parts.port


def post(conn: http.client.HTTPConnection, body: bytes, headers: dict[str, str] = JSON_HEADERS) -> http.client.HTTPResponse:
    conn.request("POST", "/webhook", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response


def session_start(session_id: str) -> bytes:
    return json.dumps(event("session_start", session_id)).encode()


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b'{"type": "' + b"x" * 1_000_000 + b'"}', JSON_HEADERS, 413),  # the probe's 1 MB body
        (b"x" * 100_000, {**JSON_HEADERS, "X-API-TOKEN": "wrong"}, 401),  # refused before the body is read
        (b"x" * 10_000, {"Content-Type": "text/plain", "X-API-TOKEN": SECRET}, 415),
    ],
    ids=["413", "401", "415"],
)
def test_the_next_request_on_the_same_connection_is_served(
    server: tuple[str, str, int], body: bytes, headers: dict[str, str], status: int
) -> None:
    name, host, port = server
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        refused = post(conn, body, headers)
        assert refused.status == status
        keep_alive = refused.getheader("Connection", "").lower() != "close"
        assert keep_alive is (name == "gunicorn")
        socket_before = conn.sock
        for number in range(3):
            answered = post(conn, session_start(f"keepalive-{name}-{status}-{number}"))
            assert answered.status == 200, answered.status
            if keep_alive:
                assert conn.sock is socket_before  # the same connection served them all
    finally:
        conn.close()


def test_a_204_has_no_content_type(server: tuple[str, str, int]) -> None:
    conn = http.client.HTTPConnection(*server[1:], timeout=30)
    try:
        post(conn, session_start("no-content"))
        nothing = post(conn, json.dumps(event("assistant_speak", "no-content")).encode())
        assert nothing.status == 204
        assert nothing.getheader("Content-Type") is None
        conn.request("OPTIONS", "/webhook")
        options = conn.getresponse()
        options.read()
        assert options.status == 204 and options.getheader("Allow") == "POST, OPTIONS"
        assert options.getheader("Content-Type") is None
    finally:
        conn.close()


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "flask-view"])
def test_a_body_too_large_to_read_away_closes_the_connection(fast_path: bool) -> None:
    app = werkzeug_app(fast_path)
    big = b"x" * (DISCARD_LIMIT + 1)
    response = app.test_client().post("/webhook", data=big, headers=JSON_HEADERS)
    assert response.status_code == 413
    assert response.headers["Connection"] == "close"
    small = app.test_client().post("/webhook", data=b"x" * 1000, headers={**JSON_HEADERS, "X-API-TOKEN": "wrong"})
    assert small.status_code == 401 and "Connection" not in small.headers
