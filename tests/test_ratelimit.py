"""Rate limiting of authentication failures: 429 after too many, never for a valid token."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

import pytest

from flask_aiflow import ConfigurationError, signals
from flask_aiflow.web.ratelimit import AuthFailureLimiter, client_address

from .helpers import SECRET, event, make_app

pytestmark = pytest.mark.usefixtures("webhook_path")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestLimiter:
    def test_failures_beyond_the_limit_get_a_retry_after(self) -> None:
        clock = Clock()
        limiter = AuthFailureLimiter(3, 60, clock=clock)
        assert [limiter.failure("a") for _ in range(3)] == [None, None, None]
        clock.now += 10
        assert limiter.failure("a") == 50  # the 2nd failure leaves the window at t=60 from the start
        assert limiter.failure("b") is None  # other clients are not affected

    def test_the_window_slides(self) -> None:
        clock = Clock()
        limiter = AuthFailureLimiter(2, 60, clock=clock)
        limiter.failure("a")
        clock.now += 30
        limiter.failure("a")
        assert limiter.failure("a") is not None
        clock.now += 31  # the first failure is out of the window, two are in it
        assert limiter.failure("a") is not None
        clock.now += 60  # all old failures gone
        assert limiter.failure("a") is None

    def test_a_client_that_keeps_guessing_stays_limited(self) -> None:
        clock = Clock()
        limiter = AuthFailureLimiter(2, 60, clock=clock)
        for _ in range(3):
            limiter.failure("a")
        for _ in range(10):
            clock.now += 20
            assert limiter.failure("a") is not None

    def test_memory_is_bounded(self) -> None:
        limiter = AuthFailureLimiter(5, 60, max_clients=100, clock=Clock())
        for index in range(1000):
            for _ in range(20):
                limiter.failure(f"10.0.{index // 256}.{index % 256}")
        assert len(limiter) == 100
        assert all(len(times) <= 6 for times in limiter._failures.values())


class TestClientAddress:
    def test_forwarded_for_is_ignored_unless_trusted(self) -> None:
        assert client_address("10.0.0.1", "1.2.3.4", None) == "10.0.0.1"

    def test_hop_count(self) -> None:
        assert client_address("10.0.0.1", "6.6.6.6, 1.2.3.4", 1) == "1.2.3.4"
        assert client_address("10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.9", 2) == "1.2.3.4"
        assert client_address("10.0.0.1", "1.2.3.4", 2) == "10.0.0.1"  # fewer entries than hops

    def test_trusted_networks(self) -> None:
        trusted = (ip_network("10.0.0.0/8"), ip_network("::1/128"))
        assert client_address("10.0.0.1", "6.6.6.6, 1.2.3.4, 10.1.1.1", trusted) == "1.2.3.4"
        assert client_address("8.8.8.8", "1.2.3.4", trusted) == "8.8.8.8"  # peer is no proxy of ours
        assert client_address("10.0.0.1", "10.2.2.2", trusted) == "10.2.2.2"
        assert client_address("10.0.0.1", "garbage, 10.2.2.2", trusted) == "garbage"


def wrong(client: Any, **headers: str) -> Any:
    return client.post("/webhook", json=event("session_start", "s"), headers={"X-API-TOKEN": "wrong", **headers})


class TestWebhook:
    def test_after_the_limit_failures_are_429_with_retry_after(self) -> None:
        app = make_app(AIFLOW_AUTH_FAILURE_LIMIT=3, AIFLOW_AUTH_FAILURE_WINDOW=60)
        client = app.test_client()
        assert [wrong(client).status_code for _ in range(3)] == [401, 401, 401]
        limited = wrong(client)
        assert limited.status_code == 429
        assert limited.get_json()["error"] == "too_many_failures"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60

    def test_a_valid_token_is_never_refused(self) -> None:
        app = make_app(AIFLOW_AUTH_FAILURE_LIMIT=2)
        client = app.test_client()
        for _ in range(5):
            wrong(client)
        ok = client.post("/webhook", json=event("assistant_speech_ended", "s"), headers={"X-API-TOKEN": SECRET})
        assert ok.status_code == 204
        assert wrong(client).status_code == 429

    def test_clients_are_told_apart_by_address(self) -> None:
        app = make_app(AIFLOW_AUTH_FAILURE_LIMIT=1)
        client = app.test_client()
        for _ in range(2):
            client.post("/webhook", json={}, environ_base={"REMOTE_ADDR": "192.0.2.1"})
        assert client.post("/webhook", json={}, environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 429
        assert client.post("/webhook", json={}, environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 401

    def test_forwarded_for_from_a_trusted_proxy_names_the_client(self) -> None:
        app = make_app(AIFLOW_AUTH_FAILURE_LIMIT=1, AIFLOW_TRUSTED_PROXIES=["127.0.0.0/8"])
        client = app.test_client()
        for _ in range(2):
            wrong(client, **{"X-Forwarded-For": "198.51.100.7"})
        assert wrong(client, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 429
        assert wrong(client, **{"X-Forwarded-For": "198.51.100.8"}).status_code == 401

    def test_forwarded_for_is_not_believed_by_default(self) -> None:
        app = make_app(AIFLOW_AUTH_FAILURE_LIMIT=1)
        client = app.test_client()
        for index in range(2):
            wrong(client, **{"X-Forwarded-For": f"198.51.100.{index}"})
        # a forged header per request does not escape the limit
        assert wrong(client, **{"X-Forwarded-For": "198.51.100.99"}).status_code == 429

    def test_429_is_signalled_as_a_rejection(self) -> None:
        app = make_app(AIFLOW_AUTH_FAILURE_LIMIT=1)
        client = app.test_client()
        statuses: list[int] = []
        with signals.event_rejected.connected_to(lambda sender, status, **kw: statuses.append(status), app):
            for _ in range(3):
                wrong(client)
        assert statuses == [401, 429, 429]

    def test_none_disables_the_limit(self) -> None:
        app = make_app(AIFLOW_AUTH_FAILURE_LIMIT=None)
        client = app.test_client()
        assert {wrong(client).status_code for _ in range(30)} == {401}


def test_websocket_handshake_is_limited_too() -> None:
    app = make_app(AIFLOW_AUTH_FAILURE_LIMIT=2)
    client = app.test_client()
    headers = {"X-API-TOKEN": "wrong", "Upgrade": "websocket", "Connection": "Upgrade"}
    statuses = [client.get("/ws", headers=headers).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert client.get("/ws", headers=headers).headers["Retry-After"]


@pytest.mark.parametrize(
    "key, value",
    [
        ("AIFLOW_AUTH_FAILURE_LIMIT", 0),
        ("AIFLOW_AUTH_FAILURE_LIMIT", "10"),
        ("AIFLOW_AUTH_FAILURE_WINDOW", 0),
        ("AIFLOW_AUTH_FAILURE_WINDOW", None),
        ("AIFLOW_TRUSTED_PROXIES", "10.0.0.0/8"),
        ("AIFLOW_TRUSTED_PROXIES", ["not an address"]),
        ("AIFLOW_TRUSTED_PROXIES", -1),
        ("AIFLOW_TRUSTED_PROXIES", True),
    ],
)
def test_bad_limit_settings_are_configuration_errors(key: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=key):
        make_app(**{key: value})
