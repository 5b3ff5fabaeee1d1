"""An app-factory layout: ``flask --app assistant run`` (from examples/factory).

The extension object lives at module level with the app's own skills;
``create_app`` builds a configured app and initialises the extension on it,
so tests can build as many apps as they like.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from flask_aiflow import AiFlow

from . import settings
from .skills import FrontDesk, Greeter

aiflow = AiFlow(skills=[Greeter(), FrontDesk()])


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_object(settings)
    app.config.from_prefixed_env()  # e.g. FLASK_FRONT_DESK_NUMBER=+4930... overrides settings.py
    if config:
        app.config.update(config)
    aiflow.init_app(app)
    return app
