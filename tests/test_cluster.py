import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.cluster import _capped_pieces, _refine, group_rows


@st.composite
def _graphs(draw: st.DrawFn) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(3, 30))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] < p[1]),
            min_size=1,
            max_size=80,
            unique=True,
        )
    )
    left = np.array([p[0] for p in pairs], np.int64)
    right = np.array([p[1] for p in pairs], np.int64)
    similarity = np.array(
        draw(st.lists(st.sampled_from([0.0, 0.2, 0.5, 0.7, 0.9, 1.0]), min_size=len(pairs),
                      max_size=len(pairs))),
        np.float64,
    )  # fmt: skip
    verified = similarity >= 0.5
    return n, verified, left, right, similarity


@settings(max_examples=150, deadline=None)
@given(graph=_graphs(), cap=st.integers(2, 6))
def test_a_cut_component_refines_each_piece_with_exactly_its_own_pairs(
    graph: tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray], cap: int
) -> None:
    """The pieces of an oversized component, refined one by one the obvious way."""
    n, verified, left, right, similarity = graph
    got = group_rows(
        n, verified, left, right, similarity, threshold=0.5, max_component_size=cap
    ).groups
    expected = []
    uncapped = group_rows(
        n, verified, left, right, np.ones_like(similarity), threshold=0.0, max_component_size=n
    ).groups  # threshold 0, no cap: the connected components themselves
    for component in uncapped:
        position = {int(row): k for k, row in enumerate(component)}
        inside = [
            k for k in range(len(left)) if int(left[k]) in position and int(right[k]) in position
        ]
        ci = np.array([position[int(left[k])] for k in inside], np.int64)
        cj = np.array([position[int(right[k])] for k in inside], np.int64)
        cv, ck = similarity[inside], verified[inside]
        if len(component) <= cap:
            expected += _refine(component, ci, cj, cv, 0.5)
            continue
        for piece in _capped_pieces(len(component), ci[ck], cj[ck], cv[ck], cap):
            local = np.full(len(component), -1, np.int64)
            local[piece] = np.arange(len(piece))
            keep = (local[ci] >= 0) & (local[cj] >= 0)
            expected += _refine(component[piece], local[ci[keep]], local[cj[keep]], cv[keep], 0.5)
    assert sorted(g.tolist() for g in got) == sorted(g.tolist() for g in expected)
