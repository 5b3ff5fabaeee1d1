"""The webhook: one POSTed event in, the action (or nothing) out, written against the WSGI environ.

:func:`answer` is the whole webhook: method, token (and the rate limit on
failures), content type, body limits, decoding, the pipeline, and the answer
as status, headers and body. Nothing a caller sends produces a 5xx other than
a JSON 503 (the store is busy or unreachable) or, for a failure of ours, a
JSON 500 without a traceback.

Two ways lead to it:

- the Flask view ``aiflow.webhook`` (:mod:`flask_aiflow.web.routes`), with
  Flask's full request handling around it; and
- :class:`WebhookFastPath`, a WSGI layer that ``init_app`` puts around
  ``app.wsgi_app`` (``AIFLOW_WEBHOOK_FAST_PATH``, on by default). It takes
  only ``POST`` to the webhook path, pushes only an app context and calls
  :func:`answer` directly: no request context, no URL matching, no request
  hooks, no Response object. Every other request goes on to Flask unchanged.

Half of an IVR webhook request in Flask was Flask's own request handling;
the fast path leaves it out (figures in the README's "Performance").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES, parse_options_header
from werkzeug.wsgi import get_content_length, get_input_stream

from flask_aiflow.calls.store import CallBusy, StoreUnavailable
from flask_aiflow.extension import AiFlowState
from flask_aiflow.protocol.actions import encode_action
from flask_aiflow.web.checks import Rejection, authenticate_request, parse_message, reject

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

logger = logging.getLogger("flask_aiflow")

ALLOWED_METHODS = "POST, OPTIONS"
JSON = "application/json"

#: The most of a refused request's body that is read and thrown away so that
#: the connection can serve the next request (keep-alive); beyond it, the
#: connection is closed instead.
DISCARD_LIMIT = 1024 * 1024


@dataclass(slots=True)
class Reply:
    """The webhook's answer: HTTP status, headers and body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTP_STATUS_CODES.get(self.status, 'Unknown').upper()}"  # as werkzeug writes it


def _json_reply(status: int, body: bytes, headers: dict[str, str] | None = None) -> Reply:
    extra = list(headers.items()) if headers else []
    return Reply(status, [("Content-Type", JSON), ("Content-Length", str(len(body))), *extra], body)


def _error_reply(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return _json_reply(status, Rejection(status, error, message).to_json(), headers)


def _no_content(headers: dict[str, str] | None = None) -> Reply:
    """A 204: no body, so no Content-Type (and no Content-Length) either."""
    return Reply(204, list(headers.items()) if headers else [])


def answer(state: AiFlowState, environ: WSGIEnvironment) -> Reply:
    """Answer one webhook request: 200 with the action as JSON, 204 for no action, or a JSON error."""
    try:
        return _answer(state, environ)
    except Exception:  # noqa: BLE001 - our failure (e.g. a signal receiver), never a traceback to the caller
        logger.exception("webhook: internal error")
        return _error_reply(500, "internal", "internal error")


def _answer(state: AiFlowState, environ: WSGIEnvironment) -> Reply:
    method = environ.get("REQUEST_METHOD", "GET")
    stream = get_input_stream(environ)
    body_read = False
    try:
        if method != "POST":
            if method == "OPTIONS":
                return _no_content({"Allow": ALLOWED_METHODS})
            raise Rejection(405, "method_not_allowed", f"use POST, not {method}")
        authenticate_request(state, environ)
        body = _read_body(environ, stream, state.settings.max_body_bytes)
        body_read = True
        event = parse_message(state, body, "webhook")
    except Rejection as rejection:
        reject(rejection, "webhook")
        headers = {"Allow": ALLOWED_METHODS} if rejection.status == 405 else rejection.headers
        reply = _json_reply(rejection.status, rejection.to_json(), headers)
        if not body_read and not _discard_body(environ, stream):
            # The rest of the body would be read as the next request on this
            # connection: have the server close it after this response.
            reply.headers.append(("Connection", "close"))
        return reply
    if event is None:
        return _no_content()
    try:
        decision = state.handle(event, "webhook")
    except CallBusy as exc:
        logger.error("%s", exc)
        return _error_reply(503, "busy", str(exc), {"Retry-After": "1"})
    except StoreUnavailable as exc:
        logger.error("%s", exc)
        return _error_reply(503, "store_unavailable", "call state is unreachable; retry shortly", {"Retry-After": "1"})
    except Exception:  # noqa: BLE001 - our failure, never a traceback to the caller
        logger.exception(
            "call %s: internal error while handling %s",
            event.session.id,
            event.type,
            extra={"session_id": event.session.id},
        )
        return _error_reply(500, "internal", "internal error")
    if decision.action is None:
        return _no_content()
    return _json_reply(200, encode_action(decision.action, event.session.id))


def _is_json(mimetype: str) -> bool:
    return mimetype == JSON or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def _read_body(environ: WSGIEnvironment, stream: IO[bytes], limit: int) -> bytes:
    """The request body, at most ``limit`` bytes, or a :class:`Rejection`.

    A declared Content-Length over the limit is refused before a byte of the
    body is read; a chunked body is read up to one byte past the limit.
    """
    length = get_content_length(environ)  # None for a chunked body
    if length is not None and length > limit:
        raise Rejection(413, "too_large", f"body is {length} bytes; the limit is {limit}")
    mimetype = parse_options_header(environ.get("CONTENT_TYPE", ""))[0].lower()
    if not _is_json(mimetype):
        raise Rejection(415, "unsupported_media_type", f"expected Content-Type: {JSON}, got {mimetype or 'none'}")
    try:
        body = stream.read(limit + 1)
    except HTTPException as exc:  # e.g. the body ended before its Content-Length
        raise Rejection(400, "incomplete_body", f"could not read the body: {exc.description}") from None
    if length is not None and len(body) < length:
        raise Rejection(400, "incomplete_body", f"could not read the body: it ended after {len(body)} of {length} bytes")
    if len(body) > limit:
        raise Rejection(413, "too_large", f"body exceeds the limit of {limit} bytes")
    return body


def _discard_body(environ: WSGIEnvironment, stream: IO[bytes]) -> bool:
    """Read what is left of a refused request's body; False when more than :data:`DISCARD_LIMIT` is left.

    Werkzeug's stream knows the body's end (Content-Length or chunked), so it
    never reads into the next request. A server that drains unread bodies
    itself (gunicorn) does not mind either way.
    """
    length = get_content_length(environ)
    if length is not None and length > DISCARD_LIMIT:
        return False
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


class WebhookFastPath:
    """WSGI layer around ``app.wsgi_app``: POST to the webhook path goes straight to :func:`answer`.

    Only an app context is pushed (so ``current_app``, ``g``, the signals and
    the skills' settings work, and ``teardown_appcontext`` functions run);
    Flask's request context, URL matching, request hooks, error handlers and
    ``request_started``/``request_finished`` signals are left out. Every other
    request goes to the wrapped application unchanged.
    """

    def __init__(self, app: Flask, state: AiFlowState, wrapped: WSGIApplication, path: str) -> None:
        self.app = app
        self.state = state
        self.wrapped = wrapped
        self.path = path

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != self.path:
            return self.wrapped(environ, start_response)
        with self.app.app_context():
            reply = answer(self.state, environ)
        start_response(reply.status_line, reply.headers)
        return [reply.body]
