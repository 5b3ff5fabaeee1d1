"""The reference's "Complete Python (Flask) Example", rebuilt from built-in skills.

No handler code: the greeting, menu, timeout and goodbye skills (installed
packages, found through their entry points) do it all from configuration.

- greeting: "Welcome to AI Flow! ..." with an 8 s input timeout and barge-in
  after 3 characters;
- menu: billing, support (a sub-menu) and sales; "agent" or "transfer"
  anywhere in the call transfers to +1234567890 as "Support Team";
- timeout: "I didn't hear anything ... Attempt 1 of 3", then 2 of 3, then a
  hang-up on the third silence; speaking resets the count;
- goodbye: "bye" says goodbye and hangs up once it has been spoken.

Run it (see the README)::

    AIFLOW_SHARED_SECRET=dev-secret flask --app examples/ivr_app.py run

Behind several workers, with the call state in Redis::

    AIFLOW_SHARED_SECRET=dev-secret AIFLOW_REDIS_URL=redis://localhost:6379/0 \
        gunicorn -w 4 --worker-class gthread --threads 50 examples.ivr_app:app

Any setting can be overridden from the environment with Flask's prefixed
variables, e.g. ``FLASK_AIFLOW_SKILL_PRIORITIES='{"timeout": 40}'``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask

from flask_aiflow import AiFlow

SUPPORT_TEAM = {"target": "+1234567890", "caller_id_name": "Support Team", "caller_id_number": "+1234567890"}
BARGE_IN = {"strategy": "minimum_characters", "minimum_characters": 3}

CONFIG: dict[str, Any] = {
    # Only these installed skills run; the order also breaks ties.
    "AIFLOW_SKILLS": ["goodbye", "menu", "greeting", "timeout"],
    "AIFLOW_GREETING": {
        "text": "Welcome to AI Flow! How can I help you today? You can say billing, support or sales.",
        "user_input_timeout_seconds": 8,
        "barge_in": BARGE_IN,
    },
    "AIFLOW_MENU": {
        "start": "silent",  # the greeting speaks the options; the menu listens from the start
        "prompt": "You can say billing, support or sales.",
        "user_input_timeout_seconds": 8,
        "barge_in": BARGE_IN,
        "options": [
            {
                "name": "billing",
                "keywords": ["invoice", "payment", "Rechnung", "Abrechnung"],
                "transfer": {"target": "+1234567891", "caller_id_name": "Billing",
                             "caller_id_number": "+1234567890", "announce": "Connecting you to billing."},
            },
            {
                "name": "support",
                "keywords": ["help", "problem", "Hilfe", "Störung"],
                "menu": {
                    "prompt": "Is it about your internet or your phone?",
                    "options": [
                        {"name": "internet", "keywords": ["router", "wifi", "Internet"],
                         "say": "Please restart your router and wait two minutes.", "stay_in_menu": True},
                        {"name": "phone", "keywords": ["telephone", "Telefon"],
                         "transfer": {**SUPPORT_TEAM, "announce": "Connecting you to our support team."}},
                    ],
                },
            },
            {
                "name": "sales",
                "keywords": ["buy", "order", "Vertrieb", "Verkauf"],
                "hangup": "Thanks for your interest! Our sales team will call you back today. Goodbye!",
            },
        ],
        "global_options": [
            {"name": "agent", "keywords": ["agent", "transfer", "a person", "Mitarbeiter"], "transfer": SUPPORT_TEAM},
        ],
        "retries": 2,
        "escalation": {"transfer": {**SUPPORT_TEAM, "announce": "Let me connect you to a person."}},
    },
    "AIFLOW_TIMEOUT": {
        "prompts": [
            "I didn't hear anything. Please respond. Attempt 1 of 3.",
            "I didn't hear anything. Please respond. Attempt 2 of 3.",
        ],
        "user_input_timeout_seconds": 5,
        "escalation": {"hangup": True},
    },
    "AIFLOW_GOODBYE": {"farewell": "Goodbye! Have a great day!"},
}


def create_app(config: Mapping[str, Any] | None = None, skills: Iterable[Any] = ()) -> Flask:
    """The IVR app; ``config`` overrides settings, ``skills`` are registered besides the installed ones."""
    app = Flask(__name__)
    app.config["AIFLOW_SHARED_SECRET"] = os.environ.get("AIFLOW_SHARED_SECRET")
    app.config.update(CONFIG)
    if os.environ.get("AIFLOW_REDIS_URL"):  # several workers or hosts: call state in Redis
        app.config["AIFLOW_STATE_STORE"] = os.environ["AIFLOW_REDIS_URL"]
    app.config.update(config or {})
    app.config.from_prefixed_env()  # FLASK_AIFLOW_SKILLS='[...]' and the like
    AiFlow(app, skills=skills)
    return app


app = create_app()
