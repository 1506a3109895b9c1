"""``dedupe cluster --engine spark --spark-output PATH``: files in, files out, no report.

Kept apart from ``dedupe.cli`` so the CLI module imports nothing of Spark until asked.
"""

from __future__ import annotations

from collections.abc import Sequence

from dedupe.config import Config
from dedupe.errors import DedupeError
from dedupe.spark.session import get_session


def run_to_files(paths: Sequence[str], output: str, config: Config) -> str:
    """Read ``paths`` with Spark, cluster, write ``output``; return a one-line summary.

    Raises:
        DedupeError: no usable article in the input.
    """
    from dedupe.spark.engine import run_spark
    from dedupe.spark.io import read_articles, write_output

    spark = get_session(config.backend.spark_master)
    articles, left_out = read_articles(spark, paths, config.readers)
    if articles.limit(1).count() == 0:
        raise DedupeError(f"no usable articles in {', '.join(paths)} ({left_out} left out)")
    run = run_spark(articles, config)
    write_output(run, output)
    clusters = run.members.select("cluster_id").distinct().count()
    clustered = run.members.count()
    return (
        f"{clusters} clusters, {clustered} of {run.num_articles} articles clustered, "
        f"{left_out} records left out (no id or text); written to {output}"
    )
