"""The app the end-to-end tests serve with gunicorn: the echo and broken skills."""

from flask import Flask

from flask_aiflow import AiFlow
from tests.skills import broken, echo

app = Flask(__name__)
app.config.update(
    AIFLOW_SHARED_SECRET="test-secret",
    AIFLOW_LOAD_ENTRY_POINTS=False,
    AIFLOW_MAX_EVENT_BYTES=4096,
)
app.config.from_prefixed_env()  # e.g. FLASK_AIFLOW_WEBHOOK_FAST_PATH=false
AiFlow(app, skills=[echo, broken])
