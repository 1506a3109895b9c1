import numpy as np
from datasketch import MinHashLSH

from dedupe.candidates import find_candidates
from dedupe.signature import to_lean_minhash


def _lsh_pairs(signatures: np.ndarray, bands: int, rows: int) -> set[tuple[int, int]]:
    lsh = MinHashLSH(num_perm=signatures.shape[1], params=(bands, rows))
    minhashes = [to_lean_minhash(row, seed=1) for row in signatures]
    for i, m in enumerate(minhashes):
        lsh.insert(i, m)
    return {(min(i, j), max(i, j)) for i, m in enumerate(minhashes) for j in lsh.query(m) if i != j}


def test_candidates_equal_datasketch_minhash_lsh() -> None:
    rng = np.random.default_rng(5)
    # Small value range so many bands collide, as near-duplicate signatures do.
    signatures = rng.integers(0, 4, size=(300, 24), dtype=np.uint32)
    for bands, rows in ((12, 2), (8, 3), (24, 1)):
        found = find_candidates(
            signatures, np.ones(300, bool), bands=bands, rows=rows, max_bucket_size=10**6
        )
        ours = set(zip(found.left.tolist(), found.right.tolist(), strict=True))
        assert ours == _lsh_pairs(signatures, bands, rows)


def test_incomparable_rows_never_become_candidates() -> None:
    signatures = np.zeros((4, 8), np.uint32)
    comparable = np.array([True, False, True, True])
    found = find_candidates(signatures, comparable, bands=4, rows=2, max_bucket_size=100)
    assert set(zip(found.left.tolist(), found.right.tolist(), strict=True)) == {
        (0, 2),
        (0, 3),
        (2, 3),
    }


def test_oversized_buckets_emit_a_star_not_all_pairs() -> None:
    signatures = np.zeros((50, 4), np.uint32)
    found = find_candidates(signatures, np.ones(50, bool), bands=2, rows=2, max_bucket_size=10)
    assert found.oversized_buckets == 2
    assert len(found) == 49 and set(found.left.tolist()) == {0}
