"""The AI Flow service's rules that the call simulator plays by.

Pure functions, so each rule is tested on its own: how long the service
takes to say something, and whether an utterance made while the assistant
is still speaking interrupts it (``barged_in``) or is dropped.

From the reference: barge-in strategy ``none`` lets nothing interrupt;
``manual`` means "barge-in via API only (no automatic detection)", for
"custom interruption logic": the caller's words still reach the app (as
``user_speak`` with ``barged_in: true``), the prompt plays on, and only the
app's ``barge_in`` action interrupts it; ``minimum_characters`` (the
default) interrupts when the caller's speech *exceeds* ``minimum_characters``
(default 3) once ``allow_after_ms`` (default 0) of the prompt have played.

How characters are counted (the reference does not say): the recognised
text's characters without any whitespace, so "no" is 2 and "a b c" is 3;
punctuation counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_aiflow.protocol.actions import Audio, BargeInConfig, Speak

#: The service's defaults for a ``minimum_characters`` barge-in.
DEFAULT_MINIMUM_CHARACTERS = 3
DEFAULT_ALLOW_AFTER_MS = 0

#: Speaking rate assumed for text-to-speech: about 14 characters a second,
#: an ordinary conversational pace (150 words a minute).
MS_PER_CHARACTER = 70
#: The shortest prompt: even "Yes." takes a moment to say.
MIN_SPEECH_MS = 400

#: Bytes per millisecond of the only audio format the service plays
#: (16 kHz, mono, 16-bit): 16000 * 2 / 1000.
AUDIO_BYTES_PER_MS = 32
WAV_HEADER_BYTES = 44

_TAG = re.compile(r"<[^>]*>")


def spoken_text(action: Speak) -> str:
    """What a caller hears of a speak action: its text, or its SSML without tags."""
    if action.text is not None:
        return action.text
    return " ".join(_TAG.sub(" ", action.ssml or "").split())


def speech_duration_ms(action: Speak | Audio) -> int:
    """A plausible playing time for a speak or audio action, in milliseconds.

    Speech: :data:`MS_PER_CHARACTER` per character of what is said (SSML tags
    do not count), at least :data:`MIN_SPEECH_MS`. Audio: the length of the
    PCM data behind the WAV header.
    """
    if isinstance(action, Audio):
        encoded = action.audio
        size = len(encoded) * 3 // 4 - encoded[-2:].count("=")
        return max(1, (size - WAV_HEADER_BYTES) // AUDIO_BYTES_PER_MS)
    return max(MIN_SPEECH_MS, len(spoken_text(action)) * MS_PER_CHARACTER)


@dataclass(frozen=True, slots=True)
class BargeInVerdict:
    """Whether an utterance during playback reaches the app, whether it stops the prompt, and why.

    :param delivered: the app gets it as ``user_speak`` with ``barged_in: true``.
    :param interrupts: the prompt stops (it gets no ``assistant_speech_ended``);
        False under ``manual``, where only the app's ``barge_in`` action stops it.
    """

    delivered: bool
    reason: str
    interrupts: bool = False


def barge_in_characters(text: str) -> int:
    """The characters of ``text`` that count towards ``minimum_characters``: all but whitespace."""
    return sum(1 for char in text if not char.isspace())


def barge_in_verdict(config: BargeInConfig | None, text: str, after_ms: int) -> BargeInVerdict:
    """Decide an utterance made ``after_ms`` into a prompt with barge-in ``config``.

    ``config`` None means the service's default (``minimum_characters``, 3
    characters, from 0 ms). Characters are counted by
    :func:`barge_in_characters` (whitespace does not count), and the count
    must exceed the minimum, as the reference words it.
    """
    config = config or BargeInConfig()
    if config.strategy == "none":
        return BargeInVerdict(False, "barge-in strategy 'none': the prompt plays to the end and the utterance is dropped")
    if config.strategy == "manual":
        return BargeInVerdict(
            True,
            "barge-in strategy 'manual': the utterance reaches the app (barged_in) and the prompt plays on; "
            "only the app's barge_in action interrupts it",
        )
    minimum = config.minimum_characters or DEFAULT_MINIMUM_CHARACTERS
    allow_after = config.allow_after_ms if config.allow_after_ms is not None else DEFAULT_ALLOW_AFTER_MS
    length = barge_in_characters(text)
    if length <= minimum:
        return BargeInVerdict(
            False,
            f"barge-in needs more than {minimum} characters (whitespace not counted), the caller said {length}; "
            "the utterance is dropped",
        )
    if after_ms < allow_after:
        return BargeInVerdict(
            False,
            f"barge-in is allowed only after {allow_after} ms, the caller spoke after {after_ms} ms; "
            "the utterance is dropped",
        )
    return BargeInVerdict(
        True, f"barge-in accepted: {length} > {minimum} characters after {after_ms} >= {allow_after} ms", interrupts=True
    )
