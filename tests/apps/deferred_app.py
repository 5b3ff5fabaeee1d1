"""The slow order skill (tests/skills/orders.py) behind a real server, for the end-to-end tests.

Configured from the environment: ``AIFLOW_STATE_STORE`` (default memory),
``AIFLOW_REDIS_PREFIX``, and the skill's own ``AIFLOW_TEST_GATE_DIR`` /
``AIFLOW_TEST_HURRY_DEADLINE``. Every response says which worker process
answered (``X-Worker-Pid``); ``/test/deferred/<id>`` shows the call's slow
work as its record holds it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from flask_aiflow import AiFlow, get_state
from tests.apps.served import served_config
from tests.apps.worker_pid import tell_the_worker
from tests.skills import echo, orders

app = Flask(__name__)
app.config.update(served_config())
AiFlow(app, skills=[echo, orders])


app.wsgi_app = tell_the_worker(app.wsgi_app)  # type: ignore[method-assign]


@app.get("/test/deferred/<session_id>")
def deferred(session_id: str) -> Any:
    record = get_state().store.load_record(session_id)
    return jsonify(None if record is None else record.deferred)
