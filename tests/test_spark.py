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


def _jsonl_rows(folder: Path) -> list[dict]:  # type: ignore[type-arg]
    return [
        json.loads(line)
        for part in sorted(folder.glob("part-*.json"))
        for line in part.read_text(encoding="utf-8").splitlines()
    ]


def test_incremental_state_equals_one_full_run(spark, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from benchmarks.synthetic import generate_corpus, load_cstnews_sentences

    sentences = load_cstnews_sentences(SHARED / "data" / "cstnews-cst" / "texts")
    # Four days of news; "day 1" is the first two, the crawl of "day 2" the last two.
    corpus = generate_corpus(2000, seed=5, base_sentences=sentences or None, span_days=4)
    split = datetime(2024, 1, 3, tzinfo=UTC)
    day1 = [r for r in corpus.records if parse_published(r["published"]) < split]
    day2 = [r for r in corpus.records if parse_published(r["published"]) >= split]
    # Day 2 also brings a known id again (skipped) and an exact copy of a day-1 text (one
    # feature row shared across the state and the batch).
    day2 += [day1[0], {**day1[1], "id": "zz-day2-copy", "published": day2[0]["published"]}]
    batches = []
    for day, records in enumerate((day1, day2), start=1):
        batch = tmp_path / f"day{day}.jsonl"
        batch.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        batches.append(batch)

    def run(batch: Path, state: Path, out: Path) -> Path:
        argv = ["cluster", str(batch), "--engine", "spark", "--spark-output", str(out)]
        code = main([*argv, "--spark-state", str(state), "-q"])
        assert code == 0, capsys.readouterr().err
        return out

    state = tmp_path / "state"
    run(batches[0], state, tmp_path / "out1.jsonl")
    # The stored components only shortcut the next run's expansion: a state without them
    # (written before they existed) or with wrong ones (all articles under one label) gives
    # the same result, at more cost.
    variants = {"none": lambda ids: ids, "one for all": lambda ids: ["x"] * len(ids)}
    states = {"as written": state}
    for name, labels in variants.items():
        states[name] = _state_relabelled(state, tmp_path / f"state {name}", labels)
    outputs = {
        name: run(batches[1], path, tmp_path / f"out2 {name}.jsonl")
        for name, path in states.items()
    }
    assert (state / "meta.json").is_file()
    assert not (tmp_path / "state.tmp").exists() and not (tmp_path / "state.old").exists()

    articles = [
        Article(id=r["id"], text=r["text"], published=parse_published(r["published"]))
        for r in corpus.records + day2[-1:]
    ]
    full = cluster_articles(articles, Config())
    new_ids = {r["id"] for r in day2[:-2]} | {"zz-day2-copy"}
    clusters = [c for c in full.clusters if set(c.article_ids) & new_ids]
    for out in outputs.values():
        _assert_incremental_output(out, full, clusters, new_ids)
    # Some day-2 article joined a cluster with day-1 members, so the state was used.
    assert any(set(c.article_ids) - new_ids for c in clusters)
    assert len(clusters) > 20


def _state_relabelled(state: Path, to: Path, labels) -> Path:  # type: ignore[no-untyped-def]
    """A copy of ``state`` whose articles' ``component`` is ``labels(ids)`` (ids: "none")."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    shutil.copytree(state, to)
    table = pq.read_table(to / "articles")
    ids = table.column("id").to_pylist()
    table = table.drop_columns(["component"])
    if labels(ids) is not ids:
        table = table.append_column("component", pa.array(labels(ids), pa.string()))
    shutil.rmtree(to / "articles")
    (to / "articles").mkdir()
    pq.write_table(table, to / "articles" / "part-0.parquet")
    return to


def _assert_incremental_output(out: Path, full, clusters, new_ids: set[str]) -> None:  # type: ignore[no-untyped-def]
    expected = {(p.left_id, p.right_id): p for p in full.pairs if {p.left_id, p.right_id} & new_ids}
    pairs = {(p["left_id"], p["right_id"]): p for p in _jsonl_rows(out / "pairs")}
    assert set(pairs) == set(expected)
    for key, pair in pairs.items():
        for name in ("jaccard", "containment", "cosine"):
            assert abs(pair[name] - getattr(expected[key], name)) <= 1e-6, (key, name)
        assert pair["shared"] == expected[key].shared_shingles
    members = _jsonl_rows(out / "members")
    assert {m["id"]: m["cluster_id"] for m in members} == {
        m.article_id: c.id for c in clusters for m in c.members
    }
    ties = {m.article_id: (m.best_match_id, m.containment) for c in clusters for m in c.members}
    for member in members:
        assert (member["best_match_id"], member["containment"]) == ties[member["id"]]


def test_incremental_state_of_other_settings_is_refused(spark, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    base = ["cluster", str(EXAMPLES), "--engine", "spark", "--spark-state", str(state), "-q"]
    code = main([*base, "--spark-output", str(tmp_path / "a.jsonl"), "--shingle-size", "4"])
    assert code == 0, capsys.readouterr().err
    written = (state / "meta.json").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main([*base, "--spark-output", str(tmp_path / "b.jsonl")]) == 2
    assert "shingle.size=4" in capsys.readouterr().err
    assert (state / "meta.json").read_text(encoding="utf-8") == written
    assert not (tmp_path / "b.jsonl").exists()
