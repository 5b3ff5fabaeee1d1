"""Log lines carry the call's session id; phone numbers can be masked."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from flask_aiflow.logs import CallLogFilter, mask_phone_numbers

from .helpers import SECRET, event, make_app, make_skill


def records_about(caplog: Any, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


class TestSessionId:
    @pytest.mark.parametrize("budget", [None, 800])
    def test_every_line_about_a_call_carries_its_session_id(self, caplog: Any, budget: int | None) -> None:
        def boom(event: Any, call: Any) -> None:
            raise RuntimeError("kaputt")

        app = make_app(
            make_skill("boom", user_speak=boom),
            make_skill("echo", user_speak=lambda event, call: "hi"),
            AIFLOW_EVENT_BUDGET_MS=budget,
            AIFLOW_TRACE=True,
        )
        caplog.clear()
        with caplog.at_level(logging.DEBUG, "flask_aiflow"):
            app.test_client().post("/webhook", json=event("user_speak", "call-42"), headers={"X-API-TOKEN": SECRET})
        lines = [r for r in caplog.records if r.name == "flask_aiflow"]
        assert {"raised", "trace", "decision"} <= {word for r in lines for word in r.getMessage().split()}
        for record in lines:
            assert record.session_id == "call-42"
            assert "call-42" in record.getMessage()

    def test_a_skill_logger_gets_the_session_id_through_the_filter(self) -> None:
        captured: list[logging.LogRecord] = []

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                captured.append(record)

        handler = Keep()
        handler.addFilter(CallLogFilter())
        skill_logger = logging.getLogger("my_skill")
        skill_logger.addHandler(handler)
        skill_logger.setLevel(logging.INFO)
        try:
            app = make_app(make_skill("talk", user_speak=lambda event, call: skill_logger.info("heard %s", event.text)))
            app.test_client().post("/webhook", json=event("user_speak", "call-9", text="hi"), headers={"X-API-TOKEN": SECRET})
            skill_logger.info("outside a call")
        finally:
            skill_logger.removeHandler(handler)
        assert [(r.getMessage(), r.session_id) for r in captured] == [("heard hi", "call-9"), ("outside a call", "-")]

    def test_lines_outside_a_call_get_a_dash(self, caplog: Any) -> None:
        app = make_app()
        with caplog.at_level(logging.INFO, "flask_aiflow"):
            app.test_client().post("/webhook", json=event("user_speak", "x"), headers={"X-API-TOKEN": "nope"})
        [line] = records_about(caplog, "rejected")
        assert line.session_id == "-"


class TestMasking:
    @pytest.mark.parametrize(
        "text, masked",
        [
            ("+49301234567", "+49******567"),
            ("to +4921155555555.", "to +49********555."),
            ("call 0049 30 1234567", "call 0049 ** ****567"),
            ("national 030/1234567", "national 03*/****567"),
            ("id 550e8400-e29b-41d4-a716-446655440000", "id 550e8400-e29b-41d4-a716-446655440000"),
            ("took 0.123 ms at 1700000000000", "took 0.123 ms at 1700000000000"),
            ("short +4912", "short +4912"),
        ],
    )
    def test_mask_phone_numbers(self, text: str, masked: str) -> None:
        assert mask_phone_numbers(text) == masked

    def test_decision_line_and_errors_are_masked_when_asked(self, caplog: Any) -> None:
        def forward(event: Any, call: Any) -> dict[str, str]:
            if event.text == "bad":
                raise ValueError("cannot reach +49301234567")
            return {"type": "transfer", "target_phone_number": "+4921155555555",
                    "caller_id_name": "Desk", "caller_id_number": "+49301234567"}

        app = make_app(make_skill("forward", user_speak=forward), AIFLOW_MASK_PHONE_NUMBERS=True)
        client = app.test_client()
        with caplog.at_level(logging.DEBUG, "flask_aiflow"):
            ok = client.post("/webhook", json=event("user_speak", "m1", text="go"), headers={"X-API-TOKEN": SECRET})
            client.post("/webhook", json=event("user_speak", "m1", text="bad"), headers={"X-API-TOKEN": SECRET})
        # the caller gets the real numbers, only the logs are masked
        assert ok.get_json()["target_phone_number"] == "+4921155555555"
        text = caplog.text
        assert "+49********555" in text and "+49******567" in text
        assert "4921155555555" not in text and "49301234567" not in text
        assert "m1" in text

    def test_nothing_is_masked_by_default(self, caplog: Any) -> None:
        app = make_app(make_skill("say", user_speak=lambda event, call: "call +49301234567"))
        with caplog.at_level(logging.DEBUG, "flask_aiflow"):
            app.test_client().post("/webhook", json=event("user_speak", "m2"), headers={"X-API-TOKEN": SECRET})
        assert "+49301234567" in caplog.text

    def test_masking_is_per_app(self, caplog: Any) -> None:
        masked = make_app(make_skill("say", user_speak=lambda event, call: "call +49301234567"), AIFLOW_MASK_PHONE_NUMBERS=True)
        plain = make_app(make_skill("say", user_speak=lambda event, call: "call +49301234599"))
        with caplog.at_level(logging.DEBUG, "flask_aiflow"):
            for app in (masked, plain):
                app.test_client().post("/webhook", json=event("user_speak", "m3"), headers={"X-API-TOKEN": SECRET})
        assert "+49******567" in caplog.text and "+49301234599" in caplog.text
