"""One article against a few indexed ones: the verify stage's scores, for a stream.

``dedupe cluster`` scores candidate pairs in bulk with corpus-wide document frequencies. The
index sees articles one at a time, so it keeps the same statistics as they stand when an
article arrives (``Frequencies``: document frequency of every shingle column, and the number
of articles), counting the arriving article itself, exactly as if the corpus so far plus that
article were clustered. An article's verdict therefore depends only on the articles added
before it, so adding a stream one at a time or in bulk gives the same verdicts.

Scores follow ``dedupe.verify.Verifier``: containment and Jaccard over signed (unquoted)
columns that are not common, and the cosine of sublinear-tf, smoothed-idf TF-IDF vectors with
common columns dropped (scikit-learn's ``TfidfTransformer`` formulas).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dedupe.batch import FeatureRows
from dedupe.config import VerifyConfig
from dedupe.shingle import I64, U32, U64, Bools

I32 = npt.NDArray[np.int32]
U16 = npt.NDArray[np.uint16]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Row:
    """One article's feature row (see ``dedupe.batch.FeatureRows``)."""

    columns: I32
    counts: U16
    signed: Bools

    @staticmethod
    def of(features: FeatureRows, i: int) -> Row:
        """Row ``i`` of a batch's features."""
        lo, hi = int(features.offsets[i]), int(features.offsets[i + 1])
        return Row(features.columns[lo:hi], features.counts[lo:hi], features.signed[lo:hi])

    def to_blobs(self) -> tuple[bytes, bytes, bytes]:
        """Little-endian bytes for storage (no pickle: plain arrays only)."""
        return (
            self.columns.astype("<i4").tobytes(),
            self.counts.astype("<u2").tobytes(),
            np.packbits(self.signed).tobytes(),
        )

    @staticmethod
    def columns_from_blob(columns: bytes) -> I32:
        """Only the columns of a stored row (what document frequencies need)."""
        return np.frombuffer(columns, dtype="<i4").astype(np.int32)

    @staticmethod
    def from_blobs(columns: bytes, counts: bytes, signed: bytes, *, thorough: bool = False) -> Row:
        """A row back from ``to_blobs``; ValueError when the blobs do not fit together.

        ``thorough`` also checks that the columns are sorted and unique (integrity checks
        and recovery; the hot path trusts what it wrote itself).
        """
        if len(columns) % 4 or len(counts) % 2:
            raise ValueError("stored row has a truncated array")
        # Read-only views of the blobs, no copies (a check reads a few hundred rows).
        cols = np.frombuffer(columns, dtype="<i4")
        tf = np.frombuffer(counts, dtype="<u2")
        if len(tf) != len(cols) or len(signed) != (len(cols) + 7) // 8:
            raise ValueError(f"stored row has {len(cols)} columns but {len(tf)} counts")
        # Columns are stored sorted and unique; anything else is damage, not data.
        if thorough and len(cols) and (cols[0] < 0 or (np.diff(cols) <= 0).any()):
            raise ValueError("stored row's columns are not sorted and unique")
        bits = np.unpackbits(np.frombuffer(signed, dtype=np.uint8), count=len(cols))
        return Row(cols, tf, bits.view(np.bool_))


class RowDamage(ValueError):
    """Row ``index`` of a batch has blobs that do not fit together."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


def batch_from_blobs(
    columns: Sequence[bytes], counts: Sequence[bytes], signed: Sequence[bytes]
) -> FeatureRows:
    """Stored rows (``Row.to_blobs``) back as one CSR batch, as ``Row.from_blobs`` reads one.

    A check decodes its few hundred candidate rows in one go: building a ``Row`` per
    candidate (three array views, a bit unpacking, an object) cost more than scoring them.

    Raises:
        RowDamage: naming the first row whose blobs do not fit together.
    """
    try:
        joined = b"".join(columns), b"".join(counts), b"".join(signed)
    except TypeError:
        for i, blobs in enumerate(zip(columns, counts, signed, strict=True)):
            if not all(isinstance(b, bytes | bytearray | memoryview) for b in blobs):
                raise RowDamage(i, "stored row has a feature field that is not bytes") from None
        raise
    widths = np.fromiter(map(len, columns), np.int64, len(columns))
    n = widths // 4
    bad = (widths % 4 != 0) | (np.fromiter(map(len, counts), np.int64, len(counts)) != n * 2)
    packed = np.fromiter(map(len, signed), np.int64, len(signed))
    bad |= packed != (n + 7) // 8
    if bad.any():
        i = int(np.argmax(bad))
        raise RowDamage(
            i,
            f"stored row has {len(columns[i]) / 4:g} columns, {len(counts[i]) / 2:g} "
            f"counts and {len(signed[i])} bytes of flags",
        )
    offsets = np.zeros(len(n) + 1, np.int64)
    np.cumsum(n, out=offsets[1:])
    total = int(offsets[-1])
    bits = np.unpackbits(np.frombuffer(joined[2], dtype=np.uint8))
    # Each row's flags are padded to whole bytes: skip the padding of the rows before.
    starts = np.zeros(len(n), np.int64)
    np.cumsum(packed[:-1] * 8, out=starts[1:])
    where = np.arange(total, dtype=np.int64) + np.repeat(starts - offsets[:-1], n)
    return FeatureRows(
        offsets,
        np.frombuffer(joined[0], dtype="<i4"),
        np.frombuffer(joined[1], dtype="<u2"),
        bits[where].view(np.bool_),
    )


class Frequencies:
    """Document frequency per shingle column over the indexed articles, and their number.

    A fixed-size array (``2**hash_bits`` counters, 16 MiB at the default 22 bits), so memory
    does not grow with the stream.
    """

    def __init__(self, hash_bits: int) -> None:
        self.doc_freq = np.zeros(1 << hash_bits, np.int32)
        self.articles = 0

    def add(self, columns: I32) -> None:
        """Count one more article with these columns."""
        self.doc_freq[columns] += 1
        self.articles += 1

    def remove(self, columns: I32) -> None:
        """Forget one article with these columns."""
        self.doc_freq[columns] -= 1
        self.articles -= 1


@dataclass(frozen=True, slots=True)
class Scores:
    """Scores of the query against each candidate row, aligned."""

    jaccard: F64
    containment: F64
    cosine: F64
    shared: I64


class QueryScorer:
    """Scores of one query row against candidate rows, with the query counted in the corpus."""

    def __init__(
        self, query: Row, freq: Frequencies, config: VerifyConfig, *, counted: bool = False
    ) -> None:
        """``counted``: the query is already in ``freq`` (checking an indexed article)."""
        self.config = config
        self.query = query
        self.freq = freq
        self.extra = 0 if counted else 1
        self.articles = freq.articles + self.extra
        self.limit = max(config.max_df * self.articles, config.max_df_min_docs)
        df = freq.doc_freq[query.columns].astype(np.int64) + self.extra
        kept = df <= self.limit
        self.is_compared: Bools = kept & query.signed
        self.compared: I32 = query.columns[self.is_compared]
        # TF-IDF weight per query column (0 for common ones), aligned with query.columns.
        self.column_weights = np.zeros(len(query.columns))
        self.column_weights[kept] = self._weights(query.counts[kept], df[kept])

    @property
    def compared_count(self) -> int:
        """Compared shingle columns of the query (``min_shingles`` applies to this)."""
        return len(self.compared)

    def _weights(self, counts: U16, df: I64) -> F64:
        tf = 1.0 + np.log(counts.astype(np.float64))
        idf = np.log((self.articles + 1.0) / (df + 1.0)) + 1.0
        weights: F64 = tf * idf
        norm = float(np.sqrt((weights * weights).sum()))
        return weights / norm if norm > 0 else weights

    def score(self, rows: FeatureRows) -> Scores:
        """Exact scores against each row: one compiled merge of each row with the query."""
        from dedupe._kernels import query_scores

        if not len(rows):
            empty = np.zeros(0)
            return Scores(empty, empty, empty, np.zeros(0, np.int64))
        sizes, shared, norms, dots = query_scores(
            self.query.columns,
            self.is_compared,
            self.column_weights,
            rows.offsets,
            rows.columns,
            rows.counts,
            rows.signed,
            self.freq.doc_freq,
            extra=self.extra,
            limit=self.limit,
            articles=self.articles,
        )
        mine = len(self.compared)
        smaller = np.minimum(sizes, mine)
        union = sizes + mine - shared
        norms = np.sqrt(norms)
        with np.errstate(divide="ignore", invalid="ignore"):
            containment = np.where(smaller > 0, shared / np.maximum(smaller, 1), 0.0)
            jaccard = np.where(union > 0, shared / np.maximum(union, 1), 0.0)
            cosine = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)
        return Scores(
            jaccard=jaccard,
            containment=containment,
            cosine=np.clip(cosine, 0.0, 1.0),
            shared=shared,
        )

    def passes(self, scores: Scores) -> Bools:
        """The verify stage's decision (``Verifier.passes``)."""
        result: Bools = (
            (scores.containment >= self.config.containment_threshold)
            & (scores.cosine >= self.config.cosine_threshold)
            & (scores.shared > 0)
        )
        return result


_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STEP = np.uint64(0x9E3779B97F4A7C15)


def stable_band_keys(signature: U32, bands: int, rows: int) -> U64:
    """One 64-bit key per band, equal for equal bands in any process, run or machine.

    The batch pipeline numbers a band's distinct values per run (``candidates.band_keys``);
    a persistent index needs keys that mean the same forever, so each band's ``rows`` values
    and its band number are folded with splitmix64 steps. Two different bands sharing a key
    would take a 2^-64 accident, and a false candidate is then still verified.
    """
    block = signature[: bands * rows].astype(np.uint64).reshape(bands, rows)
    with np.errstate(over="ignore"):
        h = np.arange(bands, dtype=np.uint64) * _STEP
        for r in range(rows):
            h = _splitmix(h ^ (block[:, r] + _STEP))
    return h


def _splitmix(h: U64) -> U64:
    with np.errstate(over="ignore"):
        h = h + _STEP
        h = (h ^ (h >> np.uint64(30))) * _MIX1
        h = (h ^ (h >> np.uint64(27))) * _MIX2
        return h ^ (h >> np.uint64(31))
