"""The webhook's fast path (``AIFLOW_WEBHOOK_FAST_PATH``): what it skips, what it leaves alone, and that it answers as the view does."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask, g, has_request_context, request_started

from flask_aiflow import signals
from flask_aiflow.web.webhook import WebhookFastPath

from .helpers import SECRET, event, make_app
from .server import gunicorn
from .skills import echo


def app_with(fast_path: bool, **config: Any) -> Flask:
    return make_app(echo, AIFLOW_WEBHOOK_FAST_PATH=fast_path, **config)


def post_event(app: Flask, data: Any, **headers: str) -> Any:
    return app.test_client().post("/webhook", json=data, headers={"X-API-TOKEN": SECRET, **headers})


class TestWhatTheFastPathSkips:
    @pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "flask-view"])
    def test_before_and_after_request_run_only_through_the_view(self, fast_path: bool) -> None:
        app = app_with(fast_path)
        seen: list[str] = []
        app.before_request(lambda: seen.append("before"))

        @app.after_request
        def after(response: Any) -> Any:
            seen.append("after")
            return response

        response = post_event(app, event("session_start", "s"))
        assert response.status_code == 200
        assert seen == ([] if fast_path else ["before", "after"])

    @pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "flask-view"])
    def test_request_started_is_sent_only_through_the_view(self, fast_path: bool) -> None:
        app = app_with(fast_path)
        started: list[Any] = []
        with request_started.connected_to(lambda sender, **kw: started.append(sender), app):
            assert post_event(app, event("session_start", "s")).status_code == 200
        assert started == ([] if fast_path else [app])

    def test_skills_have_the_app_context_and_no_request_context(self) -> None:
        seen: dict[str, Any] = {}

        def look(event: Any, call: Any) -> str:
            from flask import current_app

            seen["app"] = current_app.name
            seen["request"] = has_request_context()
            g.touched = True
            return "ok"

        from .helpers import make_skill

        app = make_app(make_skill("look", user_speak=look), AIFLOW_EVENT_BUDGET_MS=None)
        torn_down: list[bool] = []
        app.teardown_appcontext(lambda exc: torn_down.append(bool(g.get("touched"))))
        assert post_event(app, event("user_speak", "s")).get_json()["text"] == "ok"
        assert seen == {"app": app.name, "request": False}
        assert torn_down == [True]  # the app context's teardown functions run

    def test_the_layer_is_installed_only_when_asked_for(self) -> None:
        assert isinstance(app_with(True).wsgi_app, WebhookFastPath)
        assert not isinstance(app_with(False).wsgi_app, WebhookFastPath)
        assert not isinstance(make_app(AIFLOW_WEBHOOK_PATH=None).wsgi_app, WebhookFastPath)

    def test_middleware_wrapped_after_init_app_sees_the_webhook(self) -> None:
        app = app_with(True)
        seen: list[str] = []
        inner = app.wsgi_app

        def middleware(environ: Any, start_response: Any) -> Any:
            seen.append(environ["PATH_INFO"])
            return inner(environ, start_response)

        app.wsgi_app = middleware  # type: ignore[method-assign]
        assert post_event(app, event("session_start", "s")).status_code == 200
        assert seen == ["/webhook"]

    def test_a_configured_path_is_the_one_taken(self) -> None:
        app = make_app(echo, AIFLOW_WEBHOOK_PATH="/aiflow/events")
        seen: list[str] = []
        app.before_request(lambda: seen.append("before"))
        response = app.test_client().post("/aiflow/events", json=event("session_start", "s"), headers={"X-API-TOKEN": SECRET})
        assert response.status_code == 200 and seen == []
        assert app.test_client().post("/webhook", json=event("session_start", "s")).status_code == 404
        assert seen == ["before"]  # a path that is not the webhook's goes to Flask


class TestOtherRoutesAreUntouched:
    def test_the_apps_own_routes_and_hooks(self) -> None:
        app = app_with(True)
        seen: list[str] = []
        app.before_request(lambda: seen.append("before"))
        app.add_url_rule("/hello", "hello", lambda: "hi", methods=["GET", "POST"])
        client = app.test_client()
        assert client.get("/hello").data == b"hi"
        assert client.post("/hello").data == b"hi"
        assert client.get("/health").status_code == 200
        assert seen == ["before", "before", "before"]

    @pytest.mark.parametrize("method", ["GET", "PUT", "HEAD"])
    def test_other_methods_on_the_webhook_path_go_through_flask(self, method: str) -> None:
        app = app_with(True)
        seen: list[str] = []
        app.before_request(lambda: seen.append("before"))
        response = app.test_client().open("/webhook", method=method)
        assert response.status_code == 405 and seen == ["before"]
        assert response.headers["Allow"] == "POST, OPTIONS"


def wsgi(app: Flask, method: str, body: bytes, **environ: Any) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call ``app`` as a WSGI server would: status line, headers and body (an ``environ`` value of None drops the key)."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": "/webhook", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
        "HTTP_X_API_TOKEN": SECRET, "REMOTE_ADDR": "127.0.0.1", **environ,
    }
    env = {key: value for key, value in env.items() if value is not None}
    started: list[Any] = []
    chunks = app(env, lambda status, headers, exc_info=None: started.append((status, headers)))
    data = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    return started[0][0], started[0][1], data


ANSWER = json.dumps(event("session_start", "same")).encode()
REQUESTS: dict[str, tuple[str, bytes, dict[str, Any]]] = {
    "action": ("POST", ANSWER, {}),
    "no action": ("POST", json.dumps(event("assistant_speak", "same")).encode(), {}),
    "unknown event": ("POST", b'{"type": "brand_new", "session": {"id": "same"}}', {}),
    "bad token": ("POST", ANSWER, {"HTTP_X_API_TOKEN": "nope"}),
    "no token": ("POST", ANSWER, {"HTTP_X_API_TOKEN": None}),
    "wrong type": ("POST", ANSWER, {"CONTENT_TYPE": "text/plain"}),
    "no type": ("POST", ANSWER, {"CONTENT_TYPE": None}),
    "too large": ("POST", b"{" + b" " * 5000 + b"}", {}),
    "too large, chunked": ("POST", b"{" + b" " * 5000 + b"}", {"CONTENT_LENGTH": None, "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True}),
    "invalid": ("POST", b'{"type": "user_speak", "session": {"id": 7}}', {}),
    "not json": ("POST", b"\xff{", {}),
    "short body": ("POST", b"{}", {"CONTENT_LENGTH": "50"}),
    "options": ("OPTIONS", b"", {}),
    "get": ("GET", b"", {}),
}


@pytest.mark.parametrize("case", list(REQUESTS))
def test_both_paths_answer_byte_for_byte_alike(case: str) -> None:
    method, body, environ = REQUESTS[case]
    answers = []
    for fast_path in (True, False):
        app = app_with(fast_path, AIFLOW_MAX_EVENT_BYTES=4096)
        status, headers, data = wsgi(app, method, body, **environ)
        answers.append((status, sorted(headers), data))
    assert answers[0] == answers[1]
    status, headers, data = answers[0]
    assert not status.startswith("5"), answers[0]
    if status.startswith("204"):
        assert data == b"" and not any(name.lower() == "content-type" for name, _ in headers)
    else:
        json.loads(data)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "flask-view"])
def test_flasks_max_content_length_lowers_the_body_limit(fast_path: bool) -> None:
    body = json.dumps(event("user_speak", "s", text="x" * 300)).encode()
    lowered = app_with(fast_path, MAX_CONTENT_LENGTH=200)
    status, _, data = wsgi(lowered, "POST", body)
    assert status.startswith("413") and json.loads(data)["error"] == "too_large"
    assert wsgi(lowered, "POST", body[:150])[0].startswith("400")  # under the limit: read, then refused as JSON
    higher = app_with(fast_path, MAX_CONTENT_LENGTH=1 << 20, AIFLOW_MAX_EVENT_BYTES=200)  # the lower limit wins
    assert wsgi(higher, "POST", body)[0].startswith("413")
    assert not wsgi(app_with(fast_path, MAX_CONTENT_LENGTH=1000), "POST", body)[0].startswith("4")


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "flask-view"])
def test_a_failing_signal_receiver_is_a_json_500_without_traceback(fast_path: bool) -> None:
    app = app_with(fast_path)

    def explode(sender: Any, **kw: Any) -> None:
        raise RuntimeError("receiver on fire")

    with signals.event_rejected.connected_to(explode, app):
        response = app.test_client().post("/webhook", json=event("session_start", "s"), headers={"X-API-TOKEN": "no"})
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal", "message": "internal error"}
    assert b"receiver on fire" not in response.data


# -- against a real server -------------------------------------------------------------


@pytest.fixture(scope="module", params=[True, False], ids=["fast-path", "flask-view"])
def base_url(request: Any) -> Iterator[str]:
    env = {"FLASK_AIFLOW_WEBHOOK_FAST_PATH": "true" if request.param else "false"}
    with gunicorn("tests.apps.e2e_app:app", env=env) as url:
        yield url


def post(base: str, data: Any, token: str = SECRET) -> requests.Response:
    return requests.post(f"{base}/webhook", json=data, headers={"X-API-TOKEN": token}, timeout=5)


@pytest.mark.server
class TestOnGunicorn:
    def test_a_whole_call(self, base_url: str) -> None:
        start = post(base_url, event("session_start", "g1"))
        assert start.status_code == 200 and start.headers["Content-Type"] == "application/json"
        assert start.json() == {"type": "speak", "session_id": "g1", "text": "Welcome to the echo line."}
        nothing = post(base_url, event("assistant_speak", "g1"))
        assert nothing.status_code == 204 and "Content-Type" not in nothing.headers
        assert post(base_url, event("user_speak", "g1", text="crash")).json()["text"] == "You said: crash"
        assert post(base_url, event("session_end", "g1")).status_code == 204

    def test_refusals(self, base_url: str) -> None:
        refused = post(base_url, event("session_start", "g2"), token="nope")
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
        headers = {"X-API-TOKEN": SECRET, "Content-Type": "application/json"}
        bad = requests.post(f"{base_url}/webhook", data=b"\xff{", headers=headers, timeout=5)
        assert bad.status_code == 400 and bad.json()["field"] == "body"
        big = requests.post(f"{base_url}/webhook", data=b"{" + b" " * 5000 + b"}", headers=headers, timeout=5)
        assert big.status_code == 413 and big.json()["error"] == "too_large"
        text = requests.post(f"{base_url}/webhook", data="{}", headers={**headers, "Content-Type": "text/plain"}, timeout=5)
        assert text.status_code == 415
        wrong = requests.get(f"{base_url}/webhook", timeout=5)
        assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
        assert requests.get(f"{base_url}/health", timeout=5).json()["status"] == "ok"
