"""Bytes to text: UTF-8 (with or without BOM), UTF-16/32 by BOM, else charset detection."""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from pathlib import Path

from charset_normalizer import CharsetMatch, from_bytes

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


# Control bytes (not tab, newline, CR, form feed, vertical tab) beyond this share: binary.
_CONTROL_BYTES = tuple(b for b in range(32) if b not in (9, 10, 11, 12, 13))
_MAX_CONTROL_SHARE = 0.05
# Bad UTF-8 sequences tolerated (count, or share of the bytes) before detection takes over.
_MAX_BAD_SEQUENCES = 3
_MAX_BAD_SHARE = 0.001


class DecodeFailure(ValueError):
    """The bytes are not text we can read; the message says why."""


def decode_bytes(data: bytes, encoding: str = "auto") -> str:
    """Decode a file's bytes to ``str`` (see ``decode_with_notes``; the notes are dropped).

    Example:
        >>> text = "Ao menos 17 pessoas morreram após a queda de um avião na República."
        >>> decode_bytes(text.encode("cp1252")) == text
        True
    """
    return decode_with_notes(data, encoding)[0]


def decode_with_notes(data: bytes, encoding: str = "auto") -> tuple[str, list[str]]:
    """Decode a file's bytes to ``str``, with notes on anything repaired on the way.

    With ``encoding="auto"``: a BOM decides; then UTF-16 without a BOM (every other byte NUL);
    then UTF-8, strictly, or with a few bad byte sequences replaced by U+FFFD when the rest is
    clearly UTF-8; then charset-normalizer's best guess (Windows-1252 news archives are
    common). A few stray NUL characters are removed; many mean a binary file.

    Raises:
        DecodeFailure: binary data, or bytes that fit no encoding.

    Detection needs some text to go on: a one-line legacy-encoded file can be misread, which is
    what ``readers.encoding`` is for.
    """
    if encoding != "auto":
        try:
            return _check_text(data.decode(encoding))
        except UnicodeDecodeError as exc:
            raise DecodeFailure(f"not valid {encoding} at byte {exc.start}") from None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return _check_text(data.decode(codec))
            except UnicodeDecodeError as exc:
                raise DecodeFailure(f"invalid {codec} after its byte-order mark: {exc}") from None
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        text, notes = _check_text(utf16[0])
        return text, [f"read as {utf16[1]} (no byte-order mark)", *notes]
    if _looks_binary(data):
        raise DecodeFailure("binary file (control bytes such as NUL), not text")
    try:
        return _check_text(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    repaired = _mostly_utf8(data)
    if repaired is not None:
        text, notes = _check_text(repaired[0])
        notes.insert(
            0,
            f"{repaired[1]} invalid UTF-8 byte sequence(s) replaced by U+FFFD "
            f"(first at byte {first_bad})",
        )
        return text, notes
    matches = list(from_bytes(data))
    if not matches:
        raise DecodeFailure("not UTF-8 and no text encoding fits; set readers.encoding")
    return _check_text(str(_most_plausible(matches)))


# Non-ASCII characters a correctly decoded text plausibly holds besides letters and marks.
_PLAUSIBLE_CATEGORIES = ("L", "M", "P", "Zs", "Sc")
_PLAUSIBLE_SYMBOLS = frozenset("°©®™€£¥§¶•")
# How close Windows-1252 must come to the best candidate (see ``_most_plausible``).
_CLOSE = 0.01
_CHAOS_MARGIN = 0.05
_NON_ASCII = re.compile("[^\x00-\x7f]")


def _most_plausible(matches: list[CharsetMatch]) -> CharsetMatch:
    """Among charset-normalizer's candidates, the one whose text looks most like text.

    Single-byte Latin code pages differ only in some upper-half bytes, and charset-normalizer
    often ranks them nearly or wrongly alike: it read Portuguese Windows-1252 (a CSV export
    with "São Paulo" and "não") as Windows-1250, "Săo" and "năo", and Polish Windows-1250 as
    Windows-1252, "³" for "ł". So:

    1. only the candidates with the fewest implausible characters: a wrong code page turns
       letters into superscripts, fractions or spacing accents, which text rarely holds;
    2. among those, Windows-1252 (the most common legacy encoding of news on the web) when
       its language coherence is as good as the best one's (within ``_CLOSE``) and its chaos
       not clearly worse (``_CHAOS_MARGIN``): Czech read as Windows-1252 is all letters, but
       a worse fit to any language;
    3. else charset-normalizer's own first choice (least chaos).
    """

    def implausible(match: CharsetMatch) -> int:
        counts = Counter(_NON_ASCII.findall(str(match)))
        return sum(
            n
            for c, n in counts.items()
            if c not in _PLAUSIBLE_SYMBOLS
            and not unicodedata.category(c).startswith(_PLAUSIBLE_CATEGORIES)
        )

    scored = [(implausible(m), m) for m in matches]
    fewest = min(n for n, _ in scored)
    plausible = [m for n, m in scored if n == fewest]
    best = plausible[0]
    western = next((m for m in plausible if m.encoding == "cp1252"), None)
    if (
        western is not None
        and western.coherence >= best.coherence - _CLOSE
        and western.chaos <= best.chaos + _CHAOS_MARGIN
    ):
        return western
    return best


def is_plain_utf8(path: Path, chunk_size: int = 1 << 20) -> bool:
    """Whether ``decode_with_notes`` would return the file's strict UTF-8 decoding, unchanged.

    That is: no byte-order mark, no NUL byte (so neither UTF-16 nor NULs to remove), not
    binary by ``_looks_binary``, and valid UTF-8 throughout. Checked in chunks, holding one
    chunk at a time, so a reader can then stream such a file line by line instead of holding
    its bytes, its text and its lines at once (at 1M articles that was ~3x the file in RAM).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as file:
        chunk = file.read(chunk_size)
        if any(chunk.startswith(bom) for bom, _ in _BOMS) or _looks_binary(chunk):
            return False
        while chunk:
            if b"\x00" in chunk:
                return False
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
            chunk = file.read(chunk_size)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 text saved without a BOM: NULs in most odd (LE) or even (BE) bytes of Latin text."""
    if len(data) < 8 or len(data) % 2:
        return None
    even, odd = data[0::2], data[1::2]
    for codec, zeros, other in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if zeros.count(0) >= 0.6 * len(zeros) and other.count(0) <= 0.05 * len(other):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError:
                return None
    return None


def _mostly_utf8(data: bytes) -> tuple[str, int] | None:
    """UTF-8 with a few bad sequences: decoded with U+FFFD, and how many were replaced.

    Only when the file also holds valid multi-byte UTF-8 (so it is UTF-8, not a legacy code
    page whose accented letters merely fail to decode) and the bad sequences are rare.
    """
    bad = 0

    def count(error: UnicodeError) -> tuple[str, int]:
        nonlocal bad
        bad += 1
        assert isinstance(error, UnicodeDecodeError)
        return "\ufffd", error.end

    codecs.register_error("dedupe-count", count)
    text = data.decode("utf-8", errors="dedupe-count")
    multibyte = sum(1 for c in text if c > "\x7f" and c != "\ufffd")
    if multibyte == 0 or bad > max(_MAX_BAD_SEQUENCES, len(data) * _MAX_BAD_SHARE):
        return None
    return text, bad


def _looks_binary(data: bytes) -> bool:
    """Control bytes (other than tab, line and page breaks) in more than 5% of the first 64 KiB.

    Text, in any 8-bit encoding or UTF-8, has almost none; images, archives and executables
    have many. UTF-16 (NUL in every other byte) is recognised before this is asked.
    """
    sample = data[:65_536]
    controls = sum(sample.count(bytes([b])) for b in _CONTROL_BYTES)
    return controls > len(sample) * _MAX_CONTROL_SHARE


def _check_text(text: str) -> tuple[str, list[str]]:
    """Stray NUL characters (a crawler's padding, a bad export) are removed, with a note."""
    nuls = text.count("\x00")
    if not nuls:
        return text, []
    return text.replace("\x00", ""), [f"{nuls} NUL character(s) removed"]
