"""The per-event time budget: a skill that hangs never hangs the call.

Hanging skills here block on a ``threading.Event`` that the test sets when it
is done, so nothing depends on how fast the machine is: the budget is small
and the slow skill is slower than any budget, until it is released.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import current_app, has_request_context, request

from flask_aiflow import ConfigurationError, signals
from flask_aiflow.calls.store import CallRecord
from flask_aiflow.decision import RULE_FALLBACK, TOO_SLOW
from flask_aiflow.skills import pool as skillpool

from .helpers import SECRET, event, make_app, make_skill, says, wait_until
from .server import gunicorn

BUDGET_MS = 50


class Hang:
    """A hook that blocks until released; records that it started and finished."""

    def __init__(self, result: Any = "late answer", before: Any = None) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.finished = threading.Event()
        self.result = result
        self.before = before

    def __call__(self, event: Any, call: Any) -> Any:
        self.started.set()
        try:
            if self.before is not None:
                self.before(call)
            self.release.wait(30)
            return self.result
        finally:
            self.finished.set()

    @property
    def hook(self) -> Any:
        """A plain function for ``make_skill`` (pluggy wants functions, not callables)."""

        def user_speak(event: Any, call: Any) -> Any:
            return self(event, call)

        return user_speak

    def finish(self) -> None:
        """Let the skill return and wait until the worker has dealt with it."""
        self.release.set()
        assert self.finished.wait(30)
        wait_until(lambda: not skillpool.pool().busy, "the worker pool is still busy after the skill returned")


@pytest.fixture
def hang() -> Iterator[Hang]:
    hook = Hang()
    yield hook
    hook.release.set()


def dispatch(app: Any, data: dict[str, Any]) -> Any:
    with app.app_context():
        return app.extensions["aiflow"].extension.dispatch(data)


class TestTooSlow:
    def test_the_call_gets_the_best_answer_that_finished_in_time(self, hang: Hang) -> None:
        app = make_app(
            make_skill("quick", 50, user_speak=says("quick answer")),
            make_skill("slow", 90, user_speak=hang.hook),
            AIFLOW_EVENT_BUDGET_MS=BUDGET_MS,
            AIFLOW_SKILL_ORDER=["quick", "slow"],
        )
        decision = dispatch(app, event("user_speak", "c1"))
        assert decision.action.text == "quick answer"
        assert decision.winner.skill == "quick"
        [failure] = decision.failures
        assert (failure.skill, failure.kind) == ("slow", TOO_SLOW)
        assert failure.seconds is not None and failure.seconds > 0
        assert "budget" in failure.message
        assert "slow" in decision.timings
        assert decision.to_dict()["failures"][0]["ms"] > 0
        hang.finish()

    def test_without_any_finished_skill_the_fallback_answers(self, hang: Hang) -> None:
        app = make_app(make_skill("slow", user_speak=hang.hook), AIFLOW_EVENT_BUDGET_MS=BUDGET_MS, AIFLOW_FALLBACK="Sorry?")
        decision = dispatch(app, event("user_speak", "c1"))
        assert decision.action.text == "Sorry?"
        assert decision.rule == RULE_FALLBACK
        assert [f.kind for f in decision.failures] == [TOO_SLOW]
        hang.finish()

    def test_skills_after_the_slow_one_never_run_and_the_decision_says_so(self, hang: Hang) -> None:
        calls: list[str] = []

        def later(event: Any, call: Any) -> str:
            calls.append("later")
            return "later answer"

        app = make_app(
            make_skill("first", user_speak=says("first answer")),
            make_skill("slow", user_speak=hang.hook),
            make_skill("later", user_speak=later),
            AIFLOW_EVENT_BUDGET_MS=BUDGET_MS,
            AIFLOW_SKILL_ORDER=["first", "slow", "later"],
        )
        decision = dispatch(app, event("user_speak", "c1"))
        assert decision.action.text == "first answer"
        assert decision.not_run == ["later"]
        assert any("not run (the budget was spent): later" in note for note in decision.notes)
        assert decision.to_dict()["not_run"] == ["later"]
        hang.finish()
        assert calls == []  # released, the worker does not go on to the skills it was too late for

    def test_slow_skill_is_signalled_and_logged_with_the_session_id(self, hang: Hang, caplog: Any) -> None:
        app = make_app(make_skill("slow", user_speak=hang.hook), AIFLOW_EVENT_BUDGET_MS=BUDGET_MS)
        failed: list[Any] = []
        with signals.skill_failed.connected_to(lambda sender, **kw: failed.append(kw), app):
            with caplog.at_level(logging.WARNING, "flask_aiflow"):
                dispatch(app, event("user_speak", "call-77"))
        assert [(f["skill"], f["failure"].kind) for f in failed] == [("slow", TOO_SLOW)]
        [line] = [r for r in caplog.records if "too slow" in r.getMessage()]
        assert "call-77" in line.getMessage() and "'slow'" in line.getMessage()
        assert line.session_id == "call-77"
        hang.finish()

    def test_webhook_answers_in_time_over_the_test_client(self, hang: Hang) -> None:
        app = make_app(
            make_skill("quick", user_speak=says("in time")),
            make_skill("slow", 90, user_speak=hang.hook),
            AIFLOW_EVENT_BUDGET_MS=BUDGET_MS,
        )
        response = app.test_client().post("/webhook", json=event("user_speak", "w1"), headers={"X-API-TOKEN": SECRET})
        assert response.status_code == 200
        assert response.get_json()["text"] == "in time"
        hang.finish()


class TestLateSkillsChangeNothing:
    def test_late_state_changes_and_floor_are_never_committed(self) -> None:
        def grab(call: Any) -> None:
            call.state["late"] = True
            call.take_floor()

        hang = Hang(result="late", before=grab)
        mode = {"slow": False}

        def slow(event: Any, call: Any) -> Any:
            return hang(event, call) if mode["slow"] else None

        def count(event: Any, call: Any) -> None:
            call.state["n"] = call.state.get("n", 0) + 1

        app = make_app(
            make_skill("counter", user_speak=count),
            make_skill("slow", 90, user_speak=slow),
            AIFLOW_EVENT_BUDGET_MS=BUDGET_MS,
        )
        store = app.extensions["aiflow"].store
        try:
            dispatch(app, event("session_start", "c2"))
            dispatch(app, event("user_speak", "c2"))
            mode["slow"] = True
            decision = dispatch(app, event("user_speak", "c2"))
            assert [f.kind for f in decision.failures] == [TOO_SLOW]
            saved = store.load("c2")
            hang.finish()
            # the late skill returned and its worker is idle again: nothing of it was written
            assert store.load("c2") == saved
        finally:
            hang.release.set()
        mode["slow"] = False
        decision = dispatch(app, event("user_speak", "c2"))
        assert decision.failures == []
        record = CallRecord.loads(store.load("c2"))
        # the counter's changes were kept on every event, the late skill's never
        assert record.skills == {"counter": '{"n":3}'}
        assert record.floor is None

    def test_a_floor_holder_that_is_too_slow_keeps_its_turns(self) -> None:
        hang = Hang(result=None)
        state = {"slow": False}

        def menu(event: Any, call: Any) -> Any:
            if event.type == "session_start":
                call.take_floor(turns=1)
                return "Pick one"
            if state["slow"]:
                return hang(event, call)
            return None

        app = make_app(
            make_skill("menu", session_start=lambda event, call: menu(event, call), user_speak=menu),
            AIFLOW_EVENT_BUDGET_MS=BUDGET_MS,
        )
        try:
            dispatch(app, event("session_start", "c3"))
            state["slow"] = True
            decision = dispatch(app, event("user_speak", "c3"))
            assert [f.kind for f in decision.failures] == [TOO_SLOW]
            assert not any("let its last turn pass" in note for note in decision.notes)
            hang.finish()
        finally:
            hang.release.set()
        state["slow"] = False
        # the one turn it had left is used up only now, by an answer it really skipped
        decision = dispatch(app, event("user_speak", "c3"))
        assert "floor released: menu let its last turn pass" in decision.notes


class TestWhereSkillsRun:
    @pytest.mark.parametrize("fast_path", [False, True], ids=["flask-view", "fast-path"])
    def test_with_a_budget_skills_run_in_a_worker_with_the_app_and_request_contexts(self, fast_path: bool) -> None:
        """The worker gets the contexts the request has: app and request through the Flask view, the app alone on the fast path."""
        seen: dict[str, Any] = {}

        def look(event: Any, call: Any) -> str:
            seen["thread"] = threading.current_thread()
            seen["app"] = current_app.name
            seen["path"] = request.path if has_request_context() else None
            return "ok"

        app = make_app(
            make_skill("look", user_speak=look), AIFLOW_EVENT_BUDGET_MS=1000, AIFLOW_WEBHOOK_FAST_PATH=fast_path
        )
        response = app.test_client().post("/webhook", json=event("user_speak", "t1"), headers={"X-API-TOKEN": SECRET})
        assert response.get_json()["text"] == "ok"
        assert seen["thread"] is not threading.current_thread()
        assert seen["thread"].name.startswith("aiflow-skills-")
        assert seen["app"] == app.name and seen["path"] == (None if fast_path else "/webhook")

    def test_without_a_budget_skills_run_inline(self) -> None:
        seen: list[Any] = []
        app = make_app(
            make_skill("look", user_speak=lambda event, call: seen.append(threading.current_thread())),
            AIFLOW_EVENT_BUDGET_MS=None,
        )
        dispatch(app, event("user_speak", "t2"))
        assert seen == [threading.current_thread()]

    def test_when_every_worker_is_stuck_the_call_is_answered_without_the_skills(
        self, monkeypatch: Any, caplog: Any
    ) -> None:
        pool = skillpool.WorkerPool(max_workers=1)
        monkeypatch.setattr(skillpool, "_pool", pool)
        hang = Hang()
        app = make_app(make_skill("slow", user_speak=hang.hook), AIFLOW_EVENT_BUDGET_MS=BUDGET_MS, AIFLOW_FALLBACK="One moment")
        try:
            first = dispatch(app, event("user_speak", "p1"))
            assert [f.kind for f in first.failures] == [TOO_SLOW]
            with caplog.at_level(logging.ERROR, "flask_aiflow"):
                second = dispatch(app, event("user_speak", "p2"))
            assert second.action.text == "One moment"
            assert second.not_run == ["slow"]
            assert any("no free skill worker" in note for note in second.notes)
            assert "every skill worker is busy" in caplog.text
        finally:
            hang.release.set()
        assert hang.finished.wait(30)


def inline(skill: Any) -> Any:
    skill.AIFLOW_INLINE = True
    return skill


class TestInlineSkills:
    def test_inline_skills_run_in_the_request_thread_and_the_others_in_a_worker(self) -> None:
        threads: dict[str, Any] = {}

        def note(name: str) -> Any:
            def hook(event: Any, call: Any) -> None:
                threads[name] = threading.current_thread()

            return hook

        app = make_app(
            inline(make_skill("pure", user_speak=note("pure"))),
            make_skill("remote", user_speak=note("remote")),
            AIFLOW_EVENT_BUDGET_MS=1000,
        )
        dispatch(app, event("user_speak", "i1"))
        assert threads["pure"] is threading.current_thread()
        assert threads["remote"] is not threading.current_thread()

    def test_an_event_of_inline_skills_only_is_not_handed_over(self) -> None:
        seen: list[Any] = []
        app = make_app(
            inline(make_skill("a", user_speak=lambda event, call: seen.append(threading.current_thread()))),
            inline(make_skill("b", user_speak=lambda event, call: seen.append(threading.current_thread()))),
            AIFLOW_EVENT_BUDGET_MS=1000,
        )
        dispatch(app, event("user_speak", "i2"))
        assert seen == [threading.current_thread()] * 2

    def test_inline_answers_count_when_a_guarded_skill_is_too_slow(self, hang: Hang) -> None:
        app = make_app(
            make_skill("slow", 90, user_speak=hang.hook),
            inline(make_skill("pure", 40, user_speak=says("pure answer"))),
            make_skill("after", 30, user_speak=says("after")),
            AIFLOW_EVENT_BUDGET_MS=BUDGET_MS,
            AIFLOW_SKILL_ORDER=["slow", "pure", "after"],
        )
        decision = dispatch(app, event("user_speak", "i3"))
        assert decision.action.text == "pure answer"
        assert [(f.skill, f.kind) for f in decision.failures] == [("slow", TOO_SLOW)]
        assert decision.not_run == ["after"]
        assert set(decision.timings) == {"slow", "pure"}
        hang.finish()

    def test_inline_skills_still_answer_when_no_worker_is_free(self, monkeypatch: Any) -> None:
        monkeypatch.setattr(skillpool, "_pool", skillpool.WorkerPool(max_workers=0))
        app = make_app(
            make_skill("remote", 90, user_speak=says("remote")),
            inline(make_skill("pure", user_speak=says("pure"))),
            AIFLOW_EVENT_BUDGET_MS=BUDGET_MS,
        )
        decision = dispatch(app, event("user_speak", "i4"))
        assert decision.action.text == "pure"
        assert decision.not_run == ["remote"]

    def test_inline_must_be_a_bool(self) -> None:
        from flask_aiflow import SkillError

        skill = make_skill("odd", user_speak=says("x"))
        skill.AIFLOW_INLINE = "yes"
        with pytest.raises(SkillError, match="AIFLOW_INLINE"):
            make_app(skill)

    def test_the_built_in_skills_are_inline(self) -> None:
        app = make_app(
            AIFLOW_LOAD_ENTRY_POINTS=True,
            AIFLOW_SKILLS=["greeting", "goodbye"],
            AIFLOW_GREETING={"text": "Hi"},
        )
        registry = app.extensions["aiflow"].registry
        assert registry.get("greeting").inline and registry.get("goodbye").inline
        assert registry.get("greeting").to_dict()["inline"] is True


class TestBatch:
    def test_results_after_the_cancel_are_never_seen(self) -> None:
        gate = threading.Event()
        ran: list[int] = []

        def step(index: int) -> int:
            ran.append(index)
            if index == 1:
                gate.wait(30)
            return index

        batch = skillpool.Batch(step, 3)
        pool = skillpool.WorkerPool(max_workers=1)
        assert pool.submit(batch)
        wait_until(lambda: len(ran) >= 2, "the batch did not get to its second step")
        assert batch.wait(0) is False
        assert batch.results == [0] and batch.current == 1
        gate.set()
        wait_until(lambda: not pool.busy, "the pool is still busy after the batch was let go")
        assert batch.results == [0] and ran == [0, 1]

    def test_a_full_pool_refuses_and_a_free_worker_is_reused(self) -> None:
        pool = skillpool.WorkerPool(max_workers=1)
        gate = threading.Event()
        blocked = skillpool.Batch(lambda index: gate.wait(30), 1)
        assert pool.submit(blocked)
        assert pool.submit(skillpool.Batch(lambda index: index, 1)) is False
        gate.set()
        assert blocked.wait(30)
        wait_until(lambda: not pool.busy, "the pool is still busy after its batch finished")
        again = skillpool.Batch(lambda index: index * 2, 2)
        assert pool.submit(again) and again.wait(30)
        assert again.results == [0, 2] and pool.threads == 1


@pytest.mark.parametrize("value", [0, -5, True, "800", float("nan"), float("inf")])
def test_bad_budget_is_a_configuration_error(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="AIFLOW_EVENT_BUDGET_MS"):
        make_app(AIFLOW_EVENT_BUDGET_MS=value)


@pytest.mark.server
@pytest.mark.parametrize("worker_class", ["gthread", "gevent"])
def test_a_hanging_skill_does_not_hang_a_call_served_by_gunicorn(worker_class: str) -> None:
    """Over real HTTP: the skill sleeps 10 s, the answer comes within the 800 ms budget (and the 5 s timeout).

    Under gevent the skill runs in a greenlet and its (patched) sleep yields.
    """
    with gunicorn("tests.apps.openapi_app:app", extra_args=["--worker-class", worker_class]) as base:
        headers = {"X-API-TOKEN": SECRET}
        response = requests.post(f"{base}/webhook", json=event("user_speak", "g1", text="__hang__"), headers=headers, timeout=5)
        assert response.status_code == 200
        assert response.json()["text"] == "You said: __hang__"
        # the call goes on; the next event is answered as usual
        again = requests.post(f"{base}/webhook", json=event("user_speak", "g1", text="bye"), headers=headers, timeout=5)
        assert again.json() == {"type": "hangup", "session_id": "g1"}
