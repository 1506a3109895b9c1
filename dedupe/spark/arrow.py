"""Arrow <-> numpy glue for the functions that run inside Spark's Python workers.

Spark hands ``mapInArrow`` functions ``pyarrow.RecordBatch`` objects; the stage functions of
the local path take numpy CSR arrays (``FeatureRows``) and signature matrices. These helpers
convert without a Python loop per entry, so a batch costs what the local path costs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from dedupe.batch import FeatureRows
from dedupe.shingle import U32

FEATURE_FIELDS = ("columns", "counts", "signed")


def list_parts(array: Any) -> tuple[np.ndarray, np.ndarray]:
    """CSR offsets (int64, from 0) and flat values of an Arrow list array, slices included."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    offsets = np.asarray(array.offsets, dtype=np.int64)
    values = array.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    return offsets - offsets[0], values.to_numpy(zero_copy_only=False)


def to_list_array(offsets: np.ndarray, values: np.ndarray, value_type: pa.DataType) -> pa.Array:
    """An Arrow list array from CSR offsets and flat values."""
    return pa.ListArray.from_arrays(
        pa.array(offsets.astype(np.int32), pa.int32()), pa.array(values, value_type)
    )


def features_from(batch: pa.RecordBatch, prefix: str = "") -> FeatureRows:
    """The ``FeatureRows`` held in a batch's ``columns``/``counts``/``signed`` list columns."""
    offsets, columns = list_parts(batch.column(prefix + "columns"))
    _, counts = list_parts(batch.column(prefix + "counts"))
    _, signed = list_parts(batch.column(prefix + "signed"))
    return FeatureRows(
        offsets=offsets,
        columns=columns.astype(np.int32),
        counts=counts.astype(np.uint16),
        signed=signed.astype(np.bool_),
    )


def feature_arrays(features: FeatureRows) -> list[pa.Array]:
    """``columns``, ``counts``, ``signed`` as Arrow list arrays (Spark has no unsigned types)."""
    return [
        to_list_array(features.offsets, features.columns, pa.int32()),
        to_list_array(features.offsets, features.counts.astype(np.int32), pa.int32()),
        to_list_array(features.offsets, features.signed, pa.bool_()),
    ]


def signatures_from(array: Any, num_perm: int) -> U32:
    """An (n, num_perm) uint32 matrix from a binary column of little-endian signatures."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    n = len(array)
    if n == 0:
        return np.zeros((0, num_perm), np.uint32)
    # Straight from the Arrow buffers: every value is num_perm * 4 bytes, so the values are
    # one contiguous block (no Python bytes object per row).
    offsets = np.frombuffer(array.buffers()[1], np.int32)[array.offset : array.offset + n + 1]
    if array.null_count or (np.diff(offsets) != num_perm * 4).any():
        raise ValueError(f"signature column does not hold {num_perm} slots per row")
    data = np.frombuffer(array.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    return data.view("<u4").reshape(n, num_perm).astype(np.uint32)


def signature_array(signatures: U32) -> pa.Array:
    """Each signature row as one little-endian binary value (4 bytes per permutation)."""
    n, num_perm = signatures.shape
    data = np.ascontiguousarray(signatures.astype("<u4")).tobytes()
    offsets = np.arange(n + 1, dtype=np.int32) * (num_perm * 4)
    return pa.BinaryArray.from_buffers(
        pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
