import re
import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from dedupe.config import NormalizeConfig
from dedupe.normalize import QUOTE_CHARS, Normalizer, Tokens, normalize_text

_QUOTE_SPLIT = re.compile(f"[{re.escape(QUOTE_CHARS)}]")


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
    from dedupe.normalize import find_words, fold

    expected = []
    for raw_line in fold(text).splitlines():
        line = " ".join(raw_line.split())
        for part in _QUOTE_SPLIT.split(line):
            expected.extend(find_words(part))
    plain = Normalizer(NormalizeConfig(drop_lines=(), strip_prefixes=()))
    assert plain.tokens(text).words == expected


def _fold_unicode_tables(text: str) -> str:
    """``fold`` as written before its Latin-1 table: str.casefold on every text."""
    from dedupe.normalize import _NEEDS_FOLD, _fold_char

    text = unicodedata.normalize("NFKC", text).casefold()
    return _NEEDS_FOLD.sub(_fold_char, unicodedata.normalize("NFKC", text))


def test_folding_each_character_equals_the_unicode_tables() -> None:
    from dedupe.normalize import fold

    for code in list(range(0x3100)) + list(range(0xFE30, 0xFF70)):
        char = chr(code)
        for text in (char, f"Ab{char}é", f"“{char}\u0301”"):
            assert fold(text) == _fold_unicode_tables(text), repr(text)


def test_folded_latin1_text_needs_no_second_nfkc_pass() -> None:
    # Why fold's Latin-1 table skips the general path's second NFKC pass: no pair of
    # folded Latin-1 characters (that NFKC keeps) composes or decomposes.
    from dedupe.normalize import fold

    kept = [c for c in map(chr, range(256)) if unicodedata.normalize("NFKC", c) == c]
    for first in kept:
        for second in kept:
            pair = fold(first + second)
            assert unicodedata.normalize("NFKC", pair) == pair, repr(first + second)


# Latin-1 (every character, so a case or quote mapping of the table is exercised) mixed with
# what sends text off the table: curly quotes and dashes, ß and µ, marks, Greek, Cyrillic.
_LATIN1_MOSTLY = st.lists(
    st.sampled_from([chr(c) for c in range(256)] + list("“”‘’‚—–\u0301\u0327ΣσςİıДдﬁ＂－東")),
    max_size=60,
).map("".join)


@given(_LATIN1_MOSTLY)
def test_fold_equals_the_unicode_tables(text: str) -> None:
    from dedupe.normalize import fold

    assert fold(text) == _fold_unicode_tables(text)


def _tokens_line_by_line(normalizer: Normalizer, text: str) -> Tokens:
    """The tokenizer as written before its whole-text shortcuts: every line split and
    joined, every non-ASCII segment searched."""
    from dedupe.normalize import _needs_exact, find_words, fold

    segments: list[str] = []
    quoted: list[bool] = []
    kept = 0
    for raw_line in fold(text).splitlines():
        line = " ".join(raw_line.split())
        if not line or normalizer.is_boilerplate(line):
            continue
        if kept < 3:
            line = normalizer.strip_prefix(line)
        kept += 1
        parts = _QUOTE_SPLIT.split(line) if '"' in line else (line,)
        for index, part in enumerate(parts):
            if not part.isascii() and _needs_exact(part):
                part = " ".join(find_words(part))
            if part:
                segments.append(part)
                quoted.append(index % 2 == 1)
    return Tokens(segments=tuple(segments), quoted=tuple(quoted))


# Every kind of white space, symbols, accents, marks, a no-space script, quotes, and the
# words of the default boilerplate and credit patterns.
_TRICKY = st.lists(
    st.sampled_from(
        [c for c in map(chr, range(0x3100)) if c.isspace()]
        + list('ab é©°×ß\u0301\u0e01\u0e32東"“”«»-—()')
        + ["Baca juga: ", "(Reuters) - ", "Editor: ", "© 2024 ", "ABC.com - ", "\n", "  "]
    ),
    max_size=40,
).map("".join)


@given(_TRICKY)
def test_tokens_equal_the_line_by_line_tokenizer(text: str) -> None:
    normalizer = Normalizer(NormalizeConfig())
    assert normalizer.tokens(text) == _tokens_line_by_line(normalizer, text)


def test_every_white_space_that_folding_keeps_inside_a_line_is_collapsed() -> None:
    from dedupe.normalize import _INLINE_SPACES, fold

    def inline_space(c: str) -> bool:
        return c.isspace() and c != " " and len(f"a{c}b".splitlines()) == 1

    kept = {c for code in range(sys.maxunicode + 1) for c in fold(chr(code)) if inline_space(c)}
    assert kept <= set(_INLINE_SPACES)
