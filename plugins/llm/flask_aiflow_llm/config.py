"""``AIFLOW_LLM``: the model, its prompt, its tools and what to say when it fails.

Parsed once at start-up into frozen objects; a mistake names its place
(``AIFLOW_LLM["transfers"]["support"]["target"]: ...``) and stops the app.
Without ``AIFLOW_LLM`` the skill stays idle.

The endpoint follows the ``openai`` client's own conventions: ``base_url`` and
``api_key`` left out are read from ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``
(a local server usually accepts any key).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_aiflow import Speak, Transfer
from flask_aiflow.skills.config import (
    KeyPath,
    Voice,
    expect_bool,
    expect_int,
    expect_mapping,
    expect_number,
    expect_str,
    transfer_from_config,
)

KEY = "AIFLOW_LLM"

DEFAULT_SYSTEM_PROMPT = (
    "You are the friendly voice assistant of a telephone hotline. Your words are read out "
    "on a phone call: answer briefly, in one to three plain sentences, without lists, "
    "markdown, links or emojis. Answer in the caller's language. If you cannot help, "
    "say so and offer a person."
)

DEFAULTS: dict[str, Any] = {
    "model": None,
    "base_url": None,
    "api_key": None,
    "system_prompt": DEFAULT_SYSTEM_PROMPT,
    "history": 20,
    "temperature": None,
    "max_tokens": 300,
    "timeout_seconds": 10.0,
    "max_retries": 0,
    # None: the core waits for the first sentence within the event budget and
    # says its own AIFLOW_DEFERRED_FILLER only when it is not ready by then.
    "filler": None,
    "apology": "Sorry, I can't answer that right now.",
    "refusal": "Sorry, I can't do that. Is there anything else I can help you with?",
    "farewell": "Goodbye!",
    "on_failure": None,
    "transfers": {},
    "hangup": True,
    "menu": False,
    "share_caller_number": False,
    "max_sentence_chars": 250,
    "tts": None,
    "barge_in": None,
    "user_input_timeout_seconds": None,
}


@dataclass(frozen=True, slots=True)
class Destination:
    """A transfer the model may ask for by ``name``; only these numbers can ever be dialled."""

    name: str
    transfer: Transfer
    announce: Speak | None
    description: str


@dataclass(frozen=True, slots=True)
class LlmConfig:
    """The validated ``AIFLOW_LLM``."""

    model: str
    base_url: str | None
    api_key: str | None
    system_prompt: str
    history: int
    temperature: float | None
    max_tokens: int | None
    timeout_seconds: float
    max_retries: int
    filler: Speak | None
    apology: Speak
    refusal: Speak
    farewell: Speak
    on_failure: Destination | None
    transfers: Mapping[str, Destination]
    hangup: bool
    menu: bool
    share_caller_number: bool
    max_sentence_chars: int
    voice: Voice = field(default_factory=Voice)


def _optional_str(value: Any, path: KeyPath) -> str | None:
    return None if value is None else expect_str(value, path)


def _destination(name: Any, value: Any, path: KeyPath, voice: Voice) -> Destination:
    name = expect_str(name, path)
    if not name.replace("_", "").replace("-", "").isalnum():
        raise path.error(f"a destination name is a single word (letters, digits, - or _), got {name!r}")
    data = expect_mapping(value, path, required=("target", "caller_id_name"))
    target = transfer_from_config(data, path, extra_keys=("announce", "description"))
    announce = data.get("announce")
    return Destination(
        name=name,
        transfer=target,
        announce=None if announce is None else voice.last_words.speak(announce, path / "announce"),
        description=expect_str(data.get("description", name), path / "description"),
    )


def load(value: Any, *, voice: Voice = Voice()) -> LlmConfig | None:
    """Parse ``AIFLOW_LLM``; None when it is not set (the skill then stays idle).

    :param voice: the speech defaults below the skill's own (the app's defaults).
    """
    if value is None:
        return None
    path = KeyPath(KEY)
    given = expect_mapping(value, path, allowed=tuple(DEFAULTS))
    config = {**DEFAULTS, **given}
    voice = voice.updated(config, path)
    model = config["model"]
    if model is None:
        raise (path / "model").error("missing: the model name the endpoint serves, e.g. 'gpt-4o-mini'")
    transfers_raw = expect_mapping(config["transfers"], path / "transfers")
    transfers = {
        name: _destination(name, item, path / "transfers" / name, voice) for name, item in transfers_raw.items()
    }
    on_failure = config["on_failure"]
    if on_failure is not None and on_failure not in transfers:
        known = ", ".join(map(repr, transfers)) or "none configured"
        raise (path / "on_failure").error(f"expected the name of a transfer destination ({known}), got {on_failure!r}")
    temperature = config["temperature"]
    max_tokens = config["max_tokens"]
    return LlmConfig(
        model=expect_str(model, path / "model"),
        base_url=_optional_str(config["base_url"], path / "base_url"),
        api_key=_optional_str(config["api_key"], path / "api_key"),
        system_prompt=expect_str(config["system_prompt"], path / "system_prompt"),
        history=expect_int(config["history"], path / "history", minimum=1),
        temperature=None
        if temperature is None
        else expect_number(temperature, path / "temperature", minimum=0, inclusive=True),
        max_tokens=None if max_tokens is None else expect_int(max_tokens, path / "max_tokens", minimum=1),
        timeout_seconds=expect_number(config["timeout_seconds"], path / "timeout_seconds"),
        max_retries=expect_int(config["max_retries"], path / "max_retries"),
        filler=None if config["filler"] is None else voice.speak(config["filler"], path / "filler"),
        apology=voice.speak(config["apology"], path / "apology"),
        refusal=voice.speak(config["refusal"], path / "refusal"),
        farewell=voice.last_words.speak(config["farewell"], path / "farewell"),
        on_failure=None if on_failure is None else transfers[on_failure],
        transfers=transfers,
        hangup=expect_bool(config["hangup"], path / "hangup"),
        menu=expect_bool(config["menu"], path / "menu"),
        share_caller_number=expect_bool(config["share_caller_number"], path / "share_caller_number"),
        max_sentence_chars=expect_int(config["max_sentence_chars"], path / "max_sentence_chars", minimum=20),
        voice=voice,
    )


def endpoint_settings(config: LlmConfig) -> dict[str, Any]:
    """The ``openai.OpenAI`` arguments; ``None`` lets the client read ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``."""
    api_key = config.api_key if config.api_key is not None else os.environ.get("OPENAI_API_KEY")
    return {
        "base_url": config.base_url,
        "api_key": api_key,
        "timeout": config.timeout_seconds,
        "max_retries": config.max_retries,
    }
