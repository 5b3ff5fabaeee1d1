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
from pathlib import Path

from click.testing import CliRunner

from flask_aiflow.cli import aiflow_cli

from .server import ROOT


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


def test_a_generated_skill_package_installs_and_passes_its_tests(tmp_path: Path) -> None:
    created = CliRunner().invoke(aiflow_cli, ["new-skill", "weather-report", "--directory", str(tmp_path)])
    assert created.exit_code == 0, created.output
    package = tmp_path / "aiflow-weather-report"
    target = tmp_path / "site"
    install(package, target)
    assert "weather_report = aiflow_weather_report" in entry_points_of(target)
    result = run_its_tests(package, target)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_without_the_package_installed_the_skill_is_not_found(tmp_path: Path) -> None:
    """The other side of discovery: the same tests fail when nothing is installed."""
    package = tmp_path / "skill-package"
    shutil.copytree(ROOT / "examples" / "skill-package", package)
    result = run_its_tests(package, tmp_path / "empty")
    assert result.returncode == 1
    assert "no installed skill is named 'opening_hours'" in result.stdout
