"""The live-calls registry and the per-call transcript, with both stores."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from flask_aiflow import LiveCall, live_calls

from .helpers import event, make_app, make_skill
from .test_stores import store_config


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def kind(request: Any) -> str:
    return str(request.param)


def dispatch(app: Any, data: dict[str, Any]) -> Any:
    with app.app_context():
        return app.extensions["aiflow"].extension.dispatch(data, transport="webhook")


class TestLiveCalls:
    def test_calls_appear_with_their_facts_and_leave_at_session_end(self, kind: str, request: Any) -> None:
        def menu(event: Any, call: Any) -> str:
            call.take_floor()
            return "Say one or two."

        app = make_app(make_skill("menu", session_start=menu), **store_config(kind, request))
        first, second = f"a-{uuid.uuid4()}", f"b-{uuid.uuid4()}"
        dispatch(app, event("session_start", first))
        dispatch(app, event("session_start", second))
        dispatch(app, event("user_speak", second, text="one"))
        with app.app_context():
            calls = {call.id: call for call in live_calls()}
        assert set(calls) == {first, second}
        call = calls[second]
        assert isinstance(call, LiveCall)
        assert (call.from_number, call.to_number) == ("+4917099999", "+4930123456")
        assert (call.last_event, call.floor_holder, call.transport) == ("user_speak", "menu", "webhook")
        assert call.started_at <= call.last_event_at
        assert call.to_dict()["from"] == "+4917099999"
        dispatch(app, event("session_end", first))
        with app.app_context():
            assert [call.id for call in app.extensions["aiflow"].extension.live_calls()] == [second]

    def test_every_worker_sees_every_call(self, redis_url: str, redis_prefix: str) -> None:
        """Two apps on one Redis stand for two workers: each sees the other's calls."""
        config = {"AIFLOW_STATE_STORE": redis_url, "AIFLOW_REDIS_PREFIX": redis_prefix}
        one, two = make_app(**config), make_app(**config)
        dispatch(one, event("session_start", "from-one"))
        dispatch(two, event("session_start", "from-two"))
        for app in (one, two):
            with app.app_context():
                assert sorted(call.id for call in live_calls()) == ["from-one", "from-two"]


class TestTranscript:
    def test_skills_read_the_conversation_so_far(self, kind: str, request: Any) -> None:
        seen: list[Any] = []

        def remember(event: Any, call: Any) -> None:
            seen.append(call.transcript)

        app = make_app(make_skill("llm", user_speak=remember), AIFLOW_FALLBACK=None, **store_config(kind, request))
        sid = str(uuid.uuid4())
        dispatch(app, event("session_start", sid))
        dispatch(app, event("assistant_speak", sid, text="Welcome!", speech_started_at=1700000000000))
        dispatch(app, event("assistant_speech_ended", sid))
        dispatch(app, event("user_speak", sid, text="my balance please"))
        ssml_only = event("assistant_speak", sid, ssml="<speak>It is <b>42</b> euros.</speak>")
        del ssml_only["text"]
        dispatch(app, ssml_only)
        dispatch(app, event("user_speak", sid, text="thanks", barged_in=True))
        first, second = seen
        assert [(t["role"], t["text"]) for t in first] == [("assistant", "Welcome!"), ("caller", "my balance please")]
        assert first[0]["at"] == 1700000000.0
        assert [(t["role"], t["text"]) for t in second][2:] == [("assistant", "It is 42 euros."), ("caller", "thanks")]
        assert second[3]["barged_in"] is True and "barged_in" not in second[1]
        with app.app_context():
            assert app.extensions["aiflow"].extension.transcript(sid) == second

    def test_the_transcript_is_bounded_and_a_copy(self, kind: str, request: Any) -> None:
        seen: list[Any] = []

        def remember(event: Any, call: Any) -> None:
            turns = call.transcript
            seen.append([t["text"] for t in turns])
            turns.clear()  # changes nothing stored

        app = make_app(
            make_skill("llm", user_speak=remember),
            AIFLOW_FALLBACK=None,
            AIFLOW_TRANSCRIPT_LIMIT=3,
            **store_config(kind, request),
        )
        sid = str(uuid.uuid4())
        for number in range(5):
            dispatch(app, event("user_speak", sid, text=str(number)))
        assert seen[-1] == ["2", "3", "4"]
        assert seen[2] == ["0", "1", "2"]

    def test_a_limit_of_zero_keeps_no_transcript(self, kind: str, request: Any) -> None:
        seen: list[Any] = []
        app = make_app(
            make_skill("llm", user_speak=lambda event, call: seen.append(call.transcript)),
            AIFLOW_FALLBACK=None,
            AIFLOW_TRANSCRIPT_LIMIT=0,
            **store_config(kind, request),
        )
        sid = str(uuid.uuid4())
        dispatch(app, event("user_speak", sid, text="hello"))
        dispatch(app, event("user_speak", sid, text="again"))
        assert seen == [[], []]

    def test_the_transcript_ends_with_the_call(self, kind: str, request: Any) -> None:
        app = make_app(**store_config(kind, request))
        sid = str(uuid.uuid4())
        dispatch(app, event("user_speak", sid, text="hello"))
        with app.app_context():
            aiflow = app.extensions["aiflow"].extension
            # the fallback's answer is recorded from the action itself (no assistant_speak needed)
            assert [t["text"] for t in aiflow.transcript(sid)] == ["hello", "Sorry, I didn't catch that. Could you say it again?"]
            dispatch(app, event("session_end", sid))
            assert aiflow.transcript(sid) == []
