"""The app the disconnect tests serve: it writes down every call it ends, and why.

Each ``aiflow_session_end`` run and each ``call_ended`` signal appends one
line (``kind session_id detail pid``) to the file named by ``DISCONNECT_LOG``,
so a test sees what every worker process did. The extension's log goes to
stderr at INFO level (the server's log file). Configured from the
environment: ``AIFLOW_STATE_STORE``, ``AIFLOW_REDIS_PREFIX``,
``AIFLOW_DISCONNECT_GRACE``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask

from flask_aiflow import AiFlow, hookimpl, signals, speak
from tests.apps.served import served_config

LOG = os.environ.get("DISCONNECT_LOG", os.devnull)


def note(*words: Any) -> None:
    with open(LOG, "a", encoding="utf-8") as out:
        out.write(" ".join(str(word) for word in words) + f" {os.getpid()}\n")


class Ender:
    AIFLOW_NAME = "ender"

    @hookimpl
    def aiflow_session_start(self, event: Any, call: Any) -> Any:
        return speak("Hello.")

    @hookimpl
    def aiflow_user_speak(self, event: Any, call: Any) -> Any:
        return speak(f"You said {event.text}.")

    @hookimpl
    def aiflow_session_end(self, event: Any, call: Any) -> None:
        note("session_end", event.session.id, call.meta.get("last_event"))


app = Flask(__name__)
app.config.update(served_config(AIFLOW_DISCONNECT_GRACE=float(os.environ.get("AIFLOW_DISCONNECT_GRACE", "2"))))
AiFlow(app, skills=[Ender()])


@signals.call_ended.connect_via(app)
def ended(sender: Any, event: Any, session: Any, reason: str, **extra: Any) -> None:
    note("call_ended", session.id, reason)


_handler = logging.StreamHandler()
_handler.setFormatter(logging.Formatter("%(process)d %(levelname)s %(message)s"))
logging.getLogger("flask_aiflow").addHandler(_handler)
logging.getLogger("flask_aiflow").setLevel(logging.INFO)
