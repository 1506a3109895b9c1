"""Candidate pairs -> exact scores and a verified / not verified decision.

Input: ``ShingleTable``, the signed-shingle mask and candidate row pairs. Output: ``PairScores``
arrays aligned with the pairs. Only candidate pairs are scored (never an n x n matrix): each
score is a row-wise product of two sparse rows.

- containment = |A ∩ B| / min(|A|, |B|) and jaccard = |A ∩ B| / |A ∪ B| over the signed
  shingles (quotations left out), ignoring shingles that are common across the corpus
  (document frequency above ``max(max_df * n, max_df_min_docs)``: boilerplate that slipped
  past the line patterns, stock phrases);
- cosine = dot product of l2-normalized TF-IDF rows over all shingles (scikit-learn's
  ``TfidfTransformer``, sublinear tf), so frequent shingles weigh little and common ones nothing.

Shingle hashes are folded into ``2**hash_bits`` columns (the hashing trick of scikit-learn's
``HashingVectorizer``): with ~500 shingles per article, a spurious column collision between two
articles is rarer than one shingle in ten pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer

from dedupe.config import VerifyConfig
from dedupe.shingle import I64, Bools, ShingleTable

F64 = np.ndarray
_CHUNK = 200_000


@dataclass(frozen=True, slots=True)
class PairScores:
    """Scores of many pairs as aligned arrays."""

    jaccard: F64
    containment: F64
    cosine: F64
    shared: I64

    def __len__(self) -> int:
        return len(self.shared)


class Verifier:
    """Scores article pairs on shared shingles.

    Follows scikit-learn's estimator convention: ``__init__`` stores settings, ``fit`` learns
    document frequencies into ``attr_`` names, ``score`` needs a fitted verifier.

    Example:
        >>> verifier = Verifier(config=VerifyConfig()).fit(table, mask)  # doctest: +SKIP
        >>> scores = verifier.score(left, right)  # doctest: +SKIP
    """

    def __init__(self, *, config: VerifyConfig) -> None:
        self.config = config

    def fit(self, table: ShingleTable, mask: Bools) -> Verifier:
        """Learn document frequencies and build the two sparse matrices."""
        n = len(table)
        width = 1 << self.config.hash_bits
        rows = np.repeat(np.arange(n, dtype=np.int64), table.counts())
        columns = (table.hashes & np.uint32(width - 1)).astype(np.int64)
        counts = _csr_counts(rows, columns, n, width)
        doc_freq = np.bincount(counts.indices, minlength=width)
        limit = max(self.config.max_df * n, self.config.max_df_min_docs)
        common = doc_freq > limit
        self.num_common_ = int(common.sum())
        keep_counts = ~common[counts.indices]
        counts.data = np.where(keep_counts, counts.data, 0.0)
        counts.eliminate_zeros()
        transformer = TfidfTransformer(sublinear_tf=True, norm="l2")
        self.tfidf_ = transformer.fit_transform(counts).tocsr()
        signed = _csr_counts(rows[mask], columns[mask], n, width)
        signed.data = np.where(common[signed.indices], 0.0, 1.0)
        signed.eliminate_zeros()
        self.signed_ = signed
        self.sizes_ = np.diff(signed.indptr).astype(np.int64)
        return self

    def score(self, left: I64, right: I64) -> PairScores:
        """Exact scores for aligned pairs of row indices."""
        if not hasattr(self, "signed_"):
            raise RuntimeError("Verifier.score called before fit")
        shared = np.zeros(len(left), np.int64)
        cosine = np.zeros(len(left), np.float64)
        for lo in range(0, len(left), _CHUNK):
            a, b = left[lo : lo + _CHUNK], right[lo : lo + _CHUNK]
            shared[lo : lo + len(a)] = _rowwise_dot(self.signed_, a, b).round().astype(np.int64)
            cosine[lo : lo + len(a)] = _rowwise_dot(self.tfidf_, a, b)
        size_a, size_b = self.sizes_[left], self.sizes_[right]
        smaller = np.minimum(size_a, size_b)
        union = size_a + size_b - shared
        with np.errstate(divide="ignore", invalid="ignore"):
            containment = np.where(smaller > 0, shared / np.maximum(smaller, 1), 0.0)
            jaccard = np.where(union > 0, shared / np.maximum(union, 1), 0.0)
        return PairScores(
            jaccard=jaccard,
            containment=containment,
            cosine=np.clip(cosine, 0.0, 1.0),
            shared=shared,
        )

    def passes(self, scores: PairScores) -> Bools:
        """Which scored pairs count as shared wording."""
        result: Bools = (
            (scores.containment >= self.config.containment_threshold)
            & (scores.cosine >= self.config.cosine_threshold)
            & (scores.shared > 0)
        )
        return result


def _csr_counts(rows: I64, columns: I64, n: int, width: int) -> sp.csr_matrix:
    """Count matrix with sorted, unique column indices, built by one sort of (row, column) codes.

    Faster than letting scipy convert COO with duplicates (a per-row sort plus a merge).
    """
    codes, counts = np.unique(rows * width + columns, return_counts=True)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(codes // width, minlength=n), out=indptr[1:])
    return sp.csr_matrix(
        (counts.astype(np.float64), (codes % width).astype(np.int64), indptr), shape=(n, width)
    )


def _rowwise_dot(matrix: sp.csr_matrix, left: I64, right: I64) -> F64:
    product = matrix[left].multiply(matrix[right])
    return np.asarray(product.sum(axis=1)).ravel()
