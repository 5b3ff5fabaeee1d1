"""Talk to the model: build the request from the call, stream the reply as answers for the caller.

:func:`messages` runs in the event's hook (it reads the call's transcript);
:meth:`Responder.answers` runs as deferred work, away from the request, and
yields one answer per spoken sentence, then the outcome of a tool call if
the model asked for one. Whatever goes wrong on the way (the endpoint down,
429, a timeout, a stream that breaks off) ends in the configured apology,
and in a transfer when ``on_failure`` names one: the call never hangs.
Closing the generator (a newer caller turn) closes the HTTP stream.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import openai

from flask_aiflow import Candidate, Session, Speak, speak

from .config import LlmConfig, endpoint_settings
from .sentences import SentenceSplitter
from .tools import (
    OPEN_MENU,
    Refused,
    ToolCall,
    carry_out,
    definitions,
    refusal,
    transfer_candidate,
)

logger = logging.getLogger("flask_aiflow.llm")

#: What the stream yields: a sentence to speak, or a tool's outcome / the apology.
Answer = Speak | Candidate

Message = dict[str, Any]


def caller_number(session: Session) -> str | None:
    """The caller's number: the remote party, whichever way the call goes."""
    if session.direction == "outbound":
        return session.to_phone_number
    return session.from_phone_number


def messages(
    config: LlmConfig,
    transcript: Sequence[Mapping[str, Any]],
    said: str,
    session: Session,
    *,
    fillers: Collection[str] = (),
) -> list[Message]:
    """The chat: the system prompt, then the last ``config.history`` turns of the call.

    ``transcript`` is the call's (its last turn normally is ``said``); when
    the app keeps no transcript, ``said`` alone is the conversation.
    Consecutive turns of one side (a reply spoken sentence by sentence) make
    one message; ``fillers`` (the lines said while the model was writing)
    are not the model's words and are left out. The
    caller's number is added to the system prompt only with
    ``share_caller_number``.
    """
    system = config.system_prompt
    number = caller_number(session) if config.share_caller_number else None
    if number:
        system = f"{system}\nThe caller's phone number is {number}."
    chat: list[Message] = [{"role": "system", "content": system}]
    turns = [
        turn for turn in transcript if turn.get("text") and not (turn["role"] == "assistant" and turn["text"] in fillers)
    ][-config.history :]
    if not turns or turns[-1]["role"] != "caller" or turns[-1]["text"] != said:
        turns.append({"role": "caller", "text": said})
    for turn in turns:
        role = "user" if turn["role"] == "caller" else "assistant"
        if chat[-1]["role"] == role:  # one streamed reply is several assistant turns: one message
            chat[-1] = {"role": role, "content": f"{chat[-1]['content']} {turn['text']}"}
        else:
            chat.append({"role": role, "content": turn["text"]})
    return chat


class _ToolCalls:
    """Tool calls put together from a stream's fragments (by index)."""

    def __init__(self) -> None:
        self._parts: dict[int, list[str]] = {}

    def add(self, fragments: Any) -> None:
        for fragment in fragments:
            name, arguments = self._parts.setdefault(fragment.index, ["", ""])
            function = fragment.function
            if function is not None:
                self._parts[fragment.index] = [name + (function.name or ""), arguments + (function.arguments or "")]

    def calls(self) -> list[ToolCall]:
        return [ToolCall(name, arguments) for _, (name, arguments) in sorted(self._parts.items())]


class Responder:
    """One configured endpoint; :meth:`answers` streams the model's reply to one chat.

    :param menu_prompt: the menu's opening, said for the ``open_menu`` tool
        (None: that tool is not offered).
    """

    def __init__(self, config: LlmConfig, *, menu_prompt: Candidate | None = None) -> None:
        self.config = config
        self.client = openai.OpenAI(**endpoint_settings(config))
        self.menu_prompt = menu_prompt
        self.tools = [
            tool for tool in definitions(config) if menu_prompt is not None or tool["function"]["name"] != OPEN_MENU
        ]

    def answers(self, chat: list[Message]) -> Iterator[Answer]:
        """The reply, sentence by sentence as each completes, then a tool's outcome if any."""
        config = self.config
        spoken = 0
        tool_calls = _ToolCalls()
        try:
            stream = self.client.chat.completions.create(**self._request(chat))
        except Exception as exc:
            yield self.failure(exc)
            return
        try:
            splitter = SentenceSplitter(max_chars=config.max_sentence_chars)
            for chunk in stream:
                if not chunk.choices:
                    continue
                delta = chunk.choices[0].delta
                if delta.tool_calls:
                    tool_calls.add(delta.tool_calls)
                if delta.content:
                    for sentence in splitter.feed(delta.content):
                        spoken += 1
                        yield self._say(sentence)
            for sentence in splitter.flush():
                spoken += 1
                yield self._say(sentence)
        except Exception as exc:
            yield self.failure(exc, after=spoken)
            return
        finally:
            stream.close()
        outcome = self._outcome(tool_calls.calls())
        if outcome is not None:
            yield outcome
        elif not spoken:
            yield self.failure(None)

    def _request(self, chat: list[Message]) -> dict[str, Any]:
        config = self.config
        request: dict[str, Any] = {"model": config.model, "messages": chat, "stream": True}
        if self.tools:
            request["tools"] = self.tools
        if config.temperature is not None:
            request["temperature"] = config.temperature
        if config.max_tokens is not None:
            request["max_tokens"] = config.max_tokens
        return request

    def _say(self, sentence: str) -> Speak:
        voice = self.config.voice
        return speak(
            sentence,
            tts=voice.tts,
            barge_in=voice.barge_in,
            user_input_timeout_seconds=voice.user_input_timeout_seconds,
        )

    def _outcome(self, calls: list[ToolCall]) -> Candidate | None:
        if not calls:
            return None
        if len(calls) > 1:
            return refusal(self.config, f"{len(calls)} tool calls at once ({', '.join(c.name for c in calls)})")
        try:
            return carry_out(calls[0], self.config, self.menu_prompt)
        except Refused as exc:
            return refusal(self.config, str(exc))

    def failure(self, exc: BaseException | None, *, after: int = 0) -> Candidate:
        """The apology (and the configured transfer) for a reply that failed; logs why."""
        config = self.config
        if exc is None:
            why = "the model answered nothing"
        else:
            why = f"{type(exc).__name__}: {exc}"
        if after:
            why = f"{why} (after {after} sentence(s))"
        logger.warning("llm: no answer from %s: %s", config.model, why)
        reason = f"llm: failed ({why})"
        if config.on_failure is None:
            return Candidate(config.apology, reason=reason)
        handover = transfer_candidate(config.on_failure, reason=reason)
        return Candidate(config.apology, reason=reason, then=(handover.action, *handover.then))
