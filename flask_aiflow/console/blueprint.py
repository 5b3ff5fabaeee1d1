"""The browser console: a page for placing simulated calls to the app.

Served only when ``AIFLOW_CONSOLE`` is true *and* the app runs in debug or
testing mode (or ``AIFLOW_CONSOLE_ALLOW_PRODUCTION`` says otherwise): it
lets anybody who reaches it drive the app's skills, so it must never be on
in production by accident. When it is refused, an error is logged and
``flask aiflow check`` reports it.

The page (plain HTML, CSS and JavaScript, no build step) talks to one JSON
endpoint, ``<path>/api``, which runs the in-process call simulator, so every
turn shows the events, the actions and the decision record. The endpoint
takes JSON only, which a cross-site form cannot send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from markupsafe import escape

from flask_aiflow.config import ConfigurationError
from flask_aiflow.console.calls import STEPS, ConsoleCalls
from flask_aiflow.testing.errors import SimulationError
from flask_aiflow.testing.simulator import DEFAULT_FROM, DEFAULT_TO

logger = logging.getLogger("flask_aiflow")

CONSOLE_KEY = "aiflow.console"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; media-src 'self' data:; "
    "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
)


@dataclass(frozen=True, slots=True)
class ConsoleStatus:
    """Whether the console is served, where, and why not when it was asked for."""

    enabled: bool
    path: str
    refused: str | None = None


def _console_path(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("/") or value.rstrip("/") == "":
        raise ConfigurationError(f"AIFLOW_CONSOLE_PATH must be a path starting with '/', got {value!r}")
    return value.rstrip("/")


def console_status(app: Flask) -> ConsoleStatus:
    """The console's status for ``app`` (as decided by ``init_app`` when it ran)."""
    status = app.extensions.get(CONSOLE_KEY)
    if isinstance(status, ConsoleStatus):
        return status
    return _decide(app)


def _decide(app: Flask) -> ConsoleStatus:
    path = _console_path(app.config.get("AIFLOW_CONSOLE_PATH", "/aiflow/console"))
    if not app.config.get("AIFLOW_CONSOLE"):
        return ConsoleStatus(False, path)
    if not (app.debug or app.testing) and not app.config.get("AIFLOW_CONSOLE_ALLOW_PRODUCTION"):
        return ConsoleStatus(
            False,
            path,
            "AIFLOW_CONSOLE is on, but the app runs in neither debug nor testing mode, so the console "
            "is NOT served (it lets anybody drive the app's skills). Run with --debug, or set "
            "AIFLOW_CONSOLE_ALLOW_PRODUCTION = True if you really mean it.",
        )
    return ConsoleStatus(True, path)


def register_console(app: Flask) -> ConsoleStatus:
    """Serve the console on ``app`` if the configuration asks for it and allows it."""
    status = _decide(app)
    app.extensions[CONSOLE_KEY] = status
    if status.refused:
        logger.error(status.refused)
    elif status.enabled:
        logger.warning("the flask-aiflow console is served at %s (development only)", status.path)
        app.extensions[CONSOLE_KEY + ".calls"] = ConsoleCalls(app)
        app.register_blueprint(_blueprint(status.path))
    return status


def _asset(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


def _blueprint(path: str) -> Blueprint:
    bp = Blueprint("aiflow_console", __name__)

    @bp.after_request
    def protect(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    def page() -> Response:
        html = _asset("page.html").replace("{{base}}", str(escape(path)))
        html = html.replace("{{from}}", DEFAULT_FROM).replace("{{to}}", DEFAULT_TO)
        return Response(html, mimetype="text/html")

    def script() -> Response:
        return Response(_asset("console.js"), mimetype="text/javascript")

    def style() -> Response:
        return Response(_asset("console.css"), mimetype="text/css")

    bp.add_url_rule(path, "page", page, methods=["GET"])
    bp.add_url_rule(f"{path}/console.js", "script", script, methods=["GET"])
    bp.add_url_rule(f"{path}/console.css", "style", style, methods=["GET"])
    bp.add_url_rule(f"{path}/api", "api", api, methods=["POST"])
    return bp


def _error(status: int, message: str) -> tuple[dict[str, Any], int]:
    return {"error": message}, status


def api() -> Any:
    """One step of a console call: ``{"op": "start"|"say"|..., "call": id, ...}``."""
    if not request.is_json:
        return _error(415, "send JSON (Content-Type: application/json)")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error(400, "expected a JSON object")
    calls: ConsoleCalls = current_app.extensions[CONSOLE_KEY + ".calls"]
    op = data.get("op")
    try:
        if op == "start":
            call_id, call = calls.start(str(data.get("from") or DEFAULT_FROM), str(data.get("to") or DEFAULT_TO))
            turn = call.greeting
        elif op in STEPS:
            call_id = str(data.get("call"))
            arguments: dict[str, Any] = {}
            if op in ("say", "barge_in"):
                arguments["text"] = data.get("text")
            if op == "barge_in":
                arguments["after_ms"] = data.get("after_ms", 0)
            call, turn = calls.step(call_id, op, **arguments)
        else:
            return _error(400, f"unknown op {op!r}; expected start or one of {', '.join(STEPS)}")
    except KeyError:
        return _error(404, "no such call (it ended, or the server restarted); start a new one")
    except (SimulationError, ValueError) as exc:
        return _error(400, str(exc))
    return {
        "call": call_id,
        "turn": turn.to_dict(),
        "ended": call.ended,
        "end_reason": call.end_reason,
        "playing": call.playing is not None,
        "timeout_armed": call.timeout_seconds,
    }
