"""A stand-in for an OpenAI-compatible chat-completions server, over real HTTP on loopback.

It speaks the wire protocol the ``openai`` client expects: ``POST
/v1/chat/completions`` answered with a JSON completion, or, with ``"stream":
true``, with server-sent events (``data: {chunk}`` ... ``data: [DONE]``) in a
chunked response. Each test scripts what the next requests get with
:meth:`StandIn.reply` (text, tool calls, an error status, a connection that
breaks off mid-stream) and may hold a reply at a gate (before the first token,
or before a given chunk) until it releases it, so "slow" is a state the test
controls, not a duration it hopes for. Every request body is kept in
:attr:`StandIn.requests`.
"""

from __future__ import annotations

import json
import queue
import select
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: How long a gate holds a reply at most, so a test that forgets to open it cannot hang the suite.
GATE_LIMIT = 30.0


@dataclass
class Reply:
    """What one request gets.

    :param chunks: the content, as the pieces it is streamed in.
    :param tool_calls: ``(name, arguments JSON)`` pairs, streamed after the content.
    :param status: an HTTP error status (500, 429) answers with an error body instead.
    :param gate: held before the first chunk until set.
    :param gate_at: index of the chunk held back by ``late_gate`` (for a slow stream).
    :param late_gate: held before chunk ``gate_at`` until set.
    :param drop_after: break the connection off after this many chunks (no end of stream).
    :param hold_at: before this chunk, wait until the client hangs up (a barge-in closed the
        stream): :attr:`StandIn.hung_up` is set then, and nothing more is sent.
    :param delay: seconds before each chunk (the benchmark's model speed; tests use gates).
    """

    chunks: list[str] = field(default_factory=list)
    tool_calls: list[tuple[str, str]] = field(default_factory=list)
    status: int = 200
    gate: threading.Event | None = None
    gate_at: int = 0
    late_gate: threading.Event | None = None
    drop_after: int | None = None
    hold_at: int | None = None
    delay: float = 0.0


def words(text: str) -> list[str]:
    """``text`` in word-sized pieces, as a model streams it."""
    pieces = text.split(" ")
    return [piece if index == 0 else " " + piece for index, piece in enumerate(pieces)]


class StandIn:
    """The server: start with :meth:`start` (a free port), script with :meth:`reply`, stop with :meth:`stop`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.default = Reply(chunks=words("I am the stand-in model."))
        self._script: queue.SimpleQueue[Reply] = queue.SimpleQueue()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="llm-standin", daemon=True
        )
        #: set when a request has been received (tests wait on it with a deadline)
        self.received = threading.Event()
        #: per request, the time its first chunk was written (time.perf_counter)
        self.first_chunk_at: list[float] = []
        #: set when a client hung up before its stream was complete (a barge-in closed it)
        self.hung_up = threading.Event()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reply(self, *replies: Reply | str) -> None:
        """Script the next requests' replies, in order (a string: its words, streamed)."""
        for item in replies:
            self._script.put(Reply(chunks=words(item)) if isinstance(item, str) else item)

    def next_reply(self) -> Reply:
        try:
            return self._script.get_nowait()
        except queue.Empty:
            return self.default


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a closed stream) is expected here, not an error to print."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _tool_deltas(tool_calls: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Each tool call as the fragments a model streams: its name first, then its arguments in halves."""
    deltas = []
    for index, (name, arguments) in enumerate(tool_calls):
        deltas.append(
            {"tool_calls": [{"index": index, "id": f"call_{index}", "type": "function",
                             "function": {"name": name, "arguments": ""}}]}
        )
        half = len(arguments) // 2
        for part in (arguments[:half], arguments[half:]):
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
    return deltas


def _handler(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            standin.requests.append(body)
            standin.received.set()
            reply = standin.next_reply()
            if reply.status != 200:
                kind = "rate_limit_exceeded" if reply.status == 429 else "server_error"
                self._json(reply.status, {"error": {"message": f"scripted {reply.status}", "type": kind}})
                return
            if body.get("stream"):
                self._stream(body.get("model", "standin"), reply)
            else:
                self._complete(body.get("model", "standin"), reply)

        def _json(self, status: int, data: dict[str, Any]) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _complete(self, model: str, reply: Reply) -> None:
            message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.chunks) or None}
            if reply.tool_calls:
                message["tool_calls"] = [
                    {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": args}}
                    for i, (name, args) in enumerate(reply.tool_calls)
                ]
            self._json(200, {
                "id": "chatcmpl-standin", "object": "chat.completion", "created": 0, "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            })

        def _stream(self, model: str, reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            deltas = [{"role": "assistant", "content": piece} for piece in reply.chunks]
            deltas += _tool_deltas(reply.tool_calls)
            finish = "tool_calls" if reply.tool_calls else "stop"
            events = [_chunk(model, delta) for delta in deltas] + [_chunk(model, {}, finish)]
            if reply.gate is not None:
                reply.gate.wait(GATE_LIMIT)
            try:
                for index, event in enumerate(events):
                    if reply.drop_after is not None and index >= reply.drop_after:
                        self.close_connection = True
                        return  # no end of stream, no final chunk: a broken connection
                    if index == reply.hold_at and self._wait_for_hang_up():
                        self.close_connection = True
                        return
                    if reply.late_gate is not None and index == reply.gate_at:
                        reply.late_gate.wait(GATE_LIMIT)
                    if reply.delay:
                        time.sleep(reply.delay)
                    self._send(f"data: {json.dumps(event)}\n\n")
                    if index == 0:
                        standin.first_chunk_at.append(time.perf_counter())
                self._send("data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client hung up: a barge-in closed the stream
                standin.hung_up.set()

        def _wait_for_hang_up(self) -> bool:
            """Wait (bounded) until the client closes its end; True when it did."""
            deadline = time.monotonic() + GATE_LIMIT
            while time.monotonic() < deadline:
                readable, _, _ = select.select([self.connection], [], [], 0.02)
                if readable and self.connection.recv(1, socket.MSG_PEEK) == b"":
                    standin.hung_up.set()
                    return True
            return False

        def _send(self, text: str) -> None:
            data = text.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler
