"""The pre-filter index through its Python API (SQLite backend)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dedupe
from benchmarks.synthetic import generate_corpus
from dedupe import Article, cluster_articles, open_index, read_paths
from dedupe.cli import main
from dedupe.config import build_config
from dedupe.errors import DedupeError, UsageError
from dedupe.index import core
from tests.conftest import REPO, paragraphs, pseudo_sentences


def _examples() -> list[Article]:
    return sorted(read_paths([REPO / "examples/news.jsonl"]).articles, key=lambda a: a.id)


def _synthetic(n: int, seed: int) -> list[Article]:
    corpus = generate_corpus(n, seed=seed)
    return [
        Article(
            id=r["id"],
            text=r["text"],
            outlet=r["outlet"],
            published=datetime.fromisoformat(r["published"]),
        )
        for r in corpus.records
    ]


def _verdicts(path: Path, articles: list[Article], **kw: int) -> list[dict[str, object]]:
    with open_index(path) as idx:
        return [v.to_dict() for v in idx.add_many(articles, **kw)]


def test_examples_stream_finds_exactly_the_pairs_cluster_verifies(tmp_path: Path) -> None:
    articles = _examples()
    with open_index(tmp_path / "x.idx") as idx:
        verdicts = list(idx.add_many(articles))
    streamed = {tuple(sorted((v.id, m.id))) for v in verdicts for m in v.matches}
    result = cluster_articles(articles)
    assert streamed == {(p.left_id, p.right_id) for p in result.pairs}
    # Every cluster's members are tagged as one group, named after its first article.
    by_id = {v.id: v for v in verdicts}
    for cluster in result.clusters:
        assert len({by_id[i].cluster for i in cluster.article_ids}) == 1
    assert by_id["id-cabai-tribun"].status == "near_duplicate"
    assert by_id["id-cabai-kabarpasar"].status == "syndicated"
    assert by_id["id-cabai-kabarpasar"].cluster == "id-cabai-antara"
    assert by_id["id-cabai-wartaibukota"].status == "unique"  # same event, own wording


def test_one_at_a_time_equals_bulk(tmp_path: Path) -> None:
    articles = _synthetic(400, seed=3)
    one_by_one = []
    with open_index(tmp_path / "single.idx") as idx:
        for article in articles:
            one_by_one.append(idx.add(article).to_dict())
    assert one_by_one == _verdicts(tmp_path / "bulk.idx", articles)
    assert one_by_one == _verdicts(tmp_path / "odd.idx", articles, commit_every=37)
    assert sum(v["status"] != "unique" for v in one_by_one) > 50


def test_check_is_read_only_and_readding_is_a_no_op(tmp_path: Path) -> None:
    articles = _examples()
    path = tmp_path / "x.idx"
    with open_index(path) as idx:
        first = [v.to_dict() for v in idx.add_many(articles[:20])]
        before = idx.stats().articles
        probe = idx.check(articles[25])
        assert idx.stats().articles == before
        assert not probe.added and not probe.already_indexed
        again = list(idx.add_many(articles[:20]))
        assert all(v.already_indexed and not v.added for v in again)
        # The recorded verdict comes back, not a new one against a grown index.
        assert [v.status for v in again] == [v["status"] for v in first]
        assert idx.stats().articles == before


def test_rerunning_a_crashed_batch_gives_the_same_index(tmp_path: Path) -> None:
    articles = _synthetic(200, seed=5)
    clean = _verdicts(tmp_path / "clean.idx", articles)
    _verdicts(tmp_path / "crashed.idx", articles[:120])  # the batch that "crashed"
    with open_index(tmp_path / "crashed.idx") as idx:
        rerun = [v.to_dict() for v in idx.add_many(articles)]
    for before, after in zip(clean[120:], rerun[120:], strict=True):
        assert before == after
    assert [v["already_indexed"] for v in rerun[:120]] == [True] * 120


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), words=st.integers(8, 60))
def test_check_after_add_finds_the_article_itself(tmp_path: Path, seed: int, words: int) -> None:
    text = paragraphs(pseudo_sentences(seed, 4, (words, words + 5)))
    article = Article(id=f"a{seed}-{words}", text=text)
    with open_index(tmp_path / f"p{seed}-{words}.idx") as idx:
        added = idx.add(article)
        checked = idx.check(article)
    assert checked.already_indexed
    assert [m.id for m in checked.matches][:1] == [article.id]
    assert checked.status == "near_duplicate"
    assert checked.matches[0].jaccard == 1.0
    assert added.added


def test_too_short_articles_are_unique_and_marked(tmp_path: Path) -> None:
    with open_index(tmp_path / "x.idx") as idx:
        verdict = idx.add(Article(id="short", text="Banjir."))
        again = idx.check(Article(id="short2", text="Banjir."))
    assert verdict.status == "unique" and not verdict.comparable
    assert again.status == "unique" and not again.matches


def test_time_window_keeps_old_copies_apart(tmp_path: Path) -> None:
    text = paragraphs(pseudo_sentences(11, 9))
    day = datetime(2026, 3, 1, tzinfo=UTC)
    config = build_config({"cluster": {"time_window_days": 3}})
    with open_index(tmp_path / "x.idx", config) as idx:
        idx.add(Article(id="old", text=text, published=day))
        late = idx.check(Article(id="late", text=text, published=day + timedelta(days=10)))
        soon = idx.check(Article(id="soon", text=text, published=day + timedelta(days=2)))
    assert late.status == "unique"
    assert soon.status == "near_duplicate"


def test_other_shingle_settings_are_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "x.idx"
    open_index(path).close()
    with pytest.raises(UsageError, match=r"shingle\.size: index 3, now 4"):
        open_index(path, build_config({"shingle": {"size": 4}}))
    # Thresholds are read at query time and may change freely.
    open_index(path, build_config({"verify": {"containment_threshold": 0.5}})).close()


def test_missing_index_is_an_error_unless_created(tmp_path: Path) -> None:
    with pytest.raises(DedupeError, match="no index here"):
        open_index(tmp_path / "none.idx", create=False)


def test_prune_forgets_old_articles_as_if_never_added(tmp_path: Path) -> None:
    articles = _synthetic(300, seed=9)
    cutoff = sorted(a.published for a in articles if a.published)[150]
    old = [a for a in articles if a.published and a.published < cutoff]
    recent = [a for a in articles if a not in old]
    probes = _synthetic(340, seed=9)[300:]
    pruned_path, fresh_path = tmp_path / "pruned.idx", tmp_path / "fresh.idx"
    with open_index(pruned_path) as idx:
        list(idx.add_many(articles))
        assert idx.prune(cutoff.timestamp()) == len(old)
        assert idx.stats().articles == len(recent)
        assert idx.integrity_problems() == []
        after_prune = [idx.check(p).to_dict() for p in probes]
    with open_index(fresh_path) as idx:
        list(idx.add_many(recent))
        fresh = [idx.check(p).to_dict() for p in probes]
    # Verdicts (scores included) equal an index that only ever held the recent articles,
    # except for group names, which remember roots that were pruned.
    for a, b in zip(after_prune, fresh, strict=True):
        a.pop("cluster")
        b.pop("cluster")
    assert after_prune == fresh


def test_a_second_process_sees_what_another_added(tmp_path: Path) -> None:
    articles = _examples()
    path = tmp_path / "x.idx"
    reader = open_index(path)
    writer = open_index(path)
    assert reader.check(articles[0]).status == "unique"
    list(writer.add_many(articles[:10]))
    # The reader catches up on what the writer committed (and on its document frequencies).
    assert reader.check(articles[0]).already_indexed
    assert reader.check(articles[4]).to_dict() == writer.check(articles[4]).to_dict()
    writer.close()
    reader.close()


def test_damaged_file_is_refused_and_recover_copies_what_is_readable(tmp_path: Path) -> None:
    articles = _synthetic(300, seed=2)
    path = tmp_path / "x.idx"
    with open_index(path) as idx:
        list(idx.add_many(articles))
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    data = bytearray(path.read_bytes())
    # Scribble over pages in the middle of the file (a disk fault or another program).
    middle = len(data) // 2
    data[middle : middle + 8192] = b"\xff" * 8192
    path.write_bytes(bytes(data))
    # The damage is found: the index refuses to open, or its check lists problems.
    try:
        with open_index(path) as idx:
            problems = idx.integrity_problems()
    except DedupeError as exc:
        problems = [str(exc)]
    assert problems
    from dedupe.index.recover import recover_sqlite

    message = recover_sqlite(str(path), str(tmp_path / "fixed.idx"), dedupe.Config())
    assert "recovered" in message
    with open_index(tmp_path / "fixed.idx") as fixed:
        assert fixed.integrity_problems() == []
        kept = fixed.stats().articles
    assert 0 < kept <= len(articles)


def test_not_an_index_file(tmp_path: Path) -> None:
    path = tmp_path / "x.idx"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DedupeError, match="dedupe index recover"):
        open_index(path)


def test_no_pickle_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.idx"
    with open_index(path) as idx:
        list(idx.add_many(_examples()[:5]))
    db = sqlite3.connect(path)
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    assert json.loads(meta["params"])["shingle.size"] == 3
    verdicts = [json.loads(v) for (v,) in db.execute("SELECT verdict FROM articles")]
    assert {v["status"] for v in verdicts} <= {"unique", "syndicated", "near_duplicate"}


def test_signature_equals_the_batch_pipeline(
    tmp_path: Path, make_article: Callable[..., Article]
) -> None:
    import numpy as np

    from dedupe.batch import process_batch
    from dedupe.signature import sign_rows

    config = dedupe.Config()
    texts = [a.text for a in _examples()[:6]]
    features = process_batch(texts, config).features
    batch = sign_rows(
        features.offsets,
        features.columns,
        features.signed,
        num_perm=config.minhash.num_perm,
        seed=config.seed,
        batch_size=100,
    )
    with open_index(tmp_path / "x.idx") as idx:
        for i in range(len(texts)):
            lo, hi = features.offsets[i], features.offsets[i + 1]
            one = idx._sign(features.columns[lo:hi][features.signed[lo:hi]])
            assert np.array_equal(one, batch[i])


def test_scores_equal_the_cluster_report_when_the_corpus_is_the_same(tmp_path: Path) -> None:
    """With every article indexed, a check sees the document frequencies `cluster` sees."""
    articles = _examples()
    pairs = {(p.left_id, p.right_id): p for p in cluster_articles(articles).pairs}
    with open_index(tmp_path / "x.idx") as idx:
        list(idx.add_many(articles))
        checked = 0
        for article in articles:
            for match in idx.check(article).matches:
                if match.id == article.id:
                    continue
                pair = pairs[tuple(sorted((article.id, match.id)))]  # type: ignore[index]
                assert match.containment == pytest.approx(pair.containment, abs=1e-5)
                assert match.jaccard == pytest.approx(pair.jaccard, abs=1e-5)
                assert match.cosine == pytest.approx(pair.cosine, abs=1e-4)
                assert match.shared_shingles == pair.shared_shingles
                checked += 1
    assert checked >= 2 * len(pairs) - 10  # max_matches may cut a few


@pytest.mark.parametrize("commit_every", [1, 10])
def test_a_full_bucket_offers_only_its_first_member(tmp_path: Path, commit_every: int) -> None:
    # Five copies of one text share every band. With room for two articles per bucket, the
    # third copy onwards meets only the bucket's first member, whether the buckets were
    # filled by earlier commits (one article per commit) or in the same transaction.
    config = build_config({"lsh": {"max_bucket_size": 2}})
    text = paragraphs(pseudo_sentences(5, 30))
    copies = [Article(id=f"copy-{i}", text=text) for i in range(5)]
    with open_index(tmp_path / "capped.idx", config) as idx:
        verdicts = list(idx.add_many(copies, commit_every=commit_every))
    assert [[m.id for m in v.matches] for v in verdicts] == [[], *[["copy-0"]] * 4]
    with open_index(tmp_path / "roomy.idx") as idx:
        verdicts = list(idx.add_many(copies, commit_every=commit_every))
    assert sorted(m.id for m in verdicts[2].matches) == ["copy-0", "copy-1"]


def test_a_damaged_candidate_row_is_named_when_a_check_reads_it(tmp_path: Path) -> None:
    # The flags blob of a stored article loses its bytes: screening (signature, size) still
    # lets it through, and reading its features must fail naming it, not score garbage.
    text = paragraphs(pseudo_sentences(9, 30))
    with open_index(tmp_path / "x.idx") as idx:
        assert idx.add(Article(id="wire story", text=text)).added
    with sqlite3.connect(tmp_path / "x.idx") as db:
        db.execute("UPDATE articles SET signed = x'00' WHERE id = 'wire story'")
    damaged = r"'wire story' \(seq 1\) has damaged features"
    with open_index(tmp_path / "x.idx") as idx, pytest.raises(DedupeError, match=damaged):
        idx.check(Article(id="reprint", text=text + " Sumber: Reuters."))


def test_a_memory_mapped_index_gives_the_same_verdicts(tmp_path: Path) -> None:
    articles = _synthetic(300, seed=5)
    plain = _verdicts(tmp_path / "plain.idx", articles)
    mapped_config = build_config({"index": {"sqlite_mmap_mb": 64}})
    with open_index(tmp_path / "mapped.idx", mapped_config) as idx:
        mapped = [v.to_dict() for v in idx.add_many(articles)]
        checks = [idx.check(a).to_dict() for a in articles[:50]]
        mapped_bytes = idx.store.db.execute("PRAGMA mmap_size").fetchone()[0]  # type: ignore[attr-defined]
    assert mapped_bytes == 64 << 20
    assert mapped == plain
    with open_index(tmp_path / "plain.idx") as idx:
        assert checks == [idx.check(a).to_dict() for a in articles[:50]]


def _count_rows_read(idx: dedupe.Index, monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Count the stored articles whose columns ``idx`` reads to count document frequencies."""
    read = [0]
    original = idx.store.columns_since

    def counting(seq: int) -> Iterator[tuple[int, bytes]]:
        for item in original(seq):
            read[0] += 1
            yield item

    monkeypatch.setattr(idx.store, "columns_since", counting)
    return lambda: read[0]


def _checks(
    path: Path, articles: list[Article], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[dict[str, object]], int]:
    """``check`` verdicts from a newly opened index, and how many stored articles it read."""
    with open_index(path) as idx:
        rows_read = _count_rows_read(idx, monkeypatch)
        return [idx.check(a).to_dict() for a in articles], rows_read()


def _checks_counting_everything(
    path: Path, articles: list[Article], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[dict[str, object]], int]:
    """``_checks`` without the saved table: frequencies counted from every stored article."""
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM saved_frequencies")
    return _checks(path, articles, monkeypatch)


def _indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, total: int, added: int, seed: int
) -> tuple[Path, list[Article]]:
    """An index holding the first ``added`` of ``total`` articles, saving every 100."""
    monkeypatch.setattr(core, "SAVE_FREQUENCIES_EVERY", 100)
    articles = _synthetic(total, seed=seed)
    path = tmp_path / "x.idx"
    _verdicts(path, articles[:added])
    return path, articles


def test_opening_reads_only_the_articles_added_since_the_saved_frequencies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, articles = _indexed(tmp_path, monkeypatch, total=400, added=300, seed=7)  # saved
    _verdicts(path, articles[300:350])  # 50 more: not saved again
    checks, rows_read = _checks(path, articles[350:], monkeypatch)
    assert rows_read == 50
    with open_index(path) as idx:
        assert idx.integrity_problems() == []
    assert _checks_counting_everything(path, articles[350:], monkeypatch) == (checks, 350)
    assert sum(c["status"] != "unique" for c in checks) > 5


def test_after_a_prune_the_frequencies_are_counted_and_saved_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, articles = _indexed(tmp_path, monkeypatch, total=300, added=250, seed=8)
    dates = sorted(a.published.timestamp() for a in articles[:250] if a.published)
    with open_index(path) as idx:
        assert idx.prune(dates[len(dates) // 2]) > 50
        assert idx.integrity_problems() == []
    after_prune, rows_read = _checks(path, articles[250:], monkeypatch)
    assert rows_read == 0  # saved by the prune
    assert _checks_counting_everything(path, articles[250:], monkeypatch)[0] == after_prune


def test_a_saved_table_that_disagrees_with_the_articles_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path, articles = _indexed(tmp_path, monkeypatch, total=200, added=150, seed=9)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE saved_frequencies SET articles = articles + 1")
    assert main(["index", "verify", str(path)]) == 1
    err = capsys.readouterr().err
    assert "saved document frequencies (a cache) disagree with the stored articles" in err
    assert err.rstrip().endswith(f"{path}: 1 problem")
    # A truncated table is never used: the index counts from the articles instead.
    with sqlite3.connect(path) as db:
        db.execute("UPDATE saved_frequencies SET articles = articles - 1")
        db.execute("UPDATE saved_frequencies SET doc_freq = substr(doc_freq, 1, 100)")
    truncated, rows_read = _checks(path, articles[150:], monkeypatch)
    assert rows_read == 150
    assert _checks_counting_everything(path, articles[150:], monkeypatch)[0] == truncated


def test_an_unreadable_saved_table_is_reported_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path, articles = _indexed(tmp_path, monkeypatch, total=200, added=150, seed=10)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE saved_frequencies SET seq = 'abc'")
    checks, rows_read = _checks(path, articles[150:], monkeypatch)
    assert rows_read == 150  # counted from the articles
    assert main(["index", "verify", str(path)]) == 1
    assert "saved document frequencies (a cache) are unreadable" in capsys.readouterr().err
    assert _checks_counting_everything(path, articles[150:], monkeypatch)[0] == checks
