"""The webhook route: answers, authentication and every class of hostile input."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from flask_aiflow import signals

from .helpers import SECRET, event, make_app

pytestmark = pytest.mark.usefixtures("webhook_path")


def test_session_start_answers_with_action_json(post: Any) -> None:
    response = post(event("session_start", "s1"))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"type": "speak", "session_id": "s1", "text": "Welcome to the echo line."}


def test_no_action_is_204_with_empty_body(post: Any) -> None:
    response = post(event("assistant_speech_ended", "s1"))
    assert response.status_code == 204
    assert response.data == b""


def test_session_end_is_204(post: Any) -> None:
    post(event("session_start", "s1"))
    assert post(event("session_end", "s1")).status_code == 204


def test_user_barge_in_is_delivered_as_barged_in_user_speak(app: Any, post: Any) -> None:
    seen: list[Any] = []
    with signals.event_received.connected_to(lambda sender, event, **kw: seen.append(event), app):
        response = post(event("user_barge_in", "s1", text="wait"))
    assert response.get_json()["text"] == "You said: wait"
    assert seen[0].type == "user_speak" and seen[0].barged_in is True


def test_unknown_event_type_is_204_logged_and_signalled(app: Any, post: Any, caplog: Any) -> None:
    ignored: list[str] = []
    with signals.event_ignored.connected_to(lambda sender, event_type, **kw: ignored.append(event_type), app):
        with caplog.at_level(logging.INFO, "flask_aiflow"):
            response = post(event("dtmf_received", "s1"))
    assert response.status_code == 204
    assert ignored == ["dtmf_received"]
    assert "dtmf_received" in caplog.text


class TestAuthentication:
    @pytest.mark.parametrize("headers", [{}, {"X-API-TOKEN": "wrong"}, {"X-API-TOKEN": ""}, {"X-API-TOKEN": SECRET + "x"}])
    def test_missing_or_wrong_token_is_401_json(self, client: Any, headers: dict[str, str]) -> None:
        response = client.post("/webhook", json=event("session_start", "s1"), headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized"

    def test_rejection_is_signalled(self, app: Any, client: Any) -> None:
        rejected: list[Any] = []
        with signals.event_rejected.connected_to(lambda sender, **kw: rejected.append(kw), app):
            client.post("/webhook", json=event("session_start", "s1"))
        assert rejected == [{"status": 401, "reason": "missing X-API-TOKEN header", "transport": "webhook"}]

    def test_several_secrets_for_rotation(self) -> None:
        app = make_app(AIFLOW_SHARED_SECRET=["old-secret", "new-secret"])
        client = app.test_client()
        for token, status in (("old-secret", 204), ("new-secret", 204), ("other", 401)):
            response = client.post("/webhook", json=event("assistant_speech_ended", "s"), headers={"X-API-TOKEN": token})
            assert response.status_code == status

    def test_non_ascii_token_is_401_not_500(self, client: Any) -> None:
        response = client.post(
            "/webhook",
            data=json.dumps(event("session_start", "s")),
            content_type="application/json",
            headers=[("X-API-TOKEN", "gehe\u00efm")],
        )
        assert response.status_code == 401

    def test_without_secret_events_are_refused(self, caplog: Any) -> None:
        with caplog.at_level(logging.ERROR, "flask_aiflow"):
            app = make_app(AIFLOW_SHARED_SECRET=None)
        assert "AIFLOW_SHARED_SECRET is not set" in caplog.text
        response = app.test_client().post("/webhook", json=event("session_start", "s"))
        assert response.status_code == 503
        assert "AIFLOW_SHARED_SECRET" in response.get_json()["message"]

    def test_explicit_opt_out_serves_and_warns_loudly(self, caplog: Any) -> None:
        from tests.skills import echo

        with caplog.at_level(logging.WARNING, "flask_aiflow"):
            app = make_app(echo, AIFLOW_SHARED_SECRET=None, AIFLOW_ALLOW_UNAUTHENTICATED=True)
        assert "AIFLOW_ALLOW_UNAUTHENTICATED" in caplog.text
        assert app.test_client().post("/webhook", json=event("session_start", "s")).status_code == 200

    def test_constant_time_comparison_is_used(self, monkeypatch: Any, post: Any) -> None:
        import hmac

        calls: list[Any] = []
        real = hmac.compare_digest
        monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
        post(event("assistant_speech_ended", "s"))
        assert calls == [(SECRET.encode(), SECRET.encode())]


class TestHostileInput:
    def send(self, client: Any, body: bytes, content_type: str = "application/json", **kw: Any) -> Any:
        return client.post("/webhook", data=body, content_type=content_type, headers={"X-API-TOKEN": SECRET}, **kw)

    @pytest.mark.parametrize(
        ("body", "field", "fragment"),
        [
            (b"not json", "body", "JSON"),
            (b"", "body", "empty"),
            (b"[1, 2]", "body", "object"),
            (b'"text"', "body", "object"),
            (b"\xff\xfe{}", "body", "UTF-8"),
            (b"[" * 10000 + b"]" * 10000, "body", "deep"),
            (b'{"type": "user_speak", "text": NaN, "session": {"id": "s"}}', "body", "NaN"),
            (b'{"session": {"id": "s"}}', "type", "missing"),
            (b'{"type": 5, "session": {"id": "s"}}', "type", "string"),
            (b'{"type": "user_speak", "text": "x"}', "session", "missing"),
            (b'{"type": "user_speak", "text": "x", "session": []}', "session", "object"),
            (b'{"type": "user_speak", "text": "x", "session": {}}', "session.id", "missing"),
            (b'{"type": "user_speak", "text": "x", "session": {"id": 7}}', "session.id", "string"),
            (b'{"type": "user_speak", "session": {"id": "s"}}', "text", "missing"),
            (b'{"type": "user_speak", "text": ["x"], "session": {"id": "s"}}', "text", "string"),
            (b'{"type": "user_speak", "text": "x", "barged_in": "yes", "session": {"id": "s"}}', "barged_in", "boolean"),
            (b'{"type": "session_start", "session": {"id": "s", "direction": "sideways"}}', "session.direction", "inbound"),
        ],
    )
    def test_malformed_events_are_400_with_a_reason(self, client: Any, body: bytes, field: str, fragment: str) -> None:
        response = self.send(client, body)
        assert response.status_code == 400, response.data
        data = response.get_json()
        assert data["error"] == "invalid_event"
        assert data["field"] == field
        assert fragment.lower() in data["message"].lower()

    def test_oversize_body_is_413(self, client: Any) -> None:
        body = json.dumps(event("user_speak", "s", text="x" * 70_000)).encode()
        response = self.send(client, body)
        assert response.status_code == 413
        assert "limit" in response.get_json()["message"]

    def test_limit_is_configurable(self) -> None:
        app = make_app(AIFLOW_MAX_EVENT_BYTES=100)
        response = app.test_client().post(
            "/webhook", json=event("user_speak", "s", text="x" * 200), headers={"X-API-TOKEN": SECRET}
        )
        assert response.status_code == 413

    def test_chunked_oversize_body_without_length_is_413(self, client: Any) -> None:
        import io

        body = json.dumps(event("user_speak", "s", text="x" * 70_000)).encode()
        response = client.post(
            "/webhook",
            input_stream=io.BytesIO(body),
            headers={"X-API-TOKEN": SECRET, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},
        )
        assert response.status_code == 413

    @pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
    def test_wrong_content_type_is_415(self, client: Any, content_type: str) -> None:
        response = self.send(client, json.dumps(event("user_speak", "s")).encode(), content_type=content_type)
        assert response.status_code == 415
        assert "application/json" in response.get_json()["message"]

    def test_json_with_charset_is_fine(self, client: Any) -> None:
        response = self.send(client, json.dumps(event("user_speak", "s")).encode(), "application/json; charset=utf-8")
        assert response.status_code == 200

    @pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
    def test_wrong_method_is_405_json(self, client: Any, method: str) -> None:
        response = client.open("/webhook", method=method, headers={"X-API-TOKEN": SECRET})
        assert response.status_code == 405
        assert response.headers["Allow"] == "POST, OPTIONS"
        assert response.get_json()["error"] == "method_not_allowed"

    def test_internal_error_is_json_without_traceback(self, app: Any, post: Any, monkeypatch: Any) -> None:
        state = app.extensions["aiflow"]

        def explode(*args: Any, **kwargs: Any) -> None:
            raise OSError("disk on fire")

        monkeypatch.setattr(state.store, "load_record", explode)
        response = post(event("user_speak", "s"))
        assert response.status_code == 500
        assert b"disk on fire" not in response.data and b"Traceback" not in response.data


def test_routes_are_configurable() -> None:
    app = make_app(AIFLOW_WEBHOOK_PATH="/aiflow/events", AIFLOW_HEALTH_PATH=None, AIFLOW_WEBSOCKET_PATH="/aiflow/ws")
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert {"/aiflow/events", "/aiflow/ws"} <= rules
    assert "/webhook" not in rules and "/health" not in rules


def test_health(client: Any) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "store": "ok", "skills": 1}


def test_a_body_shorter_than_its_content_length_is_400(client: Any) -> None:
    body = json.dumps(event("user_speak", "s")).encode()
    response = client.post(
        "/webhook",
        data=body,
        headers={"X-API-TOKEN": SECRET},
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": str(len(body) + 10)},
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "incomplete_body"


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON ; charset=utf-8", "application/vnd.x+json"])
def test_json_content_types_with_a_length_are_read(client: Any, content_type: str) -> None:
    body = json.dumps(event("user_speak", "s", text="hi")).encode()
    response = client.post("/webhook", data=body, headers={"X-API-TOKEN": SECRET}, content_type=content_type)
    assert response.status_code == 200
    assert response.get_json()["text"] == "You said: hi"


@pytest.mark.parametrize("where", ["session.id", "text"])
def test_a_lone_surrogate_escape_is_a_400_not_a_500(client: Any, where: str) -> None:
    # "\ud800" is valid JSON syntax but no Unicode text: it could not even be a Redis key
    session = '"\\ud800x"' if where == "session.id" else '"s1"'
    text = '"\\udfffhello"' if where == "text" else '"hello"'
    body = f'{{"type":"user_speak","text":{text},"session":{{"id":{session}}}}}'.encode()
    response = client.post(
        "/webhook", data=body, headers={"X-API-TOKEN": SECRET, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_event"
