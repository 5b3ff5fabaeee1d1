"""Shared fixtures: an app with only the skills a test asks for, clients, events."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from hypothesis import settings as hypothesis_settings

# Property-based tests: moderate example counts, no per-example deadline (a
# shared CI machine is slow at times), and in CI the same examples every run.
hypothesis_settings.register_profile("dev", max_examples=200, deadline=None)
hypothesis_settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True, database=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

from flask_aiflow import AiFlow

SECRET = "test-secret"


def session(session_id: str | None = None, **fields: Any) -> dict[str, Any]:
    data = {
        "id": session_id or str(uuid.uuid4()),
        "account_id": "account-123",
        "phone_number": "+4930123456",
        "direction": "inbound",
        "from_phone_number": "+4917099999",
        "to_phone_number": "+4930123456",
    }
    data.update(fields)
    return data


def event(type_: str, session_id: str, **fields: Any) -> dict[str, Any]:
    """A wire-form event for one call."""
    defaults: dict[str, Any] = {}
    if type_ in ("user_speak", "user_barge_in"):
        defaults["text"] = "hello"
    if type_ == "assistant_speak":
        defaults.update(text="Hi", duration_ms=1200, speech_started_at=1700000000000)
    return {"type": type_, **defaults, **fields, "session": session(session_id)}


def make_app(*skills: Any, aiflow: AiFlow | None = None, **config: Any) -> Flask:
    """A Flask app with flask-aiflow and exactly ``skills`` (no installed ones)."""
    app = Flask(f"test_app_{next(_counter)}")
    app.config.update(
        TESTING=True,
        AIFLOW_SHARED_SECRET=SECRET,
        AIFLOW_LOAD_ENTRY_POINTS=False,
        # a call a test leaves open must not end in a later test; the tests
        # of the disconnect cleanup set a grace period of their own
        AIFLOW_DISCONNECT_GRACE=None,
    )
    app.config.update(config)
    (aiflow or AiFlow(skills=skills)).init_app(app)
    return app


_counter = itertools.count()


@pytest.fixture
def app() -> Flask:
    from tests.skills import echo

    return make_app(echo)


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def post(client: Any) -> Any:
    """POST an event dict to the webhook with the right token."""

    def post(data: Any, **kwargs: Any) -> Any:
        headers = {"X-API-TOKEN": SECRET, **kwargs.pop("headers", {})}
        return client.post("/webhook", json=data, headers=headers, **kwargs)

    return post


@pytest.fixture
def temp_skill(app: Flask) -> Any:
    """Register skills on ``app`` for one test; they are removed afterwards."""
    registry = app.extensions["aiflow"].registry
    added: list[str] = []

    def register(plugin: Any, name: str | None = None) -> str:
        info = registry.register(plugin, name)
        added.append(info.name)
        return info.name

    yield register
    for name in added:
        registry.unregister(name)


# -- Redis: a real redis-server per test session (see tests/redis_server.py) ----


@pytest.fixture(scope="session")
def redis_url() -> Any:
    """The URL of a redis-server started for this test session (skips without one; fails under CI)."""
    from .redis_server import redis_server, require_redis_server

    binary = require_redis_server()
    with redis_server(binary) as url:
        yield url


@pytest.fixture(scope="session")
def redis_cluster() -> Any:
    """A Redis Cluster (3 primaries, a replica each) started for this test session."""
    from .redis_server import redis_cluster, require_redis_server

    binary = require_redis_server()
    with redis_cluster(binary) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def redis_cluster_url(redis_cluster: Any) -> str:
    """The store URL of the session's Redis Cluster (``redis+cluster://...``)."""
    return str(redis_cluster.url)


@pytest.fixture(scope="module", params=["redis", "cluster"])
def any_redis_url(request: Any) -> str:
    """A single Redis, then a Redis Cluster: a module's tests run against both."""
    return str(request.getfixturevalue("redis_url" if request.param == "redis" else "redis_cluster_url"))


@pytest.fixture
def redis_app(redis_prefix: str) -> Iterator[Callable[..., Any]]:
    """Makes apps on a Redis store (``url``, then skills and config); their stores are closed afterwards."""
    made: list[Any] = []

    def make(url: str, *skills: Any, **config: Any) -> Any:
        app = make_app(*skills, AIFLOW_STATE_STORE=url, AIFLOW_REDIS_PREFIX=redis_prefix, **config)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["aiflow"].store.close()


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of its own for each test, so tests never see each other's keys."""
    return f"t{uuid.uuid4().hex[:10]}:"
