"""``dedupe filter``: tag (or drop) each JSON line of a stream with its index verdict.

Every input line comes out accounted for: as its object with a ``dedupe`` field added, as a
dropped line counted on stderr, or as a reject (``dedupe.status == "rejected"`` with the
reason, on stdout or in ``--rejects``). A line is written only after its article is
committed to the index, so what a downstream consumer has seen is never lost by a crash.

Lines are handled in small batches of whatever has already arrived (featurizing and
committing many articles at once is several times faster than one at a time), but a batch
never waits for more input: a slow crawler gets each verdict as soon as its line is in.
"""

from __future__ import annotations

import json
import queue
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from dedupe.config import Config
from dedupe.index import STATUSES, Index
from dedupe.readers.records import record_to_article
from dedupe.types import Article, Reject

_END = object()


@dataclass
class FilterCounts:
    """What happened to the lines of one run (printed on stderr at the end)."""

    lines: int = 0
    blank: int = 0
    rejected: int = 0
    dropped: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    already_indexed: int = 0
    warnings: int = 0

    def summary(self) -> str:
        """One line for stderr."""
        parts = [f"{self.statuses[s]} {s}" for s in STATUSES]
        text = f"{self.lines} lines: " + ", ".join(parts) + f", {self.rejected} rejected"
        if self.already_indexed:
            text += f"; {self.already_indexed} already in the index"
        if self.dropped:
            text += f"; {self.dropped} dropped"
        if self.blank:
            text += f"; {self.blank} blank lines skipped"
        if self.warnings:
            text += f"; {self.warnings} warnings"
        return text


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    raw: bytes


def available_batches(lines: Iterable[bytes], max_size: int) -> Iterator[list[_Line]]:
    """Batches of lines: block for the first, then take what has already arrived.

    A reader thread feeds a queue, so the main thread can see what is waiting without
    blocking on a slow pipe.
    """
    waiting: queue.Queue[Any] = queue.Queue(maxsize=4 * max_size)

    def read() -> None:
        try:
            for number, raw in enumerate(lines, start=1):
                waiting.put(_Line(number, raw))
        except BaseException as exc:  # surface read errors in the main thread
            waiting.put(exc)
        waiting.put(_END)

    threading.Thread(target=read, name="dedupe-filter-reader", daemon=True).start()
    while True:
        item = waiting.get()
        if item is _END:
            return
        if isinstance(item, BaseException):
            raise item
        batch = [item]
        done = False
        while len(batch) < max_size:
            try:
                item = waiting.get_nowait()
            except queue.Empty:
                break
            if item is _END:
                done = True
                break
            if isinstance(item, BaseException):
                yield batch
                raise item
            batch.append(item)
        yield batch
        if done:
            return


def filter_lines(
    lines: Iterable[bytes],
    index: Index,
    config: Config,
    *,
    source: str,
    out: IO[str],
    rejects: IO[str] | None = None,
    drop: frozenset[str] = frozenset(),
    add: bool = True,
    batch_size: int = 256,
    warn: Any = None,
) -> FilterCounts:
    """Tag every line; return the counts.

    Args:
        lines: Raw input lines (bytes, newline included or not).
        index: The index to check against (and add to, when ``add``).
        config: Field mapping (``readers``) and the index settings.
        source: Name of the input for messages (``<stdin>`` or a path).
        out: Where tagged lines go.
        rejects: Where rejected lines go (``out`` when None).
        drop: Statuses whose lines are not written (counted instead).
        add: False for a read-only check.
        batch_size: Most lines handled in one transaction.
        warn: Called with each reader warning (a ``Reject``), e.g. to log it.
    """
    counts = FilterCounts()
    for batch in available_batches(lines, batch_size):
        parsed: list[tuple[_Line, dict[str, Any] | None, Article | Reject]] = []
        for line in batch:
            counts.lines += 1
            if not line.raw.strip():
                counts.blank += 1
                counts.lines -= 1
                continue
            where = f"{source}:{line.number}"
            record, outcome = _parse(line.raw, where, config, counts, warn)
            parsed.append((line, record, outcome))
        articles = [a for _, _, a in parsed if isinstance(a, Article)]
        verdicts = (
            iter(list(index.add_many(articles, commit_every=len(articles) or 1)))
            if add
            else iter([index.check(a) for a in articles])
        )
        for line, record, outcome in parsed:
            if isinstance(outcome, Reject):
                counts.rejected += 1
                _write_reject(rejects or out, line, record, outcome)
                continue
            verdict = next(verdicts)
            counts.statuses[verdict.status] += 1
            counts.already_indexed += verdict.already_indexed
            if verdict.status in drop:
                counts.dropped += 1
                continue
            assert record is not None
            tagged = dict(record)
            tagged["dedupe"] = verdict.to_dict()
            out.write(json.dumps(tagged, ensure_ascii=False) + "\n")
        out.flush()
        if rejects is not None:
            rejects.flush()
    return counts


def _parse(
    raw: bytes, where: str, config: Config, counts: FilterCounts, warn: Any
) -> tuple[dict[str, Any] | None, Article | Reject]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, Reject(source=where, reason=f"not UTF-8 ({exc.reason} at byte {exc.start})")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, Reject(source=where, reason=f"invalid JSON: {exc.msg} (column {exc.colno})")
    except RecursionError:
        return None, Reject(source=where, reason="invalid JSON: nested too deeply")
    if not isinstance(record, dict):
        kind = type(record).__name__
        return None, Reject(source=where, reason=f"expected a JSON object, got {kind}")
    warnings: list[Reject] = []
    outcome = record_to_article(record, where, config.readers, warnings)
    for warning in warnings:
        counts.warnings += 1
        if warn is not None:
            warn(warning)
    return record, outcome


def _write_reject(
    stream: IO[str], line: _Line, record: dict[str, Any] | None, reject: Reject
) -> None:
    note = {"status": "rejected", "error": reject.reason, "source": reject.source}
    if record is not None:
        tagged = dict(record)
        tagged["dedupe"] = note
    else:
        # The line as read (invalid bytes replaced), so nothing the crawler sent is lost.
        tagged = {"dedupe": note, "raw": line.raw.decode("utf-8", "replace").rstrip("\r\n")}
    stream.write(json.dumps(tagged, ensure_ascii=False) + "\n")
