"""Article text -> word tokens, language-agnostic, with boilerplate lines left out.

Input: ``Article.text``. Output: ``Tokens`` (normalized word tokens plus, per token, whether it
sits inside a quotation). Normalization is Unicode NFKC + casefold with quotes and dashes
unified, so "Rutte", "RUTTE" and "Ｒｕｔｔｅ" are one token. Words are Unicode letter/mark/digit
runs; scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar, Tibetan) give one
token per character, so they shingle into character n-grams instead of one giant "word".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cached_property

import regex

from dedupe.config import NormalizeConfig

# Characters that open or close a quotation in the scripts we expect. A quotation never runs past
# the end of a line: crawled text often loses a closing mark, and the damage stays local.
QUOTE_CHARS = '"“”„‟«»「」『』＂〝〞〟'
_QUOTE_SPLIT = regex.compile(f"[{QUOTE_CHARS}]")
_DASHES = regex.compile(r"[\p{Pd}\u2212]")
_SPACES = regex.compile(r"\s+")
_NO_SPACE_SCRIPTS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"
_WORD = regex.compile(
    rf"[{_NO_SPACE_SCRIPTS}]|[[\p{{L}}\p{{M}}\p{{N}}]--[{_NO_SPACE_SCRIPTS}]]+", flags=regex.V1
)
_QUOTE_TRANSLATION = str.maketrans({c: '"' for c in QUOTE_CHARS} | {"‘": "'", "’": "'", "‚": "'"})


def normalize_text(text: str) -> str:
    """NFKC, casefold, unified quotes and dashes, collapsed white space.

    Example:
        >>> normalize_text("KONTAN.CO.ID — “Rutte”  SAID")
        'kontan.co.id - "rutte" said'
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    unified = _DASHES.sub("-", folded.translate(_QUOTE_TRANSLATION))
    return _SPACES.sub(" ", unified).strip()


@dataclass(frozen=True, slots=True)
class Tokens:
    """Normalized word tokens of one article and their quotation flags (same length)."""

    words: list[str]
    quoted: list[bool]


@dataclass(frozen=True)
class Normalizer:
    """Turns article text into ``Tokens``; compiled once per configuration."""

    config: NormalizeConfig

    @cached_property
    def _drop(self) -> regex.Pattern[str] | None:
        patterns = self.config.drop_lines
        return regex.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

    @cached_property
    def _prefixes(self) -> tuple[regex.Pattern[str], ...]:
        return tuple(regex.compile(p) for p in self.config.strip_prefixes)

    def is_boilerplate(self, normalized_line: str) -> bool:
        """Whether a normalized line matches one of ``normalize.drop_lines``."""
        return bool(self._drop and self._drop.search(normalized_line))

    def tokens(self, text: str) -> Tokens:
        """Tokenize one article, skipping boilerplate lines and credit/dateline prefixes."""
        words: list[str] = []
        quoted: list[bool] = []
        for raw_line in text.splitlines():
            line = normalize_text(raw_line)
            if not line or self.is_boilerplate(line):
                continue
            for prefix in self._prefixes:
                line = prefix.sub("", line, count=1)
            # Split at quote marks: odd segments are inside a quotation.
            for index, segment in enumerate(_QUOTE_SPLIT.split(line)):
                found = _WORD.findall(segment)
                words.extend(found)
                quoted.extend([index % 2 == 1] * len(found))
        return Tokens(words=words, quoted=quoted)
