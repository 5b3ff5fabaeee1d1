"""The routes: webhook, WebSocket and health, thin adapters around one dispatcher.

Every way a request can be wrong gets a JSON error with a 4xx status and a
reason; nothing a caller sends produces a 5xx or a traceback. The webhook
itself lives in :mod:`flask_aiflow.web.webhook` (its view here and its fast
path call the same function); the checks both transports share, in
:mod:`flask_aiflow.web.checks`. The WebSocket
loop is a plain function of a ws-like object (``receive()``/``send()``), so it
is testable without a socket.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from flask import Blueprint, Response, request
from flask_sock import Sock  # type: ignore[import-untyped]
from werkzeug.routing import Rule

from flask_aiflow.calls import disconnect
from flask_aiflow.calls.push import LiveConnection
from flask_aiflow.calls.store import CallBusy, StoreUnavailable
from flask_aiflow.config import Settings
from flask_aiflow.extension import AiFlowState, get_state
from flask_aiflow.protocol.actions import encode_action
from flask_aiflow.protocol.events import SessionEnd
from flask_aiflow.web.checks import Rejection, authenticate, authenticate_request, parse_message, reject
from flask_aiflow.web.shutdown import GOING_AWAY, POLL_SECONDS, shutting_down
from flask_aiflow.web.webhook import DISCARD_LIMIT, JSON, answer

logger = logging.getLogger("flask_aiflow")

__all__ = [
    "DISCARD_LIMIT",
    "Rejection",
    "authenticate",
    "authenticate_request",
    "create_blueprint",
    "handle_ws_message",
    "parse_message",
    "serve_websocket",
]

#: Compact JSON for the health answer and refusals (actions go through ``encode_action``).
_encode = json.JSONEncoder(separators=(",", ":")).encode


class WebSocketLike(Protocol):
    def receive(self, timeout: float | None = None) -> str | bytes | None: ...

    def send(self, data: str | bytes) -> None: ...

    def close(self, reason: int | None = None, message: str | None = None) -> None: ...


def _json_response(data: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(_encode(data), status, headers, mimetype=JSON)


# -- webhook -------------------------------------------------------------------


def webhook() -> Response:
    """POST one event; 200 with the action as JSON, or 204 for no action (see :func:`flask_aiflow.web.webhook.answer`)."""
    reply = answer(get_state(), request.environ)
    response = Response(reply.body, reply.status, reply.headers)
    if not any(name == "Content-Type" for name, _ in reply.headers):
        del response.headers["Content-Type"]  # a 204 has no body, so no Content-Type either
    return response


# -- websocket -----------------------------------------------------------------


def websocket_handshake() -> Response | None:
    """Refuse the upgrade (before the 101) when the token is wrong."""
    if request.endpoint != "aiflow.websocket":
        return None
    state = get_state()
    try:
        authenticate_request(state, request.environ)
    except Rejection as rejection:
        reject(rejection, "websocket")
        return _json_response(rejection.to_dict(), rejection.status, rejection.headers)
    return None


def handle_ws_message(
    state: AiFlowState, message: str | bytes, connection: LiveConnection | None = None
) -> str | None:
    """One WebSocket message in, the action's JSON text (or None) out.

    The text is what the webhook would answer for the same action
    (:func:`~flask_aiflow.protocol.actions.encode_action`), as a ``str``
    because simple-websocket sends a ``str`` as a text frame.

    A bad message is logged, signalled and answered with nothing; the
    connection (and so the call) stays up. With ``connection``, the call is
    registered as held by it (so ``send`` can reach it) from its first event
    until its ``session_end``.
    """
    try:
        if isinstance(message, bytes):
            raise Rejection(400, "binary_frame", "binary frames are not accepted; send events as text")
        event = parse_message(state, message, "websocket")
    except Rejection as rejection:
        reject(rejection, "websocket")
        return None
    if event is None:
        return None
    route = None
    session_id = event.session.id
    if connection is not None and not isinstance(event, SessionEnd):
        route = state.hub.register(session_id, connection)
    try:
        decision = state.handle(event, "websocket", route)
    except (CallBusy, StoreUnavailable) as exc:
        logger.error("%s", exc)
        return None
    except Exception:  # noqa: BLE001
        logger.exception(
            "call %s: internal error while handling %s", session_id, event.type, extra={"session_id": session_id}
        )
        return None
    finally:
        if connection is not None and isinstance(event, SessionEnd):
            state.hub.unregister(session_id, connection)
    if decision.action is None:
        return None
    return encode_action(decision.action, session_id).decode()


def serve_websocket(ws: WebSocketLike, state: AiFlowState) -> None:
    """Serve one connection until the peer closes it or the process stops.

    Replies and actions pushed with ``send`` from other threads go through
    one lock per connection, so they never interleave on the socket. When the
    process begins to stop (:mod:`flask_aiflow.web.shutdown`), the event in hand
    is still answered; then the connection closes with 1001 (going away).
    """
    connection = LiveConnection(ws)
    try:
        while not shutting_down():
            message = ws.receive(timeout=POLL_SECONDS)
            if message is None:
                continue
            reply = handle_ws_message(state, message, connection)
            if reply is not None:
                connection.send(reply)
    finally:
        disconnect.watch(state, connection.sessions)  # calls left without session_end
        state.hub.close(connection)
    logger.info("closing a WebSocket call: the server is stopping")
    connection.close(GOING_AWAY, "server is stopping")


def websocket(ws: WebSocketLike) -> None:
    serve_websocket(ws, get_state())


# -- health --------------------------------------------------------------------


def health() -> Response:
    state = get_state()
    try:
        store_ok = state.store.ping()
    except Exception:  # noqa: BLE001
        logger.exception("state store ping failed")
        store_ok = False
    body = {
        "status": "ok" if store_ok else "degraded",
        "store": "ok" if store_ok else "unreachable",
        "skills": len(state.registry.enabled()),
    }
    return _json_response(body, 200 if store_ok else 503)


# -- OpenAPI and metrics ---------------------------------------------------------------


def openapi() -> Response:
    """The OpenAPI 3.1 description of the webhook (no token needed: it holds no secrets)."""
    return Response(get_state().openapi_json(), 200, mimetype=JSON)


def metrics() -> Response:
    state = get_state()
    assert state.metrics is not None
    body, content_type = state.metrics.render()
    return Response(body, 200, content_type=content_type)


def create_blueprint(settings: Settings) -> Blueprint:
    """The routes for one app, at the configured paths."""
    bp = Blueprint("aiflow", __name__)
    if settings.webhook_path:
        # A rule for every method, so that any method gets this view's JSON
        # answer (405 with Allow) rather than Flask's HTML error page.
        path = settings.webhook_path

        def add_webhook_rule(setup: Any) -> None:
            setup.app.url_map.add(Rule(path, endpoint=f"{bp.name}.webhook", methods=None))
            setup.app.view_functions[f"{bp.name}.webhook"] = webhook

        bp.record_once(add_webhook_rule)
    if settings.websocket_path:
        bp.before_request(websocket_handshake)
        Sock().route(settings.websocket_path, bp=bp, endpoint="websocket")(websocket)
    if settings.health_path:
        bp.add_url_rule(settings.health_path, "health", health, methods=["GET"])
    if settings.openapi_path and settings.webhook_path:
        bp.add_url_rule(settings.openapi_path, "openapi", openapi, methods=["GET"])
    if settings.metrics and settings.metrics_path:
        bp.add_url_rule(settings.metrics_path, "metrics", metrics, methods=["GET"])
    return bp
