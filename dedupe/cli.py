"""Command line: argument parsing and rendering only; the work happens in ``dedupe.pipeline``.

Exit codes: 0 success, 1 runtime error, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dedupe import __version__
from dedupe.attribute import attribute_clusters
from dedupe.config import Config, config_keys, dump_config, load_config, parse_override
from dedupe.errors import DedupeError, UsageError
from dedupe.index_cli import add_parsers as add_index_parsers
from dedupe.index_cli import run_filter, run_index
from dedupe.pipeline import cluster_articles
from dedupe.readers import ReadResult, read_paths, reject_lines, suffix_hint
from dedupe.reports import render_csv, render_json, render_text
from dedupe.reports.attribution_json import render_attribution_json
from dedupe.reports.attribution_text import render_attribution_text
from dedupe.reports.html_report import render_attribution_html
from dedupe.reports.terminal import plural
from dedupe.saved import load_saved_clusters

log = logging.getLogger("dedupe")

_CLUSTER_EPILOG = """\
examples:
  dedupe cluster articles/                      # a folder of .txt/.jsonl/.csv/.html files
  dedupe cluster export.jsonl --format json -o clusters.json
  dedupe cluster a.jsonl b.csv --verify-containment-threshold 0.3 --cluster-time-window-days 3
  dedupe cluster export.jsonl --engine spark                  # same report, computed by Spark
  dedupe cluster s3a://bucket/news/*.parquet --engine spark --spark-output s3a://bucket/dedupe
  dedupe cluster s3a://b/news/2024-05-02/ --engine spark --spark-output s3a://b/out/2024-05-02 \
      --spark-state s3a://b/dedupe-state          # daily batch against the last 30 days

Every config.yaml key has a flag: section.key -> --section-key (see 'dedupe config show').
"""


_REPORT_EPILOG = """\
examples:
  dedupe report articles/                                   # terminal summary per cluster
  dedupe report articles/ --format html -o report.html      # open report.html in a browser
  dedupe cluster export.jsonl --format json -o c.json
  dedupe report --from c.json --format json -o attribution.json
  dedupe report --from c.json --cluster c1a2b3c4d5e --format html -o one.html
  dedupe report --from-spark out/ export.jsonl --cluster c1a2b3c4d5e   # a --spark-output run
"""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` owns the exit code."""

    def error(self, message: str) -> Any:
        raise UsageError(f"{self.prog}: {message}")


def _override_flag(key: str) -> str:
    return "--" + key.replace(".", "-").replace("_", "-")


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", type=Path, help="YAML config file (default: built-in defaults)"
    )
    group = parser.add_argument_group("config overrides (each mirrors a config.yaml key)")
    for key, kind in config_keys().items():
        group.add_argument(
            _override_flag(key),
            dest=f"override:{key}",
            metavar="LIST" if kind is tuple else kind.__name__.upper(),
            help=f"set {key}" + (" (one item, or several as '[a, b]')" if kind is tuple else ""),
        )


def _add_spark_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Spark engine (pip install 'dedupe[spark]')")
    group.add_argument(
        "--engine",
        choices=("local", "spark"),
        dest="override:backend.engine",
        help="where to run (same as --backend-engine; default: backend.engine)",
    )
    group.add_argument(
        "--spark-output",
        metavar="PATH",
        help="with --engine spark: read the inputs with Spark (Parquet if the name has "
        "'.parquet', else JSON Lines; local paths or Hadoop URLs) and write members/ and "
        "pairs/ under PATH (JSON Lines if PATH ends in .jsonl, else Parquet) instead of a report",
    )
    group.add_argument(
        "--spark-state",
        metavar="PATH",
        help="with --spark-output: an incremental run. The inputs are a new batch checked "
        "against the articles kept at PATH (local path or Hadoop URL; created if absent), "
        "which then keeps the batch too, minus articles older than backend.spark_state_days",
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dedupe",
        description="Find syndicated and near-duplicate news articles, in any language.",
        epilog="example: dedupe cluster examples/news.jsonl",
    )
    parser.add_argument("--version", action="version", version=f"dedupe {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    cluster = sub.add_parser(
        "cluster",
        help="group articles that share wording and print a report",
        description="Group articles that share wording (copies, trims and rewrites of one text).",
        epilog=_CLUSTER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cluster.add_argument("paths", nargs="+", help="files or folders to read; '-' reads JSONL stdin")
    cluster.add_argument(
        "-f", "--format", choices=("text", "json", "csv"), default="text", help="report format"
    )
    cluster.add_argument("-o", "--output", type=Path, help="write the report here, not stdout")
    cluster.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    cluster.add_argument("-v", "--verbose", action="store_true", help="stage timings on stderr")
    cluster.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    _add_spark_options(cluster)
    _add_config_options(cluster)

    report = sub.add_parser(
        "report",
        help="cluster, then say who copied what: origin, copied and added passages, credits",
        description=(
            "Cluster the articles (or load clusters from 'dedupe cluster --format json'), then "
            "label every sentence of every member as copied (from whom, how closely), shared "
            "quote or added, find each cluster's likely origin and the credits each outlet gives."
        ),
        epilog=_REPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument(
        "paths", nargs="*", help="files or folders to read (with --from: where the inputs are now)"
    )
    report.add_argument(
        "--from",
        dest="from_json",
        type=Path,
        metavar="CLUSTERS_JSON",
        help="clusters from 'dedupe cluster --format json' instead of clustering again",
    )
    report.add_argument(
        "--from-spark",
        metavar="SPARK_OUTPUT",
        help="clusters from the members/ table of 'dedupe cluster --engine spark "
        "--spark-output SPARK_OUTPUT' (read with pyarrow, no Spark); give the input paths",
    )
    report.add_argument(
        "-f", "--format", choices=("text", "json", "html"), default="text", help="report format"
    )
    report.add_argument(
        "--cluster",
        action="append",
        default=[],
        metavar="ID",
        help="only this cluster (repeatable; ids are in the cluster report)",
    )
    report.add_argument("-o", "--output", type=Path, help="write the report here, not stdout")
    report.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    report.add_argument("-v", "--verbose", action="store_true", help="stage timings on stderr")
    report.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    _add_config_options(report)

    add_index_parsers(sub, _add_config_options, _Parser)

    config = sub.add_parser(
        "config",
        help="show or validate configuration",
        description="Show the effective configuration or validate a config file.",
        epilog="examples:\n  dedupe config show\n  dedupe config validate my.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    config_sub = config.add_subparsers(
        dest="config_command", metavar="ACTION", parser_class=_Parser
    )
    show = config_sub.add_parser("show", help="print the effective config as YAML")
    _add_config_options(show)
    validate = config_sub.add_parser("validate", help="check a config file; exit 2 if it is bad")
    validate.add_argument("file", type=Path)
    return parser


def _load(args: argparse.Namespace) -> Config:
    overrides = {
        dest.split(":", 1)[1]: value
        for dest, value in vars(args).items()
        if dest.startswith("override:") and value is not None
    }
    parsed = {key: parse_override(key, text) for key, text in overrides.items()}
    return load_config(args.config, parsed)


def _to_terminal(output: Path | None) -> bool:
    return output is None and sys.stdout.isatty()


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DedupeError(f"{output}: cannot write report: {exc.strerror}") from None


def _run_cluster(args: argparse.Namespace) -> int:
    config = _load(args)
    spark = config.backend.engine == "spark"
    if args.spark_output and not spark:
        raise UsageError("--spark-output needs --engine spark")
    if args.spark_state and not args.spark_output:
        raise UsageError("--spark-state needs --spark-output (and --engine spark)")
    if args.spark_output:
        from dedupe.spark.cli import run_to_files

        summary = run_to_files(args.paths, args.spark_output, config, args.spark_state)
        print(f"dedupe: {summary}", file=sys.stderr)
        return 0
    loaded = _read(args.paths, config, progress=not args.quiet)
    if spark:
        from dedupe.spark import cluster_articles_spark

        result = cluster_articles_spark(loaded.articles, config, rejects=loaded.rejects)
    else:
        result = cluster_articles(
            loaded.articles,
            config,
            rejects=loaded.rejects,
            progress=not args.quiet,
        )
    for stage in result.stages:
        log.info(
            "%-10s %8d in %8d out %8.2fs  peak RSS %6.0f MiB  workers %d  %s  cpu %s",
            stage.name,
            stage.items_in,
            stage.items_out,
            stage.seconds,
            stage.peak_rss_bytes / 2**20,
            stage.workers,
            dict(stage.notes),
            {k: round(v, 2) for k, v in stage.cpu_seconds.items()},
        )
    if args.format == "json":
        text = render_json(result, config, loaded.warnings, inputs=args.paths)
    elif args.format == "csv":
        text = render_csv(result)
    else:
        columns = shutil.get_terminal_size().columns if _to_terminal(args.output) else None
        text = render_text(result, config.report, loaded.warnings, columns)
    _write(text, args.output)
    if args.output is not None and not args.quiet:
        print(
            f"dedupe: {plural(len(result.clusters), 'cluster')}, "
            f"{plural(len(result.articles), 'article')} read, "
            f"{len(result.rejects):,} rejected; report written to {args.output}",
            file=sys.stderr,
        )
    return 0


def _read(paths: Sequence[str], config: Config, *, progress: bool) -> ReadResult:
    loaded = read_paths(paths, config.readers, progress=progress)
    if not loaded.articles:
        for line in reject_lines(loaded.rejects)[:20]:
            log.error("%s", line)
        raise DedupeError(
            f"no usable articles in {', '.join(paths)} ({len(loaded.rejects)} rejected)"
            + suffix_hint(loaded.rejects)
        )
    return loaded


def _run_report(args: argparse.Namespace) -> int:
    config = _load(args)
    if args.from_json is not None and args.from_spark is not None:
        raise UsageError("dedupe report: give --from or --from-spark, not both")
    if args.from_spark is not None:
        from dedupe.spark.saved import load_spark_clusters

        saved = load_spark_clusters(args.from_spark, args.paths, config, args.cluster)
        result, warnings = saved.result, saved.warnings
    elif args.from_json is not None:
        saved = load_saved_clusters(args.from_json, args.paths, config)
        result, warnings = saved.result, saved.warnings
    else:
        if not args.paths:
            raise UsageError("dedupe report: give input paths, or --from CLUSTERS_JSON")
        loaded = _read(args.paths, config, progress=not args.quiet)
        result = cluster_articles(
            loaded.articles, config, rejects=loaded.rejects, progress=not args.quiet
        )
        warnings = loaded.warnings
    attributions = attribute_clusters(result, config, args.cluster)
    if args.format == "json":
        text = render_attribution_json(result, attributions, config, warnings)
    elif args.format == "html":
        text = render_attribution_html(result, attributions, warnings)
    else:
        text = render_attribution_text(result, attributions, warnings)
    _write(text, args.output)
    if args.output is not None and not args.quiet:
        print(
            f"dedupe: {len(attributions)} clusters attributed; report written to {args.output}",
            file=sys.stderr,
        )
    return 0


def _run_config(args: argparse.Namespace) -> int:
    if args.config_command == "validate":
        load_config(args.file)
        print(f"{args.file}: ok", file=sys.stderr)
        return 0
    if args.config_command == "show":
        sys.stdout.write(dump_config(_load(args)))
        return 0
    raise UsageError("dedupe config: choose an action: show or validate")


def _configure_logging(*, verbose: bool) -> None:
    """Send our messages to stderr and keep libraries' chatter out.

    trafilatura logs "discarding data" with no file name; the reader already reports each page
    it rejects, so library records below ERROR are dropped.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("dedupe: %(message)s"))
    log.handlers = [handler]
    log.setLevel(logging.INFO if verbose else logging.WARNING)
    log.propagate = False
    logging.getLogger().setLevel(logging.ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (what tests call)."""
    parser = _build_parser()
    debug = False
    try:
        args = parser.parse_args(argv)
        debug = bool(getattr(args, "debug", False))
        _configure_logging(verbose=bool(getattr(args, "verbose", False)))
        if args.command == "cluster":
            return _run_cluster(args)
        if args.command == "report":
            return _run_report(args)
        if args.command == "config":
            return _run_config(args)
        if args.command == "filter":
            return run_filter(args, _load(args))
        if args.command == "index":
            return run_index(args, _load(args))
        parser.print_help(sys.stderr)
        return 2
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DedupeError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly; what was written stays valid.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        print("dedupe: output closed before the end (broken pipe)", file=sys.stderr)
        return 1
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0


def main_entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
