"""A voice assistant: the IVR example's rule skills, and a language model for everything else.

The greeting, menu, timeout and goodbye skills answer as in ``ivr_app.py``;
what none of them handles goes to the ``llm`` skill, which asks any
OpenAI-compatible chat-completions endpoint and speaks the reply sentence by
sentence while the model is still writing. The model may transfer to
"support" or "billing" (never to a number it makes up), end the call after
a goodbye, or hand the caller back to the menu.

Environment:

- ``OPENAI_BASE_URL``: the endpoint, e.g. ``http://localhost:11434/v1``
  (Ollama) or ``http://localhost:8080/v1`` (llama.cpp's server); unset: OpenAI;
- ``OPENAI_API_KEY``: its key (local servers accept any value);
- ``AIFLOW_LLM_MODEL``: the model name (default ``gpt-4o-mini``);
- ``AIFLOW_SHARED_SECRET``: the secret the AI Flow service sends.

Run it (see the README)::

    OPENAI_BASE_URL=http://localhost:11434/v1 OPENAI_API_KEY=unused AIFLOW_LLM_MODEL=llama3.2 \\
        AIFLOW_SHARED_SECRET=dev-secret flask --app examples/assistant_app.py run
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask

try:
    from examples.ivr_app import BARGE_IN, SUPPORT_TEAM
    from examples.ivr_app import CONFIG as IVR_CONFIG
except ImportError:  # run as a file (flask --app examples/assistant_app.py): examples/ is on the path
    from ivr_app import BARGE_IN, SUPPORT_TEAM  # type: ignore[no-redef]
    from ivr_app import CONFIG as IVR_CONFIG

from flask_aiflow import AiFlow

#: Said by the greeting and by the menu: a caller who answers it with a choice is routed by the menu.
PROMPT = "You can say billing, support or sales, or just ask me."


def _config() -> dict[str, Any]:
    config = copy.deepcopy(IVR_CONFIG)
    config["AIFLOW_SKILLS"] = ["goodbye", "menu", "greeting", "timeout", "llm"]
    config["AIFLOW_GREETING"]["text"] = PROMPT
    config["AIFLOW_MENU"].update(
        # Closed until the caller picks an option right after the prompt (or says "menu"),
        # so free questions reach the model instead of the menu's re-prompt.
        start="keyword",
        reopen_after_prompt=True,
        prompt=PROMPT,
    )
    config["AIFLOW_LLM"] = {
        "model": os.environ.get("AIFLOW_LLM_MODEL", "gpt-4o-mini"),
        # base_url and api_key: OPENAI_BASE_URL and OPENAI_API_KEY, read by the client itself
        "system_prompt": (
            "You are the voice assistant of the AI Flow hotline. Answer in one to three short, "
            "plain sentences in the caller's language; no lists or markdown. Billing questions "
            "go to billing, technical problems to support; say goodbye with end_call."
        ),
        "transfers": {
            "support": {**SUPPORT_TEAM, "description": "technical problems", "announce": "Connecting you to support."},
            "billing": {"target": "+1234567891", "caller_id_name": "Billing", "caller_id_number": "+1234567890",
                        "description": "invoices and payments", "announce": "Connecting you to billing."},
        },
        "menu": True,
        "on_failure": "support",
        "barge_in": BARGE_IN,
    }
    return config


def create_app(config: Mapping[str, Any] | None = None, skills: Iterable[Any] = ()) -> Flask:
    """The assistant app; ``config`` overrides settings, ``skills`` are registered besides the installed ones."""
    app = Flask(__name__)
    app.config["AIFLOW_SHARED_SECRET"] = os.environ.get("AIFLOW_SHARED_SECRET")
    app.config.update(_config())
    if os.environ.get("AIFLOW_REDIS_URL"):  # several workers or hosts: call state in Redis
        app.config["AIFLOW_STATE_STORE"] = os.environ["AIFLOW_REDIS_URL"]
    app.config.update(config or {})
    app.config.from_prefixed_env()
    AiFlow(app, skills=skills)
    return app


app = create_app()
