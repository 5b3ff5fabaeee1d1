"""The ``flask aiflow`` commands: output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo

from flask_aiflow import SkillConfigError
from flask_aiflow.cli.commands import aiflow_cli

from .helpers import make_app, make_skill, says
from .server import ROOT
from .skills import echo, frontdesk


def run(app: Flask, *args: str, input: str | None = None) -> Any:
    return app.test_cli_runner().invoke(args=["aiflow", *args], input=input)


def check(factory: Any, *args: str) -> Any:
    """``flask aiflow check`` for the app ``factory`` makes (which may raise)."""
    return CliRunner().invoke(aiflow_cli, ["check", *args], obj=ScriptInfo(create_app=factory))


# -- skills ----------------------------------------------------------------------------


class TestSkills:
    def test_table_lists_every_skill_with_hooks_priority_and_status(self) -> None:
        generic = make_skill("generic", 20, user_speak=says("Hm."))
        app = make_app(echo, generic, AIFLOW_DISABLED_SKILLS=["generic"], AIFLOW_SKILL_PRIORITIES={"echo": 60})
        result = run(app, "skills")
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0].split() == ["NAME", "PACKAGE", "VERSION", "HOOKS", "PRIORITY", "STATUS"]
        echo_line = next(line for line in lines if line.startswith("echo "))
        assert "(registered)" in echo_line and "session_start, user_speak" in echo_line
        assert "60 (declared 50)" in echo_line and echo_line.endswith("enabled")
        generic_line = next(line for line in lines if line.startswith("generic "))
        assert generic_line.endswith("disabled by AIFLOW_DISABLED_SKILLS")

    def test_json(self) -> None:
        app = make_app(echo)
        result = run(app, "skills", "--json")
        assert result.exit_code == 0
        assert json.loads(result.output) == [
            {
                "name": "echo",
                "package": None,
                "version": None,
                "hooks": ["aiflow_session_start", "aiflow_user_speak"],
                "priority": 50,
                "declared_priority": 50,
                "enabled": True,
                "status": "enabled",
                "inline": False,
            }
        ]

    def test_no_skills(self) -> None:
        result = run(make_app(), "skills")
        assert result.exit_code == 0 and "No skills" in result.output

    def test_a_skill_left_out_shows_its_declared_priority_and_how_to_enable_it(self) -> None:
        app = make_app(AIFLOW_LOAD_ENTRY_POINTS=True, AIFLOW_SKILLS=["greeting"], AIFLOW_DISABLED_SKILLS=["goodbye"])
        result = run(app, "skills")
        assert result.exit_code == 0, result.output
        vip = next(line for line in result.output.splitlines() if line.startswith("vip "))
        assert vip.split()[4:] == ["100", "not", "in", "AIFLOW_SKILLS"]  # the VIP example declares SAFETY
        assert "To enable a skill that is off:" in result.output
        assert (
            "  vip: add 'vip' to AIFLOW_SKILLS, or set FLASK_AIFLOW_SKILLS='[\"greeting\", \"vip\"]' in the environment"
            in result.output
        )
        assert "  goodbye: remove 'goodbye' from AIFLOW_DISABLED_SKILLS" in result.output
        entries = {entry["name"]: entry for entry in json.loads(run(app, "skills", "--json").output)}
        assert (entries["vip"]["declared_priority"], entries["vip"]["priority"]) == (100, 100)
        assert (entries["goodbye"]["declared_priority"], entries["menu"]["declared_priority"]) == (90, 50)

    def test_a_left_out_skill_keeps_its_re_weighting(self) -> None:
        app = make_app(AIFLOW_LOAD_ENTRY_POINTS=True, AIFLOW_SKILLS=["greeting"], AIFLOW_SKILL_PRIORITIES={"vip": 10})
        vip = next(line for line in run(app, "skills").output.splitlines() if line.startswith("vip "))
        assert "10 (declared 100)" in vip

    def test_every_enabled_skill_needs_no_hint(self) -> None:
        result = run(make_app(echo), "skills")
        assert "To enable" not in result.output


# -- check -----------------------------------------------------------------------------


class TestCheck:
    def test_a_good_app_passes(self) -> None:
        result = check(lambda: make_app(echo))
        assert result.exit_code == 0, result.output
        assert "ok: configuration is valid" in result.output
        assert "ok: 1 skill(s) enabled: echo" in result.output
        assert result.output.splitlines()[-1] == "0 error(s), 0 warning(s)"

    def test_a_configuration_error_stops_the_app_and_fails(self) -> None:
        result = check(lambda: make_app(echo, AIFLOW_SKILL_PRIORITIES={"echo": True}))
        assert result.exit_code == 1
        assert "error: the app failed to start: ConfigurationError" in result.output
        assert "AIFLOW_SKILL_PRIORITIES['echo']" in result.output

    def test_a_skill_rejecting_its_configuration_fails(self) -> None:
        def startup(app: Flask) -> None:
            raise SkillConfigError("OPENING_HOURS is missing")

        picky = make_skill("picky", startup=startup)
        result = check(lambda: make_app(picky))
        assert result.exit_code == 1
        assert "SkillConfigError: skill 'picky': OPENING_HOURS is missing" in result.output

    def test_a_skill_that_failed_to_start_fails(self) -> None:
        def startup(app: Flask) -> None:
            raise RuntimeError("database down")

        result = check(lambda: make_app(echo, make_skill("fragile", startup=startup)))
        assert result.exit_code == 1
        assert "error: skill 'fragile' failed to start: RuntimeError: database down" in result.output

    def test_names_that_match_no_skill_are_errors(self) -> None:
        result = check(
            lambda: make_app(
                echo,
                frontdesk,
                AIFLOW_SKILLS=["echo", "frontdesk", "ecco"],
                AIFLOW_DISABLED_SKILLS=["frontdesc"],
                AIFLOW_SKILL_PRIORITIES={"eho": 60},
            )
        )
        assert result.exit_code == 1
        assert "AIFLOW_SKILLS names 'ecco', but no such skill is installed or registered (did you mean 'echo'?)" in result.output
        assert "AIFLOW_DISABLED_SKILLS names 'frontdesc'" in result.output and "'frontdesk'?" in result.output
        assert "AIFLOW_SKILL_PRIORITIES names 'eho'" in result.output
        assert result.output.splitlines()[-1] == "3 error(s), 0 warning(s)"

    def test_missing_secret_is_an_error_and_opting_out_a_warning(self) -> None:
        result = check(lambda: make_app(echo, AIFLOW_SHARED_SECRET=None))
        assert result.exit_code == 1 and "AIFLOW_SHARED_SECRET is not set" in result.output
        result = check(lambda: make_app(echo, AIFLOW_SHARED_SECRET=None, AIFLOW_ALLOW_UNAUTHENTICATED=True))
        assert result.exit_code == 0 and "warning: AIFLOW_ALLOW_UNAUTHENTICATED is on" in result.output

    def test_priority_clashes_warn_and_fail_only_when_strict(self) -> None:
        twin = make_skill("twin", user_speak=says("Me too."))
        result = check(lambda: make_app(echo, twin))
        assert result.exit_code == 0
        assert "warning: echo, twin all propose at priority 50 for aiflow_user_speak" in result.output
        assert check(lambda: make_app(echo, twin), "--strict").exit_code == 1
        ordered = check(lambda: make_app(echo, twin, AIFLOW_SKILL_ORDER=["twin", "echo"]), "--strict")
        assert ordered.exit_code == 0, ordered.output

    def test_a_refused_console_is_an_error(self) -> None:
        result = check(lambda: make_app(echo, TESTING=False, AIFLOW_CONSOLE=True))
        assert result.exit_code == 1 and "console is NOT served" in result.output

    def test_an_app_without_the_extension(self) -> None:
        result = check(lambda: Flask("plain"))
        assert result.exit_code == 1 and "not initialised" in result.output

    @pytest.mark.slow
    def test_through_the_real_flask_command(self) -> None:
        """The ``flask.commands`` entry point makes the check run even when the app cannot start."""
        command = [sys.executable, "-m", "flask", "--app", "tests.apps.broken_config_app", "aiflow", "check"]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "error: the app failed to start: ConfigurationError: AIFLOW_STATE_TTL" in result.stdout
        command[4] = "tests.apps.e2e_app"
        assert subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60).returncode == 0


# -- schema ----------------------------------------------------------------------------


class TestSchema:
    def test_all_schemas(self) -> None:
        result = CliRunner().invoke(aiflow_cli, ["schema"])
        assert result.exit_code == 0
        document = json.loads(result.output)
        assert {"event_user_speak", "action_speak", "Session", "BargeInConfig"} <= set(document["$defs"])

    def test_one_type(self) -> None:
        result = CliRunner().invoke(aiflow_cli, ["schema", "--type", "speak"])
        assert result.exit_code == 0
        schema = json.loads(result.output)
        assert schema["title"] == "speak" and "oneOf" in schema

    def test_a_skills_configuration_schema(self) -> None:
        result = CliRunner().invoke(aiflow_cli, ["schema", "--skill", "menu"])
        assert result.exit_code == 0, result.output
        schema = json.loads(result.output)
        assert schema["title"] == "AIFLOW_MENU" and schema["$ref"] == "#/$defs/MenuModel"
        menu = schema["$defs"]["MenuModel"]
        assert set(menu["required"]) == {"prompt", "options"} and menu["additionalProperties"] is False
        assert menu["properties"]["start"]["enum"] == ["keyword", "prompt", "silent"]
        transfer = schema["$defs"]["AnnouncedTransfer"]
        assert transfer["required"] == ["target"]  # both caller ID fields have defaults
        assert set(transfer["properties"]) == {"target", "caller_id_name", "caller_id_number", "announce"}

    def test_schema_of_an_unknown_skill_or_one_without_a_model(self) -> None:
        result = CliRunner().invoke(aiflow_cli, ["schema", "--skill", "weather"])
        assert result.exit_code == 2 and "no installed skill is named 'weather'" in result.output

    def test_unknown_type_is_a_usage_error(self) -> None:
        result = CliRunner().invoke(aiflow_cli, ["schema", "--type", "dtmf"])
        assert result.exit_code == 2
        assert "'dtmf' is no event or action type" in result.output and "user_speak" in result.output


# -- new-skill -------------------------------------------------------------------------


class TestNewSkill:
    def test_creates_the_package(self, tmp_path: Path) -> None:
        result = CliRunner().invoke(aiflow_cli, ["new-skill", "opening-hours", "--directory", str(tmp_path)])
        assert result.exit_code == 0, result.output
        root = tmp_path / "aiflow-opening-hours"
        files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        assert files == [
            "README.md",
            "aiflow_opening_hours/__init__.py",
            "aiflow_opening_hours/config.py",
            "aiflow_opening_hours/skill.py",
            "pyproject.toml",
            "setup.cfg",
            "tests/test_opening_hours.py",
        ]
        module = (root / "aiflow_opening_hours" / "skill.py").read_text()
        assert 'SKILL = Skill(\n    "opening_hours", priority=INTENT, inline=True, config_key="AIFLOW_OPENING_HOURS"' in module
        assert "AIFLOW_NAME, AIFLOW_PRIORITY, AIFLOW_INLINE = SKILL.declaration" in module
        assert "@SKILL.hook\ndef aiflow_user_speak(event, call):" in module
        assert "class OpeningHoursConfig(ConfigModel):" in (root / "aiflow_opening_hours" / "config.py").read_text()
        assert "from .skill import" in (root / "aiflow_opening_hours" / "__init__.py").read_text()
        assert "flask_aiflow.skills =\n    opening_hours = aiflow_opening_hours" in (root / "setup.cfg").read_text()
        assert f"Created {root}" in result.output

    @pytest.mark.parametrize(
        ("name", "directory", "skill"),
        [
            ("flask-aiflow-hotline-hours", "flask-aiflow-hotline-hours", "hotline_hours = flask_aiflow_hotline_hours"),
            ("aiflow_hotline_hours", "aiflow-hotline-hours", "hotline_hours = aiflow_hotline_hours"),
            ("hotline-hours", "aiflow-hotline-hours", "hotline_hours = aiflow_hotline_hours"),
        ],
    )
    def test_a_prefix_in_the_name_is_not_doubled(self, tmp_path: Path, name: str, directory: str, skill: str) -> None:
        result = CliRunner().invoke(aiflow_cli, ["new-skill", name, "--directory", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert [path.name for path in tmp_path.iterdir()] == [directory]
        setup = (tmp_path / directory / "setup.cfg").read_text()
        assert f"name = {directory}\n" in setup and f"flask_aiflow.skills =\n    {skill}\n" in setup

    def test_a_prefix_alone_is_no_name(self, tmp_path: Path) -> None:
        result = CliRunner().invoke(aiflow_cli, ["new-skill", "flask-aiflow", "--directory", str(tmp_path)])
        assert result.exit_code == 2 and "name the skill after the prefix" in result.output

    def test_refuses_to_overwrite(self, tmp_path: Path) -> None:
        (tmp_path / "aiflow-weather").mkdir()
        result = CliRunner().invoke(aiflow_cli, ["new-skill", "weather", "--directory", str(tmp_path)])
        assert result.exit_code == 1 and "exists already" in result.output

    @pytest.mark.parametrize("name", ["9lives", "opening hours", "x--y", "-x", "näh"])
    def test_refuses_unusable_names(self, tmp_path: Path, name: str) -> None:
        result = CliRunner().invoke(aiflow_cli, ["new-skill", "--directory", str(tmp_path), "--", name])
        assert result.exit_code == 2 and "not a usable skill name" in result.output
        assert list(tmp_path.iterdir()) == []


# -- call ------------------------------------------------------------------------------


class TestCall:
    def test_a_conversation_with_decisions(self) -> None:
        generic = make_skill("generic", 20, user_speak=says("Generic answer."))
        result = run(make_app(echo, generic), "call", input="hello\n/bye\n")
        assert result.exit_code == 0, result.output
        out = result.output
        assert "assistant: Welcome to the echo line." in out
        assert "caller> hello\nassistant: You said: hello" in out
        assert "user_speak: echo (50) won against generic (20); higher priority" in out
        assert out.rstrip().endswith("Call ended: the caller hung up.")

    def test_barge_in_rules_silence_and_timeouts(self) -> None:
        script = "\n".join(["/barge stop", "/barge 100 please stop", "/end", "", ""]) + "\n"
        result = run(make_app(frontdesk), "call", "--no-decisions", input=script)
        assert result.exit_code == 0, result.output
        out = result.output
        assert "assistant: Welcome to the front desk. How can I help?" in out
        assert "(not heard: barge-in needs more than 5 characters (whitespace not counted), the caller said 4" in out
        assert "(not heard: barge-in is allowed only after 500 ms, the caller spoke after 100 ms" in out
        assert "(the caller stayed silent for 5 s: user_input_timeout)" in out
        assert "assistant: Are you still there?" in out
        assert "assistant: [hangup]" in out
        assert out.rstrip().endswith("Call ended: the app hung up.")
        assert "won" not in out  # --no-decisions

    def test_a_barge_in_that_qualifies(self) -> None:
        result = run(make_app(frontdesk), "call", input="/barge 600 please stop\n/bye\n")
        assert result.exit_code == 0, result.output
        assert "assistant: You interrupted me: please stop" in result.output

    def test_end_of_input_hangs_up(self) -> None:
        result = run(make_app(echo), "call", input="hello\n")
        assert result.exit_code == 0 and "Call ended: the caller hung up." in result.output

    def test_a_transfer_ends_the_call(self) -> None:
        result = run(make_app(frontdesk), "call", "--transport", "websocket", input="an agent please\n")
        assert result.exit_code == 0, result.output
        assert "assistant: [transfer to +4921155555000" in result.output
        assert "Call ended: the app transferred the call to +4921155555000." in result.output

    def test_steps_that_make_no_sense_are_explained(self) -> None:
        result = run(make_app(echo), "call", input="/end\n/end\n/barge\n/help\n/bye\n")
        assert result.exit_code == 0, result.output
        assert "(speech_ends(): the assistant is not speaking)" in result.output
        assert "(barge_in() needs the words the caller says" in result.output
        assert result.output.count("An empty line is silence") == 2

    def test_an_app_refusing_events_fails_clearly(self) -> None:
        result = run(make_app(echo, AIFLOW_SHARED_SECRET=None), "call", input="hello\n")
        assert result.exit_code == 1
        assert "Error: the webhook answered HTTP 503" in result.output

    def test_a_skill_failure_is_shown(self) -> None:
        def crash(event: Any, call: Any) -> None:
            raise RuntimeError("down")

        result = run(make_app(echo, make_skill("flaky", 90, user_speak=crash)), "call", input="hi\n/bye\n")
        assert "! flaky raised: RuntimeError: down" in result.output

