"""The call simulator plays by the service's rules, over all four channels."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from typing import Any

import pytest

from flask_aiflow import BargeInConfig, Candidate, audio, get_state, hangup, hookimpl, speak
from flask_aiflow.testing import (
    CallEndedError,
    CallSimulator,
    ExpectationError,
    ProtocolViolation,
    SimulationError,
    TransportError,
    barge_in_verdict,
    make_test_app,
    speech_duration_ms,
)
from flask_aiflow.testing.rules import MIN_SPEECH_MS, MS_PER_CHARACTER, barge_in_characters

from .helpers import SECRET, make_skill, says
from .server import gunicorn
from .skills import echo, frontdesk

# -- the rules on their own -------------------------------------------------------------


class TestBargeInRules:
    def test_strategy_none_drops_everything(self) -> None:
        verdict = barge_in_verdict(BargeInConfig("none"), "stop talking right now", 5000)
        assert not verdict.delivered and "'none'" in verdict.reason

    def test_strategy_manual_delivers_the_utterance_without_interrupting(self) -> None:
        verdict = barge_in_verdict(BargeInConfig("manual", allow_after_ms=0), "no", 0)
        assert verdict.delivered and not verdict.interrupts
        assert "barge_in action" in verdict.reason and "plays on" in verdict.reason

    def test_an_accepted_automatic_barge_in_interrupts(self) -> None:
        verdict = barge_in_verdict(None, "stop it", 0)
        assert verdict.delivered and verdict.interrupts

    @pytest.mark.parametrize(
        ("text", "delivered"),
        [("no", False), (" no ", False), ("yes", False), ("y e s", False), ("yes!", True), ("hello", True)],
    )
    def test_default_needs_more_than_three_characters(self, text: str, delivered: bool) -> None:
        assert barge_in_verdict(None, text, 0).delivered is delivered
        assert barge_in_verdict(BargeInConfig(), text, 0).delivered is delivered

    @pytest.mark.parametrize(
        ("text", "delivered"),
        [("four", False), ("fives", False), ("f i v e s", False), ("sixsix", True), ("s i x s i x", True)],
    )
    def test_minimum_characters_must_be_exceeded_and_whitespace_does_not_count(self, text: str, delivered: bool) -> None:
        config = BargeInConfig("minimum_characters", minimum_characters=5)
        verdict = barge_in_verdict(config, text, 0)
        assert verdict.delivered is delivered
        if not delivered:
            assert "more than 5 characters" in verdict.reason

    def test_characters_are_counted_without_whitespace(self) -> None:
        assert barge_in_characters("  a b\tc\n") == 3
        assert barge_in_characters("ok, go") == 5

    @pytest.mark.parametrize(("after_ms", "delivered"), [(0, False), (499, False), (500, True), (2000, True)])
    def test_allow_after_ms_is_a_protection_period(self, after_ms: int, delivered: bool) -> None:
        config = BargeInConfig("minimum_characters", allow_after_ms=500)
        verdict = barge_in_verdict(config, "hello there", after_ms)
        assert verdict.delivered is delivered
        if not delivered:
            assert "500 ms" in verdict.reason

    def test_both_conditions_must_hold(self) -> None:
        config = BargeInConfig("minimum_characters", minimum_characters=10, allow_after_ms=100)
        assert not barge_in_verdict(config, "short", 5000).delivered
        assert not barge_in_verdict(config, "long enough words", 50).delivered
        assert barge_in_verdict(config, "long enough words", 100).delivered


class TestDurations:
    def test_speech_takes_time_per_character(self) -> None:
        text = "x" * 40
        assert speech_duration_ms(speak(text)) == 40 * MS_PER_CHARACTER

    def test_short_speech_has_a_minimum(self) -> None:
        assert speech_duration_ms(speak("Yes.")) == MIN_SPEECH_MS

    def test_ssml_tags_are_not_spoken(self) -> None:
        ssml = '<speak><prosody rate="slow">' + "y" * 30 + "</prosody></speak>"
        assert speech_duration_ms(speak(ssml=ssml)) == 30 * MS_PER_CHARACTER

    def test_audio_lasts_as_long_as_its_samples(self) -> None:
        assert speech_duration_ms(audio(wav(seconds=1.5))) == 1500


def wav(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x00" * int(16000 * seconds))
    return buffer.getvalue()


# -- one scenario, four channels -----------------------------------------------------------


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with gunicorn("tests.apps.simulator_app:app") as url:
        yield url


CHANNELS = [
    "in-process webhook",
    "in-process websocket",
    pytest.param("http", marks=pytest.mark.server),
    pytest.param("websocket", marks=pytest.mark.server),
]


@pytest.fixture(params=CHANNELS)
def simulator(request: Any) -> Iterator[CallSimulator]:
    if request.param.startswith("in-process"):
        target: Any = make_test_app(frontdesk, AIFLOW_FALLBACK=None)
    else:
        target = request.getfixturevalue("server_url")
    transport = "websocket" if request.param.endswith("websocket") else "webhook"
    sim = CallSimulator(target, secret=SECRET if isinstance(target, str) else None, transport=transport, quiet_seconds=0.2)
    yield sim
    sim.close()


def types(turn: Any) -> list[str]:
    return [exchange.event["type"] for exchange in turn.exchanges]


class TestRulesOverEveryChannel:
    def test_greeting_is_followed_by_assistant_speak(self, simulator: CallSimulator) -> None:
        call = simulator.start_call(from_="+4915100000001", to="+4921100000002")
        greeting = call.greeting
        assert types(greeting) == ["session_start", "assistant_speak"]
        assert greeting.main is not None
        assert greeting.main.event["session"]["from_phone_number"] == "+4915100000001"
        assert greeting.main.event["session"]["to_phone_number"] == "+4921100000002"
        speak_event = greeting.exchanges[1].event
        assert speak_event["text"] == frontdesk.GREETING
        assert speak_event["duration_ms"] == len(frontdesk.GREETING) * MS_PER_CHARACTER
        assert speak_event["speech_started_at"] == call.clock_ms
        greeting.expect_speech(containing="front desk")
        assert greeting.playing and call.playing is not None
        call.hang_up()

    def test_say_lets_the_prompt_end_first(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        turn = call.say("hello")
        assert types(turn) == ["assistant_speech_ended", "user_speak", "assistant_speak"]
        assert turn.main is not None and turn.main.event == {
            "type": "user_speak",
            "text": "hello",
            "session": turn.main.event["session"],
        }
        turn.expect_speech(containing="You said: hello")
        assert turn.spoken == ["You said: hello"]
        call.hang_up()

    def test_silence_after_a_timeout_speak_sends_user_input_timeout(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        first = call.silence()
        assert types(first) == ["assistant_speech_ended", "user_input_timeout", "assistant_speak"]
        first.expect_speech(containing="still there")
        second = call.silence()  # "Are you still there?" armed 5 s again; the skill gives up
        assert types(second) == ["assistant_speech_ended", "user_input_timeout", "session_end"]
        second.expect_hangup()
        assert second.ended and call.ended

    def test_silence_without_a_timeout_sends_nothing_and_says_so(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        call.say("hello").expect_speech(containing="You said")
        turn = call.silence()  # the echo set no timeout
        assert types(turn) == ["assistant_speech_ended"]
        assert not turn.delivered
        assert any("no user_input_timeout_seconds" in note for note in turn.notes)
        turn.expect_silence()
        again = call.silence()
        assert again.exchanges == [] and not call.ended
        call.hang_up()

    def test_speech_clears_the_timeout(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        call.speech_ends()  # greeting over: its 5 s timeout is armed
        assert call.timeout_seconds == 5
        call.say("hello")  # the caller spoke: the timer is cleared; the echo arms none
        assert types(call.silence()) == ["assistant_speech_ended"]
        call.hang_up()

    def test_barge_in_too_short_or_too_early_is_dropped(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()  # greeting: minimum 5 characters, after 500 ms
        short = call.barge_in("stop", after_ms=800)
        assert short.exchanges == [] and not short.delivered
        assert short.dropped is not None and "5 characters" in short.dropped
        early = call.barge_in("please stop", after_ms=499)
        assert early.exchanges == [] and "500 ms" in (early.dropped or "")
        assert call.playing is not None  # the greeting plays on
        call.hang_up()

    def test_barge_in_that_qualifies_interrupts_the_prompt(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        started = call.clock_ms
        turn = call.barge_in("please stop", after_ms=500)
        assert types(turn) == ["user_speak", "assistant_speak"]  # no assistant_speech_ended for the greeting
        assert turn.main is not None and turn.main.event["barged_in"] is True
        turn.expect_speech(containing="You interrupted me: please stop")
        assert turn.exchanges[1].event["speech_started_at"] == started + 500
        call.hang_up()

    def test_barge_in_after_the_prompt_is_over_is_ordinary_speech(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        turn = call.barge_in("hello again", after_ms=60_000)
        assert types(turn) == ["assistant_speech_ended", "user_speak", "assistant_speak"]
        assert turn.main is not None and "barged_in" not in turn.main.event
        turn.expect_speech(containing="You said: hello again")
        call.hang_up()

    def test_strategy_none_drops_every_barge_in(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        call.say("something important")
        turn = call.barge_in("this is long enough to interrupt anything", after_ms=1000)
        assert turn.exchanges == [] and "'none'" in (turn.dropped or "")
        call.speech_ends().expect_silence()
        call.hang_up()

    def test_strategy_manual_delivers_the_caller_and_the_prompt_plays_on(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        call.say("manual please")
        prompt = call.playing
        heard = call.barge_in("hmm", after_ms=1000)  # any length: no automatic detection
        assert types(heard) == ["user_speak"] and heard.delivered and heard.dropped is None
        assert heard.main is not None and heard.main.event["barged_in"] is True and heard.main.event["text"] == "hmm"
        heard.expect_silence()  # the app lets it play on
        assert heard.playing and call.playing is prompt
        assert any("'manual'" in note for note in heard.notes)
        ended = call.speech_ends()  # and it ends as usual
        assert types(ended) == ["assistant_speech_ended"]
        call.hang_up()

    def test_strategy_manual_lets_the_app_interrupt_with_barge_in(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        call.say("manual please")
        turn = call.barge_in("be quiet", after_ms=300)
        assert types(turn) == ["user_speak"]
        assert turn.action is not None and turn.action.type == "barge_in"
        assert any("interrupted the prompt" in note for note in turn.notes)
        assert not turn.playing and call.playing is None
        with pytest.raises(SimulationError, match="not speaking"):
            call.speech_ends()  # an interrupted prompt gets no assistant_speech_ended
        call.say("hello").expect_speech(containing="You said: hello")
        call.hang_up()

    def test_strategy_manual_obeys_a_barge_in_pushed_on_assistant_speak(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        cut = call.say("cut it short")  # the app answers assistant_speak with barge_in
        assert types(cut)[-1] == "assistant_speak"
        assert cut.actions[-1].type == "barge_in"
        assert any("interrupted" in note for note in cut.notes)
        assert call.playing is None
        with pytest.raises(SimulationError, match="not speaking"):
            call.barge_in("anything")
        with pytest.raises(SimulationError, match="not speaking"):
            call.speech_ends()
        call.hang_up()

    def test_default_barge_in_needs_more_than_three_characters(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        call.say("the default one")
        assert call.barge_in("no").dropped is not None
        assert call.barge_in("yes").dropped is not None  # 3 does not exceed 3
        assert call.barge_in("y e s").dropped is not None  # whitespace does not count
        call.barge_in("yes!").expect_speech(containing="You interrupted me: yes!")
        call.hang_up()

    def test_a_new_prompt_clears_the_armed_timeout_by_default(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        call.say("be patient with me")  # "Tell me when you are ready." with a 3 s timeout
        turn = call.silence()  # its end is answered with "Take your time." (no timeout)
        assert types(turn)[:3] == ["assistant_speech_ended", "assistant_speak", "assistant_speech_ended"]
        assert "user_input_timeout" not in types(turn)
        assert any("cleared the armed user_input_timeout" in note for note in turn.notes)
        call.hang_up()

    def test_the_armed_timeout_can_outlive_a_new_prompt(self, simulator: CallSimulator) -> None:
        simulator.new_speech_clears_timeout = False
        call = simulator.start_call()
        call.say("be patient with me")
        ready_ends_at = call.playing.started_at_ms + call.playing.duration_ms if call.playing else 0
        turn = call.silence()
        assert types(turn) == [
            "assistant_speech_ended",
            "assistant_speak",
            "assistant_speech_ended",
            "user_input_timeout",
            "assistant_speak",
        ]
        turn.expect_speech(containing="still there")
        assert call.clock_ms >= ready_ends_at + 3000
        call.hang_up()

    def test_the_caller_clears_the_timeout_whatever_the_option(self, simulator: CallSimulator) -> None:
        simulator.new_speech_clears_timeout = False
        call = simulator.start_call()
        call.speech_ends()
        assert call.timeout_seconds == 5
        call.say("hello")
        assert types(call.silence()) == ["assistant_speech_ended"]
        call.hang_up()

    def test_without_assistant_speak(self, simulator: CallSimulator) -> None:
        simulator.assistant_speak = False
        call = simulator.start_call()
        assert types(call.greeting) == ["session_start"] and call.playing is not None
        call.greeting.expect_speech(containing="front desk")
        turn = call.say("hello")
        assert types(turn) == ["assistant_speech_ended", "user_speak"]
        turn.expect_speech(containing="You said: hello")
        cut = call.say("cut it short")  # the barge_in came on assistant_speak, which never comes
        assert call.playing is not None and not any(a.type == "barge_in" for a in cut.actions)
        call.barge_in("be quiet", after_ms=10)  # under 'manual' the app can still stop it
        assert call.playing is None
        assert types(call.silence()) == []
        call.hang_up()

    @pytest.mark.parametrize("fields", ["start", "id"])
    def test_id_only_sessions(self, simulator: CallSimulator, fields: str) -> None:
        call = simulator.start_call(session_fields=fields)
        start = call.greeting.exchanges[0].event
        assert (start["session"] == {"id": call.session_id}) is (fields == "id")
        call.greeting.expect_speech(containing="front desk")
        turn = call.say("hello")
        assert all(exchange.event["session"] == {"id": call.session_id} for exchange in turn.exchanges)
        turn.expect_speech(containing="You said: hello")
        call.silence()
        ended = call.hang_up()
        assert ended.exchanges[0].event["session"] == {"id": call.session_id}

    def test_hangup_after_speech_ends_closes_the_call(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        call.say("bye now").expect_speech(containing="Goodbye")
        turn = call.speech_ends()
        assert types(turn) == ["assistant_speech_ended", "session_end"]
        turn.expect_hangup()
        assert turn.ended and call.end_reason == "the app hung up"
        with pytest.raises(CallEndedError, match="has ended"):
            call.say("hello?")

    def test_transfer_ends_the_call(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        turn = call.say("an agent please")
        assert types(turn) == ["assistant_speech_ended", "user_speak", "session_end"]
        turn.expect_transfer(to="+4921155555000")
        call.expect_transfer()
        with pytest.raises(ExpectationError, match=r"a transfer to \+49000"):
            turn.expect_transfer(to="+49000")
        with pytest.raises(CallEndedError):
            call.silence()
        with pytest.raises(CallEndedError):
            call.hang_up()

    def test_the_caller_hangs_up(self, simulator: CallSimulator) -> None:
        call = simulator.start_call()
        turn = call.hang_up()
        assert types(turn) == ["session_end"] and turn.ended
        assert call.end_reason == "the caller hung up"
        with pytest.raises(CallEndedError):
            call.barge_in("wait")


# -- in process: the decision record and the app's own view -----------------------------------


class Recorder:
    """Remembers every event it was given."""

    AIFLOW_NAME = "recorder"

    def __init__(self) -> None:
        self.events: list[Any] = []

    @hookimpl
    def aiflow_user_speak(self, event: Any) -> None:
        self.events.append(event)

    @hookimpl
    def aiflow_session_end(self, event: Any) -> None:
        self.events.append(event)


@pytest.mark.parametrize("transport", ["webhook", "websocket"])
class TestInProcess:
    def test_decisions_are_captured_per_turn(self, transport: str) -> None:
        quiet = make_skill("quiet", 20, user_speak=says("Generic answer."))
        app = make_test_app(echo, quiet)
        call = CallSimulator(app, transport=transport).start_call()
        turn = call.say("hello")
        assert turn.decision is not None
        assert turn.decision.winner is not None and turn.decision.winner.skill == "echo"
        assert [(c.skill, c.outcome) for c in turn.decision.candidates] == [("echo", "won"), ("quiet", "outranked")]
        turn.expect_winner("echo")
        with pytest.raises(ExpectationError, match="won by skill 'quiet'"):
            turn.expect_winner("quiet")
        assert [d.event_type for d in turn.decisions] == ["assistant_speech_ended", "user_speak", "assistant_speak"]
        call.hang_up()

    def test_a_dropped_barge_in_never_reaches_the_skills(self, transport: str) -> None:
        recorder = Recorder()
        greet = make_skill("greet", session_start=lambda call: speak("Please hold the line.", barge_in={"strategy": "none"}))
        app = make_test_app(greet, recorder)
        call = CallSimulator(app, transport=transport).start_call()
        call.barge_in("hello there")
        assert recorder.events == []
        call.barge_in("x" * 200, after_ms=100_000)  # after the prompt: ordinary speech
        assert [(e.text, e.barged_in) for e in recorder.events] == [("x" * 200, False)]
        call.hang_up()
        assert recorder.events[-1].type == "session_end"

    def test_barged_in_reaches_the_skill(self, transport: str) -> None:
        recorder = Recorder()
        app = make_test_app(make_skill("greet", session_start=says("Hello, hello, hello.")), recorder)
        call = CallSimulator(app, transport=transport).start_call()
        call.barge_in("hey you")
        assert [(e.text, e.barged_in) for e in recorder.events] == [("hey you", True)]

    def test_audio_is_played_and_announced_without_text(self, transport: str) -> None:
        clip = audio(wav(seconds=0.5))
        app = make_test_app(make_skill("jingle", session_start=lambda call: clip))
        call = CallSimulator(app, transport=transport).start_call()
        call.greeting.expect_audio()
        announced = call.greeting.exchanges[1].event
        assert announced["type"] == "assistant_speak" and announced["duration_ms"] == 500
        assert "text" not in announced and "ssml" not in announced
        with pytest.raises(ExpectationError, match="a speak action"):
            call.greeting.expect_speech()

    def test_ssml_is_announced_as_ssml(self, transport: str) -> None:
        ssml = "<speak>Welcome <break time='1s'/> back</speak>"
        app = make_test_app(make_skill("greet", session_start=lambda call: speak(ssml=ssml)))
        call = CallSimulator(app, transport=transport).start_call()
        announced = call.greeting.exchanges[1].event
        assert announced["ssml"] == ssml and "text" not in announced
        call.greeting.expect_speech(containing="break time")
        assert call.greeting.spoken == ["Welcome back"]

    def test_follow_ups_arrive_when_the_speech_ends(self, transport: str) -> None:
        farewell = make_skill(
            "farewell", user_speak=lambda event, call: Candidate(speak("Goodbye!"), then=[hangup()])
        )
        call = CallSimulator(make_test_app(farewell), transport=transport).start_call()
        said = call.say("bye")
        assert said.actions == [speak("Goodbye!").with_session(call.session_id)]
        assert not call.ended
        ended = call.speech_ends()
        assert [e.event["type"] for e in ended.exchanges] == ["assistant_speech_ended", "session_end"]
        ended.expect_hangup()
        assert call.ended

    def test_wrong_secret_is_a_clear_error(self, transport: str) -> None:
        app = make_test_app(echo)
        with pytest.raises(TransportError, match="401"):
            CallSimulator(app, secret="wrong", transport=transport).start_call()

    def test_an_endless_speech_loop_is_reported(self, transport: str) -> None:
        chatty = make_skill("chatty", session_start=says("Hi."), assistant_speak=says("And another thing."))
        app = make_test_app(chatty)
        with pytest.raises(ProtocolViolation, match="keeps answering its own speech events"):
            CallSimulator(app, transport=transport).start_call()


class TestExpectationMessages:
    def test_failure_shows_the_action_and_the_candidates(self) -> None:
        quiet = make_skill("generic", 20, user_speak=says("I am the generic answer."))
        app = make_test_app(echo, quiet)
        call = CallSimulator(app).start_call()
        turn = call.say("opening hours")
        with pytest.raises(ExpectationError) as info:
            turn.expect_speech(containing="nine to five")
        message = str(info.value)
        assert "expected a speak action containing 'nine to five'" in message
        assert '-> user_speak "opening hours"' in message
        assert '<- speak "You said: opening hours"' in message
        assert "echo (priority 50) won" in message
        assert "generic (priority 20) outranked by echo" in message

    def test_failures_and_fallbacks_are_explained(self) -> None:
        from .skills import broken

        app = make_test_app(broken)
        call = CallSimulator(app).start_call()
        turn = call.say("hello")
        with pytest.raises(ExpectationError) as info:
            turn.expect_hangup()
        message = str(info.value)
        assert "! broken raised: ValueError: boom" in message
        assert "fallback" in message

    def test_expect_silence_and_hangup(self) -> None:
        app = make_test_app(echo)
        call = CallSimulator(app).start_call()
        with pytest.raises(ExpectationError, match="no action at all"):
            call.greeting.expect_silence()
        with pytest.raises(ExpectationError, match="a hangup"):
            call.expect_hangup()
        with pytest.raises(ExpectationError, match="an audio action"):
            call.expect_audio()
        assert call.say("x y z").expect_speech() is call.last_turn

    @pytest.mark.server
    def test_remote_turns_say_the_decision_is_unavailable(self, server_url: str) -> None:
        call = CallSimulator(server_url, secret=SECRET).start_call()
        assert call.greeting.decision is None and not call.greeting.decisions_available
        with pytest.raises(ExpectationError, match="decision record"):
            call.greeting.expect_winner("frontdesk")
        assert "not available over this transport" in call.greeting.describe()
        call.hang_up()


@pytest.mark.server
@pytest.mark.parametrize("transport", ["webhook", "websocket"])
def test_a_server_refusing_the_secret_is_a_clear_error(server_url: str, transport: str) -> None:
    with pytest.raises(TransportError, match="401"):
        CallSimulator(server_url, secret="wrong", transport=transport).start_call()


@pytest.mark.server
def test_a_websocket_url_works_as_the_target(server_url: str) -> None:
    sim = CallSimulator(server_url.replace("http://", "ws://"), secret=SECRET, transport="websocket", quiet_seconds=0.2)
    call = sim.start_call()
    call.greeting.expect_speech(containing="front desk")
    call.hang_up()


def test_every_message_on_a_websocket_is_recorded(simulator: CallSimulator) -> None:
    """A skill that pushes with send() while it handles user_speak does not fail the call."""
    simulator.settle_seconds = 0.5  # over a real WebSocket: room for the answer after the push on a busy machine
    call = simulator.start_call()
    turn = call.say("push something")
    said = turn.main
    assert said is not None
    if simulator.transport == "websocket":
        assert [a.text for a in said.actions] == ["Pushed while you spoke.", "Answered after the push."]  # type: ignore[attr-defined]
        assert any("2 messages" in note for note in turn.notes)
        assert turn.spoken == ["Pushed while you spoke.", "Answered after the push."]
    else:  # a webhook has no connection to push into: only the answer
        assert [a.text for a in said.actions] == ["Answered after the push."]  # type: ignore[attr-defined]
    assert turn.action is not None and turn.action.text == "Answered after the push."  # type: ignore[attr-defined]
    assert '<- speak "Answered after the push."' in turn.describe()
    call.hang_up()


class TestMisuse:
    def test_session_fields_are_checked(self) -> None:
        with pytest.raises(ValueError, match="session_fields"):
            CallSimulator(make_test_app(echo), session_fields="some")
        with pytest.raises(ValueError, match="session_fields"):
            CallSimulator(make_test_app(echo)).start_call(session_fields="none")

    def test_steps_check_their_arguments(self) -> None:
        call = CallSimulator(make_test_app(echo)).start_call()
        with pytest.raises(ValueError, match="silence"):
            call.say("   ")
        with pytest.raises(ValueError, match="after_ms"):
            call.barge_in("hello", after_ms=-1)
        with pytest.raises(ValueError, match="transport"):
            CallSimulator(make_test_app(echo), transport="carrier pigeon")
        with pytest.raises(ValueError, match="http"):
            CallSimulator("localhost:5000")
        with pytest.raises(ValueError, match="WebSocket URL"):
            CallSimulator("ws://localhost:5000")

    def test_a_call_used_as_context_manager_hangs_up(self) -> None:
        recorder = Recorder()
        with CallSimulator(make_test_app(recorder)).start_call() as call:
            pass
        assert call.ended and recorder.events[-1].type == "session_end"

    def test_no_webhook_route_is_a_clear_error(self) -> None:
        app = make_test_app(echo, AIFLOW_WEBHOOK_PATH=None)
        with pytest.raises(TransportError, match="AIFLOW_WEBHOOK_PATH"):
            CallSimulator(app).start_call()
        CallSimulator(app, transport="websocket").start_call().greeting.expect_speech(containing="echo")

    def test_unreachable_server_is_a_clear_error(self) -> None:
        from .server import free_port

        url = f"http://127.0.0.1:{free_port()}"
        with pytest.raises(TransportError, match="failed"):
            CallSimulator(url, secret=SECRET).start_call()
        with pytest.raises(TransportError, match="cannot connect"):
            CallSimulator(url, secret=SECRET, transport="websocket").start_call()


# -- without assistant_speak: the built-in skills and the transcript ----------------------------


def ivr_app(**config: Any) -> Any:
    from examples.ivr_app import create_app

    return create_app({"TESTING": True, "AIFLOW_SHARED_SECRET": SECRET, "AIFLOW_DISCONNECT_GRACE": None, **config})


def transcript_texts(app: Any, call: Any) -> list[tuple[str, str]]:
    return [(turn["role"], turn["text"]) for turn in get_state(app).transcript(call.session_id)]


IVR_TRANSCRIPT = [
    ("assistant", "Welcome to AI Flow! How can I help you today? You can say billing, support or sales."),
    ("assistant", "I didn't hear anything. Please respond. Attempt 1 of 3."),
    ("caller", "support please"),
    ("assistant", "Is it about your internet or your phone?"),
    ("caller", "my router"),
    ("assistant", "Please restart your router and wait two minutes."),
]


@pytest.mark.parametrize("announced", [True, False], ids=["assistant_speak", "no assistant_speak"])
@pytest.mark.parametrize("transport", ["webhook", "websocket"])
def test_the_ivr_example_does_not_need_assistant_speak(transport: str, announced: bool) -> None:
    app = ivr_app()
    call = CallSimulator(app, transport=transport, assistant_speak=announced).start_call()
    assert ("assistant_speak" in types(call.greeting)) is announced
    call.greeting.expect_speech(containing="Welcome to AI Flow")
    call.silence().expect_speech(containing="Attempt 1 of 3")
    call.say("support please").expect_speech(containing="internet or your phone")
    call.say("my router").expect_speech(containing="restart your router")
    assert transcript_texts(app, call) == IVR_TRANSCRIPT  # the same with or without assistant_speak
    call.say("bye").expect_speech(containing="Goodbye")
    assert not call.ended  # the hang-up follows when the farewell has been spoken
    ended = call.speech_ends()
    ended.expect_hangup()
    assert call.ended
    call.close()


@pytest.mark.parametrize("store", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_pushed_speech_reaches_the_transcript_once(store: str, request: Any) -> None:
    """Speech the app answered with is recorded once; speech it pushed comes in through assistant_speak."""
    config = {"AIFLOW_FALLBACK": None}
    if store == "redis":
        config.update(AIFLOW_STATE_STORE=request.getfixturevalue("redis_url"), AIFLOW_REDIS_PREFIX="sim-transcript:")
    app = make_test_app(frontdesk, **config)
    try:
        call = CallSimulator(app, transport="websocket", settle_seconds=0.5).start_call()
        call.say("push it")
        assert transcript_texts(app, call) == [
            ("assistant", frontdesk.GREETING),
            ("caller", "push it"),
            ("assistant", "Answered after the push."),
            # the push, announced by its own assistant_speak (the answer's announcement added nothing)
            ("assistant", "Pushed while you spoke."),
        ]
        call.say("again")
        assert transcript_texts(app, call)[-2:] == [("caller", "again"), ("assistant", "You said: again")]
        call.hang_up()
    finally:
        get_state(app).store.close()
