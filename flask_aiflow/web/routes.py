"""The routes: webhook, WebSocket and health, thin adapters around one dispatcher.

Every way a request can be wrong gets a JSON error with a 4xx status and a
reason; nothing a caller sends produces a 5xx or a traceback. The WebSocket
loop is a plain function of a ws-like object (``receive()``/``send()``), so it
is testable without a socket.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any, Protocol

from flask import Blueprint, Response, request
from flask_sock import Sock  # type: ignore[import-untyped]
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wsgi import get_content_length

from flask_aiflow import signals
from flask_aiflow.config import Settings
from flask_aiflow.protocol.events import InvalidEventError, SessionEnd, UnknownEventTypeError, load_event
from flask_aiflow.extension import AiFlowState, get_state
from flask_aiflow.calls import disconnect
from flask_aiflow.calls.push import LiveConnection
from flask_aiflow.web.ratelimit import client_address, forwarded_for
from flask_aiflow.web.shutdown import GOING_AWAY, POLL_SECONDS, shutting_down
from flask_aiflow.calls.store import CallBusy, StoreUnavailable

logger = logging.getLogger("flask_aiflow")

TOKEN_HEADER = "X-API-TOKEN"
ALLOWED_METHODS = "POST, OPTIONS"
JSON = "application/json"

#: Compact JSON, one encoder for every response (``json.dumps`` with options builds one per call).
_encode = json.JSONEncoder(separators=(",", ":")).encode


class Rejection(Exception):
    """A request or message that is refused: HTTP-like status, code, reason."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.field = field
        self.headers = headers

    def to_dict(self) -> dict[str, Any]:
        data = {"error": self.error, "message": self.message}
        if self.field is not None:
            data["field"] = self.field
        return data


class WebSocketLike(Protocol):
    def receive(self, timeout: float | None = None) -> str | bytes | None: ...

    def send(self, data: str | bytes) -> None: ...

    def close(self, reason: int | None = None, message: str | None = None) -> None: ...


# -- shared by both transports ------------------------------------------------


def authenticate(settings: Settings, token: str | None) -> None:
    """Raise a :class:`Rejection` unless ``token`` is an accepted secret.

    Every accepted secret is compared in constant time, all of them, so the
    time taken does not tell which one (or how much of one) matched.
    """
    if not settings.secrets:
        if settings.allow_unauthenticated:
            return
        raise Rejection(503, "not_configured", "AIFLOW_SHARED_SECRET is not configured on this server")
    if token is None:
        raise Rejection(401, "unauthorized", f"missing {TOKEN_HEADER} header")
    given = token.encode("utf-8", "surrogateescape")
    matched = False
    for secret in settings.secrets:
        matched |= hmac.compare_digest(given, secret)
    if not matched:
        raise Rejection(401, "unauthorized", f"invalid {TOKEN_HEADER}")


def authenticate_request(state: AiFlowState) -> None:
    """Authenticate the current request; repeated failures from one client become 429.

    The limiter is consulted only after a failure, so a valid token costs
    nothing extra and is never refused.
    """
    try:
        authenticate(state.settings, request.headers.get(TOKEN_HEADER))
    except Rejection as rejection:
        limiter = state.limiter
        if rejection.status != 401 or limiter is None:
            raise
        client = client_address(request.remote_addr, forwarded_for(request.headers), state.settings.trusted_proxies)
        retry_after = limiter.failure(client)
        if retry_after is None:
            raise
        raise Rejection(
            429,
            "too_many_failures",
            f"too many authentication failures from {client}; retry after {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        ) from None


def parse_message(state: AiFlowState, body: bytes | str, transport: str) -> Any:
    """Decode and validate one event, or raise :class:`Rejection`.

    Returns None for an unknown event type (logged and signalled, not an
    error: the service may add event types).
    """
    size = len(body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body)
    limit = state.settings.max_event_bytes
    if size > limit:
        raise Rejection(413, "too_large", f"event is {size} bytes; the limit is {limit}")
    try:
        return load_event(body, max_depth=state.settings.max_json_depth)
    except UnknownEventTypeError as exc:
        signals.report_ignored(exc.event_type, transport)
        return None
    except InvalidEventError as exc:
        raise Rejection(400, "invalid_event", str(exc), exc.field) from None


def reject(rejection: Rejection, transport: str) -> None:
    signals.report_rejected(rejection.status, rejection.message, transport)


def _json_response(data: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(_encode(data), status, headers, mimetype=JSON)


def _is_json(mimetype: str) -> bool:
    return mimetype == JSON or (mimetype.startswith("application/") and mimetype.endswith("+json"))


# -- webhook -------------------------------------------------------------------


def webhook() -> Response:
    """POST one event; 200 with the action as JSON, or 204 for no action."""
    state = get_state()
    body_read = False
    try:
        if request.method != "POST":
            if request.method == "OPTIONS":
                return _no_content({"Allow": ALLOWED_METHODS})
            raise Rejection(405, "method_not_allowed", f"use POST, not {request.method}")
        authenticate_request(state)
        body = _read_body(state.settings.max_event_bytes)
        body_read = True
        event = parse_message(state, body, "webhook")
    except Rejection as rejection:
        reject(rejection, "webhook")
        headers = {"Allow": ALLOWED_METHODS} if rejection.status == 405 else rejection.headers
        response = _json_response(rejection.to_dict(), rejection.status, headers)
        if not body_read and not _discard_body():
            # The rest of the body would be read as the next request on this
            # connection: have the server close it after this response.
            response.headers["Connection"] = "close"
        return response
    if event is None:
        return _no_content()
    try:
        decision = state.handle(event, "webhook")
    except CallBusy as exc:
        logger.error("%s", exc)
        return _json_response({"error": "busy", "message": str(exc)}, 503, {"Retry-After": "1"})
    except StoreUnavailable as exc:
        logger.error("%s", exc)
        return _json_response(
            {"error": "store_unavailable", "message": "call state is unreachable; retry shortly"},
            503,
            {"Retry-After": "1"},
        )
    except Exception:  # noqa: BLE001 - our failure, never a traceback to the caller
        logger.exception(
            "call %s: internal error while handling %s",
            event.session.id,
            event.type,
            extra={"session_id": event.session.id},
        )
        return _json_response({"error": "internal", "message": "internal error"}, 500)
    if decision.action is None:
        return _no_content()
    return _json_response(decision.action.to_dict(), 200)


def _no_content(headers: dict[str, str] | None = None) -> Response:
    """A 204: no body, so no Content-Type either."""
    response = Response(status=204, headers=headers)
    del response.headers["Content-Type"]
    return response


#: The most of a refused request's body that is read and thrown away so that
#: the connection can serve the next request (keep-alive); beyond it, the
#: connection is closed instead.
DISCARD_LIMIT = 1024 * 1024


def _discard_body() -> bool:
    """Read what is left of a refused request's body; False when more than :data:`DISCARD_LIMIT` is left.

    Werkzeug's stream knows the body's end (Content-Length or chunked), so it
    never reads into the next request. A server that drains unread bodies
    itself (gunicorn) does not mind either way.
    """
    length = get_content_length(request.environ)
    if length is not None and length > DISCARD_LIMIT:
        return False
    stream = request.stream
    left = DISCARD_LIMIT
    try:
        while left > 0:
            chunk = stream.read(min(left, 64 * 1024))
            if not chunk:
                return True
            left -= len(chunk)
        return not stream.read(1)
    except (HTTPException, OSError, ValueError):  # a broken or truncated body: nothing to keep alive
        return False


def _read_body(limit: int) -> bytes:
    """The request body, at most ``limit`` bytes, or a :class:`Rejection`.

    A declared Content-Length over the limit is refused before a byte of the
    body is read; a chunked body is read up to one byte past the limit.
    """
    length = request.content_length  # None for a chunked body
    if length is not None and length > limit:
        raise Rejection(413, "too_large", f"body is {length} bytes; the limit is {limit}")
    mimetype = request.mimetype
    if not _is_json(mimetype):
        raise Rejection(415, "unsupported_media_type", f"expected Content-Type: {JSON}, got {mimetype or 'none'}")
    try:
        body = request.stream.read(limit + 1)
    except HTTPException as exc:  # e.g. the body ended before its Content-Length
        raise Rejection(400, "incomplete_body", f"could not read the body: {exc.description}") from None
    if length is not None and len(body) < length:
        raise Rejection(400, "incomplete_body", f"could not read the body: it ended after {len(body)} of {length} bytes")
    if len(body) > limit:
        raise Rejection(413, "too_large", f"body exceeds the limit of {limit} bytes")
    return body


# -- websocket -----------------------------------------------------------------


def websocket_handshake() -> Response | None:
    """Refuse the upgrade (before the 101) when the token is wrong."""
    if request.endpoint != "aiflow.websocket":
        return None
    state = get_state()
    try:
        authenticate_request(state)
    except Rejection as rejection:
        reject(rejection, "websocket")
        return _json_response(rejection.to_dict(), rejection.status, rejection.headers)
    return None


def handle_ws_message(
    state: AiFlowState, message: str | bytes, connection: LiveConnection | None = None
) -> str | None:
    """One WebSocket message in, the action's JSON text (or None) out.

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
    return _encode(decision.action.to_dict())


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
