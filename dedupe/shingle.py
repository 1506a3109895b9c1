"""Tokens -> hashed word shingles, vectorized over a batch of articles.

Input: ``Tokens`` per article. Output: ``ShingleTable``, one flat array of 32-bit shingle hashes
with per-article offsets (CSR layout), and a flag per shingle telling whether it lies inside a
quotation. Tokens are hashed once each (cached), then k-shingle hashes are combined with numpy
in one pass over the whole batch: no Python call per shingle.

Hash definition (also implemented one shingle at a time in ``shingle_hash32``, which the tests
feed to ``datasketch.MinHash`` to prove the batched signatures bit-identical):
    t_i   = first 8 bytes of BLAKE2b(token_i as UTF-8), little-endian, as uint64
    h     = (((t_1 * P) + t_2) * P + t_3) ... mod 2^64, with P the 64-bit FNV prime
    hash  = splitmix64_finalizer(h) >> 32
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import numpy.typing as npt

from dedupe.normalize import Tokens

_FNV_PRIME = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_MASK64 = (1 << 64) - 1
_TOKEN_CACHE_LIMIT = 2_000_000

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def token_hash(token: str) -> int:
    """Stable 64-bit hash of one normalized token (the same on every machine and process).

    Example:
        >>> token_hash("rutte") == token_hash("rutte")
        True
    """
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")


def _mix64(h: int) -> int:
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK64
    return h ^ (h >> 31)


def shingle_hash32(shingle: bytes) -> int:
    """Hash one shingle given as space-joined normalized tokens (reference implementation).

    This is the per-shingle form of what ``build_shingle_table`` computes in batches; it is the
    ``hashfunc`` to give ``datasketch.MinHash`` for bit-identical signatures.

    Example:
        >>> 0 <= shingle_hash32("pasukan korea utara".encode()) < 2**32
        True
    """
    h = 0
    for token in shingle.decode("utf-8").split(" "):
        h = (h * 0x100000001B3 + token_hash(token)) & _MASK64
    return _mix64(h) >> 32


@dataclass(frozen=True, slots=True)
class ShingleTable:
    """Shingles of many articles in CSR layout: article i owns ``hashes[offsets[i]:offsets[i+1]]``.

    Attributes:
        offsets: int64 array of length n + 1.
        hashes: uint32 shingle hashes, in text order (repeats kept).
        quoted: True where the shingle touches quoted speech.
    """

    offsets: I64
    hashes: U32
    quoted: Bools

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def counts(self) -> I64:
        """Number of shingles (with repeats) per article."""
        return np.diff(self.offsets)

    @staticmethod
    def concat(tables: Sequence[ShingleTable]) -> ShingleTable:
        """Join tables of consecutive article batches into one."""
        if not tables:
            return ShingleTable(
                offsets=np.zeros(1, np.int64),
                hashes=np.zeros(0, np.uint32),
                quoted=np.zeros(0, np.bool_),
            )
        counts = np.concatenate([t.counts() for t in tables])
        offsets = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        return ShingleTable(
            offsets=offsets,
            hashes=np.concatenate([t.hashes for t in tables]),
            quoted=np.concatenate([t.quoted for t in tables]),
        )


class TokenHasher:
    """Caches token hashes: news vocabularies repeat, so each distinct token is hashed once."""

    def __init__(self) -> None:
        self._cache: dict[str, int] = {}

    def hash_tokens(self, words: list[str]) -> U64:
        """Hash a token list to a uint64 array."""
        cache = self._cache
        if len(cache) > _TOKEN_CACHE_LIMIT:
            cache.clear()  # bounds memory on huge corpora; costs only re-hashing
        for word in set(words).difference(cache):
            cache[word] = token_hash(word)
        return np.fromiter(map(cache.__getitem__, words), dtype=np.uint64, count=len(words))


def build_shingle_table(batch: Sequence[Tokens], size: int, hasher: TokenHasher) -> ShingleTable:
    """Compute the k-shingle hashes of a batch of tokenized articles in one numpy pass.

    Args:
        batch: Tokens per article.
        size: Words per shingle (k).
        hasher: Token hash cache shared across batches.

    Returns:
        A table with max(len(tokens) - k + 1, 0) shingles per article.
    """
    lengths = np.fromiter((len(t.words) for t in batch), dtype=np.int64, count=len(batch))
    all_words = list(chain.from_iterable(t.words for t in batch))
    tokens = hasher.hash_tokens(all_words)
    quoted_tokens = np.fromiter(
        chain.from_iterable(t.quoted for t in batch), dtype=np.bool_, count=len(all_words)
    )
    shingle_counts = np.maximum(lengths - size + 1, 0)
    offsets = np.zeros(len(batch) + 1, np.int64)
    np.cumsum(shingle_counts, out=offsets[1:])
    total = len(tokens)
    if total < size or offsets[-1] == 0:
        return ShingleTable(
            offsets=offsets, hashes=np.zeros(0, np.uint32), quoted=np.zeros(0, np.bool_)
        )
    starts_count = total - size + 1
    combined = tokens[:starts_count].copy()
    quoted = quoted_tokens[:starts_count].copy()
    with np.errstate(over="ignore"):
        for j in range(1, size):
            combined = combined * _FNV_PRIME + tokens[j : j + starts_count]
            quoted |= quoted_tokens[j : j + starts_count]
        # A shingle start is valid when all k tokens belong to the same article.
        article_of = np.repeat(np.arange(len(batch)), lengths)
        valid = article_of[:starts_count] == article_of[size - 1 : size - 1 + starts_count]
        combined = combined[valid]
        h = combined ^ (combined >> np.uint64(30))
        h = h * _MIX1
        h = h ^ (h >> np.uint64(27))
        h = h * _MIX2
        h = h ^ (h >> np.uint64(31))
    hashes = (h >> np.uint64(32)).astype(np.uint32)
    return ShingleTable(offsets=offsets, hashes=hashes, quoted=quoted[valid])
