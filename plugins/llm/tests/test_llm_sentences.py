"""The sentence splitter: a sentence is handed on as soon as it is certainly complete, never earlier."""

from __future__ import annotations

import pytest
from flask_aiflow_llm.sentences import SentenceSplitter, clean, sentences
from hypothesis import given
from hypothesis import strategies as st


def split(text: str) -> list[str]:
    return list(sentences([text]))


def test_a_sentence_is_complete_once_the_next_one_begins() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("Hello there.") == []  # the next piece may still be "5" (as in "there.5")
    assert splitter.feed(" ") == []  # ... or a lower-case word
    assert splitter.feed("How") == ["Hello there."]
    assert splitter.feed(" are you?") == []
    assert splitter.flush() == ["How are you?"]


def test_the_first_sentence_comes_out_while_the_rest_streams() -> None:
    splitter = SentenceSplitter()
    out = []
    for piece in ["We are", " open from nine", " to five! Is", " there", " anything else?"]:
        out.append(splitter.feed(piece))
    assert out == [[], [], ["We are open from nine to five!"], [], []]
    assert splitter.flush() == ["Is there anything else?"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("It costs 3.50 euros. Anything else?", ["It costs 3.50 euros.", "Anything else?"]),
        ("Visit example.com today. Thanks!", ["Visit example.com today.", "Thanks!"]),
        ("Dr. Smith will call you. Bye.", ["Dr. Smith will call you.", "Bye."]),
        ("Bring e.g. your invoice. Thanks.", ["Bring e.g. your invoice.", "Thanks."]),
        ("Das ist z.B. Ihre Rechnung. Danke.", ["Das ist z.B. Ihre Rechnung.", "Danke."]),
        ("Ask for J. Smith at the desk. Bye.", ["Ask for J. Smith at the desk.", "Bye."]),
        ("It takes approx. ten minutes. Okay?", ["It takes approx. ten minutes.", "Okay?"]),
        ("Really?! Yes. “Quoted.” Next.", ["Really?!", "Yes.", "“Quoted.”", "Next."]),
        ("Well... I think so. Yes.", ["Well...", "I think so.", "Yes."]),
        ("Version 2.1.3 is out. Update now.", ["Version 2.1.3 is out.", "Update now."]),
        ("The answer is no. Sorry.", ["The answer is no.", "Sorry."]),
    ],
)
def test_abbreviations_decimals_and_addresses_do_not_end_a_sentence(text: str, expected: list[str]) -> None:
    assert split(text) == expected


def test_a_line_break_ends_a_sentence_and_bullets_are_dropped() -> None:
    text = "Try this:\n1. Restart the router.\n2. Wait two minutes.\n- **Then** call us"
    assert split(text) == ["Try this:", "1. Restart the router.", "2. Wait two minutes.", "Then call us"]


def test_markdown_a_voice_cannot_say_is_dropped() -> None:
    assert clean("## **Opening hours**: `9-5`") == "Opening hours: 9-5"


def test_an_endless_sentence_is_cut_at_a_comma_before_the_limit() -> None:
    text = "We can help with billing, " + "and with many other things " * 3 + "and so on"
    out = split(text) if len(text) > 40 else []
    splitter = SentenceSplitter(max_chars=40)
    first = splitter.feed(text)
    assert first[0] == "We can help with billing,"
    assert all(len(part) <= 40 for part in first)
    assert " ".join(first + splitter.flush()) == " ".join(text.split())
    assert out == [" ".join(text.split())]  # the default limit keeps it whole


def test_nothing_is_lost_or_repeated_however_the_stream_is_cut() -> None:
    text = "Hello. It costs 3.50 euros, e.g. for Dr. Who. Bye!"
    whole = split(text)
    for cut in range(1, len(text)):
        assert list(sentences([text[:cut], text[cut:]])) == whole, cut


@given(st.lists(st.text(alphabet="ab .!?\n,3", max_size=12), max_size=12))
def test_every_word_comes_out_once_in_order(pieces: list[str]) -> None:
    out = list(sentences(pieces, max_chars=20))
    assert " ".join(out).split() == clean("".join(pieces)).split()
    assert all(part.strip() == part and part for part in out)


def test_a_tiny_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 20"):
        SentenceSplitter(max_chars=5)
