"""What both transports check before an event reaches the pipeline: the token and the message.

Every way a request or message can be wrong is a :class:`Rejection`: an
HTTP-like status, a code and a reason, which the webhook answers as JSON and
the WebSocket logs. Nothing here touches Flask's request: it works on the WSGI
environ, so the webhook's fast path (:mod:`flask_aiflow.web.webhook`) and the
Flask routes share it.
"""

from __future__ import annotations

import hmac
from typing import Any

import msgspec
from werkzeug.datastructures import EnvironHeaders

from flask_aiflow import signals
from flask_aiflow.config import Settings
from flask_aiflow.extension import AiFlowState
from flask_aiflow.protocol.events import InvalidEventError, UnknownEventTypeError, load_event
from flask_aiflow.web.ratelimit import client_address, forwarded_for

TOKEN_HEADER = "X-API-TOKEN"


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

    def to_json(self) -> bytes:
        """The JSON body a webhook answers with."""
        return msgspec.json.encode(self.to_dict())


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


def authenticate_request(state: AiFlowState, environ: dict[str, Any]) -> None:
    """Authenticate the request of WSGI ``environ``; repeated failures from one client become 429.

    The limiter is consulted only after a failure, so a valid token costs
    nothing extra and is never refused.
    """
    headers = EnvironHeaders(environ)
    try:
        authenticate(state.settings, headers.get(TOKEN_HEADER))
    except Rejection as rejection:
        limiter = state.limiter
        if rejection.status != 401 or limiter is None:
            raise
        client = client_address(environ.get("REMOTE_ADDR"), forwarded_for(headers), state.settings.trusted_proxies)
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
