"""The IVR example as it is, plus an ``X-Worker-Pid`` header saying which worker process answered.

The multi-process tests serve it with gunicorn and several workers; the store
comes from the example's own switch (``AIFLOW_REDIS_URL``).
"""

from examples.ivr_app import app
from tests.apps.worker_pid import tell_the_worker

app.wsgi_app = tell_the_worker(app.wsgi_app)  # type: ignore[method-assign]
