"""Tests for the opening-hours skill, with the fixtures of flask-aiflow's pytest plugin."""

import pytest

from flask_aiflow import SkillConfigError


def test_the_installed_skill_is_discovered_through_its_entry_point(aiflow_app):
    app = aiflow_app("opening_hours")
    skill = app.extensions["aiflow"].registry.get("opening_hours")
    assert skill.enabled
    assert (skill.package, skill.version) == ("aiflow-opening-hours", "1.0.0")
    assert skill.hooks == ("aiflow_startup", "aiflow_user_speak")


def test_it_tells_the_default_hours(aiflow_call):
    call = aiflow_call("opening_hours")
    turn = call.say("When are you open?")
    turn.expect_speech(containing="We are open Monday to Friday from 09:00 to 17:00.")
    turn.expect_winner("opening_hours")


def test_it_tells_the_configured_hours(aiflow_call):
    hours = {"monday": "08:00-12:00", "tuesday": "08:00-12:00", "saturday": "10:00-14:00"}
    call = aiflow_call("opening_hours", OPENING_HOURS=hours)
    call.say("What are your hours?").expect_speech(
        containing="Monday to Tuesday from 08:00 to 12:00, Saturday from 10:00 to 14:00"
    )


def test_it_leaves_other_questions_to_other_skills(aiflow_call):
    turn = aiflow_call("opening_hours").say("I'd like to order a pizza.")
    assert turn.decision.winner is None  # nobody proposed anything: the fallback answered


@pytest.mark.parametrize(
    ("hours", "message"),
    [({"mondey": "09:00-17:00"}, "not a day of the week"), ({"monday": "17:00-09:00"}, "opening before closing")],
)
def test_a_wrong_configuration_stops_the_app(aiflow_app, hours, message):
    with pytest.raises(SkillConfigError, match=message):
        aiflow_app("opening_hours", OPENING_HOURS=hours)
