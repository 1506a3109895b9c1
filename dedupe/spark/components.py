"""Verified pairs -> clusters inside Spark: connected components, then per-component refinement.

Connected components use the large-star / small-star iteration of Kiveris et al., "Connected
Components in MapReduce and Beyond" (SoCC 2014), with plain DataFrame joins and aggregations
(no GraphFrames, no extra JARs). Edges are kept as (lo, hi) with lo < hi:

- large-star: every node u links each larger neighbour v to m(u) = min(u, neighbours of u);
- small-star: every node u links itself and each smaller neighbour to the smallest of them.

Both shrink the graph towards one star per component centred on its smallest id, in
O(log^2 n) rounds; the loop stops when a round changes no edge. Each round is checkpointed
(reliably when the SparkContext has a checkpoint directory, locally otherwise) so the lineage
does not grow with the rounds.

Each component is then refined on one executor with ``dedupe.cluster.group_rows`` (average
linkage, size cap) through ``applyInPandas``, and every cluster's records are built with the
local path's ``_build_cluster``: the same code, so the same clusters and member scores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dedupe.cluster import group_rows
from dedupe.config import Config
from dedupe.pipeline import _build_cluster, cluster_id
from dedupe.types import Cluster
from dedupe.verify import PairScores, Verifier

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

ASSIGN_SCHEMA = "id string, cluster_id string"
MEMBER_SCHEMA = (
    "id string, cluster_id string, cluster_size int, best_match_id string, containment double, "
    "jaccard double, cosine double, mean_containment double, verified_links int"
)
MAX_ROUNDS = 100


def checkpoint(frame: DataFrame) -> DataFrame:
    """Materialize ``frame`` and truncate its lineage (reliably when a checkpoint dir is set)."""
    if frame.sparkSession.sparkContext.getCheckpointDir() is not None:
        return frame.checkpoint(eager=True)
    return frame.localCheckpoint(eager=True)


def _large_star(edges: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    both = edges.select(F.col("lo").alias("u"), F.col("hi").alias("v")).union(
        edges.select(F.col("hi").alias("u"), F.col("lo").alias("v"))
    )
    smallest = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
    return (
        both.where(F.col("v") > F.col("u"))
        .join(smallest, "u")
        .select(F.col("m").alias("lo"), F.col("v").alias("hi"))
        .distinct()
    )


def _small_star(edges: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    smallest = edges.groupBy("hi").agg(F.min("lo").alias("m"))
    linked = edges.join(smallest, "hi")
    neighbours = linked.where(F.col("lo") != F.col("m")).select(
        F.col("m").alias("lo"), F.col("lo").alias("hi")
    )
    centre = smallest.select(F.col("m").alias("lo"), F.col("hi"))
    return neighbours.union(centre).distinct()


def connected_components(edges: DataFrame) -> DataFrame:
    """Component of every node of an undirected graph given as ``(left_id, right_id)`` edges.

    Returns:
        ``(id, root)``: root is the smallest id of the node's component (roots included).

    Raises:
        RuntimeError: no convergence within ``MAX_ROUNDS`` rounds (cannot happen on a
            finite graph; a guard against an endless job).
    """
    from pyspark.sql import functions as F

    current = checkpoint(
        edges.select(
            F.least("left_id", "right_id").alias("lo"),
            F.greatest("left_id", "right_id").alias("hi"),
        )
        .where(F.col("lo") != F.col("hi"))
        .distinct()
    )
    for _ in range(MAX_ROUNDS):
        following = checkpoint(_small_star(_large_star(current)))
        changed = following.join(current, ["lo", "hi"], "left_anti").limit(1).count()
        if not changed and following.count() == current.count():
            break
        current = following
    else:
        raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
    roots = following.select(F.col("lo").alias("id"), F.col("lo").alias("root")).distinct()
    return following.select(F.col("hi").alias("id"), F.col("lo").alias("root")).union(roots)


def _refine_fn(config: Config) -> object:
    threshold = config.verify.containment_threshold
    cap = config.cluster.max_component_size

    def refine(frame: pd.DataFrame) -> pd.DataFrame:
        ids = np.array(sorted(set(frame["left_id"]) | set(frame["right_id"])), dtype=object)
        # Rows in id order inside the component, as the local path's global row order.
        left = np.searchsorted(ids, frame["left_id"].to_numpy(dtype=object)).astype(np.int64)
        right = np.searchsorted(ids, frame["right_id"].to_numpy(dtype=object)).astype(np.int64)
        order = np.lexsort((right, left))
        grouping = group_rows(
            len(ids),
            frame["verified"].to_numpy(dtype=np.bool_)[order],
            left[order],
            right[order],
            frame["similarity"].to_numpy(dtype=np.float64)[order],
            threshold=threshold,
            max_component_size=cap,
        )
        out_ids: list[str] = []
        out_clusters: list[str] = []
        for group in grouping.groups:
            members = [str(ids[i]) for i in group]
            out_ids += members
            out_clusters += [cluster_id(members)] * len(members)
        return pd.DataFrame({"id": out_ids, "cluster_id": out_clusters})

    return refine


def refine_components(scored: DataFrame, components: DataFrame, config: Config) -> DataFrame:
    """Average-linkage refinement of each component (``group_rows``), one component per call.

    Args:
        scored: Every screened candidate pair: left_id, right_id, verified, similarity.
        components: ``connected_components`` of the verified pairs.
        config: Run settings (containment threshold, component size cap).

    Returns:
        ``(id, cluster_id)`` for every article that ends in a cluster.
    """
    from pyspark.sql import functions as F

    left = components.select(F.col("id").alias("left_id"), F.col("root"))
    right = components.select(F.col("id").alias("right_id"), F.col("root").alias("root_r"))
    inside = (
        scored.join(left, "left_id")
        .join(right, "right_id")
        .where(F.col("root") == F.col("root_r"))
        .select("root", "left_id", "right_id", "verified", "similarity")
    )
    return inside.groupBy("root").applyInPandas(_refine_fn(config), ASSIGN_SCHEMA)  # type: ignore[arg-type]


def build_cluster(frame: pd.DataFrame, config: Config) -> Cluster:
    """The local path's ``Cluster`` record from one cluster's scored pairs (all of them).

    Args:
        frame: One row per member pair: left_id, right_id, jaccard, containment, cosine,
            shared.
        config: Run settings (verify thresholds).
    """
    ids = sorted(set(frame["left_id"]) | set(frame["right_id"]))
    size = len(ids)
    i, j = np.triu_indices(size, k=1)
    position = {article_id: k for k, article_id in enumerate(ids)}
    slot = {
        (position[a], position[b]): k
        for k, (a, b) in enumerate(zip(frame["left_id"], frame["right_id"], strict=True))
    }
    index = np.array([slot[(int(a), int(b))] for a, b in zip(i, j, strict=True)], np.int64)
    scores = PairScores(
        jaccard=frame["jaccard"].to_numpy(np.float64)[index],
        containment=frame["containment"].to_numpy(np.float64)[index],
        cosine=frame["cosine"].to_numpy(np.float64)[index],
        shared=frame["shared"].to_numpy(np.int64)[index],
    )
    rows = np.arange(size, dtype=np.int64)
    return _build_cluster(rows, i, j, ids, scores, Verifier(config=config.verify))


def _members_fn(config: Config) -> object:
    def members(frame: pd.DataFrame) -> pd.DataFrame:
        cluster = build_cluster(frame, config)
        records = cluster.members
        return pd.DataFrame(
            {
                "id": [m.article_id for m in records],
                "cluster_id": [cluster.id] * len(records),
                "cluster_size": [len(records)] * len(records),
                "best_match_id": [m.best_match_id for m in records],
                "containment": [m.containment for m in records],
                "jaccard": [m.jaccard for m in records],
                "cosine": [m.cosine for m in records],
                "mean_containment": [m.mean_containment for m in records],
                "verified_links": [m.verified_links for m in records],
            }
        )

    return members


def cluster_members(cluster_pairs: DataFrame, config: Config) -> DataFrame:
    """Per-member ties (``ClusterMember`` fields) of every cluster, ``MEMBER_SCHEMA``."""
    return (
        cluster_pairs.select(
            "cluster_id", "left_id", "right_id", "jaccard", "containment", "cosine", "shared"
        )
        .groupBy("cluster_id")
        .applyInPandas(_members_fn(config), MEMBER_SCHEMA)  # type: ignore[arg-type]
    )
