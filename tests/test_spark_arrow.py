"""Arrow conversions the Spark stages use (pure pyarrow: no Spark session needed)."""

from __future__ import annotations

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")

from dedupe.spark.arrow import signature_array, signatures_from  # noqa: E402


def test_signatures_survive_the_round_trip_through_a_binary_column() -> None:
    signatures = np.random.default_rng(3).integers(0, 2**32, (7, 5), dtype=np.uint64)
    signatures = signatures.astype(np.uint32)
    column = signature_array(signatures)
    assert np.array_equal(signatures_from(column, 5), signatures)
    # A slice (what Arrow hands over for part of a batch) starts at an offset.
    assert np.array_equal(signatures_from(column.slice(2, 4), 5), signatures[2:6])
    chunked = pa.chunked_array([column.slice(0, 3), column.slice(3, 4)])
    assert np.array_equal(signatures_from(chunked, 5), signatures)
    assert signatures_from(column.slice(0, 0), 5).shape == (0, 5)


def test_a_signature_of_the_wrong_width_is_refused() -> None:
    column = pa.array([b"\x00" * 20, b"\x00" * 16], pa.binary())
    with pytest.raises(ValueError, match="5 slots"):
        signatures_from(column, 5)
