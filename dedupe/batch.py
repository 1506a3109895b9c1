"""A batch of article texts -> MinHash signatures and sparse shingle features: the engine-free core.

Input: the texts of one batch and the ``Config``. Output: ``BatchResult``. The function is pure
and its inputs and outputs pickle cheaply (numpy arrays), so the local pipeline maps it over
batches in worker processes, and a distributed engine can map it over partitions; either way
the result for an article does not depend on which batch it landed in.

Per article it keeps only what later stages read: the signature, how many shingles were signed,
and its feature row (sorted unique shingle columns with their counts, and whether each column
occurs outside quotations). Tokens and raw shingles die with the batch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from dedupe._arrays import sorted_unique
from dedupe.config import Config, NormalizeConfig
from dedupe.normalize import Normalizer
from dedupe.shingle import I64, U32, Bools, ShingleTable, build_shingle_table
from dedupe.signature import compute_signatures, signed_mask

I32 = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class FeatureRows:
    """Sparse shingle features of many articles, CSR layout (row i = article i).

    Attributes:
        offsets: int64, length n + 1.
        columns: Shingle hashes folded to ``2**verify.hash_bits`` columns, sorted and unique
            within each row.
        counts: How often each column occurs in the article (term frequency).
        signed: Whether the column occurs outside quotations (what containment compares).
    """

    offsets: I64
    columns: I32
    counts: I32
    signed: Bools

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @staticmethod
    def concat(parts: Sequence[FeatureRows]) -> FeatureRows:
        """Join the rows of consecutive batches."""
        lengths = np.concatenate([np.diff(p.offsets) for p in parts]) if parts else np.zeros(0)
        offsets = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return FeatureRows(
            offsets=offsets,
            columns=np.concatenate([p.columns for p in parts]) if parts else np.zeros(0, np.int32),
            counts=np.concatenate([p.counts for p in parts]) if parts else np.zeros(0, np.int32),
            signed=np.concatenate([p.signed for p in parts]) if parts else np.zeros(0, np.bool_),
        )


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one batch produces; ``seconds`` is CPU time per step, for the stage report."""

    signatures: U32
    signed_counts: I64
    shingles: int
    features: FeatureRows
    seconds: dict[str, float]


@lru_cache(maxsize=8)
def _normalizer(config: NormalizeConfig) -> Normalizer:
    return Normalizer(config)


def feature_rows(table: ShingleTable, mask: Bools, hash_bits: int) -> FeatureRows:
    """Fold shingle hashes into columns and count them per article.

    One sort of (article, column) codes gives sorted unique columns per row, so the sparse
    matrices of the verify stage are assembled without any further sorting.
    """
    n = len(table)
    width = 1 << hash_bits
    owner = np.repeat(np.arange(n, dtype=np.int64), table.counts())
    codes = owner * width + (table.hashes & np.uint32(width - 1)).astype(np.int64)
    unique, counts = np.unique(codes, return_counts=True)
    signed_codes = sorted_unique(codes[mask])
    position = np.searchsorted(signed_codes, unique)
    position = np.minimum(position, max(len(signed_codes) - 1, 0))
    signed = (
        signed_codes[position] == unique if len(signed_codes) else np.zeros(len(unique), np.bool_)
    )
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(unique // width, minlength=n), out=offsets[1:])
    return FeatureRows(
        offsets=offsets,
        columns=(unique % width).astype(np.int32),
        counts=counts.astype(np.int32),
        signed=signed,
    )


def process_batch(texts: Sequence[str], config: Config) -> BatchResult:
    """Tokenize, shingle, sign and featurize one batch of article texts.

    Args:
        texts: Article bodies, in the order the caller keeps.
        config: Run settings (normalize, shingle, minhash, seed, verify.hash_bits are read).

    Returns:
        Signatures and features row-aligned with ``texts``.
    """
    clock = time.process_time()
    seconds: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.process_time()
        seconds[name] = now - clock
        clock = now

    normalizer = _normalizer(config.normalize)
    tokens = [normalizer.tokens(text) for text in texts]
    lap("tokenize")
    table = build_shingle_table(tokens, config.shingle.size)
    mask = signed_mask(table, config.shingle.ignore_quoted, config.shingle.min_shingles)
    lap("shingle")
    signatures = compute_signatures(
        table, mask, num_perm=config.minhash.num_perm, seed=config.seed, batch_size=len(texts)
    )
    lap("signature")
    features = feature_rows(table, mask, config.verify.hash_bits)
    owner = np.repeat(np.arange(len(texts)), table.counts())
    signed_counts = np.bincount(owner[mask], minlength=len(texts)).astype(np.int64)
    lap("features")
    return BatchResult(
        signatures=signatures,
        signed_counts=signed_counts,
        shingles=len(table.hashes),
        features=features,
        seconds=seconds,
    )
