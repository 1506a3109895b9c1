"""Bytes to text: UTF-8 (with or without BOM), UTF-16/32 by BOM, else charset detection."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


_CLOSE = 0.01


class DecodeFailure(ValueError):
    """The bytes are not text we can read; the message says why."""


def decode_bytes(data: bytes, encoding: str = "auto") -> str:
    """Decode a file's bytes to ``str``.

    With ``encoding="auto"``: a BOM decides; then strict UTF-8; then charset-normalizer's best
    guess (Windows-1252 news archives are common). Text with NUL bytes after decoding is
    treated as binary, because no news text contains them.

    Raises:
        DecodeFailure: binary data, or bytes that fit no encoding.

    Detection needs some text to go on: a one-line legacy-encoded file can be misread, which is
    what ``readers.encoding`` is for.

    Example:
        >>> text = "Ao menos 17 pessoas morreram após a queda de um avião na República."
        >>> decode_bytes(text.encode("cp1252")) == text
        True
    """
    if encoding != "auto":
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DecodeFailure(f"not valid {encoding} at byte {exc.start}") from None
        return _check_text(text)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return _check_text(data.decode(codec))
            except UnicodeDecodeError as exc:
                raise DecodeFailure(f"invalid {codec} after its byte-order mark: {exc}") from None
    try:
        return _check_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        raise DecodeFailure("binary file (NUL bytes), not text")
    matches = list(from_bytes(data))
    if not matches:
        raise DecodeFailure("not UTF-8 and no text encoding fits; set readers.encoding")
    best = matches[0]
    # Single-byte code pages differ only in a few letters, so charset-normalizer often scores
    # them (nearly) alike: cp1250 beat cp1252 by a chaos of 0.005 on a CSTNews article,
    # turning "SÃO PAULO" into "SĂO PAULO". Among candidates that close to the best, prefer
    # Windows-1252, the most common legacy encoding of news on the web.
    close = [
        m
        for m in matches
        if m.chaos <= best.chaos + _CLOSE and m.coherence >= best.coherence - _CLOSE
    ]
    chosen = next((m for m in close if m.encoding == "cp1252"), best)
    return _check_text(str(chosen))


def _check_text(text: str) -> str:
    if "\x00" in text:
        raise DecodeFailure("binary file (NUL bytes), not text")
    return text
