"""The app the browser-console test serves with gunicorn: the console on, echo and a generic skill."""

from flask import Flask

from flask_aiflow import AiFlow
from tests.helpers import make_skill, says
from tests.skills import echo

app = Flask(__name__)
app.config.update(
    TESTING=True,
    AIFLOW_SHARED_SECRET="test-secret",
    AIFLOW_LOAD_ENTRY_POINTS=False,
    AIFLOW_CONSOLE=True,
)
AiFlow(app, skills=[echo, make_skill("generic", 20, user_speak=says("A generic answer."))])
