"""One reader per file format. Each yields ``Article`` or ``Reject`` records, never raises on data.

The id of a file-based article (``.txt``, ``.html``) is its path relative to the folder given
on the command line, without the extension, so the same folder gives the same ids anywhere.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from dedupe.config import ReadersConfig
from dedupe.readers._decode import DecodeFailure, decode_with_notes, is_plain_utf8
from dedupe.readers.records import parse_published, record_to_article
from dedupe.types import Article, Reject

Record = Article | Reject
_NOT_ONE_DOCUMENT = object()
# JSON Lines are separated by LF (CRLF and old CR-only files are read too). Not by
# ``str.splitlines``: it also breaks at U+2028, U+2029 and U+0085, which JSON allows raw
# inside strings (``json.dumps(..., ensure_ascii=False)`` writes them), and news text has them.
# A raw CR or LF cannot occur inside a valid JSON value, so splitting at them is always safe.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_txt(
    path: Path, article_id: str, config: ReadersConfig, warnings: list[Reject]
) -> Iterator[Record]:
    """A plain-text file is one article; its first non-empty line serves as the title."""
    text = _decode_file(path, config, warnings)
    if isinstance(text, Reject):
        yield text
        return
    if not text.strip():
        yield Reject(source=str(path), reason="empty file" if not text else "only white space")
        return
    title = next((line.strip() for line in text.splitlines() if line.strip()), "")
    yield Article(id=article_id, text=text, title=title[:200], source=str(path))


def read_html(
    path: Path, article_id: str, config: ReadersConfig, warnings: list[Reject]
) -> Iterator[Record]:
    """A saved web page: trafilatura extracts the article body and its metadata."""
    import trafilatura

    text = _decode_file(path, config, warnings)
    if isinstance(text, Reject):
        yield text
        return
    try:
        extracted = trafilatura.bare_extraction(text, with_metadata=True)
    except Exception as exc:  # a third-party parser on arbitrary pages: one page, one reject
        yield Reject(source=str(path), reason=f"HTML extraction failed: {type(exc).__name__}")
        return
    doc = extracted if extracted is None or isinstance(extracted, dict) else extracted.as_dict()
    if not isinstance(doc, dict) or not doc.get("text"):
        yield Reject(source=str(path), reason="no article text found in the HTML page")
        return
    body = doc["text"]
    published = None
    if doc.get("date"):
        try:
            published = parse_published(str(doc["date"]))
        except ValueError:
            published = None
    yield Article(
        id=article_id,
        text=str(body),
        title=str(doc.get("title") or ""),
        outlet=str(doc.get("sitename") or doc.get("hostname") or ""),
        url=str(doc.get("url") or ""),
        published=published,
        source=str(path),
    )


def read_jsonl(path: Path, config: ReadersConfig, warnings: list[Reject]) -> Iterator[Record]:
    """JSON Lines (one object per line); a ``.json`` file holding one array is read too.

    A plain UTF-8 file (the usual export) is streamed line by line; any other file is decoded
    whole first, since telling its encoding needs all of it.
    """
    is_file = str(path) != "-"
    json_lines = path.suffix.lower() != ".json"
    if is_file and json_lines and config.encoding in ("auto", "utf-8") and _plain_utf8(path):
        yield from _records(_file_lines(path), str(path), config, warnings)
        return
    text = (
        _decode_file(path, config, warnings)
        if is_file
        else _decode_stream(sys.stdin.buffer.read(), "<stdin>", config, warnings)
    )
    if isinstance(text, Reject):
        yield text
        return
    if not json_lines:
        # A .json file is one document (an array of records, or one record); some exporters
        # write JSON Lines under that name, which is what a failed whole-document parse means.
        try:
            document: Any = json.loads(text)
        except RecursionError:
            yield Reject(source=str(path), reason="JSON nested too deeply to read")
            return
        except json.JSONDecodeError:
            document = _NOT_ONE_DOCUMENT
        if isinstance(document, list):
            for index, item in enumerate(document):
                yield record_to_article(item, f"{path}[{index}]", config, warnings)
            return
        if document is not _NOT_ONE_DOCUMENT:
            yield record_to_article(document, str(path), config, warnings)
            return
    yield from _records(_LINE_BREAK.split(text), str(path), config, warnings)


def _plain_utf8(path: Path) -> bool:
    try:
        return is_plain_utf8(path)
    except OSError:
        return False  # the whole-file path reports why it cannot be read


def _file_lines(path: Path) -> Iterator[str]:
    """The lines of a file that ``is_plain_utf8``, one at a time, split as ``_LINE_BREAK``."""
    with path.open("rb") as file:
        for raw in file:  # binary files split at LF only
            line = raw[:-2] if raw.endswith(b"\r\n") else raw.rstrip(b"\n")
            if b"\r" in line:  # CR-only line ends
                yield from (part.decode("utf-8") for part in line.split(b"\r"))
            else:
                yield line.decode("utf-8")


def _records(
    lines: Iterable[str], source: str, config: ReadersConfig, warnings: list[Reject]
) -> Iterator[Record]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        place = f"{source}:{number}"
        try:
            record: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Reject(source=place, reason=f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        except RecursionError:
            yield Reject(source=place, reason="JSON nested too deeply to read")
            continue
        yield record_to_article(record, place, config, warnings)


def read_csv(path: Path, config: ReadersConfig, warnings: list[Reject]) -> Iterator[Record]:
    """CSV with a header row; quoted fields may hold newlines."""
    text = _decode_file(path, config, warnings)
    if isinstance(text, Reject):
        yield text
        return
    # News bodies exceed the csv module's 128 KiB default field limit.
    csv.field_size_limit(2**31 - 1)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            source = f"{path}:{reader.line_num}"
            if None in row:
                yield Reject(source=source, reason="more fields than the header has")
                continue
            record = {k: v for k, v in row.items() if v is not None}
            yield record_to_article(record, source, config, warnings)
    except csv.Error as exc:
        yield Reject(source=f"{path}:{reader.line_num}", reason=f"malformed CSV: {exc}")


def _decode_file(path: Path, config: ReadersConfig, warnings: list[Reject]) -> str | Reject:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Reject(source=str(path), reason=f"cannot read: {exc.strerror}")
    return _decode_stream(data, str(path), config, warnings)


def _decode_stream(
    data: bytes, source: str, config: ReadersConfig, warnings: list[Reject]
) -> str | Reject:
    try:
        text, notes = decode_with_notes(data, config.encoding)
    except DecodeFailure as exc:
        return Reject(source=source, reason=str(exc))
    warnings.extend(Reject(source=source, reason=note) for note in notes)
    return text
