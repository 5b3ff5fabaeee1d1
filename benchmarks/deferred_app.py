"""The app of the slow-work benchmark: a quick echo, and a slow lookup handed over as a Deferred.

"order ..." starts work that sleeps ``BENCH_WORK_SECONDS`` (default 1.0; a
CRM or a language model), with a filler; anything else is echoed at once.
"""

from __future__ import annotations

import os
import time
from typing import Any

from flask import Flask

from flask_aiflow import AiFlow, Deferred, hookimpl

WORK_SECONDS = float(os.environ.get("BENCH_WORK_SECONDS", "1.0"))


class Shop:
    AIFLOW_NAME = "shop"
    #: the hook itself is quick (the slow part runs in the Deferred pool): no hand-over to a skill worker
    AIFLOW_INLINE = True

    @hookimpl
    def aiflow_user_speak(self, event: Any) -> Any:
        if event.text.startswith("order"):
            return Deferred(work=lookup, filler="One moment, let me check that.", reason="slow lookup")
        return f"You said: {event.text}"


def lookup() -> str:
    time.sleep(WORK_SECONDS)
    return "Your order has shipped."


app = Flask(__name__)
app.config.update(
    AIFLOW_SHARED_SECRET=os.environ["AIFLOW_SHARED_SECRET"],
    AIFLOW_LOAD_ENTRY_POINTS=False,
    AIFLOW_DEFERRED_WORKERS=int(os.environ.get("BENCH_DEFERRED_WORKERS", "64")),
)
AiFlow(app, skills=[Shop()])
