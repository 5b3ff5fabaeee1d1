"""Whole-word matching helpers shared by the built-in skills."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flask_aiflow.skills.text import PhraseSet, _normalize_unicode, contains_phrase, find_phrase, normalize, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Goodbye!", "goodbye"),
        ("  GOODBYE...  now ", "goodbye now"),
        ("Bye-bye!", "bye bye"),
        ("Auf Wiederhören, TSCHÜSS!", "auf wiederhören tschüss"),
        ("Tschüß", "tschüss"),  # ß folds to ss
        ("STRASSE Straße", "strasse strasse"),
        ("u\u0308ber", "über"),  # decomposed umlaut equals the precomposed one
        ("That's all", "thats all"),
        ("That\u2019s all", "thats all"),  # typographic apostrophe
        ("That\u00b4s all", "thats all"),  # acute accent used as an apostrophe
        ("Option 2, bitte.", "option 2 bitte"),
        ("Ｆｕｌｌｗｉｄｔｈ", "fullwidth"),  # NFKC
        ("", ""),
        ("?!", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        normalize(None)  # type: ignore[arg-type]


def test_words() -> None:
    assert words("Abrechnung, bitte!") == ("abrechnung", "bitte")
    assert words("") == ()


@pytest.mark.parametrize(
    ("text", "phrase", "expected"),
    [
        ("Maybe later.", "bye", False),
        ("bye", "bye", True),
        ("OK, bye!", "Bye", True),
        ("Okay, see you later!", "see you", True),
        ("see, you", "see you", True),
        ("seeing you", "see you", False),
        ("you see", "see you", False),
        ("Abrechnung!", "abrechnung", True),
        ("Abrechnungen", "abrechnung", False),
        ("Tschüß!", "tschüss", True),
        ("thats all", "that's all", True),
        ("anything", "", False),
        ("", "bye", False),
    ],
)
def test_contains_phrase(text: str, phrase: str, expected: bool) -> None:
    assert contains_phrase(text, phrase) is expected


def test_contains_phrase_accepts_pre_split_words() -> None:
    keyword = words("Bye bye")
    assert contains_phrase(words("well, bye bye then"), keyword)
    assert contains_phrase("well, bye bye then", keyword)
    assert not contains_phrase("bye then bye", keyword)


def test_find_phrase_returns_the_first_match_as_given() -> None:
    phrases = ["goodbye", "see you", "bye"]
    assert find_phrase("Okay, bye, see you!", phrases) == "see you"
    assert find_phrase("maybe", phrases) is None
    pre = [words(p) for p in phrases]
    assert find_phrase("GOODBYE", pre) == ("goodbye",)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_fast_path_agrees_with_the_unicode_path(text: str) -> None:
    normalize.cache_clear()
    assert normalize(text) == _normalize_unicode(text)


def test_phrase_set_finds_phrases_in_the_given_order_as_whole_words() -> None:
    phrases = PhraseSet(["see you", "bye", "Tschüss!", "bye"])
    assert len(phrases) == 3
    assert phrases.matches("OK bye, see you later") == ["see you", "bye"]
    assert phrases.first("maybe later") is None
    assert phrases.first("TSCHÜSS und bye") == "bye"
    assert phrases.first("Na dann, tschüss") == "Tschüss!"
