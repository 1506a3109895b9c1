"""Candidate pairs -> exact scores and a verified / not verified decision.

Input: ``FeatureRows`` of every article and candidate row pairs. Output: ``PairScores``
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

from dedupe._arrays import segment_sums, sorted_unique
from dedupe.batch import FeatureRows
from dedupe.config import VerifyConfig
from dedupe.shingle import I64, Bools

F64 = np.ndarray
# Pairs scored per step: each step gathers both rows of every pair (~500 entries each), so
# 25k pairs hold ~200 MB at a time; 200k held 1.5 GB for no measurable speed gain.
_CHUNK = 25_000


@dataclass(frozen=True, slots=True)
class PairScores:
    """Scores of many pairs as aligned arrays."""

    jaccard: F64
    containment: F64
    cosine: F64
    shared: I64

    def __len__(self) -> int:
        return len(self.shared)


def estimated_containment(
    signatures: np.ndarray, sizes: I64, left: I64, right: I64, chunk: int = 65_536
) -> F64:
    """MinHash estimate of each pair's containment, vectorized over pairs.

    J is estimated as the share of equal signature slots (datasketch's ``MinHash.jaccard``),
    then |A ∩ B| = J (|A| + |B|) / (1 + J) with the exact set sizes, over min(|A|, |B|).
    """
    out = np.zeros(len(left), np.float64)
    for lo in range(0, len(left), chunk):
        a, b = left[lo : lo + chunk], right[lo : lo + chunk]
        jaccard = (signatures[a] == signatures[b]).mean(axis=1)
        shared = jaccard * (sizes[a] + sizes[b]) / (1.0 + jaccard)
        out[lo : lo + len(a)] = shared / np.maximum(np.minimum(sizes[a], sizes[b]), 1)
    return out


def common_columns(features: FeatureRows, config: VerifyConfig) -> Bools:
    """Columns too common to mean shared wording.

    A column in more than ``max(max_df * n, max_df_min_docs)`` articles is a stock phrase or
    boilerplate: it counts for nothing in signatures, containment or cosine.
    """
    doc_freq = np.bincount(features.columns, minlength=1 << config.hash_bits)
    common: Bools = doc_freq > max(config.max_df * len(features), config.max_df_min_docs)
    return common


class Verifier:
    """Scores article pairs on shared shingles.

    Follows scikit-learn's estimator convention: ``__init__`` stores settings, ``fit`` learns
    document frequencies into ``attr_`` names, ``score`` needs a fitted verifier. Document
    frequencies come from every article; vectors are built only for the rows that will be
    scored (those in candidate pairs).

    Example:
        >>> verifier = Verifier(config=VerifyConfig()).fit(features, rows)  # doctest: +SKIP
        >>> scores = verifier.score(left, right)  # doctest: +SKIP
    """

    def __init__(self, *, config: VerifyConfig) -> None:
        self.config = config

    def fit(self, features: FeatureRows, rows: I64, common: Bools | None = None) -> Verifier:
        """Learn document frequencies from all articles; vectorize ``rows``.

        Args:
            features: Feature rows of every article.
            rows: Article rows that ``score`` will be asked about.
            common: ``common_columns(features, config)``, when the caller has it already.
        """
        n = len(features)
        width = 1 << self.config.hash_bits
        if common is None:
            common = common_columns(features, self.config)
        self.num_common_ = int(common.sum())
        kept = ~common[features.columns]
        # Common shingles are dropped before fitting: scikit-learn's max_df does the same.
        counts = _csr(features, kept, features.counts.astype(np.float32), n, width)
        transformer = TfidfTransformer(sublinear_tf=True, norm="l2").fit(counts)
        rows = sorted_unique(rows)
        self.position_ = np.full(n, -1, np.int64)
        self.position_[rows] = np.arange(len(rows))
        # scikit-learn refuses to transform zero rows; no candidates means nothing to score.
        self.tfidf_ = (
            transformer.transform(counts[rows]).tocsr() if len(rows) else counts[rows].tocsr()
        )
        signed = _csr(features, kept & features.signed, np.ones(len(kept), np.float32), n, width)
        self.signed_ = signed[rows]
        self.sizes_ = np.diff(self.signed_.indptr).astype(np.int64)
        return self

    def fit_frequencies(self, features: FeatureRows, doc_freq: I64, num_articles: int) -> Verifier:
        """Vectorize every row of ``features`` with corpus statistics counted elsewhere.

        A distributed engine counts document frequencies once over the whole corpus and then
        scores pairs a batch at a time. This gives each row exactly the vectors ``fit`` gives
        it: the same common columns and the IDF that scikit-learn's ``TfidfTransformer.fit``
        computes (float32, smoothed) from the corpus count matrix whose common columns were
        dropped, so the scores are bit-identical to the local path's
        (``tests/test_spark.py`` checks it).

        Args:
            features: The rows to score later (all of them are vectorized; ``score`` takes
                positions in ``features``).
            doc_freq: How many articles of the whole corpus have each column.
            num_articles: Articles in the whole corpus.
        """
        n = len(features)
        width = 1 << self.config.hash_bits
        common = doc_freq > max(self.config.max_df * num_articles, self.config.max_df_min_docs)
        self.num_common_ = int(common.sum())
        kept = ~common[features.columns]
        counts = _csr(features, kept, features.counts.astype(np.float32), n, width)
        # TfidfTransformer.fit, step by step: df of the dropped common columns is 0 there.
        df = np.where(common, 0, doc_freq).astype(np.float32)
        df += 1.0
        idf = np.full_like(df, fill_value=num_articles + 1, dtype=np.float32)
        idf /= df
        np.log(idf, out=idf)
        idf += 1.0
        transformer = TfidfTransformer(sublinear_tf=True, norm="l2")
        transformer.idf_ = idf
        transformer.n_features_in_ = width
        self.position_ = np.arange(n, dtype=np.int64)
        self.tfidf_ = transformer.transform(counts).tocsr() if n else counts
        self.signed_ = _csr(
            features, kept & features.signed, np.ones(len(kept), np.float32), n, width
        )
        self.sizes_ = np.diff(self.signed_.indptr).astype(np.int64)
        return self

    def score(self, left: I64, right: I64) -> PairScores:
        """Exact scores for aligned pairs of article rows (rows given to ``fit``)."""
        if not hasattr(self, "signed_"):
            raise RuntimeError("Verifier.score called before fit")
        a_all, b_all = self.position_[left], self.position_[right]
        if len(a_all) and (a_all.min() < 0 or b_all.min() < 0):
            raise ValueError("Verifier.score asked about a row that was not given to fit")
        shared = np.zeros(len(left), np.int64)
        cosine = np.zeros(len(left), np.float64)
        for lo in range(0, len(left), _CHUNK):
            a, b = a_all[lo : lo + _CHUNK], b_all[lo : lo + _CHUNK]
            shared[lo : lo + len(a)] = _rowwise_dot(self.signed_, a, b).round().astype(np.int64)
            cosine[lo : lo + len(a)] = _rowwise_dot(self.tfidf_, a, b)
        size_a, size_b = self.sizes_[a_all], self.sizes_[b_all]
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


def _csr(features: FeatureRows, keep: Bools, data: F64, n: int, width: int) -> sp.csr_matrix:
    """The kept entries of the feature rows as a CSR matrix (columns stay sorted per row).

    float32 data and int32 column indices: half the memory of scipy's defaults, which matters
    at a million articles; sums of counts and of float32 products stay exact enough for scores
    reported to six decimals.
    """
    per_row = segment_sums(keep, features.offsets)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(per_row, out=indptr[1:])
    return sp.csr_matrix((data[keep], features.columns[keep], indptr), shape=(n, width))


def _rowwise_dot(matrix: sp.csr_matrix, left: I64, right: I64) -> F64:
    product = matrix[left].multiply(matrix[right])
    return np.asarray(product.sum(axis=1)).ravel()
