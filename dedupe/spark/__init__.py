"""Apache Spark engine (``--engine spark``): the local pipeline's functions, mapped by Spark.

Install with ``pip install 'dedupe[spark]'``; nothing here is imported by ``import dedupe``.
The local path (``dedupe.cluster_articles``) is the oracle: on the same articles and config
this engine returns the same clusters, member ties and pair scores (``tests/test_spark.py``).

Example:
    >>> from dedupe.spark import cluster_articles_spark  # doctest: +SKIP
    >>> result = cluster_articles_spark(articles, config)  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from dedupe.config import Config
from dedupe.errors import UsageError
from dedupe.spark.session import get_session, require_spark
from dedupe.types import Article, Cluster, PairScore, Reject, RunResult

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from dedupe.spark.engine import SparkRun

__all__ = ["cluster_articles_spark", "get_session", "require_spark", "to_run_result"]


def cluster_articles_spark(
    articles: Iterable[Article],
    config: Config | None = None,
    *,
    rejects: Sequence[Reject] = (),
    spark: SparkSession | None = None,
) -> RunResult:
    """``cluster_articles`` on Spark: same arguments, same ``RunResult``.

    The articles travel to Spark and the results back to this process, so this suits corpora
    that fit in memory; for bigger ones use ``dedupe.spark.engine.run_spark`` on a DataFrame
    and ``dedupe.spark.io.write_output``.

    Args:
        articles: Articles with unique ids, in any order.
        config: Settings; the defaults of ``config.yaml`` when None.
        rejects: Input records already rejected by the readers, carried into the result.
        spark: Session to use; by default the active one, else one on ``backend.spark_master``.

    Raises:
        UsageError: two articles have the same id.
        DedupeError: pyspark is not installed or Spark cannot start.
    """
    config = config or Config()
    session = spark or get_session(config.backend.spark_master)
    from dedupe.spark.engine import run_spark
    from dedupe.spark.io import articles_frame

    ordered = sorted(articles, key=lambda a: a.id)
    for previous, current in itertools.pairwise(ordered):
        if previous.id == current.id:
            raise UsageError(f"duplicate article id {current.id!r} ({current.source})")
    run = run_spark(articles_frame(session, ordered), config)
    return to_run_result(run, ordered, rejects, config)


def to_run_result(
    run: SparkRun, ordered: Sequence[Article], rejects: Sequence[Reject], config: Config
) -> RunResult:
    """Collect a Spark run into the local path's ``RunResult`` (clusters built the same way)."""
    import pandas as pd

    from dedupe.spark.components import build_cluster

    grouped: dict[str, list[tuple[str, str, float, float, float, int]]] = defaultdict(list)
    for row in run.cluster_pairs.collect():
        grouped[row["cluster_id"]].append(
            (
                row["left_id"],
                row["right_id"],
                row["jaccard"],
                row["containment"],
                row["cosine"],
                row["shared"],
            )
        )
    columns = ["left_id", "right_id", "jaccard", "containment", "cosine", "shared"]
    clusters: list[Cluster] = [
        build_cluster(pd.DataFrame(rows, columns=columns), config) for rows in grouped.values()
    ]
    clusters.sort(key=lambda c: (-len(c.article_ids), c.article_ids[0]))
    pairs = sorted(
        (
            PairScore(
                left_id=row["left_id"],
                right_id=row["right_id"],
                jaccard=round(float(row["jaccard"]), 6),
                containment=round(float(row["containment"]), 6),
                cosine=round(float(row["cosine"]), 6),
                shared_shingles=int(row["shared"]),
                verified=True,
            )
            for row in run.pairs.collect()
        ),
        key=lambda p: (p.left_id, p.right_id),
    )
    uncomparable = sorted(row["id"] for row in run.uncomparable.collect())
    return RunResult(
        config_digest=config.digest(),
        articles=tuple(ordered),
        rejects=tuple(rejects),
        clusters=tuple(clusters),
        pairs=tuple(pairs),
        stages=tuple(run.stages),
        uncomparable_ids=tuple(uncomparable),
    )
