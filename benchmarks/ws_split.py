"""Where a WebSocket event's time goes, in one process: the route against its transport.

The IVR app's real WebSocket route (flask-sock, simple-websocket, wsproto,
:func:`~flask_aiflow.web.routes.serve_websocket`, the pipeline) serves one
end of a socket pair under gevent (monkey-patched, as in the production
gunicorn worker); a minimal client in the same process sends prepared
``user_speak`` frames on the other end and reads each answer before it sends
the next. Each variant runs in a process of its own; the figure is the
process's CPU time per answered event (best of three runs), so the client's
small share is in every row that uses the socket:

- ``deployed``: the route as ``init_app`` sets it up (``ping_interval`` 25 s);
- ``no ping``: simple-websocket without its ping timer (it then reads the
  socket without a ``select`` before each read);
- ``one loop``: not simple-websocket but a loop in the call's own greenlet
  that reads the socket, decodes frames with wsproto, handles the event and
  writes the answer (no reader thread, no hand-off between the two, no
  ping): what simple-websocket's design costs;
- ``transport``: the route with the event handling replaced by a constant
  answer: flask-sock, simple-websocket, wsproto and gevent's sockets only;
- ``sockets``: no WebSocket library; the server end echoes a prepared frame
  (the socket calls and the client, on both ends);
- ``handling``: :func:`~flask_aiflow.web.routes.handle_ws_message` called
  directly (decode, pipeline, encode), no socket.

``python -m benchmarks --only ws_split``; one variant:
``python -m benchmarks.ws_split --variant deployed --events 5000`` (for
instruction counts run that under ``valgrind --tool=callgrind`` with two
event counts and take the difference).
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and "--variant" in sys.argv:  # one measurement: patch first, as gunicorn's gevent worker does
    from gevent import monkey

    monkey.patch_all()

import json
import os
import subprocess
import time
from typing import Any

from .common import PYTHON, ROOT, SECRET, bench_env, table

VARIANTS = ("deployed", "no ping", "one loop", "transport", "sockets", "handling")
EVENTS_PER_CALL = 60
CONSTANT_ANSWER = '{"type":"speak","session_id":"s","text":"Sorry, I didn\'t catch that. Could you say it again?"}'


def frame(text: str) -> bytes:
    """A masked client text frame (mask key zero, so the payload reads as is)."""
    data = text.encode()
    size = len(data)
    if size < 126:
        header = bytes([0x81, 0x80 | size])
    else:
        header = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    return header + b"\0\0\0\0" + data


def measure(variant: str, events: int) -> float:
    """CPU µs per event of one variant, in this process (gevent has patched the standard library)."""
    import socket
    import threading

    from flask_aiflow.calls.push import LiveConnection
    from flask_aiflow.extension import get_state
    from flask_aiflow.web import routes

    from .ws_client import message

    sys.path.insert(0, str(ROOT / "examples"))
    os.environ["AIFLOW_SHARED_SECRET"] = SECRET
    from ivr_app import app

    def texts(count: int, tag: str) -> list[str]:
        return [message("user_speak", f"{tag}-{n // EVENTS_PER_CALL}", {"text": f"question {n % EVENTS_PER_CALL}"})
                for n in range(count)]

    if variant == "handling":
        with app.app_context():
            state = get_state()
            connection = LiveConnection(None)
            for text in texts(1000, "warm"):
                routes.handle_ws_message(state, text, connection)
            work = texts(events, "run")
            started = time.process_time()
            for text in work:
                routes.handle_ws_message(state, text, connection)
            return (time.process_time() - started) / events * 1e6

    if variant == "no ping":
        app.config["SOCK_SERVER_OPTIONS"] = {**app.config["SOCK_SERVER_OPTIONS"], "ping_interval": None}
    if variant == "transport":
        routes.handle_ws_message = lambda *args, **kwargs: CONSTANT_ANSWER  # type: ignore[assignment]
    server_end, client = socket.socketpair()

    def serve_route() -> None:
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": "/ws", "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "HTTP_HOST": "localhost",
            "HTTP_UPGRADE": "websocket", "HTTP_CONNECTION": "Upgrade", "HTTP_SEC_WEBSOCKET_VERSION": "13",
            "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==", "HTTP_X_API_TOKEN": SECRET,
            "gunicorn.socket": server_end,  # where simple-websocket finds the socket under gunicorn
        }
        try:
            app(environ, lambda *args: None)
        except StopIteration:  # flask-sock's way of telling gunicorn the socket is taken
            pass

    def serve_one_loop() -> None:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import AcceptConnection, TextMessage

        ws = WSConnection(ConnectionType.SERVER)
        ws.receive_data(b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        for _ in ws.events():
            server_end.sendall(ws.send(AcceptConnection()))
        with app.app_context():
            state = get_state()
            connection = LiveConnection(None)
            while data := server_end.recv(65536):
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, TextMessage):
                        answer = routes.handle_ws_message(state, event.data, connection)
                        if answer is not None:
                            server_end.sendall(ws.send(TextMessage(data=answer)))

    def serve_echo() -> None:
        server_end.sendall(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
        answer = b"\x81" + bytes([len(CONSTANT_ANSWER)]) + CONSTANT_ANSWER.encode()
        while server_end.recv(65536):
            server_end.sendall(answer)

    serve = {"sockets": serve_echo, "one loop": serve_one_loop}.get(variant, serve_route)
    threading.Thread(target=serve, daemon=True).start()
    handshake = b""
    while b"\r\n\r\n" not in handshake:
        handshake += client.recv(4096)

    def play(frames: list[bytes]) -> None:
        for data in frames:
            client.sendall(data)
            client.recv(65536)  # one small answer arrives in one piece on a local socket

    play([frame(text) for text in texts(1000, "warm")])
    work = [frame(text) for text in texts(events, "run")]
    started = time.process_time()
    play(work)
    return (time.process_time() - started) / events * 1e6


def run(quick: bool = False) -> dict[str, Any]:
    events = 2000 if quick else 10000
    best: dict[str, float] = {}
    for _ in range(1 if quick else 3):  # interleaved, so a busy moment hits every variant alike
        for variant in VARIANTS:
            output = subprocess.run(
                [PYTHON, "-m", "benchmarks.ws_split", "--variant", variant, "--events", str(events)],
                cwd=ROOT, env=bench_env(PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=300, check=True,
            ).stdout
            value = json.loads(output.strip().splitlines()[-1])["cpu_us_per_event"]
            best[variant] = min(best.get(variant, value), value)
    return {"events": events, "cpu_us_per_event": best, "load": os.getloadavg()[0]}


def report(results: dict[str, Any]) -> str:
    cpu = results["cpu_us_per_event"]
    rows = [[variant, cpu[variant], f"{100 * cpu[variant] / cpu['deployed']:.0f}%"] for variant in VARIANTS]
    return "\n".join([
        f"Where a WebSocket event's time goes (IVR app, in one process under gevent, {results['events']} events,"
        f" CPU per event, best of three; load average {results['load']:.1f} at the end)",
        "",
        table(["variant", "CPU µs/event", "of deployed"], rows),
    ])


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", choices=VARIANTS)
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.variant:
        print(json.dumps({"variant": args.variant, "cpu_us_per_event": measure(args.variant, args.events)}))
    else:
        print(report(run(quick=args.quick)))
