import math

import numpy as np
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
