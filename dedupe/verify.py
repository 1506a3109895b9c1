"""Candidate pairs -> exact scores and a verified / not verified decision.

Input: ``FeatureRows`` of every article and candidate row pairs. Output: ``PairScores``
arrays aligned with the pairs. Only candidate pairs are scored (never an n x n matrix): each
score is one merge of the two articles' sorted shingle columns (``dedupe._kernels``).

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
# Rows vectorized together: ~5M feature entries, so a block's temporaries stay ~100 MiB.
_BLOCK_ROWS = 10_000


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


def document_frequencies(features: FeatureRows, config: VerifyConfig) -> I64:
    """In how many articles each column occurs (columns are unique within a row)."""
    from dedupe._kernels import column_counts

    return column_counts(features.columns, 1 << config.hash_bits)


def common_columns(
    features: FeatureRows, config: VerifyConfig, doc_freq: I64 | None = None
) -> Bools:
    """Columns too common to mean shared wording.

    A column in more than ``max(max_df * n, max_df_min_docs)`` articles is a stock phrase or
    boilerplate: it counts for nothing in signatures, containment or cosine. ``doc_freq``:
    ``document_frequencies(features, config)``, when the caller has it already.
    """
    if doc_freq is None:
        doc_freq = document_frequencies(features, config)
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

    def fit(
        self,
        features: FeatureRows,
        rows: I64,
        common: Bools | None = None,
        doc_freq: I64 | None = None,
    ) -> Verifier:
        """Learn document frequencies from all articles; vectorize ``rows``.

        Args:
            features: Feature rows of every article.
            rows: Article rows that ``score`` will be asked about.
            common: ``common_columns(features, config)``, when the caller has it already.
            doc_freq: ``document_frequencies(features, config)``, likewise.
        """
        n = len(features)
        if doc_freq is None:
            doc_freq = document_frequencies(features, self.config)
        if common is None:
            common = doc_freq > max(self.config.max_df * n, self.config.max_df_min_docs)
        rows = sorted_unique(rows)
        self.position_ = np.full(n, -1, np.int64)
        self.position_[rows] = np.arange(len(rows))
        return self._vectorize(features, rows, _idf(doc_freq, common, n), common)

    def fit_frequencies(self, features: FeatureRows, doc_freq: I64, num_articles: int) -> Verifier:
        """Vectorize every row of ``features`` with corpus statistics counted elsewhere.

        A distributed engine counts document frequencies once over the whole corpus and then
        scores pairs a batch at a time. This gives each row exactly the vectors ``fit`` gives
        it (the same common columns and IDF), so the scores are bit-identical to the local
        path's (``tests/test_spark.py`` checks it).

        Args:
            features: The rows to score later (all of them are vectorized; ``score`` takes
                positions in ``features``).
            doc_freq: How many articles of the whole corpus have each column.
            num_articles: Articles in the whole corpus.
        """
        n = len(features)
        common = doc_freq > max(self.config.max_df * num_articles, self.config.max_df_min_docs)
        self.position_ = np.arange(n, dtype=np.int64)
        rows = np.arange(n, dtype=np.int64)
        return self._vectorize(features, rows, _idf(doc_freq, common, num_articles), common)

    def _vectorize(self, features: FeatureRows, rows: I64, idf: F64, common: Bools) -> Verifier:
        """TF-IDF weights and signed flags of ``rows``' kept entries, as one CSR structure.

        Only the rows to be scored are gathered (building the whole corpus's matrices first
        cost 4.9 s of the 100k benchmark's verify stage), and a block of rows at a time: the
        weighting is row by row (sublinear tf, IDF, l2 norm), so blocks give the same numbers,
        while the gather's temporaries stay the size of a block (gathering all rows at once
        peaked at ~10 GiB of temporaries at 1M articles).
        """
        width = 1 << self.config.hash_bits
        kept = common[features.columns]
        np.logical_not(kept, out=kept)  # in place: one bool per entry, not two
        kept_per_row = segment_sums(kept, features.offsets)[rows]
        del kept
        self.indptr_ = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(kept_per_row, out=self.indptr_[1:])
        total = int(self.indptr_[-1])
        self.indices_ = np.empty(total, np.int32)
        self.weights_ = np.empty(total, np.float32)
        self.signed_ = np.empty(total, np.bool_)
        self.num_common_ = int(common.sum())
        transformer = TfidfTransformer(sublinear_tf=True, norm="l2")
        transformer.idf_ = idf
        transformer.n_features_in_ = width
        for lo in range(0, len(rows), _BLOCK_ROWS):
            block = rows[lo : lo + _BLOCK_ROWS]
            lengths = features.offsets[block + 1] - features.offsets[block]
            entries = _ranges(features.offsets[block], lengths)
            columns = features.columns[entries]
            kept = ~common[columns]
            entries = entries[kept]
            indptr = self.indptr_[lo : lo + len(block) + 1] - self.indptr_[lo]
            counts = features.counts[entries].astype(np.float32)
            matrix = sp.csr_matrix((counts, columns[kept], indptr), shape=(len(block), width))
            matrix = transformer.transform(matrix).tocsr()
            # The flags below must stay aligned with the weights.
            if not (
                np.array_equal(matrix.indptr, indptr)
                and np.array_equal(matrix.indices, columns[kept])
            ):
                raise RuntimeError("TfidfTransformer changed the sparsity structure")
            span = slice(int(self.indptr_[lo]), int(self.indptr_[lo + len(block)]))
            self.indices_[span] = matrix.indices
            self.weights_[span] = matrix.data
            self.signed_[span] = features.signed[entries]
        self.sizes_ = segment_sums(self.signed_, self.indptr_)
        return self

    def score(self, left: I64, right: I64) -> PairScores:
        """Exact scores for aligned pairs of article rows (rows given to ``fit``)."""
        from dedupe._kernels import pair_products

        if not hasattr(self, "signed_"):
            raise RuntimeError("Verifier.score called before fit")
        a_all, b_all = self.position_[left], self.position_[right]
        if len(a_all) and (a_all.min() < 0 or b_all.min() < 0):
            raise ValueError("Verifier.score asked about a row that was not given to fit")
        shared, cosine = pair_products(
            self.indptr_, self.indices_, self.weights_, self.signed_, a_all, b_all
        )
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


def _idf(doc_freq: I64, common: Bools, num_articles: int) -> F64:
    """scikit-learn's ``TfidfTransformer.fit`` IDF (smoothed, float32), step by step.

    Fitted on the corpus count matrix with the common columns dropped, so their document
    frequency is 0 there.
    """
    df = np.where(common, 0, doc_freq).astype(np.float32)
    df += 1.0
    idf = np.full_like(df, fill_value=num_articles + 1, dtype=np.float32)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    return idf


def _ranges(starts: I64, lengths: I64) -> I64:
    """``concatenate([arange(s, s + k) for s, k in zip(starts, lengths)])``, vectorized."""
    total = int(lengths.sum())
    before = np.zeros(len(lengths), np.int64)
    np.cumsum(lengths[:-1], out=before[1:])
    ranges: I64 = np.arange(total, dtype=np.int64) + np.repeat(starts - before, lengths)
    return ranges
