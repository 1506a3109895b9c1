"""The index's per-query scores against a set-based reference of the verify formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.batch import FeatureRows
from dedupe.config import VerifyConfig
from dedupe.index.scoring import Frequencies, QueryScorer, Row, RowDamage, batch_from_blobs

# A row: column -> (count, signed), few distinct columns so rows overlap.
_ROW = st.dictionaries(st.integers(0, 40), st.tuples(st.integers(1, 5), st.booleans()), max_size=25)


def _row(entries: dict[int, tuple[int, bool]]) -> Row:
    columns = sorted(entries)
    return Row(
        np.array(columns, np.int32),
        np.array([entries[c][0] for c in columns], np.uint16),
        np.array([entries[c][1] for c in columns], np.bool_),
    )


def batch_of(rows: list[Row]) -> FeatureRows:
    """The rows concatenated, the plain way."""
    offsets = np.zeros(len(rows) + 1, np.int64)
    np.cumsum([len(r.columns) for r in rows], out=offsets[1:])
    return FeatureRows(
        offsets,
        np.concatenate([r.columns for r in rows] or [np.zeros(0, np.int32)]),
        np.concatenate([r.counts for r in rows] or [np.zeros(0, np.uint16)]),
        np.concatenate([r.signed for r in rows] or [np.zeros(0, np.bool_)]),
    )


def _reference(
    query: dict[int, tuple[int, bool]],
    other: dict[int, tuple[int, bool]],
    doc_freq: list[int],
    articles: int,
    config: VerifyConfig,
    extra: int,
) -> tuple[float, float, float, int]:
    n = articles + extra
    limit = max(config.max_df * n, config.max_df_min_docs)

    def df(column: int) -> int:
        return doc_freq[column] + (extra if column in query else 0)

    def kept(row: dict[int, tuple[int, bool]]) -> dict[int, float]:
        weights = {
            c: (1 + math.log(count)) * (math.log((n + 1) / (df(c) + 1)) + 1)
            for c, (count, _) in row.items()
            if df(c) <= limit
        }
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {c: w / norm for c, w in weights.items()} if norm else weights

    def compared(row: dict[int, tuple[int, bool]]) -> set[int]:
        return {c for c, (_, signed) in row.items() if signed and df(c) <= limit}

    mine, theirs = compared(query), compared(other)
    shared = len(mine & theirs)
    smaller, union = min(len(mine), len(theirs)), len(mine | theirs)
    containment = shared / smaller if smaller else 0.0
    jaccard = shared / union if union else 0.0
    wq, wo = kept(query), kept(other)
    cosine = min(1.0, sum(w * wo[c] for c, w in wq.items() if c in wo))
    return jaccard, containment, cosine, shared


@settings(max_examples=150, deadline=None)
@given(
    query=_ROW,
    others=st.lists(_ROW, max_size=6),
    doc_freq=st.lists(st.integers(0, 12), min_size=41, max_size=41),
    min_docs=st.integers(1, 12),
    counted=st.booleans(),
)
def test_query_scores_equal_the_set_based_definitions(
    query: dict[int, tuple[int, bool]],
    others: list[dict[int, tuple[int, bool]]],
    doc_freq: list[int],
    min_docs: int,
    counted: bool,
) -> None:
    config = VerifyConfig(max_df=0.05, max_df_min_docs=min_docs, hash_bits=16)
    freq = Frequencies(config.hash_bits)
    freq.doc_freq[: len(doc_freq)] = doc_freq
    freq.articles = 30
    scorer = QueryScorer(_row(query), freq, config, counted=counted)
    # Through the stored form, as a check reads its candidates.
    blobs = [_row(o).to_blobs() for o in others]
    batch = batch_from_blobs([b[0] for b in blobs], [b[1] for b in blobs], [b[2] for b in blobs])
    scores = scorer.score(batch)
    extra = 0 if counted else 1
    for k, other in enumerate(others):
        jaccard, containment, cosine, shared = _reference(query, other, doc_freq, 30, config, extra)
        assert scores.shared[k] == shared
        assert scores.jaccard[k] == pytest.approx(jaccard, abs=1e-12)
        assert scores.containment[k] == pytest.approx(containment, abs=1e-12)
        assert scores.cosine[k] == pytest.approx(cosine, abs=1e-9)


def test_a_stored_copy_of_the_query_scores_one_and_a_stranger_zero() -> None:
    config = VerifyConfig(max_df_min_docs=5, hash_bits=16)
    freq = Frequencies(config.hash_bits)
    freq.articles = 10
    text = {c: (1 + c % 3, True) for c in range(3, 30)}
    scores = QueryScorer(_row(text), freq, config).score(
        batch_of([_row(text), _row({c: (1, True) for c in range(31, 40)})])
    )
    assert scores.shared.tolist() == [27, 0]
    assert scores.containment.tolist() == [1.0, 0.0]
    assert scores.jaccard.tolist() == [1.0, 0.0]
    assert scores.cosine[0] == pytest.approx(1.0)
    assert scores.cosine[1] == 0.0


@settings(max_examples=200, deadline=None)
@given(st.lists(_ROW, max_size=8))
def test_a_batch_read_from_stored_rows_is_the_rows_concatenated(rows: list) -> None:  # type: ignore[type-arg]
    # Each row's flags are padded to whole bytes when stored; the batch must drop the padding.
    stored = [_row(r).to_blobs() for r in rows]
    batch = batch_from_blobs([b[0] for b in stored], [b[1] for b in stored], [b[2] for b in stored])
    expected = batch_of([_row(r) for r in rows])
    assert batch.offsets.tolist() == expected.offsets.tolist()
    assert batch.columns.tolist() == expected.columns.tolist()
    assert batch.counts.tolist() == expected.counts.tolist()
    assert batch.signed.tolist() == expected.signed.tolist()
    for i, blobs in enumerate(stored):
        one = Row.from_blobs(*blobs)
        lo, hi = batch.offsets[i], batch.offsets[i + 1]
        assert batch.signed[lo:hi].tolist() == one.signed.tolist()


def test_a_damaged_row_is_named_by_its_place_in_the_batch() -> None:
    good = _row({1: (1, True), 2: (2, False), 9: (1, True)}).to_blobs()
    columns, counts, signed = (list(b) for b in zip(good, good, good, strict=True))
    signed[1] = signed[1] + b"\x00"  # one byte of flags too many
    with pytest.raises(RowDamage) as raised:
        batch_from_blobs(columns, counts, signed)
    assert raised.value.index == 1
    counts[2] = 7
    with pytest.raises(RowDamage) as raised:
        batch_from_blobs(columns, counts, [good[2]] * 3)
    assert raised.value.index == 2


def test_a_feature_field_of_another_type_is_damage_not_a_crash() -> None:
    good = _row({1: (1, True)}).to_blobs()
    with pytest.raises(RowDamage) as raised:
        batch_from_blobs([good[0], good[0]], [good[1], "text"], [good[2], good[2]])  # type: ignore[list-item]
    assert raised.value.index == 1
