import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.batch import FeatureRows, feature_rows
from dedupe.shingle import ShingleTable

# Articles as lists of (shingle hash, signed); few distinct hashes, so columns repeat.
_ARTICLES = st.lists(
    st.lists(st.tuples(st.integers(0, 40), st.booleans()), max_size=30), min_size=1, max_size=6
)


@settings(max_examples=80, deadline=None)
@given(_ARTICLES, st.sampled_from([3, 4, 22]))
def test_feature_rows_count_columns_and_flag_signed_ones(
    articles: list[list[tuple[int, bool]]], hash_bits: int
) -> None:
    offsets = np.cumsum([0] + [len(a) for a in articles]).astype(np.int64)
    hashes = np.array([h * 2_654_435_761 % 2**32 for a in articles for h, _ in a], np.uint32)
    mask = np.array([signed for a in articles for _, signed in a], np.bool_)
    table = ShingleTable(offsets=offsets, hashes=hashes, quoted=np.zeros(0, np.bool_))
    rows = feature_rows(table, mask, hash_bits)
    width = 1 << hash_bits
    for i, article in enumerate(articles):
        expected: dict[int, list[int]] = {}  # column -> [count, any signed]
        for h, signed in article:
            column = (h * 2_654_435_761 % 2**32) % width
            count, any_signed = expected.get(column, [0, 0])
            expected[column] = [count + 1, any_signed or signed]
        lo, hi = rows.offsets[i], rows.offsets[i + 1]
        assert rows.columns[lo:hi].tolist() == sorted(expected)
        assert rows.counts[lo:hi].tolist() == [expected[c][0] for c in sorted(expected)]
        assert rows.signed[lo:hi].tolist() == [bool(expected[c][1]) for c in sorted(expected)]


def test_a_column_repeated_past_uint16_counts_65535_and_the_next_row_is_intact() -> None:
    # A 50 MB article can repeat one shingle more often than a uint16 counts.
    offsets = np.array([0, 70_000, 70_002], np.int64)
    hashes = np.array([7] * 70_000 + [9, 7], np.uint32)
    mask = np.ones(70_002, np.bool_)
    table = ShingleTable(offsets=offsets, hashes=hashes, quoted=np.zeros(0, np.bool_))
    rows = feature_rows(table, mask, 22)
    assert rows.offsets.tolist() == [0, 1, 3]
    assert rows.columns.tolist() == [7, 7, 9]
    assert rows.counts.tolist() == [65_535, 1, 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(_ARTICLES, max_size=5), st.integers(0, 3))
def test_concat_draining_joins_batches_like_concat_and_empties_the_list(
    batches: list[list[list[tuple[int, bool]]]], skip: int
) -> None:
    parts = []
    for articles in batches:
        offsets = np.cumsum([0] + [len(a) for a in articles]).astype(np.int64)
        hashes = np.array([h * 2_654_435_761 % 2**32 for a in articles for h, _ in a], np.uint32)
        mask = np.array([signed for a in articles for _, signed in a], np.bool_)
        table = ShingleTable(offsets=offsets, hashes=hashes, quoted=np.zeros(0, np.bool_))
        rows = feature_rows(table, mask, 8)
        # A part may be a view that starts inside its arrays (offsets not from 0).
        first = min(skip, len(rows))
        lo = int(rows.offsets[first])
        parts.append(
            FeatureRows(
                offsets=rows.offsets[first:],
                columns=rows.columns,
                counts=rows.counts,
                signed=rows.signed,
            )
            if lo
            else rows
        )
    expected = FeatureRows.concat(
        [
            FeatureRows(
                offsets=p.offsets - p.offsets[0],
                columns=p.columns[p.offsets[0] : p.offsets[-1]],
                counts=p.counts[p.offsets[0] : p.offsets[-1]],
                signed=p.signed[p.offsets[0] : p.offsets[-1]],
            )
            for p in parts
        ]
    )
    joined = FeatureRows.concat_draining(parts)
    assert parts == []
    assert joined.offsets.tolist() == expected.offsets.tolist()
    assert joined.columns.tolist() == expected.columns.tolist()
    assert joined.counts.tolist() == expected.counts.tolist()
    assert joined.signed.tolist() == expected.signed.tolist()
