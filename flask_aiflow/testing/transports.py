"""How the simulator reaches the app: four channels, one interface.

=====================  =====================  ==================================
target                 ``transport=``         channel
=====================  =====================  ==================================
a Flask app            ``"webhook"``          Flask test client, real routes
a Flask app            ``"websocket"``        the real WebSocket loop in a thread
a URL                  ``"webhook"``          real HTTP with requests
a URL                  ``"websocket"``        a real ``simple_websocket.Client``
=====================  =====================  ==================================

A channel carries one call: :meth:`Channel.send` posts one event and returns
the app's :class:`Reply`. In process, the decision record is captured from
the app's ``action_chosen`` / ``no_action`` signals; over the network it is
not available (the protocol does not carry it).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import Flask
from simple_websocket import ConnectionClosed  # type: ignore[import-untyped]

from flask_aiflow import signals
from flask_aiflow.decision import Decision
from flask_aiflow.extension import get_state
from flask_aiflow.testing.errors import ProtocolViolation, TransportError

TRANSPORTS = ("webhook", "websocket")
TOKEN_HEADER = "X-API-TOKEN"


@dataclass(frozen=True, slots=True)
class Reply:
    """The app's answer to one event.

    :param bodies: the wire form of every action the app sent while handling
        the event, in order: none or one over a webhook; over a WebSocket
        also the actions a skill pushed with ``send()`` meanwhile.
    :param status: the HTTP status for webhooks, None over WebSocket.
    :param decision: the decision record, when the channel can see it.
    """

    bodies: tuple[dict[str, Any], ...] = ()
    status: int | None = None
    decision: Decision | None = None


class Channel(Protocol):
    """One call's connection to the app."""

    #: True when replies carry the decision record (in-process channels).
    decisions_available: bool

    def send(self, event: dict[str, Any]) -> Reply: ...

    def close(self) -> None: ...


def receive_push(channel: Channel, timeout: float) -> dict[str, Any] | None:
    """An action the app pushed into the call on its own (WebSocket only), or None after ``timeout``."""
    receive = getattr(channel, "pushed", None)
    if receive is None:
        raise TransportError("only a WebSocket call can receive pushed actions; use transport='websocket'")
    body: dict[str, Any] | None = receive(timeout)
    return body


# -- in process ------------------------------------------------------------------


@contextmanager
def capture_decisions(app: Flask, session_id: str) -> Iterator[list[Decision]]:
    """Collect the decisions the app makes for one call while the block runs."""
    captured: list[Decision] = []

    def receive(sender: Any, decision: Decision, **extra: Any) -> None:
        if decision.session_id == session_id:
            captured.append(decision)

    with ExitStack() as stack:
        stack.enter_context(signals.action_chosen.connected_to(receive, app))
        stack.enter_context(signals.no_action.connected_to(receive, app))
        yield captured


def _last(decisions: list[Decision], event_type: str) -> Decision | None:
    for decision in reversed(decisions):
        if decision.event_type == event_type:
            return decision
    return None


def app_secret(app: Flask) -> str | None:
    """The first shared secret ``app`` accepts (what the service would send), or None."""
    secrets = get_state(app).settings.secrets
    return secrets[0].decode("utf-8") if secrets else None


class InProcessWebhook:
    """Posts events through the app's real webhook route with the Flask test client."""

    decisions_available = True

    def __init__(self, app: Flask, secret: str | None) -> None:
        path = get_state(app).settings.webhook_path
        if path is None:
            raise TransportError("the app has no webhook route (AIFLOW_WEBHOOK_PATH is None); use transport='websocket'")
        self.app = app
        self.path = path
        self.headers = {TOKEN_HEADER: secret} if secret is not None else {}
        self.client = app.test_client()

    def send(self, event: dict[str, Any]) -> Reply:
        with capture_decisions(self.app, event["session"]["id"]) as decisions:
            response = self.client.post(self.path, json=event, headers=self.headers)
        return _webhook_reply(response.status_code, response.get_data(as_text=True), _last(decisions, event["type"]))

    def close(self) -> None:
        """Nothing to close: each event is its own request."""


class _PipeSocket:
    """The server side of an in-process WebSocket: queues instead of a socket.

    ``idle`` is set whenever the server loop asks for the next message, which
    is exactly when it has finished (and answered) the previous one.
    """

    def __init__(self) -> None:
        self.inbox: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self.outbox: queue.SimpleQueue[str | bytes] = queue.SimpleQueue()
        self.idle = threading.Event()
        self.closed_with: tuple[int | None, str | None] | None = None

    def receive(self, timeout: float | None = None) -> str:
        self.idle.set()
        message = self.inbox.get()
        if message is None:
            raise ConnectionClosed()
        return message

    def send(self, data: str | bytes) -> None:
        self.outbox.put(data)

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        """The server closed the connection (its process is stopping); nothing more comes."""
        self.closed_with = (reason, message)


class InProcessWebSocket:
    """Runs the app's real WebSocket loop in a thread and talks to it through queues.

    The handshake's token check is applied as the route would apply it.
    """

    decisions_available = True

    def __init__(self, app: Flask, secret: str | None, timeout: float = 30.0) -> None:
        from flask_aiflow.web.routes import Rejection, authenticate

        state = get_state(app)
        path = state.settings.websocket_path
        if path is None:
            raise TransportError("the app has no WebSocket route (AIFLOW_WEBSOCKET_PATH is None); use transport='webhook'")
        try:
            authenticate(state.settings, secret)
        except Rejection as rejection:
            raise TransportError(
                f"the WebSocket handshake was refused with HTTP {rejection.status}: {rejection.message}"
            ) from None
        self.app = app
        self.timeout = timeout
        self.pipe = _PipeSocket()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, args=(path,), name="aiflow-simulated-ws", daemon=True)
        self.thread.start()
        if not self.pipe.idle.wait(timeout):
            raise TransportError("the in-process WebSocket loop did not start")

    def _serve(self, path: str) -> None:
        from flask_aiflow.web.routes import serve_websocket

        headers = {"Upgrade": "websocket", "Connection": "Upgrade"}
        try:
            with self.app.test_request_context(path, headers=headers):
                serve_websocket(self.pipe, get_state(self.app))
        except ConnectionClosed:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported to the sending thread
            self.error = exc
            self.pipe.idle.set()

    def send(self, event: dict[str, Any]) -> Reply:
        if not self.thread.is_alive():
            raise TransportError(f"the WebSocket loop has stopped: {self.error!r}")
        with capture_decisions(self.app, event["session"]["id"]) as decisions:
            self.pipe.idle.clear()
            self.pipe.inbox.put(json.dumps(event))
            if not self.pipe.idle.wait(self.timeout):
                raise TransportError(f"the app did not handle {event['type']} within {self.timeout} s")
        if self.error is not None:
            raise TransportError(f"the WebSocket loop crashed: {self.error!r}")
        replies = []
        while not self.pipe.outbox.empty():
            replies.append(self.pipe.outbox.get())
        return Reply(_ws_replies(replies, event["type"]), None, _last(decisions, event["type"]))

    def pushed(self, timeout: float) -> dict[str, Any] | None:
        """The next action the app sent without an event to answer (``send``, slow work)."""
        try:
            message = self.pipe.outbox.get(timeout=timeout)
        except queue.Empty:
            return None
        return _ws_replies([message], "nothing (a pushed action)")[0]

    def close(self) -> None:
        if self.thread.is_alive():
            self.pipe.inbox.put(None)
            self.thread.join(self.timeout)


# -- over the network --------------------------------------------------------------


class HttpWebhook:
    """Posts events to a running server with requests."""

    decisions_available = False

    def __init__(self, url: str, secret: str | None, timeout: float = 10.0) -> None:
        import requests  # only needed against a URL

        self.url = url
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "flask-aiflow call simulator"
        if secret is not None:
            self.session.headers[TOKEN_HEADER] = secret

    def send(self, event: dict[str, Any]) -> Reply:
        import requests

        try:
            response = self.session.post(self.url, json=event, timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransportError(f"POST {self.url} failed: {exc}") from None
        return _webhook_reply(response.status_code, response.text, None)

    def close(self) -> None:
        self.session.close()


class RemoteWebSocket:
    """A real WebSocket connection to a running server, one per call.

    The protocol has no "no action" message, so after each event the
    channel waits ``quiet_seconds`` for an answer before concluding there is
    none, and after each message ``settle_seconds`` for another one (a
    skill may push actions with ``send()`` before the answer). A message
    that arrives later is reported on the next event as a
    :class:`ProtocolViolation` (raise ``quiet_seconds`` or
    ``settle_seconds`` if the app is slow).
    """

    decisions_available = False

    def __init__(
        self,
        url: str,
        secret: str | None,
        quiet_seconds: float = 0.3,
        timeout: float = 10.0,
        settle_seconds: float = 0.05,
    ) -> None:
        from simple_websocket import Client
        from simple_websocket import ConnectionError as HandshakeError

        self.url = url
        self.quiet_seconds = quiet_seconds
        self.settle_seconds = settle_seconds
        headers = {TOKEN_HEADER: secret} if secret is not None else {}
        try:
            self.ws = Client.connect(url, headers=headers)
        except HandshakeError as exc:
            _close_abandoned_sockets(exc)
            raise _refused(exc.status_code, f"the WebSocket handshake with {url}") from None
        except OSError as exc:
            _close_abandoned_sockets(exc)
            raise TransportError(f"cannot connect to {url}: {exc}") from None

    def send(self, event: dict[str, Any]) -> Reply:
        try:
            late = self.ws.receive(timeout=0)
            if late is not None:
                raise ProtocolViolation(
                    f"the app sent {late!r} after the simulator stopped waiting ({self.quiet_seconds} s); "
                    "raise quiet_seconds for a slow app"
                )
            self.ws.send(json.dumps(event))
            replies = []
            reply = self.ws.receive(timeout=self.quiet_seconds)
            while reply is not None:
                replies.append(reply)
                reply = self.ws.receive(timeout=self.settle_seconds)
        except ConnectionClosed:
            raise TransportError(f"the app closed the WebSocket while handling {event['type']}") from None
        return Reply(_ws_replies(replies, event["type"]))

    def pushed(self, timeout: float) -> dict[str, Any] | None:
        """The next action the app sent without an event to answer (``send``, slow work)."""
        try:
            message = self.ws.receive(timeout=timeout)
        except ConnectionClosed:
            raise TransportError("the app closed the WebSocket") from None
        return None if message is None else _ws_replies([message], "nothing (a pushed action)")[0]

    def close(self) -> None:
        self.ws.close()


def _close_abandoned_sockets(exc: BaseException) -> None:
    """Close the socket ``simple_websocket.Client`` leaves open when connecting fails.

    The client creates its socket before connecting and the handshake, and
    neither path closes it on failure; it is still reachable from the
    traceback's frames (as ``sock`` or ``self.sock``).
    """
    import socket

    tb = exc.__traceback__
    while tb is not None:
        local = tb.tb_frame.f_locals
        for candidate in (local.get("sock"), getattr(local.get("self"), "sock", None)):
            if isinstance(candidate, socket.socket):
                candidate.close()
        tb = tb.tb_next


# -- shared ------------------------------------------------------------------------


def _webhook_reply(status: int, text: str, decision: Decision | None) -> Reply:
    if status == 204:
        return Reply((), status, decision)
    if status != 200:
        raise _refused(status, "the webhook", text)
    try:
        body = json.loads(text)
    except ValueError:
        raise ProtocolViolation(f"the webhook answered 200 with a body that is not JSON: {text[:200]!r}") from None
    if not isinstance(body, dict):
        raise ProtocolViolation(f"the webhook answered 200 with {text[:200]!r}, not an action object")
    return Reply((body,), status, decision)


def _ws_replies(replies: list[str | bytes], event_type: str) -> tuple[dict[str, Any], ...]:
    """Every message the app sent while handling one event, decoded (the reference sets no limit)."""
    bodies = []
    for reply in replies:
        try:
            body = json.loads(reply)
        except ValueError:
            raise ProtocolViolation(f"the app answered {event_type} with a message that is not JSON: {reply!r}") from None
        if not isinstance(body, dict):
            raise ProtocolViolation(f"the app answered {event_type} with {reply!r}, not an action object")
        bodies.append(body)
    return tuple(bodies)


def open_channel(
    target: Flask | str,
    transport: str,
    secret: str | None,
    *,
    webhook_path: str = "/webhook",
    websocket_path: str = "/ws",
    quiet_seconds: float = 0.3,
    timeout: float = 10.0,
    settle_seconds: float = 0.05,
) -> Channel:
    """A new channel for one call to ``target`` (an app or a base URL)."""
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be 'webhook' or 'websocket', got {transport!r}")
    if isinstance(target, Flask):
        if transport == "webhook":
            return InProcessWebhook(target, secret)
        return InProcessWebSocket(target, secret, timeout=max(timeout, 30.0))
    if transport == "webhook":
        return HttpWebhook(remote_url(target, webhook_path, websocket=False), secret, timeout=timeout)
    return RemoteWebSocket(
        remote_url(target, websocket_path, websocket=True),
        secret,
        quiet_seconds=quiet_seconds,
        timeout=timeout,
        settle_seconds=settle_seconds,
    )


def remote_url(target: str, path: str, *, websocket: bool) -> str:
    """The URL to call for ``target``: a server's base URL, or the route's own URL as given.

    ``http://host:5000`` gets the route's path appended; a URL that already
    ends with it (``http://host:5000/webhook``, ``ws://host:5000/ws``) is
    taken as it is. A WebSocket URL may be given as ``http(s)://`` or
    ``ws(s)://``.
    """
    url = target.rstrip("/")
    if websocket:
        for http, ws in (("http://", "ws://"), ("https://", "wss://")):
            if url.startswith(http):
                url = ws + url.removeprefix(http)
    if urlsplit(url).path.endswith(path.rstrip("/")):
        return url
    return url + path


def _refused(status: int, where: str, text: str = "") -> TransportError:
    """A transport error for a refused request; a 401 says how to pass the shared secret."""
    message = f"{where} answered HTTP {status}"
    if text:
        message += f": {text[:500]}"
    if status == 401:
        message += (
            " (pass the app's AIFLOW_SHARED_SECRET as CallSimulator(url, secret=...); it is sent as the"
            f" {TOKEN_HEADER} header)"
        )
    return TransportError(message)


__all__ = [
    "TRANSPORTS",
    "remote_url",
    "Channel",
    "HttpWebhook",
    "InProcessWebSocket",
    "InProcessWebhook",
    "RemoteWebSocket",
    "Reply",
    "app_secret",
    "capture_decisions",
    "open_channel",
    "receive_push",
]
