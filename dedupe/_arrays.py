"""Small numpy helpers shared by stages."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

A = npt.NDArray[Any]


def sorted_unique(values: A) -> A:
    """Sorted distinct values by one sort and a neighbour comparison.

    numpy 2's ``np.unique`` without ``return_counts`` measured 30x slower than this on shingle
    codes (it no longer always sorts), and the stages call it on millions of values.

    Example:
        >>> sorted_unique(np.array([3, 1, 3, 2])).tolist()
        [1, 2, 3]
    """
    ordered = np.sort(values)
    if not len(ordered):
        return ordered
    keep = np.empty(len(ordered), np.bool_)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def segment_sums(values: np.ndarray, offsets: np.ndarray) -> npt.NDArray[np.int64]:
    """Sums of ``values`` over the CSR segments ``offsets[i]:offsets[i + 1]``.

    ``np.add.reduceat`` over the non-empty segments only: plain reduceat is wrong for empty
    segments (it returns the element at their start) and fails on a start equal to the
    length. A cumulative sum did the same in one pass but needed an int64 copy of the whole
    input; at 51M entries that was 0.5-1.1 s per call against ~0.1 s for this.

    Example:
        >>> segment_sums(np.array([True, False, True]), np.array([0, 2, 2, 3, 3])).tolist()
        [1, 0, 1, 0]
    """
    lengths = np.diff(offsets)
    sums = np.zeros(len(lengths), np.int64)
    nonempty = lengths > 0
    if nonempty.any():
        # The last non-empty segment runs to the end of the slice, so cut it at offsets[-1].
        data = values[: int(offsets[-1])]
        if data.dtype == np.bool_:
            data = data.view(np.uint8)
        sums[nonempty] = np.add.reduceat(data, offsets[:-1][nonempty], dtype=np.int64)
    return sums
