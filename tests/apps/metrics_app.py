"""The app the multiprocess metrics test serves with two gunicorn workers."""

import os

from flask import Flask

from flask_aiflow import AiFlow
from tests.skills import echo

app = Flask(__name__)
app.config.update(
    AIFLOW_SHARED_SECRET="test-secret",
    AIFLOW_LOAD_ENTRY_POINTS=False,
    AIFLOW_METRICS=True,
)
AiFlow(app, skills=[echo])


@app.after_request
def name_the_worker(response):
    response.headers["X-Worker"] = str(os.getpid())
    return response
