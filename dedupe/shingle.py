"""Tokens -> hashed word shingles, vectorized over a batch of articles.

Input: ``Tokens`` per article. Output: ``ShingleTable``, one flat array of 32-bit shingle hashes
with per-article offsets (CSR layout), and a flag per shingle telling whether it lies inside a
quotation. Tokens are hashed once each (cached), then k-shingle hashes are combined with numpy
in one pass over the whole batch: no Python call per shingle.

Hash definition (also implemented one shingle at a time in ``shingle_hash32``, which the tests
feed to ``datasketch.MinHash`` to prove the batched signatures bit-identical):
    t_i   = splitmix64(poly(token_i) ^ (byte_length * K)),
            poly(b) = sum_j b_j * P^(L-1-j) mod 2^64 over the token's UTF-8 bytes
            (computed for all tokens of a batch in one compiled pass over its bytes,
            ``dedupe._kernels.token_hashes``)
    h     = (((t_1 * F) + t_2) * F + t_3) ... mod 2^64, with F the 64-bit FNV prime
    hash  = splitmix64(h) >> 32
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import numpy.typing as npt

from dedupe.normalize import Tokens

_MASK64 = (1 << 64) - 1
_POLY = 0x9E3779B97F4A7C15  # odd, so invertible modulo 2^64
_LENGTH_SALT = 0xD6E8FEB86659FD93

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def token_hash(token: str) -> int:
    """Stable 64-bit hash of one normalized token (reference for the vectorized form).

    Example:
        >>> token_hash("rutte") == token_hash("rutte") != token_hash("rutté")
        True
    """
    data = token.encode("utf-8")
    h = 0
    for byte in data:
        h = (h * _POLY + byte) & _MASK64
    return _mix64(h ^ ((len(data) * _LENGTH_SALT) & _MASK64))


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


@dataclass(frozen=True, slots=True)
class _BatchTokens:
    hashes: U64
    quoted: Bools
    lengths: I64


def _tokenize_batch(batch: Sequence[Tokens]) -> _BatchTokens:
    """Word hashes of a whole batch from its segments' UTF-8 bytes, in one compiled pass."""
    from dedupe._kernels import token_hashes  # numba: imported only where text is shingled

    segments = [segment for tokens in batch for segment in tokens.segments]
    per_article = np.fromiter((len(t.segments) for t in batch), np.int64, count=len(batch))
    segment_article = np.repeat(np.arange(len(batch), dtype=np.int64), per_article)
    segment_quoted = np.fromiter(
        chain.from_iterable(t.quoted for t in batch), np.bool_, count=len(segments)
    )
    # Segments never contain a line break, so "\n" separates them.
    data = np.frombuffer("\n".join(segments).encode("utf-8"), dtype=np.uint8)
    hashes, token_segment = token_hashes(data)
    token_article = segment_article[token_segment]
    return _BatchTokens(
        hashes=hashes,
        quoted=segment_quoted[token_segment],
        lengths=np.bincount(token_article, minlength=len(batch)).astype(np.int64),
    )


def build_shingle_table(batch: Sequence[Tokens], size: int) -> ShingleTable:
    """Compute the k-shingle hashes of a batch of tokenized articles in two compiled passes.

    Args:
        batch: Tokens per article.
        size: Words per shingle (k).

    Returns:
        A table with max(len(tokens) - k + 1, 0) shingles per article.
    """
    from dedupe._kernels import shingle_hashes  # numba: imported only where text is shingled

    tokenized = _tokenize_batch(batch)
    lengths, tokens, quoted_tokens = tokenized.lengths, tokenized.hashes, tokenized.quoted
    shingle_counts = np.maximum(lengths - size + 1, 0)
    offsets = np.zeros(len(batch) + 1, np.int64)
    np.cumsum(shingle_counts, out=offsets[1:])
    hashes, quoted = shingle_hashes(tokens, quoted_tokens, lengths, size, int(offsets[-1]))
    return ShingleTable(offsets=offsets, hashes=hashes, quoted=quoted)
