"""WSGI middleware that adds ``X-Worker-Pid`` (which worker process answered; the header's name may vary) to every response.

A WSGI layer rather than ``after_request``, so that it also covers webhook
POSTs on the fast path (which skips Flask's request hooks); wrapped after
``init_app``, around the fast path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any


def tell_the_worker(wsgi_app: Any, header: str = "X-Worker-Pid") -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, (header, str(os.getpid()))], exc_info)

        return wsgi_app(environ, start)  # type: ignore[no-any-return]

    return app
