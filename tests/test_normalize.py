from hypothesis import given
from hypothesis import strategies as st

from dedupe.config import NormalizeConfig
from dedupe.normalize import Normalizer, normalize_text


@given(st.text())
def test_normalize_text_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


def test_case_width_quotes_and_dashes_are_unified() -> None:
    assert normalize_text("“ＲＵＴＴＥ” — said") == normalize_text('"rutte" - SAID')


def test_boilerplate_lines_and_credit_prefixes_are_left_out() -> None:
    normalizer = Normalizer(NormalizeConfig())
    text = (
        "JAKARTA (Reuters) - Harga minyak naik tajam.\n"
        "Baca juga: Harga emas turun\n"
        "Editor: Budi\n"
        "KONTAN.CO.ID - Pasar saham dibuka menguat."
    )
    assert normalizer.tokens(text).words == [
        "harga",
        "minyak",
        "naik",
        "tajam",
        "pasar",
        "saham",
        "dibuka",
        "menguat",
    ]


def test_quoted_words_are_flagged_per_line() -> None:
    tokens = Normalizer(NormalizeConfig()).tokens(
        'He said “we will stay” today.\n"Open quote\nnext'
    )
    flagged = dict(zip(tokens.words, tokens.word_quoted, strict=True))
    assert flagged == {
        "he": False,
        "said": False,
        "we": True,
        "will": True,
        "stay": True,
        "today": False,
        "open": True,
        "quote": True,
        "next": False,
    }


def test_scripts_without_spaces_give_one_token_per_character() -> None:
    words = Normalizer(NormalizeConfig()).tokens("東京都は晴れ abc ภาษาไทย").words
    assert words[:5] == ["東", "京", "都", "は", "晴"]
    assert "abc" in words and "ภ" in words


def test_combining_marks_stay_inside_words() -> None:
    assert Normalizer(NormalizeConfig()).tokens("हिन्दी समाचार").words == ["हिन्दी", "समाचार"]


@given(st.text())
def test_fast_word_path_equals_the_exact_tokenizer(text: str) -> None:
    from dedupe.normalize import _QUOTE_SPLIT, find_words, fold

    expected = []
    for raw_line in fold(text).splitlines():
        line = " ".join(raw_line.split())
        for part in _QUOTE_SPLIT.split(line):
            expected.extend(find_words(part))
    plain = Normalizer(NormalizeConfig(drop_lines=(), strip_prefixes=()))
    assert plain.tokens(text).words == expected
