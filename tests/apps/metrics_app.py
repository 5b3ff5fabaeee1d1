"""The app the multiprocess metrics test serves with two gunicorn workers."""

from flask import Flask

from flask_aiflow import AiFlow
from tests.apps.worker_pid import tell_the_worker
from tests.skills import echo

app = Flask(__name__)
app.config.update(
    AIFLOW_SHARED_SECRET="test-secret",
    AIFLOW_LOAD_ENTRY_POINTS=False,
    AIFLOW_METRICS=True,
)
AiFlow(app, skills=[echo])
app.wsgi_app = tell_the_worker(app.wsgi_app, "X-Worker")  # type: ignore[method-assign]
