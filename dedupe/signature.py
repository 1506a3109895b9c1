"""Feature rows -> MinHash signatures, batched, bit-identical to datasketch's ``affine32`` scheme.

Input: ``FeatureRows`` and, per entry, whether it is compared (outside quotations, not common in
the corpus). Output: an (n, num_perm) uint32 matrix; row i equals ``datasketch.MinHash(num_perm,
seed, hashfunc=lambda s: shingle_hash32(s) & (2**verify.hash_bits - 1))`` updated with article
i's compared shingles, so LSH estimates the Jaccard of exactly the sets that verification
measures. Articles with nothing to sign get an all-max row and are marked not comparable.

datasketch 2.0 (``minhash.py``): each 32-bit input hash is pre-mixed with the MurmurHash3 fmix32
finalizer, then permutation k maps it to ``a_k * h + b_k mod 2^32`` (uint32 wraparound); the
signature is the minimum per permutation (computed by ``dedupe._kernels.min_hashes``). We take
``a``/``b`` from a datasketch ``MinHash`` so the permutations cannot drift from the library's.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
from datasketch import LeanMinHash, MinHash

from dedupe._arrays import segment_sums
from dedupe.shingle import U32, Bools, ShingleTable

MAX_HASH = np.uint32(0xFFFFFFFF)
SCHEME = "affine32"


def permutations(num_perm: int, seed: int) -> tuple[U32, U32]:
    """Datasketch's permutation parameters (a, b) for this seed and size."""
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations
    return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)


def signed_mask(table: ShingleTable, ignore_quoted: bool, min_shingles: int) -> Bools:
    """Which shingles each article is signed and compared on.

    Quoted speech is left out when ``ignore_quoted`` (a shared quote is not shared reporting),
    unless fewer than ``min_shingles`` would remain: then the whole article is used, so a text
    that is all quotation still compares on its own words.
    """
    if not ignore_quoted:
        return np.ones(len(table.hashes), np.bool_)
    unquoted = ~table.quoted
    mask = unquoted.copy()
    per_article = segment_sums(unquoted, table.offsets)
    counts = table.counts()
    fallback = np.flatnonzero((per_article < min_shingles) & (counts > 0))
    for i in fallback:
        mask[table.offsets[i] : table.offsets[i + 1]] = True
    return mask


def compute_signatures(
    table: ShingleTable,
    mask: Bools,
    *,
    num_perm: int,
    seed: int,
    batch_size: int = 256,
) -> U32:
    """MinHash every article of the table.

    Args:
        table: Shingles of n articles.
        mask: Which shingles to include (``signed_mask``).
        num_perm: Number of permutations.
        seed: datasketch seed for the permutations.
        batch_size: Articles per call of the compiled loop (bounds the contiguous copies
            of hashes and mask made for it).

    Returns:
        (n, num_perm) uint32 signatures; all-max rows for articles with nothing to sign.
    """
    from dedupe._kernels import min_hashes

    a, b = permutations(num_perm, seed)
    n = len(table)
    out = np.full((n, num_perm), MAX_HASH, dtype=np.uint32)
    for lo, hi in _batches(n, batch_size):
        start, stop = int(table.offsets[lo]), int(table.offsets[hi])
        min_hashes(
            table.offsets[lo : hi + 1] - start,
            table.hashes[start:stop],
            mask[start:stop],
            a,
            b,
            out[lo:hi],
        )
    return out


def _batches(n: int, size: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, n, size):
        yield lo, min(n, lo + size)


def sign_rows(
    offsets: npt.NDArray[np.int64],
    columns: npt.NDArray[np.int32],
    keep: Bools,
    *,
    num_perm: int,
    seed: int,
    batch_size: int,
) -> U32:
    """MinHash the kept columns of each CSR row (the feature rows of ``dedupe.batch``)."""
    # Columns are below 2**hash_bits, so the uint32 view is the same numbers without a copy
    # (a copy was 2 GB at 1M articles).
    table = ShingleTable(
        offsets=offsets, hashes=columns.view(np.uint32), quoted=np.zeros(0, np.bool_)
    )
    return compute_signatures(table, keep, num_perm=num_perm, seed=seed, batch_size=batch_size)


def to_lean_minhash(row: U32, seed: int) -> LeanMinHash:
    """One signature row as datasketch's compact, serializable ``LeanMinHash``."""
    return LeanMinHash(seed=seed, hashvalues=row, scheme=SCHEME)
