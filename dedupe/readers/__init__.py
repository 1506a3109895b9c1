"""Read articles from folders and files: ``.txt``, ``.jsonl``/``.json``, ``.csv``, ``.html``.

Every input record ends up either as an ``Article`` or as a ``Reject`` with its place and
reason; duplicate ids keep the first occurrence and reject the later ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dedupe._progress import progress_iter
from dedupe.config import ReadersConfig
from dedupe.errors import UsageError
from dedupe.readers.formats import Record, read_csv, read_html, read_jsonl, read_txt
from dedupe.types import Article, Reject

TEXT_SUFFIXES = frozenset({".txt", ".text"})
JSON_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})
CSV_SUFFIXES = frozenset({".csv", ".tsv"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED = TEXT_SUFFIXES | JSON_SUFFIXES | CSV_SUFFIXES | HTML_SUFFIXES
UNSUPPORTED = "unsupported file type"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadResult:
    """Articles read (in input order), records rejected, and warnings about kept records."""

    articles: tuple[Article, ...]
    rejects: tuple[Reject, ...]
    warnings: tuple[Reject, ...]


def read_paths(
    paths: Iterable[str | Path], config: ReadersConfig | None = None, *, progress: bool = False
) -> ReadResult:
    """Read every article under the given files and folders (``-`` reads JSONL from stdin).

    ``progress`` counts the records read on stderr when it is a terminal (a 1M-article file
    takes a minute or two to read).

    Raises:
        InputError: a path does not exist (a bad file inside a folder is a reject instead).

    Example:
        >>> result = read_paths(["examples/news.jsonl"])  # doctest: +SKIP
    """
    config = config or ReadersConfig()
    articles: list[Article] = []
    rejects: list[Reject] = []
    warnings: list[Reject] = []
    first_seen: dict[str, str] = {}
    records = itertools.chain.from_iterable(
        _read_path(Path(path), config, warnings) for path in paths
    )
    for record in progress_iter(
        records, enabled=progress, total=None, desc="read", unit=" records"
    ):
        if isinstance(record, Reject):
            rejects.append(record)
        elif record.id in first_seen:
            first = first_seen[record.id]
            reason = f"duplicate id {record.id!r} (first seen at {first})"
            rejects.append(Reject(source=record.source, reason=reason))
        else:
            first_seen[record.id] = record.source
            articles.append(record)
    return ReadResult(articles=tuple(articles), rejects=tuple(rejects), warnings=tuple(warnings))


def _read_path(path: Path, config: ReadersConfig, warnings: list[Reject]) -> Iterator[Record]:
    if str(path) == "-":
        yield from read_jsonl(path, config, warnings)
        return
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            relative = file.relative_to(path)
            if any(part.startswith(".") for part in relative.parts):
                continue
            yield from _read_file(file, relative.with_suffix("").as_posix(), config, warnings)
        return
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    yield from _read_file(path, path.stem, config, warnings)


def _read_file(
    file: Path, article_id: str, config: ReadersConfig, warnings: list[Reject]
) -> Iterator[Record]:
    suffix = file.suffix.lower()
    if suffix in TEXT_SUFFIXES or suffix in _lowered(config.extra_text_suffixes):
        yield from read_txt(file, article_id, config, warnings)
    elif suffix in JSON_SUFFIXES:
        yield from read_jsonl(file, config, warnings)
    elif suffix in CSV_SUFFIXES:
        yield from read_csv(file, config, warnings)
    elif suffix in HTML_SUFFIXES:
        yield from read_html(file, article_id, config, warnings)
    else:
        expected = ", ".join(sorted(SUPPORTED))
        yield Reject(
            source=str(file),
            reason=f"{UNSUPPORTED} {suffix or '(none)'!r}; use {expected}, or name the suffix "
            "in readers.extra_text_suffixes to read such files as plain text",
        )


def reject_lines(rejects: Iterable[Reject], *, per_suffix: int = 3) -> list[str]:
    """A line per reject for stderr; files skipped for their suffix are named a few per suffix.

    A folder of 140 ``.seg`` files otherwise prints 140 identical lines: the first
    ``per_suffix`` of each suffix are named, the rest counted on one line.
    """
    lines: list[str] = []
    skipped: dict[str, int] = {}
    for reject in rejects:
        if reject.reason.startswith(UNSUPPORTED):
            suffix = Path(reject.source).suffix.lower()
            skipped[suffix] = skipped.get(suffix, 0) + 1
            if skipped[suffix] > per_suffix:
                continue
        lines.append(f"rejected {reject.source}: {reject.reason}")
    for suffix, count in sorted(skipped.items()):
        if count > per_suffix:
            kind = f"{suffix} files" if suffix else "files without a suffix"
            lines.append(f"rejected {count - per_suffix:,} more {kind}: {UNSUPPORTED}")
    return lines


def suffix_hint(rejects: Iterable[Reject]) -> str:
    """For a "nothing read" message: the unknown suffixes among ``rejects`` and how to read them.

    A folder of ``.seg`` files is a corpus, not a mistake. Empty when no file was rejected
    for its suffix.
    """
    found: dict[str, int] = {}
    for reject in rejects:
        suffix = Path(reject.source).suffix.lower()
        if reject.reason.startswith(UNSUPPORTED) and suffix:
            found[suffix] = found.get(suffix, 0) + 1
    named = sorted(found, key=lambda s: (-found[s], s))[:3]
    if not named:
        return ""
    counts = ", ".join(f"{found[s]:,} {s}" for s in named)
    return (
        f"; files of unknown type: {counts}. If they are plain text, read them with "
        f"--readers-extra-text-suffixes {named[0]} (or readers.extra_text_suffixes in the config)"
    )


def _lowered(suffixes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(suffix.lower() for suffix in suffixes)


__all__ = ["ReadResult", "read_paths", "reject_lines", "suffix_hint"]
