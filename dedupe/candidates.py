"""Signatures -> candidate pairs by banded LSH.

Input: (n, num_perm) signatures and which rows are comparable. Output: ``CandidateSet``, unique
(left, right) row-index pairs with left < right.

Banding as in datasketch's ``MinHashLSH`` (``lsh.py``): band i holds rows
[i*r, (i+1)*r) of each signature, and two articles are candidates when any band is equal in
full. For a pair of Jaccard J that happens with probability 1 - (1 - J^r)^b. The bucket
grouping runs vectorized over all articles per band instead of one dict insert per article and
band; ``tests/test_candidates.py`` checks the pairs equal those of ``MinHashLSH.query``.

A bucket larger than ``max_bucket_size`` (boilerplate, empty-ish bodies) emits a star (its first
member paired with each other member) instead of all pairs, so no bucket explodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dedupe._arrays import sorted_unique
from dedupe.shingle import I64, U32, U64, Bools


@dataclass(frozen=True, slots=True)
class CandidateSet:
    """Candidate pairs as two aligned row-index arrays, sorted, with bucket statistics."""

    left: I64
    right: I64
    oversized_buckets: int
    raw_pairs: int

    def __len__(self) -> int:
        return len(self.left)


def band_keys(signatures: U32, band: int, rows: int) -> U64:
    """One comparable uint64 key per article for this band (exact: equal keys iff equal bands)."""
    block = signatures[:, band * rows : (band + 1) * rows].astype(np.uint64)
    if rows == 1:
        return block[:, 0].copy()
    if rows == 2:
        return (block[:, 0] << np.uint64(32)) | block[:, 1]
    _, inverse = np.unique(block, axis=0, return_inverse=True)
    return inverse.astype(np.uint64).ravel()


def find_candidates(
    signatures: U32, comparable: Bools, *, bands: int, rows: int, max_bucket_size: int
) -> CandidateSet:
    """All pairs of comparable articles that share at least one LSH band.

    Args:
        signatures: (n, num_perm) MinHash signatures.
        comparable: Rows to index; others never become candidates.
        bands: Number of bands (b).
        rows: Rows per band (r).
        max_bucket_size: Largest bucket expanded to all its pairs.
    """
    index = np.flatnonzero(comparable).astype(np.int64)
    n = len(signatures)
    codes: list[U64] = []
    oversized = 0
    raw = 0
    for band in range(bands):
        keys = band_keys(signatures[index], band, rows)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        cuts = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
        starts = np.concatenate(([0], cuts))
        sizes = np.diff(np.concatenate((starts, [len(keys)])))
        members = index[order]
        pairs_left: list[I64] = [np.zeros(0, np.int64)]
        pairs_right: list[I64] = [np.zeros(0, np.int64)]
        # Buckets of one size are expanded together: a Python loop per bucket was the cost.
        for size in sorted_unique(sizes[sizes >= 2]).tolist():
            groups = members[starts[sizes == size][:, None] + np.arange(size)]
            if size > max_bucket_size:
                for group in np.sort(groups, axis=1):
                    oversized += 1
                    pairs_left.append(np.full(size - 1, group[0]))
                    pairs_right.append(group[1:])
                continue
            i, j = np.triu_indices(size, k=1)
            pairs_left.append(groups[:, i].ravel())
            pairs_right.append(groups[:, j].ravel())
        left = np.concatenate(pairs_left)
        right = np.concatenate(pairs_right)
        lo, hi = np.minimum(left, right), np.maximum(left, right)
        raw += len(lo)
        codes.append(sorted_unique(lo.astype(np.uint64) * np.uint64(n) + hi.astype(np.uint64)))
    if not codes:
        empty = np.zeros(0, np.int64)
        return CandidateSet(left=empty, right=empty, oversized_buckets=0, raw_pairs=0)
    unique = sorted_unique(np.concatenate(codes))
    return CandidateSet(
        left=(unique // np.uint64(n)).astype(np.int64),
        right=(unique % np.uint64(n)).astype(np.int64),
        oversized_buckets=oversized,
        raw_pairs=raw,
    )
