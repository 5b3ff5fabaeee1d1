"""A skill is its hooks plus its configuration model: :class:`Skill` declares both.

::

    from flask_aiflow import INTENT
    from flask_aiflow.skills.declare import Skill

    SKILL: Skill[HoursConfig] = Skill(
        "hours", priority=INTENT, inline=True, config_key="AIFLOW_HOURS", model=HoursConfig
    )
    AIFLOW_NAME, AIFLOW_PRIORITY, AIFLOW_INLINE = SKILL.declaration  # read by the registry
    aiflow_startup = SKILL.startup  # parses and checks AIFLOW_HOURS once per app

    @SKILL.hook  # does nothing while AIFLOW_HOURS is not set
    def aiflow_user_speak(event, call):
        return SKILL.config.answer

The helper supplies:

- ``aiflow_startup`` (:attr:`Skill.startup`): converts the app's
  ``config_key`` to ``model`` (a msgspec struct; a mistake stops the app with
  a :class:`~flask_aiflow.SkillConfigError` naming the exact key), runs
  ``build`` on it if given (clips read, phrases normalised), and stores the
  result once per app;
- :attr:`Skill.config` / :meth:`Skill.settings`: that result for the
  current app (parsed on first use when the skill was registered after
  start-up);
- "not configured": a skill whose model needs configuration
  (``needs_config=True``, the default) stays idle while the key is unset;
  hooks declared with :meth:`Skill.hook` then return None without running;
- :meth:`Skill.schema`: the JSON Schema of the configuration, from the model
  (``flask aiflow schema --skill NAME``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from flask import current_app

from flask_aiflow.skills.candidates import INTENT, check_priority
from flask_aiflow.skills.config import AppSettings, KeyPath
from flask_aiflow.skills.hookspecs import hookimpl
from flask_aiflow.skills.models import config_schema, convert

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["Skill", "SkillNotConfiguredError"]

S = TypeVar("S")
F = TypeVar("F", bound=Callable[..., Any])

logger = logging.getLogger("flask_aiflow")


class SkillNotConfiguredError(LookupError):
    """The skill's configuration key is not set on this app, so it has no configuration."""


class Skill(Generic[S]):
    """The declaration of one skill: name, priority band, inline or not, configuration.

    :param name: what ``AIFLOW_SKILLS`` and the decision records call it.
    :param priority: its default priority; write it with a band constant
        (``INTENT``, ``FLOOR + 10``), see :mod:`flask_aiflow.skills.candidates`.
    :param inline: quick, pure computation (no network, disk or locks): runs
        in the request thread, without the hand-over to a worker that the
        time budget needs.
    :param config_key: the Flask config key of its settings (``AIFLOW_MENU``).
    :param model: the msgspec struct that key's mapping must match.
    :param build: turns the checked model into what the hooks use (clips
        read, phrases normalised); the model itself when not given.
    :param needs_config: without the key, the skill stays idle (True) or
        works with the model's defaults (False).
    """

    def __init__(
        self,
        name: str,
        *,
        priority: int = INTENT,
        inline: bool = False,
        config_key: str | None = None,
        model: Any = None,
        build: Callable[[Any, Flask], S] | None = None,
        needs_config: bool = True,
    ) -> None:
        if not name:
            raise ValueError("a skill needs a non-empty name")
        self.name = name
        self.priority = check_priority(priority, what=f"{name} priority")
        self.inline = inline
        if (config_key is None) != (model is None):
            raise ValueError("give both config_key and model, or neither")
        self.config_key = config_key
        self.model = model
        self.needs_config = needs_config
        self._build = build
        self._settings: AppSettings[S | None] = AppSettings(f"aiflow_{name}", self._load)
        self.startup = self._startup_hook()

    @property
    def declaration(self) -> tuple[str, int, bool]:
        """``(AIFLOW_NAME, AIFLOW_PRIORITY, AIFLOW_INLINE)``, the attributes the registry reads."""
        return self.name, self.priority, self.inline

    @property
    def extension_key(self) -> str:
        """Where the parsed configuration lives: ``app.extensions["aiflow_<name>"]``."""
        return self._settings.extension_key

    @property
    def path(self) -> KeyPath:
        """The root key path of the configuration, for errors the build step raises."""
        return KeyPath(self.config_key or self.name)

    # -- the configuration ---------------------------------------------------------

    def _load(self, app: Flask) -> S | None:
        if self.config_key is None:
            return None
        value = app.config.get(self.config_key)
        if value is None:
            if self.needs_config:
                app.logger.info("%s is not set: the %s skill stays idle", self.config_key, self.name)
                return None
            value = {}
        model = convert(value, self.model, self.path)
        if self._build is None:
            return cast("S", model)
        return self._build(model, app)

    def load(self, app: Flask) -> S | None:
        """Parse and check ``app``'s configuration now, store and return it (None: not configured)."""
        return self._settings.load(app)

    def settings(self, app: Flask | None = None) -> S | None:
        """The parsed configuration of ``app`` (default: the current app); None when not configured."""
        return self._settings.get(app)

    @property
    def config(self) -> S:
        """The parsed configuration of the current app.

        :raises SkillNotConfiguredError: the key is not set (hooks declared
            with :meth:`hook` never run then).
        """
        settings = self._settings.get()
        if settings is None:
            raise SkillNotConfiguredError(f"{self.config_key} is not set: the {self.name} skill is not configured")
        return settings

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the configuration mapping."""
        if self.config_key is None:
            raise SkillNotConfiguredError(f"the {self.name} skill has no configuration")
        return config_schema(self.model, self.config_key)

    # -- hooks ---------------------------------------------------------------------

    def _startup_hook(self) -> Callable[[Flask], None]:
        skill = self

        @hookimpl
        def aiflow_startup(app: Flask) -> None:
            """Parse and check the skill's configuration once for this app."""
            skill.load(app)

        aiflow_startup.__qualname__ = f"{self.name}.aiflow_startup"
        return aiflow_startup

    def hook(self, function: F) -> F:
        """A hook implementation that runs only while the skill is configured.

        It keeps the function's parameters (pluggy passes what it names);
        while the skill is not configured it returns None.
        """
        if self.config_key is None or not self.needs_config:
            return hookimpl(function)
        settings = self._settings

        @functools.wraps(function)
        def when_configured(*args: Any, **kwargs: Any) -> Any:
            if settings.get(current_app._get_current_object()) is None:  # type: ignore[attr-defined]
                return None
            return function(*args, **kwargs)

        return cast("F", hookimpl(when_configured))
