"""A batch of article texts -> sparse shingle features: the engine-free core of the pipeline.

Input: the texts of one batch and the ``Config``. Output: ``BatchResult``. The function is pure
and its inputs and outputs pickle cheaply (numpy arrays), so the local pipeline maps it over
batches in worker processes, and a distributed engine can map it over partitions; either way
the result for an article does not depend on which batch it landed in.

Per article it keeps only what later stages read: its feature row (sorted unique shingle
columns with their counts, and whether each column occurs outside quotations). Tokens and raw
shingles die with the batch. Signatures are computed from these rows once corpus-wide document
frequencies are known (``dedupe.signature.sign_rows``), so MinHash sees exactly the shingles
that verification compares.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from dedupe.config import Config, NormalizeConfig
from dedupe.normalize import Normalizer
from dedupe.shingle import I64, Bools, ShingleTable, build_shingle_table
from dedupe.signature import signed_mask

I32 = npt.NDArray[np.int32]
U16 = npt.NDArray[np.uint16]


@dataclass(frozen=True, slots=True)
class FeatureRows:
    """Sparse shingle features of many articles, CSR layout (row i = article i).

    Attributes:
        offsets: int64, length n + 1.
        columns: Shingle hashes folded to ``2**verify.hash_bits`` columns, sorted and unique
            within each row.
        counts: How often each column occurs in the article (term frequency, capped at
            65,535: uint16 keeps a million articles' features in a few GiB).
        signed: Whether the column occurs outside quotations (what containment compares).
    """

    offsets: I64
    columns: I32
    counts: U16
    signed: Bools

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @staticmethod
    def concat(parts: Sequence[FeatureRows]) -> FeatureRows:
        """Join the rows of consecutive batches."""
        lengths = np.concatenate([np.diff(p.offsets) for p in parts]) if parts else np.zeros(0)
        offsets = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        spans = [slice(int(p.offsets[0]), int(p.offsets[-1])) for p in parts]
        pieces = list(zip(parts, spans, strict=True))
        return FeatureRows(
            offsets=offsets,
            columns=np.concatenate([p.columns[s] for p, s in pieces] or [np.zeros(0, np.int32)]),
            counts=np.concatenate([p.counts[s] for p, s in pieces] or [np.zeros(0, np.uint16)]),
            signed=np.concatenate([p.signed[s] for p, s in pieces] or [np.zeros(0, np.bool_)]),
        )

    @staticmethod
    def concat_draining(parts: list[FeatureRows]) -> FeatureRows:
        """``concat``, emptying ``parts`` as each is copied.

        The output arrays come from ``np.empty``, whose pages the OS commits only when they
        are written, and each part is released right after its copy: the peak is about one
        copy of the features plus a batch, not two copies (at 1M articles a copy is ~3.5 GB).
        """
        total = sum(int(p.offsets[-1] - p.offsets[0]) for p in parts)
        offsets = np.zeros(sum(len(p) for p in parts) + 1, np.int64)
        columns = np.empty(total, np.int32)
        counts = np.empty(total, np.uint16)
        signed = np.empty(total, np.bool_)
        row = entry = 0
        parts.reverse()  # pop() from the end releases the parts in their original order
        while parts:
            part = parts.pop()
            lo, hi = int(part.offsets[0]), int(part.offsets[-1])
            n, m = len(part), hi - lo
            offsets[row + 1 : row + n + 1] = part.offsets[1:] - lo + entry
            columns[entry : entry + m] = part.columns[lo:hi]
            counts[entry : entry + m] = part.counts[lo:hi]
            signed[entry : entry + m] = part.signed[lo:hi]
            row, entry = row + n, entry + m
            del part
        return FeatureRows(offsets=offsets, columns=columns, counts=counts, signed=signed)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one batch produces; ``seconds`` is CPU time per step, for the stage report."""

    shingles: int
    features: FeatureRows
    seconds: dict[str, float]


@lru_cache(maxsize=8)
def _normalizer(config: NormalizeConfig) -> Normalizer:
    return Normalizer(config)


def feature_rows(table: ShingleTable, mask: Bools, hash_bits: int) -> FeatureRows:
    """Fold shingle hashes into columns and count them per article.

    Columns come out sorted and unique per row, so the sparse matrices of the verify stage
    are assembled without any further sorting. ``mask``: which shingles are signed.
    """
    from dedupe._kernels import feature_rows as compiled

    offsets, columns, counts, signed = compiled(
        table.offsets, table.hashes, np.ascontiguousarray(mask, np.bool_), hash_bits
    )
    return FeatureRows(offsets=offsets, columns=columns, counts=counts, signed=signed)


def process_batch(texts: Sequence[str], config: Config) -> BatchResult:
    """Tokenize, shingle and featurize one batch of article texts.

    Args:
        texts: Article bodies, in the order the caller keeps.
        config: Run settings (normalize, shingle, minhash, seed, verify.hash_bits are read).

    Returns:
        Feature rows aligned with ``texts``.
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
    features = feature_rows(table, mask, config.verify.hash_bits)
    lap("features")
    return BatchResult(
        shingles=len(table.hashes),
        features=features,
        seconds=seconds,
    )


def encode_texts(texts: Sequence[str]) -> list[bytes]:
    """Texts as UTF-8 bytes, to send to a worker process (``process_encoded_batch``).

    Pickling a ``str`` makes CPython keep a UTF-8 copy of it on the object for the rest of its
    life (``PyUnicode_AsUTF8AndSize`` caches it for any text that is not pure ASCII). Sending
    the articles' own strings to the workers left that copy on every article the caller
    holds: +330 MiB at 100k articles, +3 GiB at 1M. ``str.encode`` makes a separate bytes
    object that is freed once sent. ``surrogatepass`` round-trips the lone surrogates that
    JSON escapes can put in a text.
    """
    return [text.encode("utf-8", "surrogatepass") for text in texts]


def process_encoded_batch(texts: Sequence[bytes], config: Config) -> BatchResult:
    """``process_batch`` of texts sent as ``encode_texts`` bytes."""
    return process_batch([text.decode("utf-8", "surrogatepass") for text in texts], config)
