"""Prometheus metrics, fed by the signals, per app, and summed over gunicorn workers."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from flask_aiflow import ConfigurationError

from .helpers import SECRET, event, make_app, make_skill, says
from .server import gunicorn


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Samples by (name, sorted labels)."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def metrics_of(client: Any, path: str = "/metrics") -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return scrape(response.get_data(as_text=True))


def post(client: Any, data: Any, token: str = SECRET) -> Any:
    return client.post("/webhook", json=data, headers={"X-API-TOKEN": token})


@pytest.fixture
def app() -> Any:
    def boom(event: Any, call: Any) -> None:
        if event.text == "boom":
            raise RuntimeError("kaputt")

    return make_app(
        make_skill("greeter", session_start=says("Hello")),
        make_skill("echo", user_speak=lambda event, call: f"You said {event.text}" if event.text != "quiet" else None),
        make_skill("boom", 90, user_speak=boom),
        AIFLOW_METRICS=True,
        AIFLOW_FALLBACK="Pardon?",
    )


def test_events_actions_failures_calls_and_rejections_are_counted(app: Any) -> None:
    client = app.test_client()
    post(client, event("session_start", "a"))
    post(client, event("session_start", "b"))
    post(client, event("user_speak", "a", text="hi"))
    post(client, event("user_speak", "a", text="boom"))
    post(client, event("user_speak", "a", text="quiet"))  # nobody answers: the fallback does
    post(client, event("session_end", "a"))
    post(client, event("dtmf", "a"))
    post(client, event("user_speak", "a"), token="wrong")
    client.post("/webhook", data=b"{", headers={"X-API-TOKEN": SECRET, "Content-Type": "application/json"})
    m = metrics_of(client)
    assert m[("aiflow_events_total", (("transport", "webhook"), ("type", "session_start")))] == 2
    assert m[("aiflow_events_total", (("transport", "webhook"), ("type", "user_speak")))] == 3
    assert m[("aiflow_events_ignored_total", (("transport", "webhook"),))] == 1
    assert m[("aiflow_actions_total", (("skill", "greeter"), ("type", "speak")))] == 2
    assert m[("aiflow_actions_total", (("skill", "echo"), ("type", "speak")))] == 2
    assert m[("aiflow_actions_total", (("skill", "fallback"), ("type", "speak")))] == 1
    assert m[("aiflow_skill_failures_total", (("kind", "raised"), ("skill", "boom")))] == 1
    assert m[("aiflow_skill_duration_seconds_count", (("skill", "echo"),))] == 3
    assert m[("aiflow_dispatch_duration_seconds_count", (("type", "user_speak"),))] == 3
    assert m[("aiflow_live_calls", ())] == 1
    assert m[("aiflow_rejected_requests_total", (("status", "401"), ("transport", "webhook")))] == 1
    assert m[("aiflow_rejected_requests_total", (("status", "400"), ("transport", "webhook")))] == 1


def test_too_slow_skills_are_counted_as_failures() -> None:
    release = threading.Event()

    def slow(event: Any, call: Any) -> str:
        release.wait(30)
        return "late"

    app = make_app(make_skill("slow", user_speak=slow), AIFLOW_METRICS=True, AIFLOW_EVENT_BUDGET_MS=20)
    client = app.test_client()
    try:
        post(client, event("user_speak", "s"))
    finally:
        release.set()
    assert metrics_of(client)[("aiflow_skill_failures_total", (("kind", "too_slow"), ("skill", "slow")))] == 1


def test_apps_keep_their_own_metrics() -> None:
    first = make_app(make_skill("a", user_speak=says("a")), AIFLOW_METRICS=True)
    second = make_app(make_skill("a", user_speak=says("a")), AIFLOW_METRICS=True, AIFLOW_METRICS_PATH="/internal/metrics")
    post(first.test_client(), event("user_speak", "x"))
    assert metrics_of(first.test_client())[("aiflow_events_total", (("transport", "webhook"), ("type", "user_speak")))] == 1
    second_metrics = metrics_of(second.test_client(), "/internal/metrics")
    assert ("aiflow_events_total", (("transport", "webhook"), ("type", "user_speak"))) not in second_metrics


def test_metrics_are_off_by_default() -> None:
    assert make_app().test_client().get("/metrics").status_code == 404


def test_without_prometheus_client_enabling_metrics_fails_at_start_up(monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # what an absent package looks like to import
    with pytest.raises(ConfigurationError, match=r"flask-aiflow\[metrics\]"):
        make_app(AIFLOW_METRICS=True)


# -- several gunicorn workers --------------------------------------------------------------


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(multiproc)}
    with gunicorn("tests.apps.metrics_app:app", workers=2, threads=4, env=env) as url:
        yield url


@pytest.mark.server
def test_multiprocess_mode_sums_the_workers(two_workers: str) -> None:
    metric = ("aiflow_events_total", (("transport", "webhook"), ("type", "user_speak")))
    served: dict[str, int] = {}
    sent = 0
    # new connections until both workers have taken events (the kernel picks one per connection)
    while len(served) < 2 or sent < 20:
        assert sent < 400, f"only one worker took connections: {served}"
        response = requests.post(
            f"{two_workers}/webhook",
            json=event("user_speak", f"call-{sent}"),
            headers={"X-API-TOKEN": SECRET, "Connection": "close"},
            timeout=10,
        )
        assert response.status_code == 200
        worker = response.headers["X-Worker"]
        served[worker] = served.get(worker, 0) + 1
        sent += 1
    scraped: dict[str, float] = {}
    tries = 0
    while len(scraped) < 2:
        assert tries < 400, f"only one worker answered the scrapes: {scraped}"
        response = requests.get(f"{two_workers}/metrics", headers={"Connection": "close"}, timeout=10)
        scraped[response.headers["X-Worker"]] = scrape(response.text)[metric]
        tries += 1
    # each worker counted only its own events, yet each reports the sum over both
    assert all(count < sent for count in served.values())
    assert scraped == {worker: sent for worker in scraped}
