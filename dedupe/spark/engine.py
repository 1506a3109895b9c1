"""The Spark engine: articles DataFrame -> clusters, member ties and verified pairs.

``run_spark`` composes ``dedupe.spark.stages`` and ``dedupe.spark.components``. Each stage is
materialized (persisted and counted) before the next, so ``SparkRun.stages`` holds its wall
time, and each runs under its own Spark job group (``dedupe:<stage>``), which names it in the
Spark UI and lets ``benchmarks/spark_bench.py`` read its shuffle bytes.

The result for an article depends only on the input and the config, never on partitioning:
every per-batch function is per-article (features, signatures) or per-pair (scores), and every
cross-article decision (buckets, components, refinement) is keyed by article ids.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dedupe.config import Config
from dedupe.errors import UsageError
from dedupe.spark import components, stages
from dedupe.types import StageStats

if TYPE_CHECKING:
    import numpy as np
    from pyspark import Broadcast
    from pyspark.sql import DataFrame, SparkSession


@dataclass
class SparkRun:
    """What a Spark run produced, as DataFrames (persisted) plus per-stage statistics.

    Attributes:
        num_articles: Articles in the input.
        members: One row per clustered article (``components.MEMBER_SCHEMA`` + ``origin_id``).
        pairs: Every verified candidate pair: left_id, right_id, jaccard, containment,
            cosine, shared.
        cluster_pairs: Every pair inside every cluster with its scores and ``verified``.
        uncomparable: Ids of articles with too few compared shingles (``id``).
        stages: Wall time and counts per stage.
    """

    num_articles: int
    members: DataFrame
    pairs: DataFrame
    cluster_pairs: DataFrame
    uncomparable: DataFrame
    stages: list[StageStats] = field(default_factory=list)


@dataclass
class _Clock:
    items_out: int = 0
    notes: dict[str, int] = field(default_factory=dict)


class _Stages:
    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.done: list[StageStats] = []

    @contextmanager
    def run(self, name: str, items_in: int) -> Iterator[_Clock]:
        context = self.spark.sparkContext
        context.setJobGroup(f"dedupe:{name}", f"dedupe {name}")
        clock = _Clock()
        start = time.perf_counter()
        try:
            yield clock
        finally:
            context.setJobGroup("dedupe:other", "dedupe")
        self.done.append(
            StageStats(
                name=name,
                items_in=items_in,
                items_out=clock.items_out,
                seconds=time.perf_counter() - start,
                # The driver's own peak; executors report theirs to the Spark UI.
                peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                notes=dict(clock.notes),
                workers=context.defaultParallelism,
            )
        )


def _persist(frame: DataFrame) -> DataFrame:
    """Materialize a stage's table and cut its lineage.

    A checkpoint rather than ``persist``: later stages join these tables many times, and
    plans that carry every earlier stage grow until the driver spends its heap printing them.
    """
    return components.checkpoint(frame)


def run_spark(articles: DataFrame, config: Config) -> SparkRun:
    """Cluster the articles of a DataFrame on Spark, as ``cluster_articles`` does locally.

    Args:
        articles: Columns ``id`` (unique, string), ``text`` (string) and ``published_ts``
            (seconds since the epoch, double, null when unknown).
        config: Run settings.

    Returns:
        The persisted result tables and per-stage statistics.

    Raises:
        UsageError: two articles have the same id.
    """
    from pyspark.sql import functions as F

    spark = articles.sparkSession
    timer = _Stages(spark)
    articles = _persist(articles.select("id", "text", "published_ts"))
    n = articles.count()
    with timer.run("shingle", n) as clock:
        duplicate = articles.groupBy("id").count().where(F.col("count") > 1).limit(1).collect()
        if duplicate:
            raise UsageError(f"duplicate article id {duplicate[0]['id']!r}")
        texts, members = stages.featurize(articles, config)
        texts = _persist(texts)
        members = _persist(members)
        clock.items_out = n
        clock.notes["distinct_texts"] = texts.count()
        members.count()

    with timer.run("signature", n) as clock:
        doc_freq = stages.doc_frequencies(texts, config.verify.hash_bits)
        shared_freq = spark.sparkContext.broadcast(doc_freq)
        signed = _persist(stages.sign(texts, config, shared_freq, n))
        comparable_texts = signed.where(F.col("compared") >= config.shingle.min_shingles)
        uncomparable = _persist(
            members.join(
                signed.where(F.col("compared") < config.shingle.min_shingles).select("text_key"),
                "text_key",
            ).select("id")
        )
        clock.items_out = n - uncomparable.count()
        clock.notes["comparable_texts"] = comparable_texts.count()
        texts.unpersist()

    bands, rows = config.lsh_params
    with timer.run("candidates", clock.items_out) as clock:
        candidates, buckets = stages.candidate_pairs(signed, members, config)
        candidates = _persist(candidates)
        clock.items_out = candidates.count()
        clock.notes.update(
            bands=bands,
            rows=rows,
            oversized_buckets=buckets.where(F.col("oversized")).count(),
        )

    with timer.run("verify", clock.items_out) as clock:
        scored = score_candidates(candidates, signed, members, config, shared_freq, n)
        screened = scored.count()
        pairs = _persist(scored.where("verified").drop("verified", "similarity"))
        clock.items_out = pairs.count()
        clock.notes["screened_out_by_estimate"] = candidates.count() - screened

    with timer.run("cluster", clock.items_out) as clock:
        member_rows, cluster_pairs, clusters, oversized, _ = cluster_stage(
            pairs, scored, signed, members, config, shared_freq, n
        )
        clock.items_out = clusters
        clock.notes["oversized_components"] = oversized

    return SparkRun(
        num_articles=n,
        members=member_rows,
        pairs=pairs,
        cluster_pairs=cluster_pairs,
        uncomparable=uncomparable,
        stages=timer.done,
    )


def score_candidates(
    candidates: DataFrame,
    signed: DataFrame,
    members: DataFrame,
    config: Config,
    shared_freq: Broadcast[np.ndarray],
    n: int,
) -> DataFrame:
    """Scores of the candidate pairs that pass the MinHash screen, persisted.

    Returns:
        left_id, right_id, jaccard, containment, cosine, shared, ``verified`` (a link:
        thresholds met inside the time window) and ``similarity`` (what refinement averages).
    """
    from pyspark.sql import functions as F

    window = config.cluster.time_window_days * 86_400.0
    verify = config.verify
    scores = stages.score_pairs(candidates, signed, config, shared_freq, n, screen=True)
    scores = _persist(scores)
    published = members.select("id", "published_ts")
    pl = published.select(F.col("id").alias("left_id"), F.col("published_ts").alias("pl"))
    pr = published.select(F.col("id").alias("right_id"), F.col("published_ts").alias("pr"))
    gap = F.abs(F.col("pl") - F.col("pr"))
    in_window = F.lit(True) if window <= 0 else (gap.isNull() | (gap <= window))
    scored = (
        candidates.select(
            "left_id",
            "right_id",
            F.least("key_l", "key_r").alias("key_l"),
            F.greatest("key_l", "key_r").alias("key_r"),
        )
        .join(scores.where("screened"), ["key_l", "key_r"])
        .join(pl, "left_id")
        .join(pr, "right_id")
        .withColumn("in_window", in_window)
        .withColumn(
            "verified",
            (F.col("containment") >= verify.containment_threshold)
            & (F.col("cosine") >= verify.cosine_threshold)
            & (F.col("shared") > 0)
            & F.col("in_window"),
        )
        .withColumn(
            "similarity",
            F.when(
                (F.col("cosine") >= verify.cosine_threshold) & F.col("in_window"),
                F.col("containment"),
            ).otherwise(F.lit(0.0)),
        )
        .select(
            "left_id",
            "right_id",
            "jaccard",
            "containment",
            "cosine",
            "shared",
            "verified",
            "similarity",
        )
    )
    return _persist(scored)


def cluster_stage(
    pairs: DataFrame,
    scored: DataFrame,
    signed: DataFrame,
    members: DataFrame,
    config: Config,
    shared_freq: Broadcast[np.ndarray],
    n: int,
) -> tuple[DataFrame, DataFrame, int, int, DataFrame]:
    """Components of the verified pairs, refined, with every in-cluster pair scored.

    Args:
        pairs: Verified pairs (left_id, right_id).
        scored: ``score_candidates`` output: every screened pair among the pairs' articles.
        signed: Signed texts of every article in ``members``.
        members: id, text_key, published_ts.
        config: Run settings.
        shared_freq: Broadcast document frequencies.
        n: Articles the frequencies count.

    Returns:
        ``members`` rows (``MEMBER_SCHEMA`` + origin_id), cluster pairs (cluster_id,
        left_id, right_id, scores, verified), the number of clusters and of oversized
        components, and the components before refinement (``id``, ``root``: smallest id of
        the component; articles without a verified pair are not in it).
    """
    from pyspark.sql import functions as F

    verify = config.verify
    published = members.select("id", "published_ts")
    graph = components.connected_components(pairs)
    graph = _persist(graph)
    assigned = _persist(components.refine_components(scored, graph, config))
    al = assigned.select(F.col("id").alias("left_id"), "cluster_id")
    ar = assigned.select(F.col("id").alias("right_id"), F.col("cluster_id").alias("c_r"))
    # Every pair inside every cluster is scored: the cluster records report them all.
    inside = (
        al.join(ar, al["cluster_id"] == ar["c_r"])
        .where(F.col("left_id") < F.col("right_id"))
        .select("cluster_id", "left_id", "right_id")
    )
    keyed = inside.join(
        members.select(F.col("id").alias("left_id"), F.col("text_key").alias("key_l")),
        "left_id",
    ).join(
        members.select(F.col("id").alias("right_id"), F.col("text_key").alias("key_r")),
        "right_id",
    )
    keyed = keyed.select(
        "cluster_id",
        "left_id",
        "right_id",
        F.least("key_l", "key_r").alias("key_l"),
        F.greatest("key_l", "key_r").alias("key_r"),
    )
    pair_scores = stages.score_pairs(keyed, signed, config, shared_freq, n, screen=False)
    cluster_pairs = _persist(
        keyed.join(pair_scores, ["key_l", "key_r"])
        .select("cluster_id", "left_id", "right_id", "jaccard", "containment", "cosine", "shared")
        .withColumn(
            "verified",
            (F.col("containment") >= verify.containment_threshold)
            & (F.col("cosine") >= verify.cosine_threshold)
            & (F.col("shared") > 0),
        )
    )
    tied = components.cluster_members(cluster_pairs, config)
    origin = (
        assigned.join(published, "id")
        .groupBy("cluster_id")
        .agg(
            # Earliest published member; undated members last, ties by smallest id.
            F.min_by(
                "id",
                F.struct(F.col("published_ts").isNull(), F.col("published_ts"), F.col("id")),
            ).alias("origin_id")
        )
    )
    member_rows = _persist(tied.join(origin, "cluster_id"))
    clusters = assigned.select("cluster_id").distinct().count()
    member_rows.count()
    sizes = graph.groupBy("root").count()
    oversized = sizes.where(F.col("count") > config.cluster.max_component_size).count()
    return member_rows, cluster_pairs, clusters, oversized, graph


def collect_rows(frame: DataFrame) -> list[Any]:
    """All rows of a (small) result table on the driver."""
    return list(frame.collect())
