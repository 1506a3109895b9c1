"""Article text -> passages (sentences inside paragraphs) with exact character offsets.

Input: ``Article.text`` as read. Output: ``Segment`` spans, each ``text[start:end]`` of the
original string with the surrounding white space left out, so a reported passage can always be
cut back out of the article.

Paragraphs are lines: crawled news puts one paragraph per line, with or without blank lines in
between. Sentences inside a paragraph come from sentencex (Wikimedia's segmenter: abbreviation
lists for dozens of languages, quote-aware, terminators of CJK and other scripts). sentencex has
no Indonesian list and no single-letter initials rule, so a split right after one of
``EXTRA_ABBREVIATIONS`` or after an initial ("H. Ahmad") is joined back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sentencex

# Abbreviations sentencex's English list (our fallback for unknown languages) does not know,
# mostly Indonesian and Portuguese; matched case-insensitively on the word before the period.
_ABBREVIATIONS = """
    bpk ibu sdr sdri jl jln kab kec kel kota prov no tgl hlm drs dra ir ssi sh se mm mt
    kh dr dkk dll dsb dst yth pt tbk cv ust hj ny tn av pres gov gen cel sra srta exa
"""
EXTRA_ABBREVIATIONS = frozenset(_ABBREVIATIONS.split())
# The word before a split point: letters only, so "10.000" or "U.S." never look like one.
_LAST_WORD = re.compile(r"(\w+)\.[\"'”’»)]*\s*$")
_LINE = re.compile(r"[^\r\n]+")


@dataclass(frozen=True, slots=True)
class Segment:
    """One sentence: ``text[start:end]`` of the article, trimmed of white space.

    Attributes:
        start: Offset of the first character (Python ``str`` index into the text as read).
        end: Offset one past the last character.
        paragraph: 0-based index of the paragraph (non-empty line) it belongs to.
    """

    start: int
    end: int
    paragraph: int


def _joins_next(piece: str, following: str) -> bool:
    """Whether a sentence split after ``piece`` is a false one.

    False splits: after an abbreviation or an initial, and inside a token ("KONTAN.CO.ID",
    "detik.com"), where no space follows the period.
    """
    if piece.endswith(".") and following[:1].isalnum():
        return True
    match = _LAST_WORD.search(piece)
    if match is None:
        return False
    word = match.group(1)
    if len(word) == 1 and word.isalpha() and word.isupper():
        return True  # an initial: "H. Ahmad", "Joe B. Smith"
    return word.casefold() in EXTRA_ABBREVIATIONS


def segment(text: str, language: str = "en") -> list[Segment]:
    r"""Split an article into sentences, keeping exact offsets into ``text``.

    Args:
        text: The article as read.
        language: ISO 639 code for sentencex's abbreviation list; an unknown code falls back
            to English rules, which suit most Latin-script news.

    Returns:
        Sentences in text order, never empty, never overlapping.

    Example:
        >>> text = "Bpk. Ahmad tiba. Ia pergi.\n\nBaris baru."
        >>> [text[s.start:s.end] for s in segment(text)]
        ['Bpk. Ahmad tiba.', 'Ia pergi.', 'Baris baru.']
    """
    out: list[Segment] = []
    for paragraph, line in enumerate(m for m in _LINE.finditer(text) if m.group().strip()):
        body = line.group()  # one copy per line: group() copies, and lines can be megabytes
        pieces = [
            (b["start_index"], b["end_index"])
            for b in sentencex.get_sentence_boundaries(language, body)
            if not b["is_paragraph_break"]
        ]
        merged: list[tuple[int, int]] = []
        for start, end in pieces:
            if merged and _joins_next(body[merged[-1][0] : merged[-1][1]], body[start:end]):
                merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        for start, end in merged:
            piece = body[start:end]
            stripped = piece.strip()
            if not stripped:
                continue
            begin = line.start() + start + (len(piece) - len(piece.lstrip()))
            out.append(Segment(start=begin, end=begin + len(stripped), paragraph=paragraph))
    return out
