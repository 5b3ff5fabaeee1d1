"""What ``flask aiflow check`` looks at: an app's configuration and its skills.

Configuration values are validated by ``init_app`` already (a bad one stops
the app from starting, which the command reports); this adds what is legal
but almost certainly a mistake: no shared secret, a skill that failed to
load or start, a skill name in the configuration that matches no skill (a
typo silently enables what was meant to be disabled), tied priorities, a
console that was asked for but refused.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from flask import Flask

from flask_aiflow.extension import get_state

ERROR = "error"
WARNING = "warning"
OK = "ok"


@dataclass(frozen=True, slots=True)
class Finding:
    level: str
    message: str


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else (f" (known: {', '.join(known)})" if known else "")


def check_app(app: Flask) -> list[Finding]:
    """Everything worth knowing about ``app``'s flask-aiflow set-up, worst last."""
    from flask_aiflow.console import console_status

    state = get_state(app)
    settings = state.settings
    registry = state.registry
    findings: list[Finding] = [Finding(OK, "configuration is valid")]

    if settings.secrets:
        findings.append(Finding(OK, f"shared secret set ({len(settings.secrets)} accepted value(s))"))
    elif settings.allow_unauthenticated:
        findings.append(Finding(WARNING, "AIFLOW_ALLOW_UNAUTHENTICATED is on: anybody who can reach the app drives its calls (development only)"))
    else:
        findings.append(Finding(ERROR, "AIFLOW_SHARED_SECRET is not set: the AI Flow routes refuse every event (503)"))

    skills = registry.skills()
    known = [info.name for info in skills]
    for info in skills:
        if info.status.startswith("failed"):
            findings.append(Finding(ERROR, f"skill {info.name!r} {info.status}"))
    enabled = [info.name for info in skills if info.enabled]
    if enabled:
        findings.append(Finding(OK, f"{len(enabled)} skill(s) enabled: {', '.join(enabled)}"))
    else:
        findings.append(Finding(WARNING, "no skill is enabled: every caller hears only the fallback"))

    for name in registry.missing_allowed():
        findings.append(Finding(ERROR, f"AIFLOW_SKILLS names {name!r}, but no such skill is installed or registered{_suggest(name, known)}"))
    references = (
        ("AIFLOW_DISABLED_SKILLS", sorted(settings.disabled_skills)),
        ("AIFLOW_SKILL_PRIORITIES", sorted(settings.skill_priorities)),
        ("AIFLOW_SKILL_ORDER", list(app.config.get("AIFLOW_SKILL_ORDER") or ())),
    )
    for key, names in references:
        for name in names:
            if name not in known:
                findings.append(Finding(ERROR, f"{key} names {name!r}, but no such skill is installed or registered{_suggest(name, known)}"))

    for hook, priority, names in registry.priority_clashes():
        findings.append(
            Finding(WARNING, f"{', '.join(names)} all propose at priority {priority} for {hook}: ties break by name; set AIFLOW_SKILL_ORDER")
        )

    console = console_status(app)
    if console.refused:
        findings.append(Finding(ERROR, console.refused))
    elif console.enabled:
        findings.append(Finding(WARNING, f"the browser console is enabled at {console.path} (development only)"))

    order = {OK: 0, WARNING: 1, ERROR: 2}
    return sorted(findings, key=lambda f: order[f.level])


__all__ = ["ERROR", "OK", "WARNING", "Finding", "check_app"]
