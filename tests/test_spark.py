"""The Spark engine against the local path (the oracle): same signatures, clusters, scores.

A handful of end-to-end tests on one shared local[2] session; the logic itself is tested on
the local path.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from dedupe import Article, cluster_articles, read_paths
from dedupe.cli import main
from dedupe.config import Config, build_config
from dedupe.readers.records import parse_published
from tests.conftest import REPO, SHARED

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark")

EXAMPLES = REPO / "examples" / "news.jsonl"


def _assert_same(local, remote) -> None:  # type: ignore[no-untyped-def]
    assert remote.clusters == local.clusters
    assert remote.pairs == local.pairs
    assert remote.uncomparable_ids == local.uncomparable_ids
    assert [s.name for s in remote.stages] == [s.name for s in local.stages]
    for mine, theirs in zip(remote.stages, local.stages, strict=True):
        for key in ("bands", "rows", "oversized_buckets", "oversized_components"):
            assert mine.notes.get(key) == theirs.notes.get(key), (mine.name, key)
    candidates = next(s for s in local.stages if s.name == "candidates")
    assert next(s for s in remote.stages if s.name == "candidates").items_out == (
        candidates.items_out
    )


def test_spark_signatures_are_the_local_ones(spark) -> None:  # type: ignore[no-untyped-def]
    from dedupe.batch import process_batch
    from dedupe.signature import sign_rows
    from dedupe.spark.io import articles_frame
    from dedupe.spark.stages import doc_frequencies, featurize, sign
    from dedupe.verify import common_columns

    articles = read_paths([EXAMPLES]).articles
    config = Config()
    texts, _ = featurize(articles_frame(spark, articles), config)
    doc_freq = doc_frequencies(texts, config.verify.hash_bits)
    signed = sign(texts, config, spark.sparkContext.broadcast(doc_freq), len(articles))
    by_id = {row["rep_id"]: row for row in signed.collect()}

    ordered = sorted(articles, key=lambda a: a.id)
    features = process_batch([a.text for a in ordered], config).features
    assert np.array_equal(doc_freq, np.bincount(features.columns, minlength=len(doc_freq)))
    compared = features.signed & ~common_columns(features, config.verify)[features.columns]
    local = sign_rows(
        features.offsets,
        features.columns,
        compared,
        num_perm=config.minhash.num_perm,
        seed=config.seed,
        batch_size=7,
    )
    assert set(by_id) == {a.id for a in ordered}  # no duplicate texts in the examples
    for row, article in zip(local, ordered, strict=True):
        remote = np.frombuffer(by_id[article.id]["signature"], dtype="<u4")
        assert np.array_equal(remote, row), article.id


def test_examples_equal_local_with_duplicates_caps_and_window(spark) -> None:  # type: ignore[no-untyped-def]
    from dedupe.spark import cluster_articles_spark

    articles = list(read_paths([EXAMPLES]).articles)
    # Exact copies (the pre-pass) and a tiny bucket cap (star edges) change the candidates;
    # the window drops links between far-apart copies.
    copies = [
        Article(id=f"zz-copy-{i}", text=a.text, published=a.published)
        for i, a in enumerate(articles[:6])
    ]
    copies.append(Article(id="aa-copy", text=articles[0].text, published=None))
    corpus = articles + copies
    config = build_config({"lsh": {"max_bucket_size": 3}, "cluster": {"time_window_days": 2}})
    local = cluster_articles(corpus, config)
    remote = cluster_articles_spark(corpus, config, spark=spark)
    assert next(s for s in local.stages if s.name == "candidates").notes["oversized_buckets"] > 0
    _assert_same(local, remote)
    assert local.clusters


def test_synthetic_corpus_equals_local(spark) -> None:  # type: ignore[no-untyped-def]
    from benchmarks.synthetic import generate_corpus, load_cstnews_sentences
    from dedupe.spark import cluster_articles_spark

    sentences = load_cstnews_sentences(SHARED / "data" / "cstnews-cst" / "texts")
    corpus = generate_corpus(3000, seed=11, base_sentences=sentences or None)
    articles = [
        Article(
            id=r["id"],
            text=r["text"],
            outlet=r.get("outlet", ""),
            published=parse_published(r["published"]) if r.get("published") else None,
        )
        for r in corpus.records
    ]
    config = Config()
    local = cluster_articles(articles, config)
    remote = cluster_articles_spark(articles, config, spark=spark)
    _assert_same(local, remote)
    assert len(local.clusters) > 100


def test_cli_spark_output_from_jsonl(spark, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "result.jsonl"
    code = main(["cluster", str(EXAMPLES), "--engine", "spark", "--spark-output", str(out), "-q"])
    assert code == 0, capsys.readouterr().err
    members = [
        json.loads(line)
        for part in sorted((out / "members").glob("part-*.json"))
        for line in part.read_text(encoding="utf-8").splitlines()
    ]
    local = cluster_articles(read_paths([EXAMPLES]).articles)
    expected = {m.article_id: c.id for c in local.clusters for m in c.members}
    assert {m["id"]: m["cluster_id"] for m in members} == expected
    by_cluster = {c.id: c for c in local.clusters}
    for member in members:
        cluster = by_cluster[member["cluster_id"]]
        tie = next(m for m in cluster.members if m.article_id == member["id"])
        assert (member["best_match_id"], member["containment"]) == (
            tie.best_match_id,
            tie.containment,
        )
        assert member["origin_id"] in cluster.article_ids
    assert (out / "pairs").is_dir()
    assert "clusters" in capsys.readouterr().err
