"""Incremental Spark runs: a new batch checked against a persisted state of recent articles.

``run_incremental`` featurizes and signs only the new batch, joins its LSH band keys against
the state's (``dedupe.spark.state``) and its own, and clusters as ``run_spark`` does. The
result for the new articles is the one a batch run over state + batch would give:

- document frequencies are the state's plus the batch's (the pre-filter index's rule), so
  scores, screening and signatures are the batch run's; stored texts holding a column whose
  common status changed are signed again;
- a bucket's size and smallest id count the state's members too, so the bucket cap (and its
  star) picks the same candidates;
- a cluster is a refined connected component, and a new article's component can reach old
  articles through old-old links (whose scores moved with the frequencies). The links are
  followed outwards from the new articles: each round scores the candidate pairs of the
  articles reached last, until no new article is reached. Every member of every component
  holding a new article then has all its candidate pairs scored, which is what refinement
  reads.

Following links one hop per round took 28 rounds on a 20k-article state (chains of rewrites
and shared quotes run long), each round a pass over the band table, so a daily run cost five
times a full run. The state therefore keeps, per article, the component it was in when last
clustered (``component``). An old article reached in a round brings its whole old component
into the same round. That is only a shortcut, never trusted for the result: the articles it
brings in have all their candidate pairs scored like any other, links that moved with the
frequencies are followed out from them, and an article it brought in that no longer links
ends up in a component of its own, which is not output (no new article). So the expansion
reaches the same articles as hop by hop, plus possibly a few more, in a round or two.

Output: the clusters that hold a new article (with their old members) and the verified pairs
with a new article. Old articles whose ids come again are skipped, as by the index.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from dedupe.config import Config
from dedupe.errors import UsageError
from dedupe.spark import stages
from dedupe.spark.engine import SparkRun, _persist, _Stages, cluster_stage, score_candidates
from dedupe.spark.state import NextState, State, changed_common, prune_cutoff

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

MAX_ROUNDS = 100
_TEXT_COLUMNS = ["text_key", "rep_id", "copies", "columns", "counts", "signed", "compared"]
_TEXT_COLUMNS.append("signature")


def run_incremental(
    articles: DataFrame, state: State | None, config: Config, *, now: float | None = None
) -> tuple[SparkRun, NextState]:
    """Cluster a new batch against ``state`` (None: an empty one) and prepare the next state.

    Args:
        articles: The batch: ``id``, ``text``, ``published_ts`` (as ``run_spark``).
        state: The state of the previous runs, or None on the first run.
        config: Run settings (those the state was built with).
        now: When the batch enters the state (seconds since the epoch); the clock if None.

    Returns:
        The run (``num_articles``: new articles; ``members``/``pairs`` as described in the
        module docstring) and the next state, to be written with ``state.write_state``.

    Raises:
        UsageError: two articles of the batch have the same id.
    """
    from pyspark.sql import functions as F

    spark = articles.sparkSession
    timer = _Stages(spark)
    entered = time.time() if now is None else now
    articles = _persist(articles.select("id", "text", "published_ts"))
    received = articles.count()
    min_shingles = config.shingle.min_shingles

    with timer.run("shingle", received) as clock:
        duplicate = articles.groupBy("id").count().where(F.col("count") > 1).limit(1).collect()
        if duplicate:
            raise UsageError(f"duplicate article id {duplicate[0]['id']!r}")
        if state is not None:
            articles = _persist(articles.join(state.articles.select("id"), "id", "left_anti"))
        n_new = articles.count()
        texts, new_members = stages.featurize(articles, config)
        texts = _persist(texts)
        new_members = _persist(new_members.withColumn("entered_ts", F.lit(entered)))
        clock.items_out = n_new
        clock.notes["known_ids_skipped"] = received - n_new
        clock.notes["distinct_texts"] = texts.count()

    with timer.run("signature", n_new) as clock:
        doc_freq = stages.doc_frequencies(texts, config.verify.hash_bits)
        n = n_new
        if state is not None:
            doc_freq = doc_freq + state.doc_freq
            n += state.num_articles
        shared_freq = spark.sparkContext.broadcast(doc_freq)
        common = stages.common_mask(doc_freq, n, config)
        batch = texts.select(
            "text_key", F.col("rep_id").alias("b_rep"), F.col("copies").alias("b_copies")
        )
        if state is None:
            signed = _persist(stages.sign(texts, config, shared_freq, n))
            bands = _persist(stages.band_rows(signed, config))
            resigned = 0
        else:
            changed = changed_common(state.common, doc_freq, common)
            old = state.texts.select(*_TEXT_COLUMNS)
            if len(changed):
                old = _persist(stages.resign(old, config, shared_freq, n, changed))
                again = old.where("resigned")
                resigned = again.count()
                kept_bands = state.bands.join(again.select("text_key"), "text_key", "left_anti")
                bands_old = kept_bands.unionByName(stages.band_rows(again, config))
            else:
                resigned = 0
                bands_old = state.bands.select("text_key", "band", "key")
            # Copies in the batch of a stored text add to its copies and may lower its rep_id.
            merged = old.join(batch, "text_key", "left").select(
                "text_key",
                F.least("rep_id", "b_rep").alias("rep_id"),
                (F.col("copies") + F.coalesce("b_copies", F.lit(0))).alias("copies"),
                *_TEXT_COLUMNS[3:],
            )
            fresh = texts.join(state.texts.select("text_key"), "text_key", "left_anti")
            fresh_signed = stages.sign(fresh, config, shared_freq, n)
            signed = _persist(merged.unionByName(fresh_signed))
            bands = _persist(bands_old.unionByName(stages.band_rows(fresh_signed, config)))
        members = new_members.select("id", "text_key", "published_ts", "entered_ts")
        if state is not None:
            members = members.unionByName(
                state.articles.select("id", "text_key", "published_ts", "entered_ts")
            )
        members = _persist(members)
        uncomparable = _persist(
            new_members.join(
                signed.where(F.col("compared") < min_shingles).select("text_key"), "text_key"
            ).select("id")
        )
        clock.items_out = n_new - uncomparable.count()
        clock.notes.update(state_articles=n - n_new, resigned_texts=resigned)

    info = signed.select("text_key", "rep_id", "copies")
    new_ids = _persist(new_members.select("id"))

    labels = None if state is None else state.articles.select("id", "component")

    def candidates_of(
        frontier: DataFrame, done: DataFrame | None, *, count_oversized: bool = True
    ) -> tuple[DataFrame, int]:
        # Only the buckets a frontier text is in matter, but each with all its members.
        touched = (
            bands.join(members.join(frontier, "id", "left_semi"), "text_key", "left_semi")
            .select("band", "key")
            .distinct()
        )
        banded = bands.join(touched, ["band", "key"], "left_semi").join(info, "text_key")
        found, buckets = stages.bucket_pairs(banded, members, config, focus=frontier, done=done)
        # Counting runs the bucket aggregation again: only for the stage's notes.
        oversized = buckets.where(F.col("oversized")).count() if count_oversized else 0
        return _persist(found), oversized

    bands_n, rows_n = config.lsh_params
    with timer.run("candidates", clock.items_out) as clock:
        if state is None:
            # First run: every article is new, so every bucket counts (the batch path).
            found, buckets = stages.bucket_pairs(bands.join(info, "text_key"), members, config)
            candidates = _persist(found)
            oversized_buckets = buckets.where(F.col("oversized")).count()
        else:
            candidates, oversized_buckets = candidates_of(new_ids, None)
        clock.items_out = candidates.count()
        clock.notes.update(bands=bands_n, rows=rows_n, oversized_buckets=oversized_buckets)

    with timer.run("verify", clock.items_out) as clock:
        scored = score_candidates(candidates, signed, members, config, shared_freq, n)
        pairs = _persist(scored.where("verified").drop("verified", "similarity"))
        clock.items_out = pairs.count()
        clock.notes["screened_out_by_estimate"] = candidates.count() - scored.count()

    with timer.run("expand", clock.items_out) as clock:
        all_scored = [scored]
        visited = new_ids
        frontier = _with_mates(_reached(pairs, visited), labels, visited)
        rounds = 0
        while frontier.limit(1).count():
            rounds += 1
            if rounds > MAX_ROUNDS:
                raise RuntimeError(f"links did not close in {MAX_ROUNDS} rounds")
            found, _ = candidates_of(frontier, visited, count_oversized=False)
            more = score_candidates(found, signed, members, config, shared_freq, n)
            all_scored.append(more)
            visited = _persist(visited.union(frontier))
            frontier = _with_mates(_reached(more.where("verified"), visited), labels, visited)
        scored = all_scored[0]
        for more in all_scored[1:]:
            scored = scored.union(more)
        scored = _persist(scored)
        links = _persist(scored.where("verified").drop("verified", "similarity"))
        clock.items_out = visited.count()
        clock.notes.update(rounds=rounds, old_articles_reached=clock.items_out - n_new)

    with timer.run("cluster", clock.items_out) as clock:
        member_rows, cluster_pairs, _, oversized, graph = cluster_stage(
            links, scored, signed, members, config, shared_freq, n
        )
        # Everything visited is relabelled from this run's links (closed over them); the
        # rest keeps its label (its old component was not touched, as a whole).
        relabelled = visited.join(graph, "id", "left").select(
            "id", F.coalesce("root", "id").alias("component")
        )
        if labels is not None:
            relabelled = labels.join(visited, "id", "left_anti").unionByName(relabelled)
        # Clusters of old articles only were reached on the way; their report was given.
        wanted = member_rows.join(new_ids, "id", "left_semi").select("cluster_id").distinct()
        member_rows = _persist(member_rows.join(wanted, "cluster_id", "left_semi"))
        cluster_pairs = _persist(cluster_pairs.join(wanted, "cluster_id", "left_semi"))
        clock.items_out = wanted.count()
        clock.notes["oversized_components"] = oversized

    run = SparkRun(
        num_articles=n_new,
        members=member_rows,
        pairs=pairs,
        cluster_pairs=cluster_pairs,
        uncomparable=uncomparable,
        stages=timer.done,
    )
    following = _next_state(signed, bands, members, relabelled, doc_freq, common, n, config)
    return run, following


def _reached(links: DataFrame, visited: DataFrame) -> DataFrame:
    """Ids at an end of ``links`` not yet visited."""
    from pyspark.sql import functions as F

    ends = links.select(F.col("left_id").alias("id")).union(
        links.select(F.col("right_id").alias("id"))
    )
    return _persist(ends.distinct().join(visited, "id", "left_anti"))


def _with_mates(reached: DataFrame, labels: DataFrame | None, visited: DataFrame) -> DataFrame:
    """``reached`` plus the other articles of their stored components, none visited yet."""
    if labels is None:
        return reached
    touched = labels.join(reached, "id", "left_semi").select("component").distinct()
    mates = labels.join(touched, "component", "left_semi").select("id")
    return _persist(reached.unionByName(mates).distinct().join(visited, "id", "left_anti"))


def _next_state(
    signed: DataFrame,
    bands: DataFrame,
    members: DataFrame,
    labels: DataFrame,
    doc_freq: np.ndarray,
    common: np.ndarray,
    n: int,
    config: Config,
) -> NextState:
    """State + batch, without the articles older than ``backend.spark_state_days``."""
    from pyspark.sql import functions as F

    newest = members.agg(
        F.max("published_ts").alias("published"), F.max("entered_ts").alias("entered")
    ).collect()[0]
    cutoff = prune_cutoff(newest["published"], newest["entered"], config.backend.spark_state_days)
    age = F.coalesce("published_ts", "entered_ts")
    kept = members if cutoff is None else members.where(age >= cutoff)
    kept = _persist(
        kept.join(labels, "id", "left").withColumn(
            "component", F.coalesce(F.col("component"), F.col("id"))
        )
    )
    pruned = members.join(kept.select("id"), "id", "left_anti")
    dropped = pruned.count()
    remaining = doc_freq
    if dropped:
        gone = signed.select("text_key", "columns").join(
            pruned.groupBy("text_key").agg(F.count(F.lit(1)).alias("copies")), "text_key"
        )
        remaining = doc_freq - stages.doc_frequencies(gone, config.verify.hash_bits)
    counts = kept.groupBy("text_key").agg(
        F.min("id").alias("rep_id"), F.count(F.lit(1)).alias("copies")
    )
    texts = signed.drop("rep_id", "copies").join(counts, "text_key").select(*_TEXT_COLUMNS)
    return NextState(
        articles=kept,
        texts=texts,
        bands=bands.join(counts.select("text_key"), "text_key", "left_semi"),
        doc_freq=remaining,
        # The signatures kept were all made with this run's common columns.
        common=np.flatnonzero(common),
        num_articles=n - dropped,
        pruned=dropped,
        cutoff_ts=cutoff,
    )
