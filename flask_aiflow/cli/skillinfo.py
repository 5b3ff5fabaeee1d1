"""What ``flask aiflow skills`` and ``schema --skill`` know of a skill beyond the registry.

The app never imports a skill it does not enable, so the registry knows
only the name of an installed skill that ``AIFLOW_SKILLS`` leaves out. The
listing imports such a skill (only the command does) to show the priority it
declares, and says how to enable it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

from flask_aiflow.skills.candidates import INTENT, check_priority
from flask_aiflow.skills.declare import Skill
from flask_aiflow.skills.registry import ENTRY_POINT_GROUP, SkillInfo

__all__ = ["declared_priority", "enable_hint", "find_declaration", "installed_plugin"]

NOT_ALLOWED = "not in AIFLOW_SKILLS"
DISABLED = "disabled by AIFLOW_DISABLED_SKILLS"


def installed_plugin(name: str) -> Any:
    """The module (or object) the installed skill ``name``'s entry point names.

    :raises LookupError: no installed skill has that name.
    """
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep.load()
    installed = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    raise LookupError(f"no installed skill is named {name!r} (installed: {', '.join(installed) or 'none'})")


def declared_priority(info: SkillInfo) -> int | None:
    """The priority ``info``'s skill declares; None when it cannot be imported or declares a bad one."""
    if info.plugin is not None:
        return info.declared_priority
    try:
        plugin = installed_plugin(info.name)
        return check_priority(getattr(plugin, "AIFLOW_PRIORITY", INTENT))
    except Exception:  # noqa: BLE001 - a skill that fails to import shows no priority
        return None


def enable_hint(info: SkillInfo, allowed: Sequence[str] | None) -> str | None:
    """How to enable a skill the configuration keeps off, or None."""
    if info.status == NOT_ALLOWED:
        names = json.dumps([*(allowed or ()), info.name])
        return (
            f"{info.name}: add {info.name!r} to AIFLOW_SKILLS, or set FLASK_AIFLOW_SKILLS='{names}' "
            "in the environment (for an app that reads prefixed variables with app.config.from_prefixed_env())"
        )
    if info.status == DISABLED:
        return f"{info.name}: remove {info.name!r} from AIFLOW_DISABLED_SKILLS"
    return None


def find_declaration(plugin: Any) -> Skill[Any] | None:
    """The :class:`~flask_aiflow.skills.declare.Skill` a skill module declares (``SKILL`` by convention)."""
    declared = getattr(plugin, "SKILL", None)
    if isinstance(declared, Skill):
        return declared
    for value in vars(plugin).values() if hasattr(plugin, "__dict__") else ():
        if isinstance(value, Skill):
            return value
    return None
