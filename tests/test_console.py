"""The browser console: only when enabled and safe, its JSON endpoint, and a real browser."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flask_aiflow import ConfigurationError
from flask_aiflow.console import console_status
from flask_aiflow.console.calls import MAX_CALLS

from .helpers import make_app, make_skill, says
from .server import gunicorn
from .skills import echo, frontdesk

PAGE = "/aiflow/console"
API = "/aiflow/console/api"


class TestServedOnlyWhenSafe:
    def test_off_by_default(self) -> None:
        app = make_app(echo)
        assert app.test_client().get(PAGE).status_code == 404
        assert app.test_client().post(API, json={"op": "start"}).status_code == 404
        assert not console_status(app).enabled

    def test_served_in_testing_mode(self) -> None:
        client = make_app(echo, AIFLOW_CONSOLE=True).test_client()
        page = client.get(PAGE)
        assert page.status_code == 200 and page.mimetype == "text/html"
        html = page.get_data(as_text=True)
        assert f'<script src="{PAGE}/console.js">' in html and f'data-api="{API}"' in html
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert client.get(f"{PAGE}/console.js").mimetype == "text/javascript"
        assert client.get(f"{PAGE}/console.css").mimetype == "text/css"

    def test_served_in_debug_mode(self) -> None:
        app = make_app(echo, TESTING=False, DEBUG=True, AIFLOW_CONSOLE=True)
        assert app.test_client().get(PAGE).status_code == 200

    def test_refused_in_production_with_an_error(self, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.ERROR, logger="flask_aiflow"):
            app = make_app(echo, TESTING=False, AIFLOW_CONSOLE=True)
        assert app.test_client().get(PAGE).status_code == 404
        assert app.test_client().post(API, json={"op": "start"}).status_code == 404
        assert "console is NOT served" in caplog.text
        status = console_status(app)
        assert not status.enabled and status.refused is not None

    def test_production_needs_an_explicit_opt_in(self) -> None:
        app = make_app(echo, TESTING=False, AIFLOW_CONSOLE=True, AIFLOW_CONSOLE_ALLOW_PRODUCTION=True)
        assert app.test_client().get(PAGE).status_code == 200

    def test_custom_path(self) -> None:
        client = make_app(echo, AIFLOW_CONSOLE=True, AIFLOW_CONSOLE_PATH="/dev/call/").test_client()
        assert client.get("/dev/call").status_code == 200
        assert client.post("/dev/call/api", json={"op": "start"}).status_code == 200

    @pytest.mark.parametrize("path", ["console", "/", 7])
    def test_a_bad_path_stops_start_up(self, path: Any) -> None:
        with pytest.raises(ConfigurationError, match="AIFLOW_CONSOLE_PATH"):
            make_app(echo, AIFLOW_CONSOLE=True, AIFLOW_CONSOLE_PATH=path)


@pytest.fixture
def console() -> Any:
    generic = make_skill("generic", 20, user_speak=says("A generic answer."))
    client = make_app(echo, generic, frontdesk, AIFLOW_CONSOLE=True, AIFLOW_SKILLS=["frontdesk", "echo", "generic"]).test_client()

    def post(**body: Any) -> Any:
        return client.post(API, json=body)

    return post


class TestEndpoint:
    def test_a_whole_call(self, console: Any) -> None:
        start = console(op="start", **{"from": "+4915100000001", "to": "+4921100000002"})
        assert start.status_code == 200
        data = start.get_json()
        call = data["call"]
        greeting = data["turn"]
        assert greeting["step"] == "start" and data["playing"] is True
        session = greeting["exchanges"][0]["event"]["session"]
        assert session["from_phone_number"] == "+4915100000001"
        decision = greeting["exchanges"][0]["decision"]
        assert decision["winner"] == "frontdesk"
        assert greeting["spoken"] == ["Welcome to the front desk. How can I help?"]

        said = console(op="say", call=call, text="hello").get_json()
        user_speak = said["turn"]["exchanges"][1]
        assert user_speak["event"]["type"] == "user_speak"
        assert [(c["skill"], c["outcome"]) for c in user_speak["decision"]["candidates"]] == [
            ("frontdesk", "won"),
            ("echo", "outranked"),
            ("generic", "outranked"),
        ]

        dropped = console(op="barge_in", call=call, text="no", after_ms=100).get_json()
        assert dropped["turn"]["dropped"] and dropped["turn"]["exchanges"] == []
        ended = console(op="speech_ends", call=call).get_json()
        assert ended["playing"] is False and ended["timeout_armed"] is None
        silent = console(op="silence", call=call).get_json()
        assert "no user_input_timeout_seconds" in silent["turn"]["notes"][0]

        bye = console(op="hang_up", call=call).get_json()
        assert bye["ended"] is True and bye["end_reason"] == "the caller hung up"
        gone = console(op="say", call=call, text="hello?")
        assert gone.status_code == 404 and "no such call" in gone.get_json()["error"]

    def test_misuse_is_a_clear_4xx(self, console: Any) -> None:
        call = console(op="start").get_json()["call"]
        console(op="speech_ends", call=call)
        response = console(op="speech_ends", call=call)
        assert response.status_code == 400 and "not speaking" in response.get_json()["error"]
        assert console(op="say", call=call, text="").status_code == 400
        assert console(op="barge_in", call=call, text="x", after_ms="soon").status_code == 400
        assert console(op="dial", call=call).status_code == 400
        assert console(op="say", call="nope", text="hi").status_code == 404

    def test_json_only(self) -> None:
        client = make_app(echo, AIFLOW_CONSOLE=True).test_client()
        assert client.post(API, data="op=start", content_type="application/x-www-form-urlencoded").status_code == 415
        assert client.post(API, data="[1]", content_type="application/json").status_code == 400

    def test_old_calls_are_forgotten(self, console: Any) -> None:
        first = console(op="start").get_json()["call"]
        for _ in range(MAX_CALLS):
            console(op="start")
        assert console(op="silence", call=first).status_code == 404


# -- a real browser ------------------------------------------------------------------------


def chromium() -> tuple[str, str]:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    reason = "Debian's chromium and chromium-driver are not installed (run: sh tests/setup-system.sh)"
    if os.environ.get("CI"):
        pytest.fail(reason + "; CI must run them")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def console_url() -> Iterator[str]:
    with gunicorn("tests.apps.console_app:app", threads=4) as url:
        yield url


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    binary, driver_path = chromium()
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=driver_path, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.browser
@pytest.mark.server
def test_a_whole_call_in_headless_chromium(console_url: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 15)

    def turns() -> list[Any]:
        return browser.find_elements(By.CSS_SELECTOR, "#log .turn")

    def wait_for_turns(count: int) -> Any:
        """Wait until ``count`` turns are shown and the page takes the next step."""
        wait.until(lambda _: len(turns()) == count and browser.find_element(By.ID, "say").is_enabled())
        return turns()[count - 1]

    browser.get(console_url + PAGE)
    assert browser.title == "flask-aiflow console"
    assert not browser.find_element(By.ID, "controls").is_displayed()
    browser.find_element(By.ID, "start").click()

    greeting = wait_for_turns(1)
    assert "Welcome to the echo line." in [line.text for line in greeting.find_elements(By.CLASS_NAME, "assistant-line")]
    assert "→ session_start" in greeting.text and "→ assistant_speak" in greeting.text
    assert "the assistant is speaking" in browser.find_element(By.ID, "status").text

    browser.find_element(By.ID, "utterance").send_keys("hello there")
    browser.find_element(By.ID, "say").click()
    answer = wait_for_turns(2)
    assert answer.find_element(By.TAG_NAME, "h2").text == "say: “hello there”"
    assert "You said: hello there" in [line.text for line in answer.find_elements(By.CLASS_NAME, "assistant-line")]
    assert "→ user_speak “hello there”" in answer.text
    rows = answer.find_elements(By.CSS_SELECTOR, "tr.candidate")
    cells = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]
    assert ["echo", "50", "won"] == cells[0][:3]
    assert ["generic", "20", "outranked by echo"] == cells[1][:3]
    assert "decision: echo won — higher priority" in answer.text

    browser.find_element(By.ID, "utterance").send_keys("wait a moment")
    browser.find_element(By.ID, "barge").click()
    interrupted = wait_for_turns(3)
    assert "→ user_speak “wait a moment” (barged in)" in interrupted.text

    browser.find_element(By.ID, "hangup").click()
    wait.until(lambda _: browser.find_element(By.ID, "status").text == "Call ended: the caller hung up.")
    assert "→ session_end" in turns()[-1].text
    assert not browser.find_element(By.ID, "controls").is_displayed()
    assert browser.find_element(By.ID, "start").is_enabled()

    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    if os.environ.get("AIFLOW_SCREENSHOT"):  # to look at the page: AIFLOW_SCREENSHOT=/tmp/console.png
        browser.set_window_size(1200, 1600)
        browser.save_screenshot(os.environ["AIFLOW_SCREENSHOT"])
