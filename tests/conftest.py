"""Fixtures (an app with only the skills a test asks for, clients, Redis) and the test markers.

Helpers that tests import live in ``tests/helpers.py``.

Markers (registered in setup.cfg): ``server``, ``redis``, ``browser`` and
``pip`` name what a test starts besides the test process; each of them
implies ``slow``, and so does starting any other process. A test that waits
out a real deadline, the event budget or the simulator's quiet period says
``slow`` itself. ``pytest -m "not slow"`` is the quick, in-process set. A test that uses the ``redis_url``
fixture is marked ``redis`` here; modules that serve an app mark themselves
with ``pytestmark``. A test that starts a process without being marked
``slow`` fails and says so, so the quick set stays quick.
"""

from __future__ import annotations

import gc
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import settings as hypothesis_settings

from .helpers import SECRET, make_app

# Property-based tests: moderate example counts, no per-example deadline (a
# shared CI machine is slow at times), and in CI the same examples every run.
# The quick set (-m "not slow") tries fewer examples, unless a profile is chosen.
hypothesis_settings.register_profile("dev", max_examples=200, deadline=None)
hypothesis_settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True, database=None)
hypothesis_settings.register_profile("quick", max_examples=20, deadline=None)


# -- markers -------------------------------------------------------------------

#: Markers for what a test starts besides the test process; each implies ``slow``.
PROCESS_MARKERS = ("server", "redis", "browser", "pip")

#: Fixtures that start something, and the marker a test using them gets.
FIXTURE_MARKERS = {
    "redis_url": "redis",
    "redis_cluster": "redis",
    "redis_cluster_url": "redis",
    "any_redis_url": "redis",
}

#: Test modules every test of which starts a process. The quick set, as the README writes it
#: (``pytest -m "not slow"``), does not even import them: it would import each one and rewrite its
#: asserts only to deselect all of its tests (about half a second for these). A run that collects
#: them fails if one of their tests is not marked slow, so the list cannot hide a quick test.
PROCESS_MODULES = frozenset({
    "test_deferred_e2e.py", "test_deploy.py", "test_e2e.py", "test_floor_e2e.py", "test_ivr_e2e.py",
    "test_ivr_multiprocess.py", "test_multiprocess.py", "test_packages.py", "test_race.py", "test_redis.py",
    "test_redis_cluster.py",
})
TESTS = Path(__file__).parent

#: Audit events (see sys.addaudithook) of starting a process.
PROCESS_EVENTS = frozenset({"subprocess.Popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.system"})


def is_process_module(path: Path) -> bool:
    return path.parent == TESTS and path.name in PROCESS_MODULES


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if (config.option.markexpr or "").strip() == "not slow" and is_process_module(collection_path):
        return True
    return None  # no opinion: --ignore and the other plugins decide


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in fixtures:
                item.add_marker(marker)
        if any(item.get_closest_marker(marker) for marker in PROCESS_MARKERS):
            item.add_marker("slow")
        if is_process_module(item.path) and not item.get_closest_marker("slow"):
            raise pytest.UsageError(
                f"{item.nodeid} is not marked slow, but its module is in PROCESS_MODULES (tests/conftest.py), "
                "which the quick set does not collect: mark the test, or take the module off the list"
            )


class QuickTestGuard:
    """Fails a test that starts a process but is not marked ``slow``.

    An audit hook sees every process start in this interpreter (there is no
    way to remove one, so it stays installed and only acts while a test not
    marked ``slow`` runs: its setup, call and teardown).
    """

    def __init__(self) -> None:
        self.quick_test: str | None = None
        sys.addaudithook(self.audit)

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if self.quick_test is not None and event in PROCESS_EVENTS:
            test, self.quick_test = self.quick_test, None  # report once
            raise RuntimeError(
                f"{test} starts a process ({event} {args[:2]!r}) but is not marked slow; mark it "
                f"with one of {', '.join(PROCESS_MARKERS)} (or slow), so that `pytest -m 'not slow'` stays quick"
            )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        self.quick_test = None if item.get_closest_marker("slow") else item.nodeid
        try:
            return (yield)
        finally:
            self.quick_test = None


class ImportedOnce:
    """Keeps what collection imported out of the garbage collector's way for the rest of the session.

    Collecting imports every test module and what it needs (hypothesis,
    openai's models, Flask, ...): hundreds of thousands of objects that live
    until the end. Each full collection walked all of them again, about a
    tenth of the quick set's time. So collection runs without the collector,
    then one collection clears its garbage and ``gc.freeze()`` sets the
    survivors aside; tests still get every collection of what they create.
    """

    @pytest.hookimpl(wrapper=True)
    def pytest_collection(self, session: pytest.Session) -> Iterator[None]:
        gc.disable()
        try:
            return (yield)
        finally:
            gc.collect()
            gc.freeze()
            gc.enable()


def hypothesis_profile(config: pytest.Config) -> str | None:
    """The profile to load: none if --hypothesis-profile chose one, else HYPOTHESIS_PROFILE if set,
    "ci" under CI, "quick" for the quick set, "dev" otherwise."""
    if config.getoption("--hypothesis-profile", None):
        return None
    if os.environ.get("HYPOTHESIS_PROFILE"):
        return os.environ["HYPOTHESIS_PROFILE"]
    if os.environ.get("CI"):
        return "ci"
    return "quick" if "not slow" in (config.option.markexpr or "") else "dev"


def pytest_configure(config: pytest.Config) -> None:
    # Before the test modules are imported: @settings reads the profile then.
    profile = hypothesis_profile(config)
    if profile is not None:
        hypothesis_settings.load_profile(profile)
    # Registered as a plugin rather than written as hooks of this conftest,
    # so that it also covers the tests under plugins/ and examples/.
    config.pluginmanager.register(QuickTestGuard(), "aiflow-quick-test-guard")
    config.pluginmanager.register(ImportedOnce(), "aiflow-imported-once")


# -- apps and clients ----------------------------------------------------------


@pytest.fixture
def app() -> Flask:
    from tests.skills import echo

    return make_app(echo)


@pytest.fixture(params=[True, False], ids=["fast-path", "flask-view"])
def webhook_path(request: Any, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both ways to the webhook: every app built in the test gets this ``AIFLOW_WEBHOOK_FAST_PATH`` by default.

    For modules whose webhook tests must hold on both paths:
    ``pytestmark = pytest.mark.usefixtures("webhook_path")``.
    """
    from flask_aiflow.config import DEFAULTS

    monkeypatch.setitem(DEFAULTS, "AIFLOW_WEBHOOK_FAST_PATH", request.param)
    return bool(request.param)


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
