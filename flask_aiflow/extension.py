"""The Flask extension object: ``AiFlow(app)`` or ``AiFlow().init_app(app)``."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from flask_aiflow.calls.deferred import Deferrals
from flask_aiflow.calls.live import LiveCall, live_calls_in
from flask_aiflow.calls.push import ConnectionHub, coerce_action, push
from flask_aiflow.calls.store import StateStore, store_from_config
from flask_aiflow.config import DEFAULTS, Settings, load_settings
from flask_aiflow.decision import Decision
from flask_aiflow.logs import install as install_log_filter
from flask_aiflow.pipeline import Pipeline
from flask_aiflow.protocol.actions import Action
from flask_aiflow.protocol.events import Event, parse_event
from flask_aiflow.skills.fallback import fallback_skill
from flask_aiflow.skills.registry import SkillConfigError, SkillError, SkillRegistry
from flask_aiflow.web.ratelimit import AuthFailureLimiter
from flask_aiflow.web.servers import worker_processes

if TYPE_CHECKING:
    from flask_aiflow.metrics import Metrics

logger = logging.getLogger("flask_aiflow")
install_log_filter(logger)

EXTENSION_KEY = "aiflow"


@dataclass(slots=True)
class AiFlowState:
    """Everything the extension keeps for one app, in ``app.extensions["aiflow"]``."""

    extension: AiFlow
    settings: Settings
    registry: SkillRegistry
    store: StateStore
    pipeline: Pipeline
    #: the WebSocket connections this process holds, for :meth:`send`
    hub: ConnectionHub
    limiter: AuthFailureLimiter | None = None
    metrics: Metrics | None = None
    _openapi_json: str | None = field(default=None, repr=False)

    @property
    def deferrals(self) -> Deferrals:
        """Slow work handed over by skills (``Deferred``): its pool, jobs and delivery."""
        return self.pipeline.deferrals

    def openapi_json(self) -> str:
        """The OpenAPI description of this app's webhook, as JSON text (built once)."""
        if self._openapi_json is None:
            from flask_aiflow.protocol.openapi import openapi_document

            settings = self.settings
            document = openapi_document(
                webhook_path=settings.webhook_path or "/webhook",
                max_event_bytes=settings.max_body_bytes,
                auth_failure_limit=settings.auth_failure_limit,
            )
            self._openapi_json = json.dumps(document, indent=1)
        return self._openapi_json

    def handle(
        self, event: Event, transport: str, route: str | None = None, *, end_reason: str = "session_end"
    ) -> Decision:
        """Handle one event in the current app context (see :meth:`Pipeline.handle`).

        :param end_reason: for a ``session_end``, why the call ended, as
            ``call_ended`` reports it: ``"session_end"`` (the service sent
            it) or ``"disconnected"`` (:mod:`flask_aiflow.calls.disconnect`).
        """
        return self.pipeline.handle(event, transport, route, end_reason=end_reason)

    def send(
        self, session_id: str, action: Action | Mapping[str, Any] | str, *, timeout: float | None = None
    ) -> bool:
        """Push ``action`` into the call's open WebSocket, wherever it is held.

        Returns True when the connection took it, False when the connection
        was known but the delivery could not be confirmed (the socket failed,
        or the holding process did not answer within ``timeout``, default
        ``AIFLOW_PUSH_TIMEOUT``). Raises
        :class:`~flask_aiflow.calls.push.CallNotConnected` when no open WebSocket is
        known for the call, and :class:`~flask_aiflow.InvalidActionError` for
        an invalid action. ``action`` is what a hook may return: an action, a
        wire-form dict or a string (spoken with the default voice).
        """
        checked = coerce_action(action, session_id, self.settings)
        wait = self.settings.push_timeout if timeout is None else timeout
        return push(self.hub, self.store, session_id, checked, wait)

    def live_calls(self) -> list[LiveCall]:
        """Every call that has started and neither ended nor expired, oldest first."""
        return live_calls_in(self.store)

    def transcript(self, session_id: str) -> list[dict[str, Any]]:
        """A call's transcript as skills see it in ``call.transcript`` (empty when unknown)."""
        return [dict(turn) for turn in self.store.transcript(session_id)]


class AiFlow:
    """Turns a Flask app into a sipgate AI Flow application.

    ::

        aiflow = AiFlow()

        def create_app():
            app = Flask(__name__)
            app.config["AIFLOW_SHARED_SECRET"] = os.environ["AIFLOW_SHARED_SECRET"]
            aiflow.init_app(app)
            return app

    :param app: initialise this app right away.
    :param skills: skill objects or modules to register directly, besides the
        installed ones; an item may be a ``(skill, name)`` pair.
    :param store: where call state lives; default: the store named by
        ``AIFLOW_STATE_STORE`` (an in-memory store per app unless configured).

    ``init_app`` reads these configuration keys once (defaults in
    :data:`flask_aiflow.config.DEFAULTS`): ``AIFLOW_SHARED_SECRET``,
    ``AIFLOW_ALLOW_UNAUTHENTICATED``, ``AIFLOW_WEBHOOK_PATH``,
    ``AIFLOW_WEBHOOK_FAST_PATH`` (default True: POSTs to the webhook path are
    answered by a WSGI layer around ``app.wsgi_app`` that pushes only an app
    context, so Flask's request hooks, error handlers, request context and
    request signals do not run for them, nor WSGI middleware wrapped around
    ``app.wsgi_app`` before ``init_app``; False serves them through the
    Flask view, see :mod:`flask_aiflow.web.webhook`),
    ``AIFLOW_WEBSOCKET_PATH``, ``AIFLOW_HEALTH_PATH``,
    ``AIFLOW_MAX_EVENT_BYTES``, ``AIFLOW_MAX_JSON_DEPTH``,
    ``AIFLOW_LOAD_ENTRY_POINTS``, ``AIFLOW_SKILLS``,
    ``AIFLOW_DISABLED_SKILLS``, ``AIFLOW_SKILL_PRIORITIES``,
    ``AIFLOW_SKILL_ORDER``, ``AIFLOW_DEFAULT_TTS``,
    ``AIFLOW_DEFAULT_BARGE_IN``, ``AIFLOW_FALLBACK``,
    ``AIFLOW_FALLBACK_EVENTS``, ``AIFLOW_STATE_TTL``, ``AIFLOW_TRACE``,
    ``AIFLOW_OPENAPI_PATH`` (where the OpenAPI description is served),
    ``AIFLOW_EVENT_BUDGET_MS`` (time budget per event; late skills are
    reported ``too_slow``), ``AIFLOW_AUTH_FAILURE_LIMIT`` and
    ``AIFLOW_AUTH_FAILURE_WINDOW`` (authentication failures per client
    before 429), ``AIFLOW_TRUSTED_PROXIES`` (whose X-Forwarded-For names the
    client), ``AIFLOW_METRICS`` and ``AIFLOW_METRICS_PATH`` (Prometheus
    metrics), ``AIFLOW_MASK_PHONE_NUMBERS`` (mask phone numbers in logs),
    ``AIFLOW_STATE_STORE``, ``AIFLOW_REDIS_PREFIX``, ``AIFLOW_LOCK_TIMEOUT``,
    ``AIFLOW_LOCK_WAIT``, ``AIFLOW_TRANSCRIPT_LIMIT``, ``AIFLOW_PUSH_TIMEOUT``,
    ``AIFLOW_DISCONNECT_GRACE`` (when a call whose WebSocket closed without
    ``session_end`` is ended), ``AIFLOW_CONSOLE``, ``AIFLOW_CONSOLE_PATH``,
    ``AIFLOW_CONSOLE_ALLOW_PRODUCTION``, ``AIFLOW_DEFERRED_DEADLINE``,
    ``AIFLOW_DEFERRED_APOLOGY``, ``AIFLOW_DEFERRED_FILLER``,
    ``AIFLOW_DEFERRED_HOLD``, ``AIFLOW_DEFERRED_POLL_SECONDS``,
    ``AIFLOW_DEFERRED_WORKERS`` (slow work, see :mod:`flask_aiflow.calls.deferred`).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        skills: Iterable[Any] = (),
        store: StateStore | None = None,
    ) -> None:
        self._skills: list[tuple[Any, str | None]] = []
        for skill in skills:
            if isinstance(skill, tuple):
                self.register_skill(*skill)
            else:
                self.register_skill(skill)
        self._store = store
        if app is not None:
            self.init_app(app)

    def register_skill(self, skill: Any, name: str | None = None) -> Any:
        """Register a skill (module, class or object) for apps initialised later.

        Returns the skill, so it can decorate a class. For an app that is
        already initialised use ``aiflow.registry(app).register(skill)``.
        """
        self._skills.append((skill, name))
        return skill

    def init_app(self, app: Flask) -> None:
        """Configure ``app``: read the config, find the skills, add the routes."""
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                "A 'AiFlow' instance has already been registered on this Flask app. "
                "Import and use that instance instead."
            )
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        settings = load_settings(app.config)
        # flask-sock's own options. Messages over our limit are refused one by
        # one and the call goes on; only far larger ones (an attack, not an
        # event) make simple-websocket close the connection.
        app.config.setdefault(
            "SOCK_SERVER_OPTIONS",
            {"ping_interval": 25, "max_message_size": max(1 << 20, 16 * settings.max_event_bytes)},
        )
        registry = SkillRegistry(settings)
        for skill, name in self._skills:
            registry.register(skill, name)
        if settings.load_entry_points:
            registry.load_entry_points()
        if settings.fallback is not None:
            registry.register(fallback_skill(settings.fallback, settings.fallback_events), last_resort=True)
        store = self._store
        if store is None:
            store = store_from_config(
                settings.state_store,
                prefix=settings.redis_prefix,
                lock_ttl=settings.lock_timeout,
                lock_wait=settings.lock_wait,
            )
        hub = ConnectionHub(store.relay())
        limiter = None
        if settings.auth_failure_limit is not None:
            limiter = AuthFailureLimiter(settings.auth_failure_limit, settings.auth_failure_window)
        metrics = None
        if settings.metrics:
            from flask_aiflow.metrics import Metrics

            metrics = Metrics(app)
        state = AiFlowState(
            self,
            settings,
            registry,
            store,
            Pipeline(registry, store, settings, Deferrals(store, settings, hub)),
            hub,
            limiter=limiter,
            metrics=metrics,
        )
        app.extensions[EXTENSION_KEY] = state
        _start_skills(app, registry)
        _report_configuration(settings, registry)
        _check_workers(store)

        from flask_aiflow.cli.commands import aiflow_cli
        from flask_aiflow.console import register_console
        from flask_aiflow.web.routes import create_blueprint

        app.register_blueprint(create_blueprint(settings))
        if settings.webhook_path and settings.webhook_fast_path:
            from flask_aiflow.web.webhook import WebhookFastPath

            app.wsgi_app = WebhookFastPath(app, state, app.wsgi_app, settings.webhook_path)  # type: ignore[method-assign]
        app.cli.add_command(aiflow_cli)
        register_console(app)

    # -- access ----------------------------------------------------------------

    def state(self, app: Flask | None = None) -> AiFlowState:
        """This extension's state for ``app`` (default: the current app)."""
        if app is None:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
        state: AiFlowState | None = app.extensions.get(EXTENSION_KEY)
        if state is None or state.extension is not self:
            raise RuntimeError(
                "The current Flask app is not registered with this 'AiFlow' instance. "
                "Did you forget to call 'init_app', or did you create multiple "
                "'AiFlow' instances?"
            )
        return state

    def registry(self, app: Flask | None = None) -> SkillRegistry:
        return self.state(app).registry

    def send(
        self, session_id: str, action: Action | Mapping[str, Any] | str, *, timeout: float | None = None
    ) -> bool:
        """Push an action into a live call from anywhere in the app (see :meth:`AiFlowState.send`)."""
        return self.state().send(session_id, action, timeout=timeout)

    def live_calls(self) -> list[LiveCall]:
        """The calls in progress, from every worker (see :meth:`AiFlowState.live_calls`)."""
        return self.state().live_calls()

    def transcript(self, session_id: str) -> list[dict[str, Any]]:
        """A call's transcript so far (see :attr:`flask_aiflow.Call.transcript`)."""
        return self.state().transcript(session_id)

    def dispatch(self, event: Event | Mapping[str, Any], *, transport: str = "direct") -> Decision:
        """Handle one event in the current app context, as the routes do."""
        if not isinstance(event, Event):
            event = parse_event(event)
        return self.state().handle(event, transport)


def get_state(app: Flask | None = None) -> AiFlowState:
    """The extension state of ``app`` (default: the current app)."""
    if app is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        return app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
    except KeyError:
        raise RuntimeError(
            "flask-aiflow is not initialised on this app. Did you forget to call 'init_app'?"
        ) from None


def send(session_id: str, action: Action | Mapping[str, Any] | str, *, timeout: float | None = None) -> bool:
    """Push an action into a live call of the current app (see :meth:`AiFlowState.send`)."""
    return get_state().send(session_id, action, timeout=timeout)


def live_calls() -> list[LiveCall]:
    """The calls in progress in the current app, from every worker."""
    return get_state().live_calls()


def _check_workers(store: StateStore) -> None:
    """Warn when a store only this process can see serves several worker processes."""
    if not store.process_local:
        return
    found = worker_processes()
    if found is None or found[0] <= 1:
        return
    count, source = found
    logger.warning(
        "!!! flask-aiflow runs with %d worker processes (%s) but keeps call state in memory, "
        "per process: consecutive events of a call land on different workers and lose their "
        "state. Set AIFLOW_STATE_STORE to a redis:// URL, or run one worker process "
        "(threads are fine). !!!",
        count,
        source,
    )


def _start_skills(app: Flask, registry: SkillRegistry) -> None:
    """Run each skill's ``aiflow_startup``: bad config fails loudly, a crash disables."""
    for info, function in list(registry.iter_startup()):
        try:
            function(app=app)
        except SkillConfigError as exc:
            raise SkillConfigError(f"skill {info.name!r}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - a broken skill disables itself only
            logger.exception("skill %r failed to start and is disabled", info.name)
            registry.disable(info.name, f"failed to start: {type(exc).__name__}: {exc}")


def _report_configuration(settings: Settings, registry: SkillRegistry) -> None:
    if not settings.secrets:
        if settings.allow_unauthenticated:
            logger.warning(
                "!!! AIFLOW_ALLOW_UNAUTHENTICATED is on: anybody who can reach this app can "
                "drive its calls. Use it for local development only; set AIFLOW_SHARED_SECRET "
                "in production. !!!"
            )
        else:
            logger.error(
                "AIFLOW_SHARED_SECRET is not set: the AI Flow routes refuse every event "
                "(503) until it is. For local development only, set "
                "AIFLOW_ALLOW_UNAUTHENTICATED = True."
            )
    for name in registry.missing_allowed():
        logger.warning("AIFLOW_SKILLS names %r, but no such skill is installed or registered", name)
    for hook, priority, names in registry.priority_clashes():
        logger.warning(
            "skills %s all propose at priority %d for %s; ties break by skill name. "
            "Set AIFLOW_SKILL_ORDER to decide explicitly.",
            ", ".join(names),
            priority,
            hook,
        )


__all__ = ["AiFlow", "AiFlowState", "SkillError", "get_state", "live_calls", "send"]
