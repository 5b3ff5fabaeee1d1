"""An app that discovers installed skills: for tests that install skill packages."""

from flask import Flask

from flask_aiflow import AiFlow

app = Flask(__name__)
# Only the packages those tests install, not the built-in skills also installed.
app.config.update(AIFLOW_SHARED_SECRET="test-secret", AIFLOW_SKILLS=["opening_hours", "broken_pkg"])
AiFlow(app)
