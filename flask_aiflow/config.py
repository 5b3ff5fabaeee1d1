"""The ``AIFLOW_*`` configuration keys, their defaults and their validation.

``init_app`` fills in every missing key with ``app.config.setdefault`` and
turns the result into a frozen :class:`Settings`, so a wrong value fails at
start-up with a message that names the key, not on the first phone call.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any, Callable

from flask_aiflow.protocol.actions import (
    TTS,
    Action,
    BargeInConfig,
    InvalidActionError,
    Speak,
    action_from_dict,
    barge_in_from_dict,
    tts_from_dict,
)
from flask_aiflow.skills.candidates import check_priority

#: ``AIFLOW_TRUSTED_PROXIES`` once validated: None, a hop count, or networks.
TrustedProxies = None | int | tuple[IPv4Network | IPv6Network, ...]

DEFAULTS: dict[str, Any] = {
    # Accepted X-API-TOKEN values: one string, or several during a rotation.
    "AIFLOW_SHARED_SECRET": None,
    # Serve events without any secret (local development only; warns).
    "AIFLOW_ALLOW_UNAUTHENTICATED": False,
    # Route paths; None disables the route.
    "AIFLOW_WEBHOOK_PATH": "/webhook",
    # Answer POSTs to the webhook path in a WSGI layer around app.wsgi_app,
    # without Flask's request handling (no before/after_request hooks, error
    # handlers or request context there); False: through the Flask view.
    "AIFLOW_WEBHOOK_FAST_PATH": True,
    "AIFLOW_WEBSOCKET_PATH": "/ws",
    "AIFLOW_HEALTH_PATH": "/health",
    # Largest accepted request body or WebSocket message, in bytes.
    "AIFLOW_MAX_EVENT_BYTES": 64 * 1024,
    # Deepest accepted JSON nesting in an event.
    "AIFLOW_MAX_JSON_DEPTH": 32,
    # Discover skills from the "flask_aiflow.skills" entry-point group.
    "AIFLOW_LOAD_ENTRY_POINTS": True,
    # Allow-list of skill names (None: every skill found); also a tie-break order.
    "AIFLOW_SKILLS": None,
    # Block-list of skill names.
    "AIFLOW_DISABLED_SKILLS": (),
    # Re-weighting: {skill name: default priority}; the skill's explicit
    # priorities move by the same amount.
    "AIFLOW_SKILL_PRIORITIES": {},
    # Tie-break order for equal priorities (defaults to AIFLOW_SKILLS' order).
    "AIFLOW_SKILL_ORDER": None,
    # Voice and barge-in settings for skills that return a plain string.
    "AIFLOW_DEFAULT_TTS": None,
    "AIFLOW_DEFAULT_BARGE_IN": None,
    # What to say when no skill answers (a string, an action dict, or None).
    "AIFLOW_FALLBACK": "Sorry, I didn't catch that. Could you say it again?",
    # The events the fallback answers when no skill does.
    "AIFLOW_FALLBACK_EVENTS": ("user_speak", "user_input_timeout"),
    # Seconds a call's state outlives its last event (calls that never end).
    "AIFLOW_STATE_TTL": 2 * 60 * 60,
    # Log every hook call with its result at debug level.
    "AIFLOW_TRACE": False,
    # Where call state lives: "memory" (one process) or a redis:// URL (several
    # workers or hosts; needs flask-aiflow[redis]).
    "AIFLOW_STATE_STORE": "memory",
    # Put before every Redis key and channel name.
    "AIFLOW_REDIS_PREFIX": "aiflow:",
    # Redis store: seconds a call's lock lives at most (longer than the slowest
    # event) and seconds an event waits for it before giving up (503 on the
    # webhook); None waits at most the event budget (1 s without a budget).
    # The in-memory store's lock needs neither.
    "AIFLOW_LOCK_TIMEOUT": 10.0,
    "AIFLOW_LOCK_WAIT": None,
    # Turns kept in each call's transcript (0: keep none).
    "AIFLOW_TRANSCRIPT_LIMIT": 50,
    # Seconds send() waits for the process holding a call's WebSocket to confirm.
    "AIFLOW_PUSH_TIMEOUT": 2.0,
    # Seconds a call whose WebSocket closed without session_end may take to
    # come back on a new connection before it is ended as if session_end had
    # arrived (skills' aiflow_session_end, state removed, call_ended with
    # reason "disconnected"); None never ends it (the state TTL expires it).
    "AIFLOW_DISCONNECT_GRACE": 30.0,
    # Serve the browser console (development only: refused unless the app is
    # in debug or testing mode or AIFLOW_CONSOLE_ALLOW_PRODUCTION is set).
    "AIFLOW_CONSOLE": False,
    "AIFLOW_CONSOLE_PATH": "/aiflow/console",
    "AIFLOW_CONSOLE_ALLOW_PRODUCTION": False,
    # Where the OpenAPI 3.1 description of the webhook is served (no token
    # needed); None disables the route.
    "AIFLOW_OPENAPI_PATH": "/openapi.json",
    # Time budget per event in milliseconds: skills still running when it is
    # spent are reported as too slow and the best answer so far is sent.
    # None runs the skills inline without a budget.
    "AIFLOW_EVENT_BUDGET_MS": 800,
    # Authentication failures one client may make within the window before
    # further failures are answered 429 (None disables the limit).
    "AIFLOW_AUTH_FAILURE_LIMIT": 10,
    "AIFLOW_AUTH_FAILURE_WINDOW": 60,
    # Proxies whose X-Forwarded-For is believed when naming a client: None
    # (use the peer address), a number of proxy hops, or a list of proxy
    # addresses or networks ("10.0.0.0/8").
    "AIFLOW_TRUSTED_PROXIES": None,
    # Prometheus metrics (needs the "metrics" extra) and their route.
    "AIFLOW_METRICS": False,
    "AIFLOW_METRICS_PATH": "/metrics",
    # Mask phone numbers in flask-aiflow's log lines (+49******567).
    "AIFLOW_MASK_PHONE_NUMBERS": False,
    # Slow work (a skill returns Deferred): the seconds its answer may take
    # unless the skill says, what the caller hears when it raises or misses
    # that deadline (a string or an action dict: a transfer escalates), the
    # filler for work whose skill named none, what keeps a webhook call
    # polling while the work runs, how soon the service is asked to call
    # back (user_input_timeout_seconds), and the size of the work pool.
    "AIFLOW_DEFERRED_DEADLINE": 8.0,
    "AIFLOW_DEFERRED_APOLOGY": "I'm sorry, that is taking too long. Please try again in a moment.",
    "AIFLOW_DEFERRED_FILLER": "One moment, please.",
    "AIFLOW_DEFERRED_HOLD": "Still working on it.",
    "AIFLOW_DEFERRED_POLL_SECONDS": 1.0,
    "AIFLOW_DEFERRED_WORKERS": 32,
}

FALLBACK_ALLOWED_EVENTS = frozenset(
    {
        "session_start",
        "user_speak",
        "assistant_speak",
        "assistant_speech_ended",
        "user_input_timeout",
    }
)


class ConfigurationError(ValueError):
    """A configuration value is wrong; the message names the key."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated ``AIFLOW_*`` configuration of one app."""

    secrets: tuple[bytes, ...]
    allow_unauthenticated: bool
    webhook_path: str | None
    webhook_fast_path: bool
    websocket_path: str | None
    health_path: str | None
    max_event_bytes: int
    #: the webhook's body limit: ``max_event_bytes``, or Flask's ``MAX_CONTENT_LENGTH`` when that is lower
    max_body_bytes: int
    max_json_depth: int
    load_entry_points: bool
    skills: tuple[str, ...] | None
    disabled_skills: frozenset[str]
    skill_priorities: Mapping[str, int]
    skill_order: tuple[str, ...]
    default_tts: TTS | None
    default_barge_in: BargeInConfig | None
    fallback: Action | None
    fallback_events: frozenset[str]
    state_ttl: int
    trace: bool
    openapi_path: str | None
    #: seconds, or None for no budget
    event_budget: float | None
    auth_failure_limit: int | None
    auth_failure_window: float
    trusted_proxies: TrustedProxies
    metrics: bool
    metrics_path: str | None
    mask_phone_numbers: bool
    state_store: str = "memory"
    redis_prefix: str = "aiflow:"
    lock_timeout: float = 10.0
    lock_wait: float = 0.8
    transcript_limit: int = 50
    push_timeout: float = 2.0
    #: seconds, or None: see ``AIFLOW_DISCONNECT_GRACE``
    disconnect_grace: float | None = 30.0
    deferred_deadline: float = 8.0
    #: said when slow work fails or misses its deadline (a speak, audio, transfer or hangup)
    deferred_apology: Action = Speak(text=DEFAULTS["AIFLOW_DEFERRED_APOLOGY"])
    #: said while slow work runs when its skill named no filler (a speak or audio)
    deferred_filler: Action = Speak(text=DEFAULTS["AIFLOW_DEFERRED_FILLER"])
    #: said on a webhook poll that finds the work still running (a speak)
    deferred_hold: Speak = Speak(text=DEFAULTS["AIFLOW_DEFERRED_HOLD"])
    deferred_poll: float = 1.0
    deferred_workers: int = 32


def _names(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence | frozenset | set):
        raise ConfigurationError(f"{key} must be a list of skill names, got {value!r}")
    for name in value:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"{key} must hold non-empty strings, got {name!r}")
    return tuple(value)


def _path(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("/"):
        raise ConfigurationError(f"{key} must be a path starting with '/' or None, got {value!r}")
    return value


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{key} must be a positive int, got {value!r}")
    return value


def _seconds(key: str, value: Any, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= minimum:
        raise ConfigurationError(f"{key} must be a number of seconds > {minimum:g}, got {value!r}")
    return float(value)


def _store_url(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"AIFLOW_STATE_STORE must be 'memory' or a redis:// URL, got {value!r}")
    return value


def _secrets(value: Any) -> tuple[bytes, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, Sequence | set | frozenset):
        raise ConfigurationError(
            f"AIFLOW_SHARED_SECRET must be a string or a list of strings, got {type(value).__name__}"
        )
    secrets = []
    for secret in values:
        if not isinstance(secret, str) or not secret:
            raise ConfigurationError("AIFLOW_SHARED_SECRET values must be non-empty strings")
        secrets.append(secret.encode("utf-8"))
    return tuple(secrets)


def _priorities(value: Any) -> Mapping[str, int]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"AIFLOW_SKILL_PRIORITIES must be a mapping, got {value!r}")
    result = {}
    for name, priority in value.items():
        try:
            result[name] = check_priority(priority, what=f"AIFLOW_SKILL_PRIORITIES[{name!r}]")
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
    return result


def _voice(key: str, value: Any, parse: Callable[[Mapping[str, Any]], Any]) -> Any:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{key} must be a mapping or None, got {value!r}")
    try:
        return parse(value)
    except InvalidActionError as exc:
        raise ConfigurationError(f"{key}: {exc}") from None


def _fallback(value: Any, tts: TTS | None, barge_in: BargeInConfig | None) -> Action | None:
    if value is None:
        return None
    try:
        if isinstance(value, str):
            return Speak(text=value, tts=tts, barge_in=barge_in)
        if isinstance(value, Mapping):
            return action_from_dict(value)
    except InvalidActionError as exc:
        raise ConfigurationError(f"AIFLOW_FALLBACK: {exc}") from None
    raise ConfigurationError(f"AIFLOW_FALLBACK must be a string, an action dict or None, got {value!r}")


def _optional_seconds(key: str, value: Any, scale: float = 1.0) -> float | None:
    """A positive finite number (scaled to seconds), or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"{key} must be a positive number or None, got {value!r}")
    return value * scale


def _trusted_proxies(value: Any) -> TrustedProxies:
    key = "AIFLOW_TRUSTED_PROXIES"
    if value is None or value == 0:
        return None
    if isinstance(value, bool):
        raise ConfigurationError(f"{key} must be None, a number of hops or a list of networks, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ConfigurationError(f"{key} must be a number of proxy hops >= 0, got {value!r}")
        return value
    if isinstance(value, str) or not isinstance(value, Sequence | set | frozenset):
        raise ConfigurationError(f"{key} must be None, a number of hops or a list of networks, got {value!r}")
    networks = []
    for item in value:
        try:
            networks.append(ip_network(item, strict=False))
        except (TypeError, ValueError):
            raise ConfigurationError(f"{key}: {item!r} is not an IP address or network") from None
    return tuple(networks) or None


def load_settings(config: Mapping[str, Any]) -> Settings:
    """Validate the ``AIFLOW_*`` keys of a Flask config."""
    skills = config["AIFLOW_SKILLS"]
    skills = None if skills is None else _names("AIFLOW_SKILLS", skills)
    order = config["AIFLOW_SKILL_ORDER"]
    order = _names("AIFLOW_SKILL_ORDER", order) if order is not None else (skills or ())
    fallback_events = frozenset(_names("AIFLOW_FALLBACK_EVENTS", config["AIFLOW_FALLBACK_EVENTS"]))
    unknown = fallback_events - FALLBACK_ALLOWED_EVENTS
    if unknown:
        raise ConfigurationError(
            f"AIFLOW_FALLBACK_EVENTS: {sorted(unknown)} cannot take a fallback "
            f"(allowed: {sorted(FALLBACK_ALLOWED_EVENTS)})"
        )
    ttl = config["AIFLOW_STATE_TTL"]
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl) or ttl < 1:
        raise ConfigurationError(f"AIFLOW_STATE_TTL must be a number of seconds >= 1, got {ttl!r}")
    max_event_bytes = _positive_int("AIFLOW_MAX_EVENT_BYTES", config["AIFLOW_MAX_EVENT_BYTES"])
    flask_limit = config.get("MAX_CONTENT_LENGTH")
    max_body_bytes = min(max_event_bytes, flask_limit) if isinstance(flask_limit, int) else max_event_bytes
    tts = _voice("AIFLOW_DEFAULT_TTS", config["AIFLOW_DEFAULT_TTS"], tts_from_dict)
    barge_in = _voice("AIFLOW_DEFAULT_BARGE_IN", config["AIFLOW_DEFAULT_BARGE_IN"], barge_in_from_dict)
    return Settings(
        secrets=_secrets(config["AIFLOW_SHARED_SECRET"]),
        allow_unauthenticated=bool(config["AIFLOW_ALLOW_UNAUTHENTICATED"]),
        webhook_path=_path("AIFLOW_WEBHOOK_PATH", config["AIFLOW_WEBHOOK_PATH"]),
        webhook_fast_path=bool(config["AIFLOW_WEBHOOK_FAST_PATH"]),
        websocket_path=_path("AIFLOW_WEBSOCKET_PATH", config["AIFLOW_WEBSOCKET_PATH"]),
        health_path=_path("AIFLOW_HEALTH_PATH", config["AIFLOW_HEALTH_PATH"]),
        max_event_bytes=max_event_bytes,
        max_body_bytes=max_body_bytes,
        max_json_depth=_positive_int("AIFLOW_MAX_JSON_DEPTH", config["AIFLOW_MAX_JSON_DEPTH"]),
        load_entry_points=bool(config["AIFLOW_LOAD_ENTRY_POINTS"]),
        skills=skills,
        disabled_skills=frozenset(_names("AIFLOW_DISABLED_SKILLS", config["AIFLOW_DISABLED_SKILLS"])),
        skill_priorities=_priorities(config["AIFLOW_SKILL_PRIORITIES"]),
        skill_order=order,
        default_tts=tts,
        default_barge_in=barge_in,
        fallback=_fallback(config["AIFLOW_FALLBACK"], tts, barge_in),
        fallback_events=fallback_events,
        state_ttl=int(ttl),
        trace=bool(config["AIFLOW_TRACE"]),
        openapi_path=_path("AIFLOW_OPENAPI_PATH", config["AIFLOW_OPENAPI_PATH"]),
        event_budget=_optional_seconds("AIFLOW_EVENT_BUDGET_MS", config["AIFLOW_EVENT_BUDGET_MS"], 0.001),
        auth_failure_limit=_optional_positive_int("AIFLOW_AUTH_FAILURE_LIMIT", config["AIFLOW_AUTH_FAILURE_LIMIT"]),
        auth_failure_window=_window(config["AIFLOW_AUTH_FAILURE_WINDOW"]),
        trusted_proxies=_trusted_proxies(config["AIFLOW_TRUSTED_PROXIES"]),
        metrics=bool(config["AIFLOW_METRICS"]),
        metrics_path=_path("AIFLOW_METRICS_PATH", config["AIFLOW_METRICS_PATH"]),
        mask_phone_numbers=bool(config["AIFLOW_MASK_PHONE_NUMBERS"]),
        state_store=_store_url(config["AIFLOW_STATE_STORE"]),
        redis_prefix=_prefix(config["AIFLOW_REDIS_PREFIX"]),
        lock_timeout=_seconds("AIFLOW_LOCK_TIMEOUT", config["AIFLOW_LOCK_TIMEOUT"]),
        lock_wait=_lock_wait(config["AIFLOW_LOCK_WAIT"], config["AIFLOW_EVENT_BUDGET_MS"]),
        transcript_limit=_transcript_limit(config["AIFLOW_TRANSCRIPT_LIMIT"]),
        push_timeout=_seconds("AIFLOW_PUSH_TIMEOUT", config["AIFLOW_PUSH_TIMEOUT"]),
        disconnect_grace=_optional_seconds("AIFLOW_DISCONNECT_GRACE", config["AIFLOW_DISCONNECT_GRACE"]),
        deferred_deadline=_seconds("AIFLOW_DEFERRED_DEADLINE", config["AIFLOW_DEFERRED_DEADLINE"]),
        deferred_apology=_spoken(
            "AIFLOW_DEFERRED_APOLOGY", config["AIFLOW_DEFERRED_APOLOGY"], tts, barge_in, APOLOGY_KINDS
        ),
        deferred_filler=_spoken("AIFLOW_DEFERRED_FILLER", config["AIFLOW_DEFERRED_FILLER"], tts, barge_in, FILLER_KINDS),
        deferred_hold=_spoken("AIFLOW_DEFERRED_HOLD", config["AIFLOW_DEFERRED_HOLD"], tts, barge_in, ("speak",)),  # type: ignore[arg-type]
        deferred_poll=_seconds("AIFLOW_DEFERRED_POLL_SECONDS", config["AIFLOW_DEFERRED_POLL_SECONDS"]),
        deferred_workers=_positive_int("AIFLOW_DEFERRED_WORKERS", config["AIFLOW_DEFERRED_WORKERS"]),
    )


#: What each slow-work setting may be.
APOLOGY_KINDS = ("speak", "audio", "transfer", "hangup")
FILLER_KINDS = ("speak", "audio")


def _spoken(key: str, value: Any, tts: TTS | None, barge_in: BargeInConfig | None, kinds: tuple[str, ...]) -> Action:
    """A string (spoken with the default voice) or an action dict of one of ``kinds``."""
    try:
        if isinstance(value, str) and value.strip():
            return Speak(text=value, tts=tts, barge_in=barge_in)
        if isinstance(value, Mapping):
            action = action_from_dict(value)
            if action.type in kinds:
                return action
            raise ConfigurationError(f"{key} must be one of {', '.join(kinds)}, got a {action.type} action")
    except InvalidActionError as exc:
        raise ConfigurationError(f"{key}: {exc}") from None
    raise ConfigurationError(f"{key} must be a non-empty string or an action dict, got {value!r}")


def _lock_wait(value: Any, budget_ms: Any) -> float:
    """The lock wait: as configured, else the event budget (the service wants an answer within it)."""
    if value is not None:
        return _seconds("AIFLOW_LOCK_WAIT", value)
    budget = _optional_seconds("AIFLOW_EVENT_BUDGET_MS", budget_ms, 0.001)
    return 1.0 if budget is None else budget


def _optional_positive_int(key: str, value: Any) -> int | None:
    return None if value is None else _positive_int(key, value)


def _window(value: Any) -> float:
    seconds = _optional_seconds("AIFLOW_AUTH_FAILURE_WINDOW", value)
    if seconds is None:
        raise ConfigurationError("AIFLOW_AUTH_FAILURE_WINDOW must be a positive number of seconds, got None")
    return float(seconds)


def _prefix(value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"AIFLOW_REDIS_PREFIX must be a string, got {value!r}")
    return value


def _transcript_limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"AIFLOW_TRANSCRIPT_LIMIT must be an int >= 0, got {value!r}")
    return value
