"""``call.state`` across events: every kind of change is kept, reads change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .helpers import event, make_app, make_skill


def dispatch(app: Any, data: dict[str, Any]) -> Any:
    with app.app_context():
        return app.extensions["aiflow"].extension.dispatch(data)


def run_call(start: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Start a call with state ``start``, apply ``change`` on the first turn, return the state seen next."""
    seen: list[dict[str, Any]] = []

    def on_start(event: Any, call: Any) -> None:
        call.state.update(start)

    def on_speak(event: Any, call: Any) -> None:
        if event.text == "change":
            change(call.state)
        else:
            seen.append(dict(call.state))

    app = make_app(make_skill("s", session_start=on_start, user_speak=on_speak))
    dispatch(app, event("session_start", "c"))
    dispatch(app, event("user_speak", "c", text="change"))
    dispatch(app, event("user_speak", "c", text="look"))
    return seen[0]


FLAT = {"count": 1, "name": "menu", "open": True, "score": 0.5, "none": None}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s.__setitem__("count", 2), {**FLAT, "count": 2}),
        (lambda s: s.__delitem__("name"), {k: v for k, v in FLAT.items() if k != "name"}),
        (lambda s: s.update(extra="x"), {**FLAT, "extra": "x"}),
        (lambda s: s.__ior__({"count": 5}), {**FLAT, "count": 5}),
        (lambda s: s.setdefault("new", 7), {**FLAT, "new": 7}),
        (lambda s: s.pop("open"), {k: v for k, v in FLAT.items() if k != "open"}),
        (lambda s: s.popitem(), {k: v for k, v in list(FLAT.items())[:-1]}),
        (lambda s: s.clear(), {}),
        # equal in Python, different in JSON: the change must still be kept
        (lambda s: s.__setitem__("count", True), {**FLAT, "count": True}),
        (lambda s: s.__setitem__("score", -0.0), {**FLAT, "score": -0.0}),
        (lambda s: None, FLAT),  # only read: unchanged
    ],
    ids=["set", "del", "update", "ior", "setdefault", "pop", "popitem", "clear", "int-to-bool", "negative-zero",
         "read-only"],
)
def test_every_change_to_a_flat_state_is_kept(change: Callable[[dict[str, Any]], None], expected: Any) -> None:
    seen = run_call(FLAT, change)
    assert seen == expected
    assert [type(v) for v in seen.values()] == [type(v) for v in expected.values()]
    if "score" in expected:
        assert str(seen["score"]) == str(expected["score"])  # -0.0 stays -0.0


def test_nested_values_changed_in_place_are_kept() -> None:
    seen = run_call({"history": ["hi"], "slots": {"a": 1}},
                    lambda s: (s["history"].append("bye"), s["slots"].update(b=2)))
    assert seen == {"history": ["hi", "bye"], "slots": {"a": 1, "b": 2}}


def test_each_event_gets_its_own_copy() -> None:
    copies: list[Any] = []

    def on_speak(event: Any, call: Any) -> None:
        copies.append(call.state)
        call.state.get("x")

    app = make_app(make_skill("s", session_start=lambda event, call: call.state.update(x=1), user_speak=on_speak))
    dispatch(app, event("session_start", "c"))
    dispatch(app, event("user_speak", "c"))
    dispatch(app, event("user_speak", "c"))
    assert copies[0] == copies[1] == {"x": 1} and copies[0] is not copies[1]
    copies[0]["x"] = 99  # a handler that kept a reference cannot change a later event's state
    assert copies[1] == {"x": 1}
