"""The app the simulator's end-to-end tests serve with gunicorn: the front-desk skill."""

from flask import Flask

from flask_aiflow import AiFlow
from tests.skills import frontdesk

app = Flask(__name__)
app.config.update(AIFLOW_SHARED_SECRET="test-secret", AIFLOW_LOAD_ENTRY_POINTS=False, AIFLOW_FALLBACK=None)
app.config.from_prefixed_env()  # e.g. FLASK_AIFLOW_WEBHOOK_FAST_PATH=false
AiFlow(app, skills=[frontdesk])
