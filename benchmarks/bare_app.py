"""The floor for the HTTP benchmark: a Flask webhook that checks the token and returns a constant action.

Served by the same WSGI servers as the IVR app, so the difference between the
two is what flask-aiflow (parsing, state, skills, validation) costs per request.
"""

from __future__ import annotations

import hmac
import json
import os

from flask import Flask, Response, request

SECRET = os.environ["AIFLOW_SHARED_SECRET"].encode()
ACTION = json.dumps({"type": "speak", "session_id": "bench", "text": "Hello! How can I help you?"})

app = Flask(__name__)


@app.post("/webhook")
def webhook() -> Response:
    token = request.headers.get("X-API-TOKEN", "").encode()
    if not hmac.compare_digest(token, SECRET):
        return Response('{"error":"unauthorized"}', 401, mimetype="application/json")
    return Response(ACTION, mimetype="application/json")


@app.get("/health")
def health() -> Response:
    return Response('{"status":"ok"}', mimetype="application/json")
