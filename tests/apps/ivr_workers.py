"""The IVR example as it is, plus an ``X-Worker-Pid`` header saying which worker process answered.

The multi-process tests serve it with gunicorn and several workers; the store
comes from the example's own switch (``AIFLOW_REDIS_URL``).
"""

import os

from flask import Response

from examples.ivr_app import app


@app.after_request
def tell_the_worker(response: Response) -> Response:
    response.headers["X-Worker-Pid"] = str(os.getpid())
    return response
