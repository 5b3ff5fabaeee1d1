"""An app that discovers installed skills: for tests that install skill packages."""

from flask import Flask

from flask_aiflow import AiFlow

app = Flask(__name__)
app.config.update(AIFLOW_SHARED_SECRET="test-secret")
AiFlow(app)
