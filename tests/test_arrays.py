import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe._arrays import segment_sums


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.booleans(), max_size=6), max_size=8), st.integers(0, 3))
def test_segment_sums_count_each_segment_including_empty_ones(
    segments: list[list[bool]], trailing: int
) -> None:
    values = np.array([v for s in segments for v in s] + [True] * trailing, np.bool_)
    offsets = np.cumsum([0] + [len(s) for s in segments]).astype(np.int64)
    assert segment_sums(values, offsets).tolist() == [sum(s) for s in segments]
    counts = values.astype(np.int64) * 3
    assert segment_sums(counts, offsets).tolist() == [3 * sum(s) for s in segments]
