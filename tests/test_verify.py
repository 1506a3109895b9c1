import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.batch import process_batch
from dedupe.config import Config
from dedupe.signature import sign_rows
from dedupe.verify import Verifier, common_columns, estimated_containment
from tests.conftest import paragraphs, pseudo_sentences


def _prepare(texts: list[str]):  # type: ignore[no-untyped-def]
    config = Config()
    features = process_batch(texts, config).features
    common = common_columns(features, config.verify)
    compared = features.signed & ~common[features.columns]
    owner = np.repeat(np.arange(len(texts)), np.diff(features.offsets))
    sizes = np.bincount(owner[compared], minlength=len(texts)).astype(np.int64)
    signatures = sign_rows(
        features.offsets, features.columns, compared, num_perm=256, seed=1, batch_size=10
    )
    verifier = Verifier(config=config.verify).fit(features, np.arange(len(texts)), common)
    return signatures, sizes, verifier


def test_minhash_estimate_tracks_exact_containment_within_four_sigma() -> None:
    wire = pseudo_sentences(1, 40)
    texts = [paragraphs(wire)] + [
        paragraphs(wire[: 8 * k] + pseudo_sentences(10 + k, 40 - 8 * k)) for k in range(1, 5)
    ]
    signatures, sizes, verifier = _prepare(texts)
    left, right = np.zeros(4, np.int64), np.arange(1, 5)
    exact = verifier.score(left, right)
    estimate = estimated_containment(signatures, sizes, left, right)
    for k in range(4):
        j = exact.jaccard[k]
        sigma_j = math.sqrt(j * (1 - j) / 256)
        smaller = min(sizes[0], sizes[k + 1])
        slope = (sizes[0] + sizes[k + 1]) / ((1 + j) ** 2 * smaller)  # dC/dJ
        assert abs(estimate[k] - exact.containment[k]) <= 4 * sigma_j * slope + 1e-9


def test_scores_are_symmetric_and_bounded() -> None:
    texts = [paragraphs(pseudo_sentences(i % 3, 12 + i)) for i in range(6)]
    _, _, verifier = _prepare(texts)
    left, right = np.triu_indices(6, k=1)
    forward = verifier.score(left.astype(np.int64), right.astype(np.int64))
    backward = verifier.score(right.astype(np.int64), left.astype(np.int64))
    for name in ("jaccard", "containment", "cosine"):
        a, b = getattr(forward, name), getattr(backward, name)
        assert np.allclose(a, b) and (a >= 0).all() and (a <= 1 + 1e-9).all()
    identical = verifier.score(np.array([0]), np.array([3]))  # same seed, longer text
    assert identical.containment[0] == 1.0


_WORDS = ["harga", "cabai", "naik", "pasar", "kata", "dia", "jakarta", "東", "京", "são", "é"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(_WORDS), min_size=0, max_size=40).map(" ".join),
        min_size=2,
        max_size=6,
    )
)
def test_scores_are_symmetric_and_between_0_and_1(texts: list[str]) -> None:
    _, _, verifier = _prepare(texts)
    n = len(texts)
    left, right = np.triu_indices(n, k=1)
    forward = verifier.score(left.astype(np.int64), right.astype(np.int64))
    backward = verifier.score(right.astype(np.int64), left.astype(np.int64))
    for name in ("jaccard", "containment", "cosine"):
        a, b = getattr(forward, name), getattr(backward, name)
        assert np.allclose(a, b, atol=1e-6), name
        assert ((a >= 0.0) & (a <= 1.0 + 1e-6)).all(), name
    assert (forward.shared == backward.shared).all()


def _reference_scores(texts: list[str], pairs: list[tuple[int, int]]) -> list[tuple[int, float]]:
    """Shared signed shingles and cosine the slow, obvious way (sets and scikit-learn)."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfTransformer

    config = Config()
    features = process_batch(texts, config).features
    common = common_columns(features, config.verify)
    n, width = len(texts), 1 << config.verify.hash_bits
    kept = ~common[features.columns]
    rows = [range(features.offsets[i], features.offsets[i + 1]) for i in range(n)]
    signed = [{int(features.columns[e]) for e in r if kept[e] and features.signed[e]} for r in rows]
    counts = sp.lil_matrix((n, width), dtype=np.float64)
    for i, r in enumerate(rows):
        for e in r:
            if kept[e]:
                counts[i, int(features.columns[e])] = float(features.counts[e])
    tfidf = TfidfTransformer(sublinear_tf=True, norm="l2").fit_transform(counts.tocsr())
    return [
        (len(signed[a] & signed[b]), float(tfidf[a].multiply(tfidf[b]).sum())) for a, b in pairs
    ]


# An article: runs of words, some of them inside quotation marks (quoted speech is not compared).
_PHRASE = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=12).map(" ".join)
_ARTICLE = st.lists(st.tuples(st.booleans(), _PHRASE), max_size=8).map(
    lambda runs: " ".join(f'"{words}"' if quoted else words for quoted, words in runs)
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ARTICLE, min_size=2, max_size=6), st.data())
def test_scores_equal_a_set_and_scikit_learn_reference(
    texts: list[str], data: st.DataObject
) -> None:
    n = len(texts)
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=8)
    )
    config = Config()
    features = process_batch(texts, config).features
    common = common_columns(features, config.verify)
    left = np.array([a for a, _ in pairs], np.int64)
    right = np.array([b for _, b in pairs], np.int64)
    # Fitted on only the rows in pairs, as the pipeline does: the same scores as on all rows.
    verifier = Verifier(config=config.verify).fit(features, np.concatenate([left, right]), common)
    scores = verifier.score(left, right)
    for k, (shared, cosine) in enumerate(_reference_scores(texts, pairs)):
        assert scores.shared[k] == shared
        assert scores.cosine[k] == pytest.approx(min(cosine, 1.0), abs=1e-6)


def test_a_phrase_quoted_in_one_article_is_not_shared_wording() -> None:
    texts = [
        "harga cabai naik pasar kata dia jakarta harga naik pasar kata dia cabai",
        'harga naik " harga cabai naik pasar kata dia jakarta " '
        "cabai pasar naik harga dia kata jakarta naik",
        "harga cabai naik pasar kata dia jakarta harga naik pasar kata dia cabai",
    ]
    config = Config()
    features = process_batch(texts, config).features
    common = common_columns(features, config.verify)
    verifier = Verifier(config=config.verify).fit(features, np.arange(3), common)
    scores = verifier.score(np.array([0, 0]), np.array([1, 2]))
    reference = _reference_scores(texts, [(0, 1), (0, 2)])
    assert scores.shared.tolist() == [shared for shared, _ in reference]
    assert scores.shared[0] < scores.shared[1]  # the quoted copy shares less than the plain one


def test_vectorizing_in_blocks_gives_the_scores_of_one_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dedupe.verify

    texts = [paragraphs(pseudo_sentences(i % 4, 10 + i)) for i in range(9)]
    left, right = (a.astype(np.int64) for a in np.triu_indices(9, k=1))
    _, _, whole = _prepare(texts)
    monkeypatch.setattr(dedupe.verify, "_BLOCK_ROWS", 2)
    _, _, blocked = _prepare(texts)
    one, many = whole.score(left, right), blocked.score(left, right)
    for name in ("jaccard", "containment", "cosine", "shared"):
        assert np.array_equal(getattr(one, name), getattr(many, name)), name
    assert np.array_equal(whole.weights_, blocked.weights_)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sets(st.sampled_from([0, 1, 7, 65_535])), max_size=30))
def test_document_frequencies_count_the_articles_holding_each_column(rows: list[set[int]]) -> None:
    from dedupe.batch import FeatureRows
    from dedupe.config import VerifyConfig
    from dedupe.verify import document_frequencies

    columns = [c for row in rows for c in sorted(row)]
    features = FeatureRows(
        offsets=np.cumsum([0] + [len(row) for row in rows]).astype(np.int64),
        columns=np.array(columns, np.int32),
        counts=np.ones(len(columns), np.uint16),
        signed=np.ones(len(columns), np.bool_),
    )
    counted = document_frequencies(features, VerifyConfig(hash_bits=16))
    assert counted.dtype == np.int64
    assert len(counted) == 65_536
    assert {c: int(counted[c]) for c in (0, 1, 7, 65_535)} == {
        c: sum(c in row for row in rows) for c in (0, 1, 7, 65_535)
    }
    assert int(counted.sum()) == len(columns)


def test_a_column_outside_the_hash_width_is_an_error_not_a_stray_write() -> None:
    from dedupe._kernels import column_counts

    with pytest.raises(ValueError, match=r"column 16 at entry 2 is outside 0\.\.15"):
        column_counts(np.array([0, 3, 16], np.int32), 16)
    with pytest.raises(ValueError, match="column -1 at entry 0"):
        column_counts(np.array([-1], np.int32), 16)
