"""Ranking, tie-breaks, fault isolation, state and the floor, through the dispatcher."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from flask_aiflow import FLOOR, GENERIC, INTENT, SAFETY, Candidate, hangup, reprompt, speak, transfer
from flask_aiflow.decision import (
    RULE_FALLBACK,
    RULE_FLOOR,
    RULE_INDEX,
    RULE_NAME,
    RULE_NONE,
    RULE_ONLY,
    RULE_ORDER,
    RULE_PRIORITY,
    RULE_REPROMPT_AHEAD,
    RULE_REPROMPT_YIELDS,
    RULE_SESSION_END,
)
from flask_aiflow.skills.ranking import REPROMPT_PRIORITY

from .helpers import event, make_app, make_skill, says


def dispatch(app: Any, data: dict[str, Any]) -> Any:
    with app.app_context():
        return app.extensions["aiflow"].extension.dispatch(data)


def spoken(decision: Any) -> str | None:
    return decision.action.text if decision.action is not None else None


class TestRanking:
    def test_highest_priority_wins_and_losers_say_why(self) -> None:
        app = make_app(
            make_skill("chat", 20, user_speak=says("chit-chat")),
            make_skill("intent", 50, user_speak=says("intent")),
            make_skill("guard", 100, user_speak=says("safety")),
        )
        decision = dispatch(app, event("user_speak", "s1"))
        assert spoken(decision) == "safety"
        assert decision.winner.skill == "guard"
        assert decision.rule == RULE_PRIORITY
        by_skill = {c.skill: c for c in decision.candidates}
        assert by_skill["intent"].outcome == "outranked"
        assert by_skill["intent"].lost_to == "guard"
        assert [c.skill for c in decision.candidates] == ["guard", "intent", "chat"]

    def test_single_candidate_rule(self) -> None:
        app = make_app(make_skill("only", user_speak=says("hi")))
        decision = dispatch(app, event("user_speak", "s1"))
        assert decision.rule == RULE_ONLY
        assert decision.action.session_id == "s1"

    def test_tie_breaks_by_skill_name_not_registration_order(self) -> None:
        for skills in (
            [make_skill("beta", 50, user_speak=says("b")), make_skill("alpha", 50, user_speak=says("a"))],
            [make_skill("alpha", 50, user_speak=says("a")), make_skill("beta", 50, user_speak=says("b"))],
        ):
            decision = dispatch(make_app(*skills), event("user_speak", "s1"))
            assert spoken(decision) == "a"
            assert decision.rule == RULE_NAME

    def test_configured_order_beats_name(self) -> None:
        app = make_app(
            make_skill("alpha", 50, user_speak=says("a")),
            make_skill("beta", 50, user_speak=says("b")),
            AIFLOW_SKILL_ORDER=["beta", "alpha"],
        )
        decision = dispatch(app, event("user_speak", "s1"))
        assert spoken(decision) == "b"
        assert decision.rule == RULE_ORDER

    def test_allow_list_order_is_the_default_tie_break(self) -> None:
        app = make_app(
            make_skill("alpha", 50, user_speak=says("a")),
            make_skill("beta", 50, user_speak=says("b")),
            AIFLOW_SKILLS=["beta", "alpha"],
        )
        assert spoken(dispatch(app, event("user_speak", "s1"))) == "b"

    def test_several_proposals_of_one_skill_rank_by_priority_then_order(self) -> None:
        def hook(event: Any, call: Any) -> list[Any]:
            return [Candidate(speak("low"), priority=10), "default", Candidate(speak("also default"), priority=50)]

        decision = dispatch(make_app(make_skill("multi", 50, user_speak=hook)), event("user_speak", "s1"))
        assert spoken(decision) == "default"
        assert decision.rule == RULE_INDEX
        assert [c.priority for c in decision.candidates] == [50, 50, 10]

    def test_explicit_priority_and_reason_recorded(self) -> None:
        app = make_app(
            make_skill("a", 50, user_speak=lambda event, call: Candidate(hangup(), priority=SAFETY, reason="abuse")),
            make_skill("b", 50, user_speak=says("hello")),
        )
        decision = dispatch(app, event("user_speak", "s1"))
        assert decision.action.type == "hangup"
        assert decision.winner.reason == "abuse"
        assert decision.to_dict()["candidates"][0]["reason"] == "abuse"

    def test_priority_zero_stays_zero(self) -> None:
        app = make_app(make_skill("zero", 0, user_speak=says("z")), make_skill("one", 1, user_speak=says("o")))
        decision = dispatch(app, event("user_speak", "s1"))
        assert spoken(decision) == "o"
        assert {c.skill: c.priority for c in decision.candidates} == {"zero": 0, "one": 1}

    @pytest.mark.parametrize("bad", [True, None, -1, 1.5, "50"])
    def test_invalid_declared_priority_is_refused(self, bad: Any) -> None:
        from flask_aiflow import SkillError

        skill = make_skill("bad", user_speak=says("x"))
        skill.AIFLOW_PRIORITY = bad
        with pytest.raises(SkillError, match="AIFLOW_PRIORITY"):
            make_app(skill)

    @pytest.mark.parametrize("bad", [True, -5, 2.0])
    def test_invalid_candidate_priority_is_refused(self, bad: Any) -> None:
        with pytest.raises(ValueError):
            Candidate(speak("x"), priority=bad)


class TestReweighting:
    def test_configured_priority_moves_default_and_explicit_priorities(self) -> None:
        def hook(event: Any, call: Any) -> list[Any]:
            return ["plain", Candidate(speak("urgent"), priority=70)]

        app = make_app(
            make_skill("moved", 50, user_speak=hook),
            make_skill("other", 65, user_speak=says("other")),
            AIFLOW_SKILL_PRIORITIES={"moved": 10},
        )
        decision = dispatch(app, event("user_speak", "s1"))
        assert spoken(decision) == "other"
        assert sorted(c.priority for c in decision.candidates if c.skill == "moved") == [10, 30]

    def test_reweight_can_promote_a_skill(self) -> None:
        app = make_app(
            make_skill("low", 20, user_speak=says("low")),
            make_skill("high", 50, user_speak=says("high")),
            AIFLOW_SKILL_PRIORITIES={"low": 60},
        )
        assert spoken(dispatch(app, event("user_speak", "s1"))) == "low"

    def test_disabled_skill_never_runs(self) -> None:
        calls: list[str] = []
        app = make_app(
            make_skill("off", 100, user_speak=lambda event, call: calls.append("off") or "off"),
            make_skill("on", 50, user_speak=says("on")),
            AIFLOW_DISABLED_SKILLS=["off"],
        )
        assert spoken(dispatch(app, event("user_speak", "s1"))) == "on"
        assert calls == []
        info = app.extensions["aiflow"].registry.get("off")
        assert not info.enabled and "AIFLOW_DISABLED_SKILLS" in info.status


class TestFaultIsolation:
    def test_raising_skill_is_excluded_and_others_compete(self, caplog: Any) -> None:
        def boom(event: Any, call: Any) -> str:
            raise RuntimeError("kaputt")

        app = make_app(make_skill("boom", 100, user_speak=boom), make_skill("ok", 50, user_speak=says("fine")))
        with caplog.at_level(logging.ERROR, "flask_aiflow"):
            decision = dispatch(app, event("user_speak", "s1"))
        assert spoken(decision) == "fine"
        assert [(f.skill, f.kind) for f in decision.failures] == [("boom", "raised")]
        assert "RuntimeError: kaputt" in decision.failures[0].message
        assert any("kaputt" in (r.exc_text or "") for r in caplog.records), "traceback is logged"

    @pytest.mark.parametrize(
        ("text", "kind"),
        [("invalid", "invalid_action"), ("object", "bad_return"), ("state", "bad_state"), ("crash", "raised")],
    )
    def test_every_failure_kind_falls_back_to_other_skills(self, text: str, kind: str) -> None:
        from tests.skills import broken

        app = make_app(broken, make_skill("ok", 10, user_speak=says("still here")))
        decision = dispatch(app, event("user_speak", "s1", text=text))
        assert spoken(decision) == "still here"
        assert [(f.skill, f.kind) for f in decision.failures] == [("broken", kind)]

    @pytest.mark.parametrize("kind", ["circular", "bad key", "object"])
    def test_unstorable_state_is_refused_not_raised(self, kind: str) -> None:
        def hoard(event: Any, call: Any) -> str:
            if kind == "circular":
                call.state["me"] = call.state
            elif kind == "bad key":
                call.state["map"] = {(1, 2): "tuple keys are not JSON"}
            else:
                call.state["when"] = object()
            return "mine"

        app = make_app(make_skill("hoarder", 100, user_speak=hoard), make_skill("ok", 10, user_speak=says("fine")))
        decision = dispatch(app, event("user_speak", "s1"))
        assert spoken(decision) == "fine"
        assert [(f.skill, f.kind) for f in decision.failures] == [("hoarder", "bad_state")]
        assert "not JSON-serialisable" in decision.failures[0].message

    def test_invalid_action_message_names_the_rule(self) -> None:
        from tests.skills import broken

        decision = dispatch(make_app(broken), event("user_speak", "s1", text="invalid"))
        assert "E.164" in decision.failures[0].message

    def test_action_for_another_session_is_rejected(self) -> None:
        app = make_app(make_skill("x", user_speak=lambda event, call: hangup().with_session("other")))
        decision = dispatch(app, event("user_speak", "s1"))
        assert decision.failures[0].kind == "invalid_action"
        assert "other" in decision.failures[0].message

    def test_fallback_answers_when_every_skill_failed(self) -> None:
        from tests.skills import broken

        app = make_app(broken, AIFLOW_FALLBACK="One moment please.")
        decision = dispatch(app, event("user_speak", "s1", text="crash"))
        assert spoken(decision) == "One moment please."
        assert decision.rule == RULE_FALLBACK

    def test_failed_skill_state_is_discarded(self) -> None:
        def count_then_fail(event: Any, call: Any) -> None:
            call.state["n"] = call.state.get("n", 0) + 1
            raise RuntimeError("after writing")

        def read(event: Any, call: Any) -> None:
            return None

        skill = make_skill("flaky", user_speak=count_then_fail, user_input_timeout=lambda event, call: str(call.state.get("n", 0)))
        app = make_app(skill)
        dispatch(app, event("session_start", "s1"))
        dispatch(app, event("user_speak", "s1"))
        assert spoken(dispatch(app, event("user_input_timeout", "s1"))) == "0"

    def test_failing_startup_disables_only_that_skill(self) -> None:
        def startup(app: Any) -> None:
            raise RuntimeError("no database")

        app = make_app(make_skill("sick", 100, startup=startup, user_speak=says("sick")), make_skill("well", user_speak=says("well")))
        assert spoken(dispatch(app, event("user_speak", "s1"))) == "well"
        info = app.extensions["aiflow"].registry.get("sick")
        assert not info.enabled and "no database" in info.status

    def test_skill_config_error_fails_startup_naming_the_skill(self) -> None:
        from flask_aiflow import SkillConfigError

        def startup(app: Any) -> None:
            raise SkillConfigError("MENU_OPTIONS must be a list")

        with pytest.raises(SkillConfigError, match="'menu'.*MENU_OPTIONS"):
            make_app(make_skill("menu", startup=startup))


class TestStringsAndDefaults:
    def test_string_uses_default_tts_and_barge_in(self) -> None:
        app = make_app(
            make_skill("s", user_speak=says("Hallo")),
            AIFLOW_DEFAULT_TTS={"provider": "azure", "language": "de-DE", "voice": "de-DE-KatjaNeural"},
            AIFLOW_DEFAULT_BARGE_IN={"strategy": "minimum_characters", "minimum_characters": 3},
        )
        action = dispatch(app, event("user_speak", "s1")).action.to_dict()
        assert action == {
            "type": "speak",
            "session_id": "s1",
            "text": "Hallo",
            "tts": {"provider": "azure", "language": "de-DE", "voice": "de-DE-KatjaNeural"},
            "barge_in": {"strategy": "minimum_characters", "minimum_characters": 3},
        }

    def test_plain_dict_action_from_the_reference_is_accepted(self) -> None:
        app = make_app(
            make_skill(
                "d",
                user_speak=lambda event, call: {
                    "type": "transfer",
                    "target_phone_number": "+1234567890",
                    "caller_id_name": "Support Team",
                    "caller_id_number": "+1234567890",
                },
            )
        )
        action = dispatch(app, event("user_speak", "s1")).action
        assert action.type == "transfer" and action.session_id == "s1"

    def test_no_candidates_for_assistant_speak_means_no_action(self) -> None:
        decision = dispatch(make_app(make_skill("s", user_speak=says("x"))), event("assistant_speak", "s1"))
        assert decision.action is None and decision.rule == RULE_NONE

    def test_fallback_for_silence_from_every_skill_on_user_speak(self) -> None:
        decision = dispatch(make_app(), event("user_speak", "s1"))
        assert decision.rule == RULE_FALLBACK
        assert "didn't catch" in spoken(decision)

    def test_fallback_can_be_disabled(self) -> None:
        decision = dispatch(make_app(AIFLOW_FALLBACK=None), event("user_speak", "s1"))
        assert decision.action is None

    def test_fallback_is_a_built_in_last_resort_skill(self) -> None:
        registry = make_app(AIFLOW_FALLBACK_EVENTS=["user_speak"]).extensions["aiflow"].registry
        info = registry.get("fallback")
        assert info is not None and info.last_resort and info.priority == 0 and info.hooks == ("aiflow_user_speak",)
        assert registry.skills() == [] and [s.name for s in registry.skills(include_last_resort=True)] == ["fallback"]
        assert registry.hooks_for("aiflow_user_speak") == ()

    def test_fallback_is_switched_off_like_any_skill(self) -> None:
        decision = dispatch(make_app(AIFLOW_DISABLED_SKILLS=["fallback"]), event("user_speak", "s1"))
        assert decision.action is None and decision.rule == RULE_NONE

    def test_fallback_answers_only_its_configured_events(self) -> None:
        app = make_app(AIFLOW_FALLBACK_EVENTS=["user_input_timeout"])
        assert dispatch(app, event("user_speak", "s1")).action is None
        assert dispatch(app, event("user_input_timeout", "s1")).rule == RULE_FALLBACK

    def test_fallback_is_not_asked_when_a_skill_proposed(self) -> None:
        decision = dispatch(make_app(make_skill("quiet", 0, user_speak=says("hm"))), event("user_speak", "s1"))
        assert spoken(decision) == "hm" and [c.skill for c in decision.candidates] == ["quiet"]


class TestState:
    def test_state_is_per_call_and_per_skill(self) -> None:
        def count(event: Any, call: Any) -> str:
            call.state["n"] = call.state.get("n", 0) + 1
            return f"{call.skill}:{call.state['n']}"

        app = make_app(make_skill("a", 50, user_speak=count), make_skill("b", 40, user_speak=count))
        for sid in ("one", "two"):
            dispatch(app, event("session_start", sid))
        dispatch(app, event("user_speak", "one"))
        assert spoken(dispatch(app, event("user_speak", "one"))) == "a:2"
        assert spoken(dispatch(app, event("user_speak", "two"))) == "a:1"

    def test_loser_state_changes_are_discarded_observer_changes_kept(self) -> None:
        def counting_loser(event: Any, call: Any) -> str:
            call.state["n"] = call.state.get("n", 0) + 1
            return "loser"

        def observer(event: Any, call: Any) -> None:
            call.state["seen"] = call.state.get("seen", 0) + 1

        def report(event: Any, call: Any) -> str:
            return str(call.state)

        app = make_app(
            make_skill("loser", 10, user_speak=counting_loser, user_input_timeout=report),
            make_skill("winner", 50, user_speak=says("win")),
            make_skill("observer", 5, user_speak=observer, user_input_timeout=lambda event, call: Candidate(speak(str(call.state)), priority=1)),
        )
        dispatch(app, event("session_start", "s"))
        dispatch(app, event("user_speak", "s"))
        decision = dispatch(app, event("user_input_timeout", "s"))
        by_skill = {c.skill: c.action.text for c in decision.candidates}
        assert by_skill == {"loser": "{}", "observer": "{'seen': 1}"}

    def test_session_end_runs_every_hook_sends_nothing_and_deletes_state(self) -> None:
        ended: list[str] = []

        def end(event: Any, call: Any) -> str:
            ended.append(f"{call.skill}:{call.state.get('n')}")
            return "goodbye"  # not allowed: ignored

        def start(event: Any, call: Any) -> None:
            call.state["n"] = 1

        app = make_app(make_skill("a", session_start=start, session_end=end), make_skill("b", session_end=end))
        dispatch(app, event("session_start", "s"))
        decision = dispatch(app, event("session_end", "s"))
        assert decision.action is None and decision.rule == RULE_SESSION_END
        assert sorted(ended) == ["a:1", "b:None"]
        assert all(c.outcome == "ignored" for c in decision.candidates)
        assert app.extensions["aiflow"].store.load("s") is None

    def test_events_for_an_unknown_call_start_fresh_state(self) -> None:
        app = make_app(make_skill("a", user_speak=lambda event, call: str(call.state)))
        decision = dispatch(app, event("user_speak", "never-started"))
        assert spoken(decision) == "{}"
        assert any("no state" in note for note in decision.notes)

    def test_call_meta_has_numbers_and_start(self) -> None:
        app = make_app(make_skill("a", user_speak=lambda event, call: call.meta["from"]))
        dispatch(app, event("session_start", "s"))
        assert spoken(dispatch(app, event("user_speak", "s"))) == "+4917099999"


class TestFloor:
    @staticmethod
    def menu(turns: int | None = 2) -> Any:
        def start(event: Any, call: Any) -> str:
            call.take_floor(turns=turns)
            return "Billing or support?"

        def answer(event: Any, call: Any) -> Any:
            if event.text in ("billing", "support"):
                call.release_floor()
                return f"menu:{event.text}"
            if event.text == "decline-but-release":
                call.release_floor()
            return None  # decline: keep waiting

        return make_skill("menu", 50, session_start=start, user_speak=answer)

    def test_holder_outranks_ordinary_intents(self) -> None:
        app = make_app(self.menu(), make_skill("faq", 70, user_speak=says("faq")))
        dispatch(app, event("session_start", "s"))
        decision = dispatch(app, event("user_speak", "s", text="billing"))
        assert spoken(decision) == "menu:billing"
        assert decision.winner.priority == FLOOR

    def test_safety_beats_the_floor(self) -> None:
        app = make_app(self.menu(), make_skill("agent", SAFETY, user_speak=lambda event, call: transfer("+4930111", caller_id_name="Agent", caller_id_number="+4930111") if event.text == "billing" else None))
        dispatch(app, event("session_start", "s"))
        assert dispatch(app, event("user_speak", "s", text="billing")).action.type == "transfer"

    def test_release_from_handler_sticks(self) -> None:
        app = make_app(self.menu(), make_skill("faq", 70, user_speak=says("faq")))
        dispatch(app, event("session_start", "s"))
        assert dispatch(app, event("user_speak", "s", text="billing")).winner.priority == FLOOR
        assert app.extensions["aiflow"].store.load("s") is not None
        # floor released: the menu now ranks at its own priority
        assert spoken(dispatch(app, event("user_speak", "s", text="support"))) == "faq"

    def test_release_sticks_even_when_declining(self) -> None:
        app = make_app(self.menu(turns=None), make_skill("faq", 70, user_speak=says("faq")))
        dispatch(app, event("session_start", "s"))
        decision = dispatch(app, event("user_speak", "s", text="decline-but-release"))
        assert "menu released the floor" in decision.notes

    def test_unmatched_turns_run_out(self) -> None:
        app = make_app(self.menu(turns=2), make_skill("faq", 70, user_speak=says("faq")))
        dispatch(app, event("session_start", "s"))
        first = dispatch(app, event("user_speak", "s", text="what?"))
        assert spoken(first) == "faq"
        second = dispatch(app, event("user_speak", "s", text="hmm"))
        assert "floor released: menu let its last turn pass" in second.notes
        assert spoken(dispatch(app, event("user_speak", "s", text="billing"))) == "faq"

    def test_floor_taken_by_a_losing_proposal_is_not_kept(self) -> None:
        def grab(event: Any, call: Any) -> str:
            call.take_floor()
            return "grabbed"

        app = make_app(make_skill("grabber", 10, user_speak=grab), make_skill("big", 60, user_speak=says("big")))
        decision = dispatch(app, event("user_speak", "s"))
        assert spoken(decision) == "big"
        assert not any("holds the floor" in note for note in decision.notes)

    def test_only_the_holder_can_take_or_release(self) -> None:
        results: list[Any] = []

        def other(event: Any, call: Any) -> None:
            results.append((call.take_floor(), call.release_floor(), call.floor.skill))

        app = make_app(self.menu(), make_skill("other", user_speak=other))
        dispatch(app, event("session_start", "s"))
        dispatch(app, event("user_speak", "s", text="noise"))
        assert results == [(False, False, "menu")]

    def test_floor_ends_with_the_call(self) -> None:
        app = make_app(self.menu(turns=None), make_skill("faq", 70, user_speak=says("faq")))
        dispatch(app, event("session_start", "s"))
        dispatch(app, event("session_end", "s"))
        assert spoken(dispatch(app, event("user_speak", "s", text="x"))) == "faq"


class TestFloorRule:
    """The floor holder handles what it understands; its re-prompt does not swallow other skills' matches."""

    @staticmethod
    def menu() -> Any:
        def start(event: Any, call: Any) -> str:
            call.take_floor()
            return "Billing or support?"

        def answer(event: Any, call: Any) -> Any:
            if "billing" in event.text:
                return "menu:billing"
            call.state["tries"] = call.state.get("tries", 0) + 1
            return reprompt("Please say billing or support.", reason="menu: no match")

        return make_skill("menu", INTENT, session_start=start, user_speak=answer)

    @staticmethod
    def weather() -> Any:
        return make_skill("weather", INTENT, user_speak=lambda event, call: "sunny" if "weather" in event.text else None)

    @staticmethod
    def chat() -> Any:
        return make_skill("chat", GENERIC, user_speak=says("tell me more"))

    def app(self) -> Any:
        app = make_app(self.menu(), self.weather(), self.chat(), AIFLOW_SKILL_ORDER=["menu", "weather", "chat"])
        dispatch(app, event("session_start", "s"))
        return app

    def test_another_skills_intent_match_beats_the_holders_reprompt(self) -> None:
        decision = dispatch(self.app(), event("user_speak", "s", text="how is the weather"))
        assert spoken(decision) == "sunny"
        assert decision.rule == RULE_REPROMPT_YIELDS
        menu = next(c for c in decision.candidates if c.skill == "menu")
        assert (menu.priority, menu.floor, menu.lost_to) == (REPROMPT_PRIORITY, "reprompt", "weather")
        assert decision.to_dict()["candidates"][1]["reprompt"] is True

    def test_the_holders_reprompt_beats_generic_answers(self) -> None:
        decision = dispatch(self.app(), event("user_speak", "s", text="pizza"))
        assert spoken(decision) == "Please say billing or support."
        assert decision.rule == RULE_REPROMPT_AHEAD

    def test_the_holders_match_ranks_at_least_floor(self) -> None:
        decision = dispatch(self.app(), event("user_speak", "s", text="billing, and the weather"))
        assert spoken(decision) == "menu:billing"
        assert decision.rule == RULE_FLOOR
        assert (decision.winner.priority, decision.winner.floor) == (FLOOR, "match")

    def test_a_lost_reprompt_keeps_the_floor_and_discards_its_state(self) -> None:
        app = self.app()
        dispatch(app, event("user_speak", "s", text="how is the weather"))
        decision = dispatch(app, event("user_speak", "s", text="billing"))
        assert spoken(decision) == "menu:billing" and decision.winner.floor == "match"
        record = app.extensions["aiflow"].store.load_record("s")
        assert record.floor["skill"] == "menu" and "menu" not in record.skills


class TestDecisionRecord:
    def test_record_has_timings_and_one_line_summary(self, caplog: Any) -> None:
        app = make_app(make_skill("a", user_speak=says("x")), make_skill("b", 10, user_speak=says("y")))
        with caplog.at_level(logging.DEBUG, "flask_aiflow"):
            decision = dispatch(app, event("user_speak", "s"))
        assert set(decision.timings) == {"a", "b"}
        assert all(t >= 0 for t in decision.timings.values())
        lines = [r.getMessage() for r in caplog.records if "decision" in r.getMessage()]
        assert len(lines) == 1 and "\n" not in lines[0]
        assert '"winner":"a"' in lines[0] and '"lost_to":"a"' in lines[0]


class TestFollowUps:
    @staticmethod
    def farewell_skill() -> Any:
        def bye(event: Any, call: Any) -> Any:
            if "bye" in event.text:
                return Candidate(speak("Goodbye!"), priority=90, then=[hangup()])
            return None

        return make_skill("farewell", 50, user_speak=bye)

    def test_follow_up_is_delivered_when_speech_ends(self) -> None:
        app = make_app(self.farewell_skill())
        first = dispatch(app, event("user_speak", "s", text="bye now"))
        assert spoken(first) == "Goodbye!"
        assert first.winner.to_dict()["then"] == [{"type": "hangup", "session_id": "s"}]
        assert dispatch(app, event("assistant_speak", "s")).action is None  # not yet
        ended = dispatch(app, event("assistant_speech_ended", "s"))
        assert ended.action.to_dict() == {"type": "hangup", "session_id": "s"}
        assert ended.winner.followup and ended.winner.skill == "farewell"
        assert dispatch(app, event("assistant_speech_ended", "s")).action is None  # delivered once

    def test_several_follow_ups_one_per_speech_end(self) -> None:
        def plan(event: Any, call: Any) -> Any:
            return Candidate("one", then=["two", {"type": "hangup"}])

        app = make_app(make_skill("planner", user_speak=plan))
        assert spoken(dispatch(app, event("user_speak", "s"))) == "one"
        assert spoken(dispatch(app, event("assistant_speech_ended", "s"))) == "two"
        assert dispatch(app, event("assistant_speech_ended", "s")).action.type == "hangup"

    def test_a_new_action_cancels_pending_follow_ups(self) -> None:
        app = make_app(self.farewell_skill(), make_skill("echo", 20, user_speak=lambda event, call: event.text))
        dispatch(app, event("user_speak", "s", text="bye"))
        decision = dispatch(app, event("user_speak", "s", text="wait, one more thing", barged_in=True))
        assert spoken(decision) == "wait, one more thing"
        assert any("cancelled" in note for note in decision.notes)
        assert dispatch(app, event("assistant_speech_ended", "s")).action is None

    def test_a_higher_priority_proposal_beats_a_follow_up(self) -> None:
        app = make_app(
            self.farewell_skill(),
            make_skill("alarm", SAFETY, assistant_speech_ended=lambda event, call: transfer("+4930111", caller_id_name="Desk", caller_id_number="+4930111")),
        )
        dispatch(app, event("user_speak", "s", text="bye"))
        assert dispatch(app, event("assistant_speech_ended", "s")).action.type == "transfer"

    def test_invalid_follow_up_excludes_the_candidate(self) -> None:
        app = make_app(
            make_skill("bad", 60, user_speak=lambda event, call: Candidate("hi", then=[{"type": "hangup", "x": 1}])),
            make_skill("ok", 10, user_speak=says("fine")),
        )
        decision = dispatch(app, event("user_speak", "s"))
        assert spoken(decision) == "fine"
        assert decision.failures[0].kind == "invalid_action"

    def test_follow_ups_survive_in_the_stored_record(self) -> None:
        app = make_app(self.farewell_skill())
        dispatch(app, event("user_speak", "s", text="bye"))
        stored = app.extensions["aiflow"].store.load("s")
        assert '"pending":{"skill":"farewell"' in stored
