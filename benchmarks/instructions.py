"""Instructions per event in the dispatch pipeline, counted by valgrind's callgrind.

``python -m benchmarks.instructions [SKILLS]`` (SKILLS: 5, the default, or 0).
A count of instructions does not move with the machine's load or speed, so
it compares two versions of the pipeline on a shared machine where the
microseconds of ``--only dispatch`` cannot. It runs the dispatch benchmark's
pipeline (``dispatch_bench.pipeline``: decode, handle, encode) over
:data:`FEW` and then :data:`MANY` whole calls in two processes under
callgrind; the difference, divided by the events it adds, leaves out
start-up, imports and warming up.

Needs ``valgrind`` (``apt-get install -y valgrind``); about a minute.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import CALL_SCRIPT, ROOT

FEW, MANY = 10, 70


def _run(skills: int, calls: int) -> None:
    """The measured program: warm up, then play ``calls`` whole calls through the pipeline."""
    from .common import call_bodies
    from .dispatch_bench import pipeline, time_pipeline
    from .skills import base_app

    app, _ = base_app(builtins=skills == 5)
    time_pipeline(app, 30, "warm")
    scripts = [call_bodies(f"counted-{n}") for n in range(MANY)]  # the same work in both runs
    state = app.extensions["aiflow"]
    with app.app_context():
        for bodies in scripts[:calls]:
            for body in bodies:
                pipeline(state, body)


def _count(skills: int, calls: int, directory: str) -> int:
    command = [
        "valgrind", "--tool=callgrind", f"--callgrind-out-file={directory}/callgrind.{calls}.out",
        sys.executable, "-m", "benchmarks.instructions", "--run", str(skills), str(calls),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_event(skills: int = 5) -> int:
    """Instructions per event with ``skills`` (5: the built-in skills, 0: none)."""
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: apt-get install -y valgrind")
    with tempfile.TemporaryDirectory() as directory:
        few, many = (_count(skills, calls, directory) for calls in (FEW, MANY))
    return (many - few) // ((MANY - FEW) * len(CALL_SCRIPT))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--run"]:
        _run(int(sys.argv[2]), int(sys.argv[3]))
    else:
        skills = int(sys.argv[1]) if len(sys.argv) > 1 else 5
        print(f"{per_event(skills):,} instructions per event ({skills} skills, {Path(ROOT).name})")
