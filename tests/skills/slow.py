"""A test skill that holds an event in hand, for the graceful-shutdown tests.

On ``user_speak`` "slow" it marks that the event has started (a file named
after the session in ``$AIFLOW_TEST_MARKER_DIR``) and waits until the process
begins to shut down (flask_aiflow.web.shutdown), at most 10 seconds; on "sleep" it
marks and sleeps 1.5 seconds (for servers without the shutdown hook). Either
way it then answers, saying whether the shutdown had begun.
"""

import os
import time
from pathlib import Path

from flask_aiflow import hookimpl
from flask_aiflow.web import shutdown


def _mark(session_id):
    Path(os.environ["AIFLOW_TEST_MARKER_DIR"], session_id).touch()


@hookimpl
def aiflow_user_speak(event, call):
    if event.text == "slow":
        _mark(event.session.id)
        deadline = time.monotonic() + 10
        while not shutdown.shutting_down() and time.monotonic() < deadline:
            time.sleep(0.02)
    elif event.text == "sleep":
        _mark(event.session.id)
        time.sleep(1.5)
    else:
        return f"You said: {event.text}"
    return "finished after shutdown began" if shutdown.shutting_down() else "finished"
