"""``dedupe cluster --engine spark --spark-output PATH``: files in, files out, no report.

Kept apart from ``dedupe.cli`` so the CLI module imports nothing of Spark until asked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dedupe.config import Config
from dedupe.errors import DedupeError
from dedupe.reports.terminal import plural
from dedupe.spark.session import get_session

if TYPE_CHECKING:
    from dedupe.spark.engine import SparkRun

log = logging.getLogger("dedupe")


def _log_stages(run: SparkRun) -> None:
    """Stage timings and counts on stderr with ``-v`` (the report's stage lines)."""
    for stage in run.stages:
        log.info(
            "%-10s %8d in %8d out %8.2fs  %s",
            stage.name,
            stage.items_in,
            stage.items_out,
            stage.seconds,
            dict(stage.notes),
        )


def run_to_files(
    paths: Sequence[str], output: str, config: Config, state_path: str | None = None
) -> str:
    """Read ``paths`` with Spark, cluster, write ``output``; return a one-line summary.

    With ``state_path``, the inputs are a new batch checked against the state there
    (``dedupe.spark.incremental``); the state is then replaced by state + batch, pruned.

    Raises:
        DedupeError: no usable article in the input.
        UsageError: the state was built with other settings, or is not a state.
    """
    from dedupe.spark.engine import run_spark
    from dedupe.spark.io import read_articles, write_output

    spark = get_session(config.backend.spark_master)
    if state_path is not None:
        from dedupe.spark.state import read_state

        # Before reading the inputs: a state of other settings is refused at once.
        state = read_state(spark, state_path, config)
    articles, left_out = read_articles(spark, paths, config.readers)
    if articles.limit(1).count() == 0:
        raise DedupeError(f"no usable articles in {', '.join(paths)} ({left_out} left out)")
    if state_path is not None:
        from dedupe.spark.incremental import run_incremental
        from dedupe.spark.state import write_state

        run, following = run_incremental(articles, state, config)
        _log_stages(run)
        # Output first: the state is replaced only once this batch's results are written.
        write_output(run, output)
        write_state(spark, state_path, following, config)
        clusters = run.members.select("cluster_id").distinct().count()
        return (
            f"{plural(clusters, 'cluster')} with new articles, "
            f"{plural(run.num_articles, 'new article')}, "
            f"{left_out:,} records left out (no id or text); written to {output}; state "
            f"{state_path}: {plural(following.num_articles, 'article')} "
            f"({following.pruned:,} pruned)"
        )
    run = run_spark(articles, config)
    _log_stages(run)
    write_output(run, output)
    clusters = run.members.select("cluster_id").distinct().count()
    clustered = run.members.count()
    return (
        f"{plural(clusters, 'cluster')}, {clustered:,} of {plural(run.num_articles, 'article')} "
        f"clustered, {left_out:,} records left out (no id or text); written to {output}"
    )
