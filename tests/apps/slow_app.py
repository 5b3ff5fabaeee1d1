"""The app the graceful-shutdown tests serve with the production configurations."""

from flask import Flask

from flask_aiflow import AiFlow
from tests.skills import slow

app = Flask(__name__)
app.config.update(
    AIFLOW_SHARED_SECRET="test-secret",
    AIFLOW_LOAD_ENTRY_POINTS=False,
    # The slow skill holds its event on purpose: no time budget cuts it short.
    AIFLOW_EVENT_BUDGET_MS=None,
)
AiFlow(app, skills=[slow])
