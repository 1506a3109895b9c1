"""Command line of the pre-filter: ``dedupe filter`` and ``dedupe index ...``.

Kept apart from ``dedupe.cli`` (the batch commands); ``dedupe.cli`` wires both in and owns
exit codes: 0 ok, 1 runtime error (also: ``index verify`` found problems), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from dedupe.config import Config
from dedupe.errors import DedupeError, UsageError
from dedupe.filter import filter_lines
from dedupe.index import STATUSES, Index, open_index
from dedupe.readers import ReadResult, read_paths, reject_lines, suffix_hint
from dedupe.readers.records import parse_published
from dedupe.reports.terminal import plural

log = logging.getLogger("dedupe")

FILTER_EPILOG = """\
examples:
  crawler | dedupe filter --index news.idx > tagged.jsonl
  crawler | dedupe filter --index news.idx --drop near_duplicate > fresh.jsonl
  dedupe filter --index redis://localhost:6379/0 today.jsonl --rejects bad.jsonl

Each output line is the input object with a "dedupe" field added:
  {"status": "unique" | "near_duplicate" | "syndicated", "matches": [{"id", "jaccard",
   "containment", "cosine", "shared_shingles"}...], "cluster": ID, "comparable": BOOL,
   "added": BOOL, "already_indexed": BOOL}
A line that cannot be used gets {"status": "rejected", "error": ..., "source": FILE:LINE}.
"""

INDEX_EPILOG = """\
examples:
  dedupe index add news.idx backlog/*.jsonl
  dedupe index check news.idx new.jsonl          # verdicts as JSON lines, index unchanged
  dedupe index stats news.idx
  dedupe index prune news.idx --older-than 30d
  dedupe index verify news.idx                   # full consistency check (exit 1 if broken)
  dedupe index recover broken.idx fixed.idx      # copy every readable article to a new index

INDEX is a file path (SQLite) or a redis://host:port/db URL.
"""

AddConfigOptions = Callable[[argparse.ArgumentParser], None]


def add_parsers(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    add_config_options: AddConfigOptions,
    parser_class: type[argparse.ArgumentParser],
) -> None:
    """Add ``filter`` and ``index`` to the top-level subcommands."""
    raw = argparse.RawDescriptionHelpFormatter
    flt = sub.add_parser(
        "filter",
        help="tag each JSON line of a stream with its verdict against an index, and add it",
        description=(
            "Read JSON Lines (stdin or files), check each article against the index, add it, "
            "and write the line back with a 'dedupe' verdict. Nothing is lost: malformed lines "
            "are written with an error (or to --rejects) and all counts go to stderr."
        ),
        epilog=FILTER_EPILOG,
        formatter_class=raw,
    )
    flt.add_argument("paths", nargs="*", help="JSONL files to read (default: stdin)")
    flt.add_argument(
        "--index",
        required=True,
        help="index file or redis:// URL (created if new, unless --check-only)",
    )
    flt.add_argument(
        "--drop",
        action="append",
        default=[],
        choices=STATUSES,
        help="leave lines with this verdict out of the output (repeatable; counted on stderr)",
    )
    flt.add_argument("--rejects", type=Path, help="write malformed lines here, not to stdout")
    flt.add_argument("--check-only", action="store_true", help="do not add articles; only tag them")
    flt.add_argument("--batch-size", type=int, default=256, help="most lines per transaction")
    flt.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    add_config_options(flt)

    index = sub.add_parser(
        "index",
        help="build and maintain a pre-filter index: add, check, stats, prune, verify, recover",
        description="Build and maintain the persistent index that 'dedupe filter' uses.",
        epilog=INDEX_EPILOG,
        formatter_class=raw,
    )
    actions = index.add_subparsers(
        dest="index_command", metavar="ACTION", parser_class=parser_class
    )
    add = actions.add_parser("add", help="add articles from files (ids already present: no-op)")
    add.add_argument("index")
    add.add_argument("paths", nargs="+", help="files or folders (.jsonl, .csv, .txt, .html)")
    add.add_argument(
        "--verdicts",
        metavar="FILE",
        help="write each verdict as a JSON line here ('-' = stdout), once it is committed",
    )
    check = actions.add_parser("check", help="verdicts for articles in files, index unchanged")
    check.add_argument("index")
    check.add_argument("paths", nargs="+")
    stats = actions.add_parser("stats", help="size, counts, time range and build settings")
    stats.add_argument("index")
    stats.add_argument("--format", choices=("text", "json"), default="text")
    prune = actions.add_parser("prune", help="remove old articles (by published, else added)")
    prune.add_argument("index")
    when = prune.add_mutually_exclusive_group(required=True)
    when.add_argument("--older-than", metavar="AGE", help="e.g. 30d, 12h, 90m")
    when.add_argument("--before", metavar="DATE", help="ISO 8601 date or time")
    prune.add_argument(
        "--vacuum", action="store_true", help="SQLite: give the freed space back to the disk"
    )
    verify = actions.add_parser("verify", help="full consistency check; exit 1 if broken")
    verify.add_argument("index")
    recover = actions.add_parser("recover", help="copy every readable article to a new index")
    recover.add_argument("index", help="the damaged SQLite index file")
    recover.add_argument("new_index", help="where to write the recovered index (must not exist)")
    for parser in (add, check, stats, prune, verify, recover):
        parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
        add_config_options(parser)


def run_filter(args: argparse.Namespace, config: Config) -> int:
    """``dedupe filter``."""
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    with ExitStack() as stack:
        # A check-only filter never writes: a mistyped path must not become a new empty
        # index that tags every line unique (as `dedupe index check` refuses it too).
        index = stack.enter_context(open_index(args.index, config, create=not args.check_only))
        rejects: IO[str] | None = None
        if args.rejects is not None:
            rejects = stack.enter_context(_open_out(args.rejects))
        for source, lines in _inputs(args.paths, stack):
            counts = filter_lines(
                lines,
                index,
                config,
                source=source,
                out=sys.stdout,
                rejects=rejects,
                drop=frozenset(args.drop),
                add=not args.check_only,
                batch_size=args.batch_size,
                warn=lambda w: log.warning("%s: %s", w.source, w.reason),
            )
            log.warning("filter %s: %s", source, counts.summary())
        articles = index.stats().articles
    print(f"dedupe: index {args.index} holds {articles} articles", file=sys.stderr)
    return 0


def run_index(args: argparse.Namespace, config: Config) -> int:
    """``dedupe index ACTION``."""
    action = args.index_command
    if action is None:
        raise UsageError(
            "dedupe index: choose an action: add, check, stats, prune, verify, recover"
        )
    if action == "recover":
        from dedupe.index.recover import recover_sqlite

        report = recover_sqlite(args.index, args.new_index, config)
        print(f"dedupe: {report}", file=sys.stderr)
        return 0
    create = action == "add"
    with open_index(args.index, config, create=create) as index:
        if action == "add":
            return _add(index, args, config)
        if action == "check":
            return _check(index, args, config)
        if action == "stats":
            return _stats(index, args.format)
        if action == "prune":
            return _prune(index, args)
        return _verify(index)


def _read(paths: Sequence[str], config: Config) -> ReadResult:
    loaded = read_paths(paths, config.readers)
    for line in reject_lines(loaded.rejects):
        log.warning("%s", line)
    return loaded


def _hint(loaded: ReadResult) -> str:
    """When nothing was read: how to read the files skipped for their suffix."""
    return "" if loaded.articles else suffix_hint(loaded.rejects)


def _add(index: Index, args: argparse.Namespace, config: Config) -> int:
    loaded = _read(args.paths, config)
    added = known = 0
    with ExitStack() as stack:
        out: IO[str] | None = None
        if args.verdicts == "-":
            out = sys.stdout
        elif args.verdicts:
            out = stack.enter_context(_open_out(Path(args.verdicts)))
        for verdict in index.add_many(loaded.articles):
            added += verdict.added
            known += verdict.already_indexed
            if out is not None:
                line = {"id": verdict.id, "dedupe": verdict.to_dict()}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                out.flush()
    print(
        f"dedupe: {plural(len(loaded.articles), 'article')} read, {added:,} added, "
        f"{known:,} already in the index, {len(loaded.rejects):,} rejected{_hint(loaded)}",
        file=sys.stderr,
    )
    return 0


def _check(index: Index, args: argparse.Namespace, config: Config) -> int:
    loaded = _read(args.paths, config)
    for article in loaded.articles:
        verdict = index.check(article)
        line = {"id": verdict.id, "dedupe": verdict.to_dict()}
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(
        f"dedupe: {plural(len(loaded.articles), 'article')} checked, "
        f"{len(loaded.rejects):,} rejected{_hint(loaded)}",
        file=sys.stderr,
    )
    return 0


def _stats(index: Index, fmt: str) -> int:
    data = index.stats().to_dict()
    if fmt == "json":
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return 0
    params = data.pop("params")
    width = max(len(k) for k in data)
    for key, value in data.items():
        print(f"{key:<{width}}  {value if value is not None else '-'}")
    print("built with:")
    for key, value in sorted(params.items()):
        if key != "normalize":
            print(f"  {key} = {value}")
    return 0


def _prune(index: Index, args: argparse.Namespace) -> int:
    cutoff = parse_cutoff(args.older_than, args.before, now=time.time())
    removed = index.prune(cutoff)
    if args.vacuum:
        index.vacuum()
    when = datetime.fromtimestamp(cutoff, UTC).isoformat(timespec="seconds")
    print(
        f"dedupe: removed {removed} articles from before {when}; {index.stats().articles} remain",
        file=sys.stderr,
    )
    return 0


def _verify(index: Index) -> int:
    problems = index.integrity_problems()
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    stats = index.stats()
    if problems:
        print(
            f"dedupe: {index.store.location}: {plural(len(problems), 'problem')}", file=sys.stderr
        )
        return 1
    print(f"dedupe: {index.store.location}: ok ({stats.articles} articles)", file=sys.stderr)
    return 0


_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm])\s*$")
_UNIT_SECONDS = {"d": 86_400.0, "h": 3_600.0, "m": 60.0}


def parse_cutoff(older_than: str | None, before: str | None, *, now: float) -> float:
    """Unix time before which articles are pruned.

    Example:
        >>> parse_cutoff("2d", None, now=200_000.0)
        27200.0
    """
    if older_than is not None:
        match = _AGE.match(older_than)
        if not match:
            raise UsageError(f"--older-than {older_than!r}: expected a number and d, h or m (30d)")
        return now - float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    assert before is not None
    try:
        return parse_published(before).timestamp()
    except ValueError:
        raise UsageError(f"--before {before!r}: not an ISO 8601 date or time") from None


def _inputs(paths: list[str], stack: ExitStack) -> Iterator[tuple[str, Iterator[bytes]]]:
    if not paths or paths == ["-"]:
        yield "<stdin>", iter(sys.stdin.buffer)
        return
    for name in paths:
        try:
            handle = stack.enter_context(Path(name).open("rb"))  # noqa: SIM115 (ExitStack closes it)
        except OSError as exc:
            raise DedupeError(f"{name}: cannot read: {exc.strerror}") from None
        yield name, iter(handle)


def _open_out(path: Path) -> IO[str]:
    try:
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise DedupeError(f"{path}: cannot write: {exc.strerror}") from None
