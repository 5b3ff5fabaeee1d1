"""Ranking as a pure function: no app, no store, no clock."""

from __future__ import annotations

from flask_aiflow import FALLBACK, FLOOR, GENERIC, INTENT, SAFETY, speak
from flask_aiflow.decision import (
    FLOOR_MATCH,
    FLOOR_REPROMPT,
    IGNORED,
    OUTRANKED,
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
    WON,
)
from flask_aiflow.skills.ranking import REPROMPT_PRIORITY, Proposal, ignore_all, rank


def proposal(skill: str, priority: int, text: str = "", *, reprompt: bool = False, followup: bool = False) -> Proposal:
    return Proposal(skill, priority, speak(text or skill).with_session("s"), reprompt=reprompt, followup=followup)


def no_order(name: str) -> int:
    return 0


def ranked(*candidates: Proposal, holder: str | None = None, order: list[str] | None = None) -> tuple[list[str], str]:
    configured = order or []
    result = rank(
        candidates,
        holder=holder,
        order_of=lambda name: configured.index(name) if name in configured else len(configured),
    )
    return [c.action.text for c in result.candidates], result.rule


def test_nothing_to_rank() -> None:
    result = rank([], holder=None, order_of=no_order)
    assert result.winner is None and result.candidates == [] and result.rule == RULE_NONE


def test_an_only_candidate_wins() -> None:
    result = rank([proposal("a", GENERIC)], holder=None, order_of=no_order)
    assert result.winner is not None and result.winner.outcome == WON and result.rule == RULE_ONLY


def test_higher_priority_wins_and_losers_name_the_winner() -> None:
    result = rank([proposal("low", INTENT), proposal("high", SAFETY)], holder=None, order_of=no_order)
    assert [c.skill for c in result.candidates] == ["high", "low"]
    assert result.rule == RULE_PRIORITY
    loser = result.candidates[1]
    assert (loser.outcome, loser.lost_to) == (OUTRANKED, "high")


def test_ties_break_by_order_then_name_then_proposal_order() -> None:
    assert ranked(proposal("b", INTENT), proposal("a", INTENT), order=["b", "a"]) == (["b", "a"], RULE_ORDER)
    assert ranked(proposal("b", INTENT), proposal("a", INTENT)) == (["a", "b"], RULE_NAME)
    assert ranked(proposal("a", INTENT, "first"), proposal("a", INTENT, "second")) == (["first", "second"], RULE_INDEX)


def test_the_proposals_passed_in_are_not_changed() -> None:
    given = [proposal("menu", INTENT), proposal("other", GENERIC)]
    rank(given, holder="menu", order_of=no_order)
    assert [(p.skill, p.priority) for p in given] == [("menu", INTENT), ("other", GENERIC)]


# -- the floor rule ----------------------------------------------------------------------


def test_the_holders_match_ranks_at_least_floor() -> None:
    result = rank([proposal("weather", INTENT + 10), proposal("menu", INTENT)], holder="menu", order_of=no_order)
    assert result.winner is not None and result.winner.skill == "menu"
    assert (result.winner.priority, result.winner.floor) == (FLOOR, FLOOR_MATCH)
    assert result.rule == RULE_FLOOR


def test_a_holder_already_above_floor_keeps_its_priority() -> None:
    result = rank([proposal("menu", SAFETY)], holder="menu", order_of=no_order)
    assert result.winner is not None and (result.winner.priority, result.winner.floor) == (SAFETY, None)


def test_safety_beats_the_holders_match() -> None:
    assert ranked(proposal("menu", INTENT), proposal("guard", SAFETY), holder="menu") == (["guard", "menu"], RULE_PRIORITY)


def test_the_holders_reprompt_yields_to_any_intent_match_of_another_skill() -> None:
    for priority in (INTENT, FLOOR - 1):
        result = rank([proposal("menu", INTENT, reprompt=True), proposal("weather", priority)], holder="menu", order_of=no_order)
        assert [c.skill for c in result.candidates] == ["weather", "menu"]
        assert result.rule == RULE_REPROMPT_YIELDS
        assert (result.candidates[1].priority, result.candidates[1].floor) == (REPROMPT_PRIORITY, FLOOR_REPROMPT)


def test_the_holders_reprompt_beats_generic_and_fallback() -> None:
    for priority in (GENERIC, INTENT - 1, FALLBACK):
        result = rank([proposal("chat", priority), proposal("menu", INTENT, reprompt=True)], holder="menu", order_of=lambda n: 0 if n == "chat" else 1)
        assert [c.skill for c in result.candidates] == ["menu", "chat"]
        assert result.rule == RULE_REPROMPT_AHEAD


def test_the_reprompt_mark_changes_nothing_for_a_skill_without_the_floor() -> None:
    result = rank([proposal("menu", INTENT, reprompt=True), proposal("chat", GENERIC)], holder=None, order_of=no_order)
    assert result.winner is not None and (result.winner.priority, result.winner.floor) == (INTENT, None)
    assert result.rule == RULE_PRIORITY


def test_a_follow_up_keeps_the_priority_it_won_with() -> None:
    result = rank([proposal("menu", INTENT, followup=True)], holder="menu", order_of=no_order)
    assert result.winner is not None and (result.winner.priority, result.winner.floor) == (INTENT, None)


def test_session_end_ignores_every_proposal() -> None:
    result = ignore_all([proposal("a", SAFETY), proposal("b", INTENT)])
    assert result.winner is None and result.rule == RULE_SESSION_END
    assert [c.outcome for c in result.candidates] == [IGNORED, IGNORED]


def test_reprompt_marks_an_answer_and_keeps_a_candidates_settings() -> None:
    import pytest

    from flask_aiflow import Candidate, hangup, reprompt

    marked = reprompt(Candidate("Say billing or support.", priority=60, reason="menu: no match", then=[hangup()]))
    assert (marked.reprompt, marked.priority, marked.reason, len(marked.then)) == (True, 60, "menu: no match", 1)
    assert reprompt("Pardon?", reason="no match") == Candidate("Pardon?", reason="no match", reprompt=True)
    with pytest.raises(ValueError, match="reprompt"):
        Candidate("x", reprompt="yes")  # type: ignore[arg-type]
