"""Compiled loops (numba) for the hot spots that numpy can only do with big temporaries.

- Scoring a candidate pair walks both articles' sorted shingle columns once. scipy did it by
  gathering both rows of every pair into new matrices and multiplying them, once for the
  TF-IDF dot and again for the shared-shingle count: 9-14 s for the 880k pairs of the 100k
  benchmark, against ~4 s for this single merge.
- MinHash applies 256 permutations to every shingle; numpy did it one permutation at a time
  over a batch (a pass over memory per permutation), the loop below keeps each article's
  signature row in cache: ~4x faster, bit-identical.
- The pre-filter index scores one article against up to a few hundred stored ones per check;
  numpy needed ~25 passes over their entries (search, gathers, logs, bincounts), the merge
  below makes one. It was half the time of the slowest checks.
- Feature rows sort each article's few hundred shingle keys on their own: numpy sorted a
  whole batch's keys as one array, plus eight passes over it (2.1x slower).

Imported lazily: numba takes ~0.3 s to import, which commands that never score or sign should
not pay.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

# cache=True keeps the compiled code beside this module, so only the first run on a machine
# compiles (about a second).
_jit = numba.njit(cache=True, nogil=True)


@_jit
def _pair_products(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32],
    weights: npt.NDArray[np.float32],
    signed: npt.NDArray[np.bool_],
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    shared: npt.NDArray[np.int64],
    dots: npt.NDArray[np.float64],
) -> None:
    for p in range(len(left)):
        i, i_end = indptr[left[p]], indptr[left[p] + 1]
        j, j_end = indptr[right[p]], indptr[right[p] + 1]
        count = 0
        dot = 0.0
        # Branch-free merge: which side advances is unpredictable, so compare-and-add beats
        # if/else here (measured 4.2 s against 4.6 s for the benchmark's pairs).
        while i < i_end and j < j_end:
            ci = indices[i]
            cj = indices[j]
            same = ci == cj
            dot += np.float64(weights[i]) * np.float64(weights[j]) * same
            count += same & signed[i] & signed[j]
            i += ci <= cj
            j += cj <= ci
        shared[p] = count
        dots[p] = dot


def pair_products(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32],
    weights: npt.NDArray[np.float32],
    signed: npt.NDArray[np.bool_],
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """For each pair of CSR rows: shared columns signed in both, and the dot of their weights.

    Rows are ``indices[indptr[r]:indptr[r + 1]]``, sorted and unique per row; ``signed`` and
    ``weights`` are aligned with ``indices``. The dot is summed in float64.
    """
    shared = np.zeros(len(left), np.int64)
    dots = np.zeros(len(left), np.float64)
    _pair_products(
        np.ascontiguousarray(indptr, np.int64),
        np.ascontiguousarray(indices, np.int32),
        np.ascontiguousarray(weights, np.float32),
        np.ascontiguousarray(signed, np.bool_),
        np.ascontiguousarray(left, np.int64),
        np.ascontiguousarray(right, np.int64),
        shared,
        dots,
    )
    return shared, dots


@_jit
def _min_hashes(
    offsets: npt.NDArray[np.int64],
    hashes: npt.NDArray[np.uint32],
    keep: npt.NDArray[np.bool_],
    a: npt.NDArray[np.uint32],
    b: npt.NDArray[np.uint32],
    out: npt.NDArray[np.uint32],
) -> None:
    for i in range(len(offsets) - 1):
        row = out[i]
        for e in range(offsets[i], offsets[i + 1]):
            if not keep[e]:
                continue
            # MurmurHash3's fmix32, then a * h + b mod 2^32: datasketch's affine32 scheme.
            h = np.uint32(hashes[e])
            h = h ^ (h >> np.uint32(16))
            h = np.uint32(h * np.uint32(0x85EBCA6B))
            h = h ^ (h >> np.uint32(13))
            h = np.uint32(h * np.uint32(0xC2B2AE35))
            h = h ^ (h >> np.uint32(16))
            for k in range(len(a)):
                v = np.uint32(h * a[k] + b[k])
                if v < row[k]:
                    row[k] = v


def min_hashes(
    offsets: npt.NDArray[np.int64],
    hashes: npt.NDArray[np.uint32],
    keep: npt.NDArray[np.bool_],
    a: npt.NDArray[np.uint32],
    b: npt.NDArray[np.uint32],
    out: npt.NDArray[np.uint32],
) -> None:
    """Lower each ``out[i]`` to the MinHash of row i's kept hashes (rows as CSR ``offsets``)."""
    if out.shape != (len(offsets) - 1, len(a)) or not out.flags.c_contiguous:
        raise ValueError("out must be a C-contiguous (rows, num_perm) array")
    _min_hashes(
        np.ascontiguousarray(offsets, np.int64),
        np.ascontiguousarray(hashes, np.uint32),
        np.ascontiguousarray(keep, np.bool_),
        np.ascontiguousarray(a, np.uint32),
        np.ascontiguousarray(b, np.uint32),
        out,
    )


@_jit
def _query_scores(
    query_columns: npt.NDArray[np.int32],
    query_compared: npt.NDArray[np.bool_],
    query_weights: npt.NDArray[np.float64],
    offsets: npt.NDArray[np.int64],
    columns: npt.NDArray[np.int32],
    signed: npt.NDArray[np.bool_],
    counts: npt.NDArray[np.uint16],
    df: npt.NDArray[np.int32],
    tf_of_count: npt.NDArray[np.float64],
    idf_of_df: npt.NDArray[np.float64],
    extra: int,
    limit: float,
    sizes: npt.NDArray[np.int64],
    shared: npt.NDArray[np.int64],
    norms: npt.NDArray[np.float64],
    dots: npt.NDArray[np.float64],
) -> None:
    nq = len(query_columns)
    for r in range(len(offsets) - 1):
        j = 0
        size = 0
        count = 0
        norm = 0.0
        dot = 0.0
        for e in range(offsets[r], offsets[r + 1]):
            c = columns[e]
            while j < nq and query_columns[j] < c:
                j += 1
            in_query = j < nq and query_columns[j] == c
            d = df[e] + (extra if in_query else 0)
            if d > limit:
                continue  # common: no weight, not compared
            if signed[e]:
                size += 1
                if in_query and query_compared[j]:
                    count += 1
            weight = tf_of_count[counts[e]] * idf_of_df[d]
            norm += weight * weight
            if in_query:
                dot += weight * query_weights[j]
        sizes[r] = size
        shared[r] = count
        norms[r] = norm
        dots[r] = dot


def query_scores(
    query_columns: npt.NDArray[np.int32],
    query_compared: npt.NDArray[np.bool_],
    query_weights: npt.NDArray[np.float64],
    offsets: npt.NDArray[np.int64],
    columns: npt.NDArray[np.int32],
    counts: npt.NDArray[np.uint16],
    signed: npt.NDArray[np.bool_],
    doc_freq: npt.NDArray[np.int32],
    *,
    extra: int,
    limit: float,
    articles: float,
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]
]:
    """One query row against CSR candidate rows, in one merge per row.

    Per candidate row: compared size (signed entries whose document frequency, plus
    ``extra`` when the query holds the column, is at most ``limit``), shared compared columns
    (also compared in the query: ``query_compared``), the squared l2 norm of its TF-IDF
    weights (scikit-learn's sublinear tf x smoothed idf over ``articles``) over kept
    entries, and the dot of those weights with ``query_weights`` (aligned with
    ``query_columns``). Columns are sorted and unique in the query and in every row.

    The document-frequency gather stays in numpy: the 16 MiB frequency table misses the
    cache, and numpy issues those loads back to back where a branching loop stalls on each.
    The logarithms come from small tables indexed by count and by document frequency (a
    kept entry's frequency is at most ``limit``), built with the same formulas.
    """
    k = len(offsets) - 1
    df = doc_freq[columns]
    with np.errstate(divide="ignore"):  # count 0 does not occur; its slot is never read
        tf_of_count = 1.0 + np.log(np.arange(int(counts.max(initial=0)) + 1, dtype=np.float64))
    # Kept entries have a frequency of at most ``limit`` and of at most the largest one
    # gathered (plus ``extra``): the table stays small even when ``max_df`` lets ``limit``
    # grow with millions of articles.
    top = min(int(limit), int(df.max(initial=0)) + extra)
    frequencies = np.arange(top + 1, dtype=np.float64)
    idf_of_df = np.log((articles + 1.0) / (frequencies + 1.0)) + 1.0
    sizes = np.zeros(k, np.int64)
    shared = np.zeros(k, np.int64)
    norms = np.zeros(k, np.float64)
    dots = np.zeros(k, np.float64)
    _query_scores(
        np.ascontiguousarray(query_columns, np.int32),
        np.ascontiguousarray(query_compared, np.bool_),
        np.ascontiguousarray(query_weights, np.float64),
        np.ascontiguousarray(offsets, np.int64),
        np.ascontiguousarray(columns, np.int32),
        np.ascontiguousarray(signed, np.bool_),
        np.ascontiguousarray(counts, np.uint16),
        np.ascontiguousarray(df, np.int32),
        tf_of_count,
        idf_of_df,
        int(extra),
        float(limit),
        sizes,
        shared,
        norms,
        dots,
    )
    return sizes, shared, norms, dots


_POLY = np.uint64(0x9E3779B97F4A7C15)
_LENGTH_SALT = np.uint64(0xD6E8FEB86659FD93)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@_jit
def _mix64(h: np.uint64) -> np.uint64:
    """SplitMix64's finalizer, as ``dedupe.shingle._mix64``."""
    h = (h ^ (h >> np.uint64(30))) * _MIX1
    h = (h ^ (h >> np.uint64(27))) * _MIX2
    return h ^ (h >> np.uint64(31))


@_jit
def _token_hashes(
    data: npt.NDArray[np.uint8],
    hashes: npt.NDArray[np.uint64],
    segments: npt.NDArray[np.int64],
) -> int:
    count = 0
    segment = 0
    h = np.uint64(0)
    length = 0
    for k in range(len(data) + 1):
        b = data[k] if k < len(data) else np.uint8(10)  # a final line break ends the last word
        if (97 <= b <= 122) or (48 <= b <= 57) or b >= 128:
            h = h * _POLY + np.uint64(b)
            length += 1
            continue
        if length:
            hashes[count] = _mix64(h ^ np.uint64(length) * _LENGTH_SALT)
            segments[count] = segment
            count += 1
            h = np.uint64(0)
            length = 0
        if b == 10:
            segment += 1
    return count


def token_hashes(
    data: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """``dedupe.shingle.token_hash`` of every word in ``data``, and the segment of each.

    Words are runs of ASCII letters/digits and bytes >= 0x80; segments are separated by line
    breaks. One pass over the bytes: the numpy form needed a prefix sum of uint64 powers over
    every byte and a dozen more passes (about a quarter of the shingling time).
    """
    bound = (len(data) + 1) // 2 + 1  # words are separated by at least one byte
    hashes = np.empty(bound, np.uint64)
    segments = np.empty(bound, np.int64)
    count = _token_hashes(data, hashes, segments)
    return hashes[:count].copy(), segments[:count].copy()


_FNV_PRIME = np.uint64(0x100000001B3)


@_jit
def _shingle_hashes(
    tokens: npt.NDArray[np.uint64],
    quoted: npt.NDArray[np.bool_],
    lengths: npt.NDArray[np.int64],
    size: int,
    out_hashes: npt.NDArray[np.uint32],
    out_quoted: npt.NDArray[np.bool_],
) -> None:
    start = 0  # of the article's tokens
    out = 0
    for article in range(len(lengths)):
        for s in range(start, start + lengths[article] - size + 1):
            h = tokens[s]
            q = quoted[s]
            for j in range(s + 1, s + size):
                h = h * _FNV_PRIME + tokens[j]
                q |= quoted[j]
            out_hashes[out] = np.uint32(_mix64(h) >> np.uint64(32))
            out_quoted[out] = q
            out += 1
        start += lengths[article]


def shingle_hashes(
    tokens: npt.NDArray[np.uint64],
    quoted: npt.NDArray[np.bool_],
    lengths: npt.NDArray[np.int64],
    size: int,
    total: int,
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.bool_]]:
    """Hash of every run of ``size`` words within an article, and whether it is quoted.

    The hash is ``dedupe.shingle.shingle_hash32``; a shingle is quoted when any of its words
    is. ``total``: the number of shingles.

    One compiled pass: numpy took ~20 passes over the batch's words (combine, mix, and the
    masks of starts whose words span two articles).
    """
    hashes = np.empty(total, np.uint32)
    out_quoted = np.empty(total, np.bool_)
    _shingle_hashes(tokens, quoted, lengths, size, hashes, out_quoted)
    return hashes, out_quoted


@_jit
def _feature_rows(
    offsets: npt.NDArray[np.int64],
    hashes: npt.NDArray[np.uint32],
    signed: npt.NDArray[np.bool_],
    width_mask: np.uint32,
    out_offsets: npt.NDArray[np.int64],
    out_columns: npt.NDArray[np.int32],
    out_counts: npt.NDArray[np.uint16],
    out_signed: npt.NDArray[np.bool_],
) -> None:
    longest = 0
    for row in range(len(offsets) - 1):
        longest = max(longest, offsets[row + 1] - offsets[row])
    keys = np.empty(longest, np.int64)
    entry = 0
    for row in range(len(offsets) - 1):
        lo, size = offsets[row], offsets[row + 1] - offsets[row]
        # Column in the high bits, 0 = signed in the lowest: the first key of each column
        # says whether any of its shingles is signed.
        for k in range(size):
            keys[k] = (np.int64(hashes[lo + k] & width_mask) << 1) | (not signed[lo + k])
        keys[:size].sort()
        count = 0
        for k in range(size):
            if k == 0 or keys[k] >> 1 != keys[k - 1] >> 1:
                out_columns[entry] = keys[k] >> 1
                out_signed[entry] = (keys[k] & 1) == 0
                entry += 1
                count = 0
            count += 1
            out_counts[entry - 1] = min(count, 65_535)
        out_offsets[row + 1] = entry


def feature_rows(
    offsets: npt.NDArray[np.int64],
    hashes: npt.NDArray[np.uint32],
    signed: npt.NDArray[np.bool_],
    hash_bits: int,
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.uint16], npt.NDArray[np.bool_]
]:
    """Feature rows of shingle hashes in CSR layout (``dedupe.batch.feature_rows``).

    Per article: its sorted unique columns (hashes folded to ``2**hash_bits``), how often
    each occurs, and whether any of its shingles is signed.

    One compiled pass per article, sorting its few hundred keys in cache: numpy sorted the
    batch's keys as one array (log(batch) steps per key) around eight more passes over it.
    """
    total = len(hashes)
    out_offsets = np.zeros(len(offsets), np.int64)
    columns = np.empty(total, np.int32)
    counts = np.empty(total, np.uint16)
    out_signed = np.empty(total, np.bool_)
    mask = np.uint32((1 << hash_bits) - 1)
    _feature_rows(offsets, hashes, signed, mask, out_offsets, columns, counts, out_signed)
    used = int(out_offsets[-1])
    return out_offsets, columns[:used].copy(), counts[:used].copy(), out_signed[:used].copy()


@_jit
def _column_counts(columns: npt.NDArray[np.int32], counts: npt.NDArray[np.int64]) -> int:
    width = len(counts)
    for at, column in enumerate(columns):
        if column < 0 or column >= width:
            return at  # compiled code does not check bounds: an error, not a stray write
        counts[column] += 1
    return -1


def column_counts(columns: npt.NDArray[np.int32], width: int) -> npt.NDArray[np.int64]:
    """How often each column in ``range(width)`` occurs: ``np.bincount`` without its copy.

    ``np.bincount`` first converts int32 input to int64: a 4 GB temporary for the 510M
    feature entries of 1M articles (about as fast otherwise).
    """
    counts = np.zeros(width, np.int64)
    columns = np.ascontiguousarray(columns, np.int32)
    bad = _column_counts(columns, counts)
    if bad >= 0:
        raise ValueError(f"column {columns[bad]} at entry {bad} is outside 0..{width - 1}")
    return counts
