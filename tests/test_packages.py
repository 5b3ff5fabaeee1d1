"""Skill packages really install and pass their own tests with the pytest plugin.

Each package is copied to a temporary directory, ``pip install``-ed from
there into a temporary target (the test venv's pip, offline, no build
isolation), and its tests are run by pytest in a subprocess that sees the
target: the skill is found through its installed entry point, the fixtures
through flask-aiflow's ``pytest11`` entry point.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from flask_aiflow.cli.commands import aiflow_cli

from .server import ROOT

pytestmark = pytest.mark.pip


def install(package: Path, target: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
        "--no-build-isolation", "--disable-pip-version-check", "--target", str(target), str(package),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def run_its_tests(package: Path, target: Path) -> subprocess.CompletedProcess[str]:
    """Run the package's tests from its tests/ directory, so its module is imported from ``target``."""
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    return subprocess.run(command, cwd=package / "tests", env=env, capture_output=True, text=True, timeout=300)


def entry_points_of(target: Path) -> str:
    (dist_info,) = target.glob("*.dist-info")
    return (dist_info / "entry_points.txt").read_text()


def test_the_example_skill_package_installs_and_passes_its_tests(tmp_path: Path) -> None:
    package = tmp_path / "skill-package"
    shutil.copytree(ROOT / "examples" / "skill-package", package)
    target = tmp_path / "site"
    install(package, target)
    assert (target / "aiflow_opening_hours.py").is_file()
    assert "[flask_aiflow.skills]\nopening_hours = aiflow_opening_hours" in entry_points_of(target)
    result = run_its_tests(package, target)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_the_vip_example_installs_and_passes_its_tests_outside_the_repository(tmp_path: Path) -> None:
    """Its tests use only the plugin's fixtures: a copy of the folder is a package of one's own."""
    package = tmp_path / "vip-skill"
    shutil.copytree(ROOT / "examples" / "vip-skill", package, ignore=shutil.ignore_patterns("*.egg-info"))
    target = tmp_path / "site"
    install(package, target)
    assert "vip = flask_aiflow_vip" in entry_points_of(target)
    result = run_its_tests(package, target)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


@pytest.mark.parametrize("package", sorted(path.name for path in (ROOT / "examples").glob("*/tests")))
def test_example_package_tests_import_nothing_of_the_repositorys_tests(package: str) -> None:
    for test_file in (ROOT / "examples" / package / "tests").glob("*.py"):
        source = test_file.read_text()
        assert "from tests" not in source and "import tests" not in source, test_file


def test_a_generated_skill_package_installs_and_passes_its_tests(tmp_path: Path) -> None:
    created = CliRunner().invoke(aiflow_cli, ["new-skill", "weather-report", "--directory", str(tmp_path)])
    assert created.exit_code == 0, created.output
    package = tmp_path / "aiflow-weather-report"
    target = tmp_path / "site"
    install(package, target)
    assert "weather_report = aiflow_weather_report" in entry_points_of(target)
    result = run_its_tests(package, target)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_without_the_package_installed_the_skill_is_not_found(tmp_path: Path) -> None:
    """The other side of discovery: the same tests fail when nothing is installed."""
    package = tmp_path / "skill-package"
    shutil.copytree(ROOT / "examples" / "skill-package", package)
    result = run_its_tests(package, tmp_path / "empty")
    assert result.returncode == 1
    assert "no installed skill is named 'opening_hours'" in result.stdout


# -- installed skills as the commands and the fixtures see them ---------------------------

BROKEN_SETUP_CFG = """\
[metadata]
name = aiflow-broken
version = 0.0.1

[options]
py_modules = aiflow_broken

[options.entry_points]
flask_aiflow.skills =
    broken_pkg = aiflow_broken
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A target with the example skill package and a package whose skill fails to import."""
    root = tmp_path_factory.mktemp("installed")
    example = root / "skill-package"
    shutil.copytree(ROOT / "examples" / "skill-package", example)
    broken = root / "broken"
    broken.mkdir()
    (broken / "setup.cfg").write_text(BROKEN_SETUP_CFG)
    (broken / "pyproject.toml").write_text((example / "pyproject.toml").read_text())
    (broken / "aiflow_broken.py").write_text('raise ImportError("aiflow_broken needs libfoo")\n')
    target = root / "site"
    install(example, target)
    install(broken, target)
    yield target


def flask_command(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    command = [sys.executable, "-m", "flask", "--app", "tests.apps.entry_points_app", "aiflow", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_skills_lists_installed_packages_and_why_one_is_off(site: Path) -> None:
    result = flask_command(site, "skills")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    hours = next(line for line in lines if line.startswith("opening_hours "))
    assert hours.split()[:5] == ["opening_hours", "aiflow-opening-hours", "1.0.0", "startup,", "user_speak"]
    assert hours.endswith("enabled")
    broken = next(line for line in lines if line.startswith("broken_pkg "))
    assert "aiflow-broken" in broken and "failed to load: ImportError: aiflow_broken needs libfoo" in broken


def test_check_fails_on_an_installed_skill_that_fails_to_load(site: Path) -> None:
    result = flask_command(site, "check")
    assert result.returncode == 1
    assert "error: skill 'broken_pkg' failed to load: ImportError: aiflow_broken needs libfoo" in result.stdout
    assert "ok: 1 skill(s) enabled: opening_hours" in result.stdout


PLUGIN_TESTS = """\
from tests.skills import echo


def test_objects_only_means_no_installed_skill(aiflow_app):
    registry = aiflow_app(echo).extensions["aiflow"].registry
    assert [info.name for info in registry.skills()] == ["echo"]


def test_a_named_skill_and_nothing_else(aiflow_app):
    registry = aiflow_app("opening_hours", echo).extensions["aiflow"].registry
    assert sorted(info.name for info in registry.enabled()) == ["echo", "opening_hours"]
    assert registry.get("broken_pkg").status == "not in AIFLOW_SKILLS"


def test_a_named_skill_that_cannot_load_fails_loudly(aiflow_app):
    import pytest
    from flask_aiflow import SkillError

    with pytest.raises(SkillError, match="failed to load: ImportError"):
        aiflow_app("broken_pkg")
"""


def test_the_fixtures_enable_exactly_the_skills_asked_for(site: Path, tmp_path: Path) -> None:
    (tmp_path / "test_plugin_isolation.py").write_text(PLUGIN_TESTS)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    env.pop("PYTEST_ADDOPTS", None)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", str(tmp_path)]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
