"""Finding, registering and describing skills (one plugin manager per app).

Skills come from the ``flask_aiflow.skills`` entry-point group (installed
packages, including the built-in skills in ``plugins/``) and from direct
registration (``AiFlow(skills=[...])`` or ``aiflow.register_skill``). The
registry applies the app's allow-list, block-list, re-weighting and tie-break
order, and hands the dispatcher, per event type, the ordered hook
implementations to call.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy

from flask_aiflow.config import Settings
from flask_aiflow.skills import hookspecs
from flask_aiflow.skills.candidates import INTENT, check_priority

logger = logging.getLogger("flask_aiflow")

ENTRY_POINT_GROUP = "flask_aiflow.skills"


class SkillError(RuntimeError):
    """A skill cannot be registered (bad name, priority or hook)."""


class SkillConfigError(ValueError):
    """Raised by a skill's ``aiflow_startup`` when its configuration is wrong."""


@dataclass(slots=True)
class SkillInfo:
    """What the app knows about one skill, enabled or not."""

    name: str
    plugin: Any = None
    package: str | None = None
    version: str | None = None
    hooks: tuple[str, ...] = ()
    declared_priority: int = INTENT
    priority: int = INTENT
    order: int = 0
    enabled: bool = True
    status: str = "enabled"
    #: declared with ``AIFLOW_INLINE = True``: quick and pure, so it runs in
    #: the request thread, outside the event's time budget
    inline: bool = False
    #: asked only when no other skill proposed anything (the built-in
    #: fallback); left out of :meth:`SkillRegistry.skills` unless asked for
    last_resort: bool = False

    @property
    def shift(self) -> int:
        """How far configuration moved this skill's priorities."""
        return self.priority - self.declared_priority

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "package": self.package,
            "version": self.version,
            "hooks": list(self.hooks),
            "priority": self.priority,
            "declared_priority": self.declared_priority,
            "enabled": self.enabled,
            "status": self.status,
            "inline": self.inline,
        }


@dataclass(frozen=True, slots=True)
class BoundHook:
    """One skill's implementation of one event hook, ready to call.

    ``invoke(event, call)`` passes the implementation only the arguments it
    declares (pluggy allows a subset); it is built once, when hooks are bound,
    so the per-event path does no argument matching.
    """

    skill: SkillInfo
    function: Callable[..., Any]
    argnames: tuple[str, ...]
    invoke: Callable[[Any, Any], Any]


def _invoker(function: Callable[..., Any], argnames: tuple[str, ...]) -> Callable[[Any, Any], Any]:
    if argnames == ("event", "call"):
        return function
    if argnames == ("call", "event"):
        return lambda event, call: function(call, event)
    if argnames == ("event",):
        return lambda event, call: function(event)
    if argnames == ("call",):
        return lambda event, call: function(call)
    if not argnames:
        return lambda event, call: function()
    return lambda event, call: function(**{name: {"event": event, "call": call}[name] for name in argnames})


@dataclass(slots=True)
class _Cache:
    version: int = -1
    #: (hook name, last resort) -> the bound hooks
    hooks: dict[tuple[str, bool], tuple[BoundHook, ...]] = field(default_factory=dict)


def _plugin_name(plugin: Any) -> str:
    explicit = getattr(plugin, "AIFLOW_NAME", None)
    if explicit:
        return str(explicit)
    if inspect.ismodule(plugin):
        return plugin.__name__.rsplit(".", 1)[-1]
    cls = plugin if inspect.isclass(plugin) else type(plugin)
    return cls.__name__


class SkillRegistry:
    """The skills of one app, in a pluggy plugin manager of its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self._skills: dict[str, SkillInfo] = {}
        self._version = 0
        self._cache = _Cache()

    # -- registration --------------------------------------------------------

    def load_entry_points(self) -> None:
        """Register every installed skill that the configuration allows.

        A skill that is not allowed is listed but never imported; one that
        fails to import is listed as failed, logged, and the others go on.
        """
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
            if ep.name in self._skills:
                continue
            dist = getattr(ep, "dist", None)
            package = dist.metadata["Name"] if dist is not None else None
            version = dist.version if dist is not None else None
            blocked = self._blocked_reason(ep.name)
            if blocked:
                self._skills[ep.name] = SkillInfo(
                    name=ep.name, package=package, version=version, enabled=False, status=blocked
                )
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken package disables itself only
                logger.exception("skill %r (%s) failed to load and is disabled", ep.name, ep.value)
                self._skills[ep.name] = SkillInfo(
                    name=ep.name,
                    package=package,
                    version=version,
                    enabled=False,
                    status=f"failed to load: {type(exc).__name__}: {exc}",
                )
                continue
            self.register(plugin, ep.name, package=package, version=version)

    def register(
        self,
        plugin: Any,
        name: str | None = None,
        *,
        package: str | None = None,
        version: str | None = None,
        last_resort: bool = False,
    ) -> SkillInfo:
        """Register a skill object or module; returns what is known of it.

        :param last_resort: ask it only when no other skill proposed anything
            (how ``init_app`` registers the built-in fallback).
        """
        name = name or _plugin_name(plugin)
        if not isinstance(name, str) or not name:
            raise SkillError(f"a skill needs a non-empty name, got {name!r}")
        existing = self._skills.get(name)
        if existing is not None and existing.plugin is not None:
            raise SkillError(f"a skill named {name!r} is already registered")
        try:
            declared = check_priority(
                getattr(plugin, "AIFLOW_PRIORITY", INTENT), what=f"{name}.AIFLOW_PRIORITY"
            )
        except ValueError as exc:
            raise SkillError(str(exc)) from None
        inline = getattr(plugin, "AIFLOW_INLINE", False)
        if not isinstance(inline, bool):
            raise SkillError(f"{name}.AIFLOW_INLINE must be True or False, got {inline!r}")
        blocked = self._blocked_reason(name, registered_directly=package is None)
        info = SkillInfo(
            name=name,
            plugin=plugin,
            package=package,
            version=version,
            declared_priority=declared,
            priority=self.settings.skill_priorities.get(name, declared),
            order=self._order_of(name),
            enabled=not blocked,
            status=blocked or "enabled",
            inline=inline,
            last_resort=last_resort,
        )
        if not info.enabled:
            self._skills[name] = info
            return info
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            raise SkillError(f"skill {name!r}: {exc}") from None
        except ValueError as exc:  # pluggy: the same object registered twice
            raise SkillError(f"skill {name!r}: {exc}") from None
        impls = [impl for impl in self.pm.get_hookcallers(plugin) or ()]
        info.hooks = tuple(sorted(caller.name for caller in impls))
        for caller in impls:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.hookwrapper or impl.wrapper):
                    self.pm.unregister(plugin)
                    raise SkillError(
                        f"skill {name!r}: {caller.name} is a hook wrapper; aiflow hooks are "
                        "called one by one and ranked, so wrappers are not supported"
                    )
        self._skills[name] = info
        self._version += 1
        return info

    def unregister(self, name: str) -> None:
        """Remove a skill (used by tests that register a temporary skill)."""
        info = self._skills.pop(name, None)
        if info is not None and info.plugin is not None and self.pm.is_registered(info.plugin):
            self.pm.unregister(info.plugin)
        self._version += 1

    def _blocked_reason(self, name: str, *, registered_directly: bool = False) -> str | None:
        if name in self.settings.disabled_skills:
            return "disabled by AIFLOW_DISABLED_SKILLS"
        allowed = self.settings.skills
        if allowed is not None and name not in allowed and not registered_directly:
            return "not in AIFLOW_SKILLS"
        return None

    def _order_of(self, name: str) -> int:
        order = self.settings.skill_order
        return order.index(name) if name in order else len(order)

    # -- queries -------------------------------------------------------------

    def get(self, name: str) -> SkillInfo | None:
        return self._skills.get(name)

    def order_of(self, name: str) -> int:
        """A skill's place in the configured tie-break order (unlisted skills share the last place)."""
        return self._order_of(name)

    def skills(self, *, include_last_resort: bool = False) -> list[SkillInfo]:
        """Every known skill, enabled or not, in tie-break order (the built-in fallback only when asked)."""
        known = [s for s in self._skills.values() if include_last_resort or not s.last_resort]
        return sorted(known, key=lambda s: (s.order, s.name))

    def enabled(self, *, include_last_resort: bool = False) -> list[SkillInfo]:
        return [s for s in self.skills(include_last_resort=include_last_resort) if s.enabled]

    def hooks_for(self, hook_name: str, *, last_resort: bool = False) -> tuple[BoundHook, ...]:
        """The enabled implementations of one hook, in tie-break order.

        :param last_resort: the last-resort skills' (the built-in fallback's)
            instead of the others'.
        """
        if self._cache.version != self._version:
            self._cache = _Cache(version=self._version)
        hooks = self._cache.hooks
        key = (hook_name, last_resort)
        if key not in hooks:
            hooks[key] = self._bind(hook_name, last_resort)
        return hooks[key]

    def _bind(self, hook_name: str, last_resort: bool) -> tuple[BoundHook, ...]:
        caller = getattr(self.pm.hook, hook_name)
        by_plugin = {
            id(info.plugin): info
            for info in self._skills.values()
            if info.enabled and info.last_resort == last_resort
        }
        bound = []
        for impl in caller.get_hookimpls():
            info = by_plugin.get(id(impl.plugin))
            if info is not None:
                argnames = tuple(impl.argnames)
                bound.append(BoundHook(info, impl.function, argnames, _invoker(impl.function, argnames)))
        bound.sort(key=lambda b: (b.skill.order, b.skill.name))
        return tuple(bound)

    def missing_allowed(self) -> list[str]:
        """Names in AIFLOW_SKILLS that no installed or registered skill has."""
        allowed = self.settings.skills or ()
        return [name for name in allowed if name not in self._skills]

    def priority_clashes(self) -> list[tuple[str, int, list[str]]]:
        """(hook, priority, skills) where skills tie and no order separates them."""
        clashes = []
        for hook_name in hookspecs.EVENT_HOOKS.values():
            if hook_name == "aiflow_session_end":
                continue
            by_priority: dict[int, list[SkillInfo]] = {}
            for bound in self.hooks_for(hook_name):
                by_priority.setdefault(bound.skill.priority, []).append(bound.skill)
            for priority, infos in sorted(by_priority.items()):
                orders = {info.order for info in infos}
                if len(infos) > 1 and len(orders) < len(infos):
                    clashes.append((hook_name, priority, [info.name for info in infos]))
        return clashes

    def iter_startup(self) -> Iterable[tuple[SkillInfo, Callable[..., Any]]]:
        for bound in self.hooks_for("aiflow_startup"):
            yield bound.skill, bound.function

    def disable(self, name: str, status: str) -> None:
        info = self._skills[name]
        if info.plugin is not None and self.pm.is_registered(info.plugin):
            self.pm.unregister(info.plugin)
        info.enabled = False
        info.status = status
        self._version += 1
