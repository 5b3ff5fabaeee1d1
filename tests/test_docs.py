"""The README stays in step with the code (datasette-style meta-tests).

- every ``AIFLOW_*`` key in ``config.DEFAULTS`` is in the configuration table,
  with its exact default;
- every hook in ``hookspecs.py`` has a README section whose heading is its
  exact signature and which shows an implementation;
- every hook has a test of its own: some test function in ``tests/`` has the
  hook's name in its name (``test_aiflow_user_speak_...``). The rule is
  simple on purpose: adding a hook without adding such a test fails here.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re

import pytest

from flask_aiflow.config import DEFAULTS
from flask_aiflow.skills import hookspecs

from .server import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")

HOOKS = sorted(
    name for name, value in vars(hookspecs).items() if name.startswith("aiflow_") and inspect.isfunction(value)
)


def signature(hook: str) -> str:
    parameters = inspect.signature(getattr(hookspecs, hook)).parameters
    return f"{hook}({', '.join(parameters)})"


def test_the_hooks_are_found() -> None:
    assert "aiflow_user_speak" in HOOKS and "aiflow_startup" in HOOKS
    assert set(hookspecs.EVENT_HOOKS.values()) <= set(HOOKS)


# -- configuration keys ----------------------------------------------------------------


def configuration_table() -> dict[str, str]:
    section = README.split("## Configuration keys", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(AIFLOW_[A-Z_]+)` \| `(.*?)` \|", section, flags=re.MULTILINE)
    return dict(rows)


def test_every_configuration_key_is_documented_with_its_default() -> None:
    table = configuration_table()
    missing = [key for key in DEFAULTS if key not in table]
    assert not missing, f"add these keys to the README's configuration table: {missing}"
    stale = [key for key in table if key not in DEFAULTS]
    assert not stale, f"the README documents keys that no longer exist: {stale}"
    wrong = {key: (table[key], repr(value)) for key, value in DEFAULTS.items() if table[key] != repr(value)}
    assert not wrong, f"README default differs from config.DEFAULTS (README, code): {wrong}"


# -- hook documentation ----------------------------------------------------------------


def sections() -> dict[str, str]:
    """Heading text (without backticks) -> the text up to the next heading."""
    parts = re.split(r"^(#{2,6}) (.+)$", README, flags=re.MULTILINE)
    return {heading.strip().strip("`"): body for _, heading, body in zip(parts[1::3], parts[2::3], parts[3::3])}


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_documented_section_with_an_example(hook: str) -> None:
    documented = sections()
    heading = signature(hook)
    assert heading in documented, f"README needs a section headed `{heading}`"
    examples = re.findall(r"```python\n(.*?)```", documented[heading], flags=re.DOTALL)
    assert any("@hookimpl" in code and f"def {hook}(" in code for code in examples), (
        f"the README section `{heading}` needs a python example implementing it"
    )


# -- hook tests ------------------------------------------------------------------------


@functools.cache
def names_of_test_functions() -> frozenset[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                names.add(node.name)
    return frozenset(names)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test_of_its_own(hook: str) -> None:
    tests = [name for name in names_of_test_functions() if hook in name]
    assert tests, f"no test function has {hook!r} in its name; add one that exercises the hook"
