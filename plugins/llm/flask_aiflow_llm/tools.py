"""The tools the model may call, and the guardrails between a tool call and the phone line.

The model never dials a number or ends a call itself: it may *ask* for one of
at most three things, each offered only when configured:

- ``transfer_call(destination)``: a transfer to one of the configured
  destinations, by name (``"support"``); the number comes from the
  configuration, never from the model;
- ``end_call(farewell)``: a goodbye line, then the hang-up;
- ``open_menu()``: the caller goes back to the spoken menu (its prompt is said,
  and the menu takes the caller's reply).

Anything else (an unknown tool, arguments that are not a JSON object, a
destination not on the list, a key the tool does not take, several tool
calls at once) is refused: logged, and answered with the configured refusal
line, so the caller hears something sensible and the call goes on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from flask_aiflow import Candidate, hangup
from flask_aiflow.skills.config import KeyPath

from .config import Destination, LlmConfig

logger = logging.getLogger("flask_aiflow.llm")

TRANSFER = "transfer_call"
END_CALL = "end_call"
OPEN_MENU = "open_menu"

#: The longest goodbye line the model may choose (characters).
MAX_FAREWELL = 300


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call as the model sent it: a name and its arguments as JSON text (unchecked)."""

    name: str
    arguments: str


class Refused(Exception):
    """A tool call the guardrails turned down; the message says why (for the log)."""


def definitions(config: LlmConfig) -> list[dict[str, Any]]:
    """The ``tools`` of a chat-completions request: only what ``config`` allows."""
    tools: list[dict[str, Any]] = []
    if config.transfers:
        listing = "; ".join(f"{name}: {dest.description}" for name, dest in config.transfers.items())
        tools.append(
            _function(
                TRANSFER,
                f"Transfer the caller to a person. Destinations: {listing}.",
                {"destination": {"type": "string", "enum": list(config.transfers)}},
            )
        )
    if config.hangup:
        tools.append(
            _function(
                END_CALL,
                "End the call when the caller says goodbye or has nothing more to ask.",
                {"farewell": {"type": "string", "description": "a short goodbye line to say before hanging up"}},
                required=(),
            )
        )
    if config.menu:
        tools.append(_function(OPEN_MENU, "Take the caller back to the main menu of the hotline.", {}, required=()))
    return tools


def _function(
    name: str, description: str, properties: dict[str, Any], *, required: tuple[str, ...] | None = None
) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": list(properties) if required is None else list(required),
                "additionalProperties": False,
            },
        },
    }


def _arguments(call: ToolCall, allowed: tuple[str, ...]) -> dict[str, Any]:
    text = call.arguments.strip() or "{}"
    try:
        data = json.loads(text)
    except ValueError:
        raise Refused(f"{call.name}: arguments are not JSON: {text[:200]!r}") from None
    if not isinstance(data, dict):
        raise Refused(f"{call.name}: arguments must be a JSON object, got {text[:200]!r}")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise Refused(f"{call.name}: unknown argument(s) {', '.join(map(repr, unknown))}")
    return data


def carry_out(call: ToolCall, config: LlmConfig, menu_prompt: Candidate | None) -> Candidate:
    """What the caller gets for a tool call the guardrails accept; raises :class:`Refused` otherwise.

    :param menu_prompt: the menu's opening (None when there is no menu to go back to).
    """
    if call.name == TRANSFER and config.transfers:
        destination = _arguments(call, ("destination",)).get("destination")
        target = config.transfers.get(destination) if isinstance(destination, str) else None
        if target is None:
            raise Refused(f"{TRANSFER}: destination {destination!r} is not one of {sorted(config.transfers)}")
        return transfer_candidate(target, reason=f"llm: transfer to {target.name!r}")
    if call.name == END_CALL and config.hangup:
        farewell = _arguments(call, ("farewell",)).get("farewell")
        if farewell is None:
            line = config.farewell
        elif not isinstance(farewell, str) or not farewell.strip() or len(farewell) > MAX_FAREWELL:
            raise Refused(f"{END_CALL}: farewell must be a short non-empty string, got {farewell!r}")
        else:
            try:
                line = config.voice.last_words.speak(farewell.strip(), KeyPath("farewell"))
            except ValueError as exc:  # the core's checks (a SkillConfigError naming the bad field)
                raise Refused(f"{END_CALL}: unusable farewell {farewell!r}: {exc}") from None
        return Candidate(line, reason="llm: goodbye and hang up", then=(hangup(),))
    if call.name == OPEN_MENU and config.menu and menu_prompt is not None:
        _arguments(call, ())
        return Candidate(menu_prompt.action, reason="llm: back to the menu", then=menu_prompt.then)
    raise Refused(f"tool {call.name!r} is not offered")


def transfer_candidate(target: Destination, *, reason: str) -> Candidate:
    """The transfer to a configured destination, after its announcement if it has one."""
    if target.announce is None:
        return Candidate(target.transfer, reason=reason)
    return Candidate(target.announce, reason=reason, then=(target.transfer,))


def refusal(config: LlmConfig, why: str) -> Candidate:
    """Log a refused tool call and answer the caller safely."""
    logger.warning("llm: refused a tool call: %s", why)
    return Candidate(config.refusal, reason=f"llm: tool call refused ({why})")


__all__ = [
    "END_CALL",
    "OPEN_MENU",
    "TRANSFER",
    "Refused",
    "ToolCall",
    "carry_out",
    "definitions",
    "refusal",
    "transfer_candidate",
]
