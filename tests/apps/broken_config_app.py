"""An app whose configuration is wrong: ``flask aiflow check`` must say so and fail."""

from flask import Flask

from flask_aiflow import AiFlow

app = Flask(__name__)
app.config.update(AIFLOW_SHARED_SECRET="test-secret", AIFLOW_LOAD_ENTRY_POINTS=False, AIFLOW_STATE_TTL=0)
AiFlow(app)
