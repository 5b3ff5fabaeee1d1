"""The IVR example behind 4 gunicorn workers with the Redis store: whole calls behave as with one process.

The scenarios are the very ones tests/test_ivr_e2e.py plays against one
process (imported below, so pytest runs them here again with this module's
``dial`` fixture): the silence escalation, the menu and its sub-menu, goodbye.
Here every event of a call is answered by a different worker process than the
one before it (the worker that answered is paused until another one has
answered the next event; see tests/test_multiprocess.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from .helpers import SECRET
from .server import Server, serve
from .test_ivr_e2e import (  # noqa: F401 - collected here again, with this module's dial
    HttpCall,
    PhoneCall,
    test_goodbye_then_hang_up_when_it_has_been_spoken,
    test_no_match_reprompts_then_escalates_to_a_person,
    test_silence_escalates_to_a_hang_up_on_the_third_timeout,
    test_sub_menu_repeat_back_and_main_menu,
    test_two_interleaved_calls_keep_their_own_state,
)
from .test_multiprocess import WARNING, Rotation

pytestmark = pytest.mark.server

APP = "tests.apps.ivr_workers:app"


class RotatingHttpCall(HttpCall):
    """An HTTP call whose consecutive events are answered by different workers."""

    def __init__(self, base: str, caller: str | None, rotation: Rotation) -> None:
        super().__init__(base, caller)
        self.rotation = rotation

    def post(self, type_: str, fields: dict[str, Any]) -> requests.Response:
        response = super().post(type_, fields)
        self.rotation.served(int(response.headers["X-Worker-Pid"]))
        return response


@pytest.fixture(scope="module")
def ivr_workers(any_redis_url: str, tmp_path_factory: Any) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("ivr") / "gunicorn.log"
    env = {"AIFLOW_SHARED_SECRET": SECRET, "AIFLOW_REDIS_URL": any_redis_url, "FLASK_AIFLOW_REDIS_PREFIX": "ivr:"}
    with serve(APP, workers=4, env=env, log_path=log) as server:
        server.wait_for_workers(4)
        yield server
    assert WARNING not in log.read_text()


@pytest.fixture
def dial(ivr_workers: Server) -> Iterator[Any]:
    rotation = Rotation(ivr_workers)
    calls: list[PhoneCall] = []

    def dial(caller: str | None = None) -> PhoneCall:
        call = RotatingHttpCall(ivr_workers.url, caller, rotation)
        calls.append(call)
        return call

    yield dial
    rotation.resume()
    assert len(rotation.pids) >= 2
    assert all(first != second for first, second in zip(rotation.pids, rotation.pids[1:]))


def test_with_the_memory_store_four_workers_are_warned_about(tmp_path: Path) -> None:
    env = {"AIFLOW_SHARED_SECRET": SECRET}
    with serve(APP, workers=4, env=env, log_path=tmp_path / "gunicorn.log") as server:
        warnings = server.wait_for_log(WARNING, count=4)
    assert len(warnings) == 4
