"""Article text -> word tokens, language-agnostic, with boilerplate lines left out.

Input: ``Article.text``. Output: ``Tokens`` (normalized word tokens plus, per token, whether it
sits inside a quotation). Normalization is Unicode NFKC + casefold with quotes and dashes
unified, so "Rutte", "RUTTE" and "Ｒｕｔｔｅ" are one token. Words are runs of Unicode letters,
combining marks and digits; scripts written without spaces (Han, kana, Thai, Lao, Khmer,
Myanmar, Tibetan) give one token per character, so they shingle into character n-grams instead
of one giant "word".
"""

from __future__ import annotations

import codecs
import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property

from dedupe.config import NormalizeConfig

# Characters that open or close a quotation. A quotation never runs past the end of a line:
# crawled text often loses a closing mark, and the damage stays local.
QUOTE_CHARS = '"“”„‟«»「」『』＂〝〞〟'
_DASH_CHARS = "\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e17\u2e1a"
_DASH_CHARS += "\u2e3a\u2e3b\u2e40\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d"
_NEEDS_FOLD = re.compile(f"[{re.escape(QUOTE_CHARS + _DASH_CHARS)}‘’‚]")
_FOLD_MAP = (
    {c: '"' for c in QUOTE_CHARS} | {c: "-" for c in _DASH_CHARS} | dict.fromkeys("‘’‚", "'")
)
# Blocks of scripts written without spaces between words.
_NO_SPACE_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x19E0, 0x19FF),  # Khmer symbols
    (0x3005, 0x3007),  # 々〆〇
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3134F),  # CJK extensions B-G
)


def _class(ranges: list[tuple[int, int]]) -> str:
    return "".join(
        f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" if hi > lo else re.escape(chr(lo))
        for lo, hi in ranges
    )


_ASCII_WORD = re.compile(r"[a-z0-9]+")
_LETTERS_DIGITS = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class _WordPatterns:
    bmp: re.Pattern[str]
    full: re.Pattern[str]
    no_space: re.Pattern[str]
    split: re.Pattern[str]


@cache
def _patterns() -> _WordPatterns:
    r"""Word patterns, built once from ``unicodedata`` (stdlib ``re`` has no ``\\p{..}``).

    ``[^\\W_]`` (letters and digits) misses combining marks, so Devanagari or Thai words would
    split at their vowel signs; a generated mark class continues a word across them. Astral
    (non-BMP) ranges make sre test ranges one by one, so they get their own, slower pattern,
    used only on lines that have astral characters.
    """
    marks: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code))[0] == "M":
            if marks and marks[-1][1] == code - 1:
                marks[-1] = (marks[-1][0], code)
            else:
                marks.append((code, code))
    bmp_marks = _class([r for r in marks if r[1] <= 0xFFFF])
    no_space = _class(list(_NO_SPACE_RANGES))
    return _WordPatterns(
        bmp=re.compile(rf"[^\W_]+(?:[{bmp_marks}]+[^\W_]*)*"),
        full=re.compile(rf"[^\W_]+(?:[{_class(marks)}]+[^\W_]*)*"),
        no_space=re.compile(f"[{no_space}]"),
        split=re.compile(f"[{no_space}]|[^{no_space}]+"),
    )


def find_words(line: str) -> list[str]:
    """Word tokens of one folded line (see the module docstring for what a word is).

    Example:
        >>> find_words("东京 hari ini हिन्दी")
        ['东', '京', 'hari', 'ini', 'हिन्दी']
    """
    if line.isascii():
        return _ASCII_WORD.findall(line)
    highest = max(line)
    if highest < "\u0300":  # below the first combining mark: Latin-1 and Latin Extended text
        return _LETTERS_DIGITS.findall(line)
    patterns = _patterns()
    word = patterns.full if highest > "\uffff" else patterns.bmp
    found: list[str] = word.findall(line)
    # Latin, Cyrillic, Arabic... all sort below Thai, the first no-space block: skip the search.
    if highest < "\u0e00" or not patterns.no_space.search(line):
        return found
    return [part for token in found for part in patterns.split.findall(token)]


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """Words of unfolded text with their offsets, each folded as ``Normalizer`` folds it.

    The words are those ``find_words`` finds on folded text, but the offsets point into the
    text as read, so attribution can report exact spans.

    Example:
        >>> word_spans("“RUTTE” 东京")
        [(1, 6, 'rutte'), (8, 9, '东'), (9, 10, '京')]
    """
    if not text:
        return []
    patterns = _patterns()
    word = patterns.full if max(text) > "\uffff" else patterns.bmp
    out: list[tuple[int, int, str]] = []
    for match in word.finditer(text):
        token = match.group()
        if max(token) >= "\u0e00" and patterns.no_space.search(token):
            for part in patterns.split.finditer(token):
                start = match.start() + part.start()
                out.append((start, start + len(part.group()), fold(part.group())))
        else:
            out.append((match.start(), match.end(), fold(token)))
    return out


def fold(text: str) -> str:
    """NFKC, casefold, unified quotes and dashes; line breaks are kept.

    Example:
        >>> fold("KONTAN.CO.ID — “Rutte”")
        'kontan.co.id - "rutte"'
    """
    return _fold(text)[0]


def _fold(text: str) -> tuple[str, bytes | None]:
    """``fold``, and for text folded through the Latin-1 table its bytes (before ß -> ss)."""
    if text.isascii():
        return text.lower(), None  # casefold == lower on ASCII, and NFKC changes nothing
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    try:
        # Quotes and dashes beyond Latin-1 become ASCII while encoding (_fold_beyond_latin1):
        # text that is Latin-1 apart from curly quotes and dashes, most Indonesian,
        # Portuguese or English news, takes the table too.
        raw = text.encode("latin-1", _FOLD_ERRORS).translate(_LATIN1_FOLD)
    except UnicodeEncodeError:
        pass
    else:
        folded = raw.decode("latin-1")
        for char, expansion in _LATIN1_EXPAND:
            if char in folded:
                folded = folded.replace(char, expansion)
        return folded, raw
    text = text.casefold()
    # casefold can leave a non-NFKC sequence behind; a second pass keeps fold idempotent.
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    # str.translate walks a dict per character (~100x slower here); quotes and dashes are rare.
    return _NEEDS_FOLD.sub(_fold_char, text), None


def _latin1_fold_table() -> tuple[bytes, tuple[tuple[str, str], ...]]:
    """``casefold`` then the quote fold of each Latin-1 character, as a bytes table.

    str.casefold looks up every character in the Unicode tables: on Portuguese news it was
    over a third of tokenizing; one bytes table does it for Latin-1 text. Returns the table
    (characters that fold to one character) and the characters that fold to several (ß ->
    ss, replaced after). Only NFKC text reaches the table, and every Latin-1 character NFKC
    keeps folds to Latin-1 characters that NFKC keeps (µ, the one that would not, NFKC maps
    to Greek μ first): so the general path's second NFKC pass has nothing to do here
    (``test_normalize`` checks pairs of characters too).
    """
    table = bytearray(range(256))
    expand: list[tuple[str, str]] = []
    for code in range(256):
        char = chr(code)
        if unicodedata.normalize("NFKC", char) != char:
            continue
        folded = "".join(_FOLD_MAP.get(c, c) for c in char.casefold())
        if max(folded) > "\xff":
            raise AssertionError(f"{char!r} folds outside Latin-1")
        if len(folded) == 1:
            table[code] = ord(folded)
        else:
            expand.append((char, folded))
    return bytes(table), tuple(expand)


_LATIN1_FOLD, _LATIN1_EXPAND = _latin1_fold_table()


def _fold_beyond_latin1(error: UnicodeError) -> tuple[str, int]:
    """Encoding error handler: quotes and dashes beyond Latin-1 as their ASCII fold.

    Casefold and NFKC leave them as they are (they neither change nor combine), so folding
    them first gives what folding them last does. Any other character ends the encoding.
    """
    if not isinstance(error, UnicodeEncodeError):
        raise error
    part = error.object[error.start : error.end]
    if all(c in _FOLD_MAP for c in part):
        return "".join(_FOLD_MAP[c] for c in part), error.end
    raise error


_FOLD_ERRORS = "dedupe.fold"
codecs.register_error(_FOLD_ERRORS, _fold_beyond_latin1)


def _fold_char(match: re.Match[str]) -> str:
    return _FOLD_MAP[match.group()]


def normalize_text(text: str) -> str:
    r"""``fold`` plus white space collapsed to single spaces: the form patterns are matched on.

    Example:
        >>> normalize_text("  Baca   JUGA:  berita ")
        'baca juga: berita'
    """
    return " ".join(fold(text).split())


# A byte-level word: ASCII letters/digits, or any byte of a multi-byte UTF-8 character. On a
# segment that passed ``_needs_exact`` (or was rebuilt from exact tokens) this is exactly
# ``find_words``, so the batch tokenizer can work on bytes with numpy.
_BYTE_WORD = re.compile(r"[a-z0-9\u0080-\U0010ffff]+")


_NON_WORD_NON_ASCII = re.compile(r"[^\x00-\x7f\w]")
# Latin-1 characters ``_NON_WORD_NON_ASCII`` does not match: ASCII, letters, digits.
_LATIN1_WORD_BYTES = bytes(c for c in range(256) if not _NON_WORD_NON_ASCII.match(chr(c)))
_AT_OR_ABOVE_THAI = re.compile("[\u0e00-\U0010ffff]")


# White space that ``str.splitlines`` does not break at and NFKC keeps, other than the plain
# space (``test_normalize`` derives them from ``str.isspace``): what ``" ".join(line.split())``
# would collapse in folded text. Text without them and without double spaces is collapsed.
_INLINE_SPACES = ("  ", "\t", "\x1f", "\u1680")


def _single_spaced(folded: str) -> bool:
    double, tab, unit, ogham = _INLINE_SPACES  # four C searches, no generator per article
    return double not in folded and tab not in folded and unit not in folded and ogham not in folded


def _exact_test(folded: str, latin1: bytes | None) -> Callable[[str], bool] | None:
    """The test that tells which segments of ``folded`` need ``find_words`` (None: none do).

    One scan of the whole text usually settles it; before, every segment of every article
    was searched twice, about a third of tokenizing. ``latin1``: the text's Latin-1 bytes
    from ``_fold``, when it has them.
    """
    if folded.isascii():
        return None
    if latin1 is None:
        try:
            latin1 = folded.encode("latin-1")
        except UnicodeEncodeError:
            return _needs_exact
    # Below U+0100: no combining marks, no no-space scripts; only symbols such as © or °.
    # Deleting every other byte is one C loop (the regex search was ~4x slower).
    if not latin1.translate(None, _LATIN1_WORD_BYTES):
        return None
    return _has_non_word


def _has_non_word(part: str) -> bool:
    return _NON_WORD_NON_ASCII.search(part) is not None


def _needs_exact(part: str) -> bool:
    """Whether a non-ASCII segment needs the exact ``find_words``.

    It does when it holds a character that is neither ASCII nor a letter/digit (marks,
    symbols), or a no-space script. On every other segment a word is simply a run of ASCII
    letters/digits and non-ASCII characters. Scripts without spaces all sort at or above
    Thai, so most text skips that (slower, range-by-range) search.
    """
    if _NON_WORD_NON_ASCII.search(part):
        return True
    # max(part) walks the string in Python; a one-range character class is a C loop.
    return (
        _AT_OR_ABOVE_THAI.search(part) is not None and _patterns().no_space.search(part) is not None
    )


@dataclass(frozen=True, slots=True)
class Tokens:
    """One article, normalized, as segments: folded text outside/inside quotations.

    Word characters in a segment are ASCII letters/digits and non-ASCII characters; everything
    else separates words. ``words`` lists them (the batch tokenizer finds the same words on
    the UTF-8 bytes without making a string per word).
    """

    segments: tuple[str, ...]
    quoted: tuple[bool, ...]

    @property
    def words(self) -> list[str]:
        """The word tokens, in order."""
        return [w for segment in self.segments for w in _BYTE_WORD.findall(segment)]

    @property
    def word_quoted(self) -> list[bool]:
        """For each word, whether it lies inside a quotation."""
        return [
            q
            for segment, q in zip(self.segments, self.quoted, strict=True)
            for _ in _BYTE_WORD.findall(segment)
        ]


# Datelines and credit prefixes only stand at the top of an article.
_PREFIX_LINES = 3


@dataclass(frozen=True)
class Normalizer:
    """Turns article text into ``Tokens``; compiled once per configuration."""

    config: NormalizeConfig

    @cached_property
    def _drop(self) -> re.Pattern[str] | None:
        patterns = self.config.drop_lines
        return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

    @cached_property
    def _prefix(self) -> re.Pattern[str] | None:
        patterns = self.config.strip_prefixes
        return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

    def is_boilerplate(self, normalized_line: str) -> bool:
        """Whether a normalized line matches one of ``normalize.drop_lines``."""
        return bool(self._drop and self._drop.search(normalized_line))

    def strip_prefix(self, normalized_line: str) -> str:
        """The line without a leading ``normalize.strip_prefixes`` match (dateline, credit)."""
        if self._prefix is None:
            return normalized_line
        return self._prefix.sub("", normalized_line, count=1)

    def tokens(self, text: str) -> Tokens:
        """Tokenize one article, skipping boilerplate lines and credit/dateline prefixes."""
        segments: list[str] = []
        quoted: list[bool] = []
        kept = 0
        folded, latin1 = _fold(text)
        # Two whole-text scans spare most articles a per-line split (a string per word) and
        # per-segment searches: together they were over a third of tokenizing.
        single_spaced = _single_spaced(folded)
        needs_exact = _exact_test(folded, latin1)
        for raw_line in folded.splitlines():
            line = raw_line.strip(" ") if single_spaced else " ".join(raw_line.split())
            if not line or self.is_boilerplate(line):
                continue
            if kept < _PREFIX_LINES:
                line = self.strip_prefix(line)
            kept += 1
            # Split at quote marks: odd segments are inside a quotation.
            # ``fold`` turned every quotation mark into '"'.
            parts = line.split('"') if '"' in line else (line,)
            for index, part in enumerate(parts):
                if needs_exact is not None and not part.isascii() and needs_exact(part):
                    part = " ".join(find_words(part))
                if part:
                    segments.append(part)
                    quoted.append(index % 2 == 1)
        return Tokens(segments=tuple(segments), quoted=tuple(quoted))
