"""Tests of the benchmark clustering metrics."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from benchmarks.metrics import PairScores, adjusted_rand, pair_scores

# Two syndication groups and one solo article.
TRUTH = {"a": "g1", "b": "g1", "c": "g2", "d": "g2", "e": "solo-e"}


def test_perfect_clustering() -> None:
    scores = pair_scores([["a", "b"], ["c", "d"]], TRUTH)
    assert scores == PairScores(1.0, 1.0, 1.0, true_pairs=2, predicted_pairs=2, correct_pairs=2)
    assert adjusted_rand([["a", "b"], ["d", "c"]], TRUTH) == pytest.approx(1.0)


def test_all_singletons_predict_no_pairs() -> None:
    scores = pair_scores([], TRUTH)
    assert scores == PairScores(1.0, 0.0, 0.0, true_pairs=2, predicted_pairs=0, correct_pairs=0)
    # Explicit singleton clusters are the same as listing nothing.
    assert pair_scores([["a"], ["b"], ["e"]], TRUTH) == scores


def test_two_groups_merged_into_one_cluster() -> None:
    # 6 predicted pairs, of which a-b and c-d are right.
    scores = pair_scores([["a", "b", "c", "d"]], TRUTH)
    assert (scores.predicted_pairs, scores.correct_pairs, scores.true_pairs) == (6, 2, 2)
    assert scores.precision == pytest.approx(1 / 3)
    assert scores.recall == pytest.approx(1.0)
    assert scores.f1 == pytest.approx(0.5)


def test_one_wrong_pair() -> None:
    # a-e is wrong; c-d is right; a-b is missed.
    scores = pair_scores([["a", "e"], ["c", "d"]], TRUTH)
    assert (scores.predicted_pairs, scores.correct_pairs) == (2, 1)
    assert scores.precision == pytest.approx(0.5)
    assert scores.recall == pytest.approx(0.5)
    assert scores.f1 == pytest.approx(0.5)


def test_split_group() -> None:
    truth = {"w": "g", "x": "g", "y": "g", "z": "solo-z"}
    scores = pair_scores([["w", "x"], ["y"]], truth)
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (3, 1, 1)
    assert scores.precision == pytest.approx(1.0)
    assert scores.recall == pytest.approx(1 / 3)
    assert scores.f1 == pytest.approx(0.5)


def test_no_pairs_anywhere_is_perfect() -> None:
    truth = {"x": "solo-x", "y": "solo-y"}
    assert pair_scores([], truth) == PairScores(1.0, 1.0, 1.0, 0, 0, 0)
    assert pair_scores([["x", "y"]], truth).precision == 0.0
    assert pair_scores([["x", "y"]], truth).f1 == 0.0


def test_accepts_any_iterables_and_repeated_ids_in_one_cluster() -> None:
    clusters = (iter(c) for c in [("a", "b", "a"), {"c", "d"}])
    assert pair_scores(clusters, TRUTH).f1 == pytest.approx(1.0)


def test_unknown_or_doubly_clustered_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="not in the truth"):
        pair_scores([["a", "zzz"]], TRUTH)
    with pytest.raises(ValueError, match="predicted clusters"):
        pair_scores([["a", "b"], ["b", "c"]], TRUTH)
    with pytest.raises(ValueError):
        adjusted_rand([["a", "zzz"]], TRUTH)


def test_adjusted_rand_matches_sklearn_on_labels() -> None:
    truth = {f"x{i}": g for i, g in enumerate("AAABBCCCCDE")}
    predicted = [["x0", "x1"], ["x2", "x3", "x4"], ["x5", "x6", "x7"]]
    # x8, x9 and x10 are unlisted singletons.
    labels_pred = [0, 0, 1, 1, 1, 2, 2, 2, 10, 11, 12]
    expected = adjusted_rand_score(list("AAABBCCCCDE"), labels_pred)
    assert adjusted_rand(predicted, truth) == pytest.approx(expected)
    assert adjusted_rand([], {}) == 1.0


def _brute_force(clusters: list[list[str]], truth: dict[str, str]) -> tuple[int, int, int]:
    cluster_of = {i: n for n, cluster in enumerate(clusters) for i in cluster}
    true_pairs = predicted_pairs = correct_pairs = 0
    for x, y in itertools.combinations(sorted(truth), 2):
        same_truth = truth[x] == truth[y]
        same_cluster = x in cluster_of and cluster_of.get(x) == cluster_of.get(y)
        true_pairs += same_truth
        predicted_pairs += same_cluster
        correct_pairs += same_truth and same_cluster
    return true_pairs, predicted_pairs, correct_pairs


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.one_of(st.none(), st.integers(0, 5))),
        min_size=0,
        max_size=25,
    )
)
def test_pair_counts_match_brute_force(labels: list[tuple[int, int | None]]) -> None:
    truth = {f"id{i}": f"g{t}" for i, (t, _) in enumerate(labels)}
    by_cluster: dict[int, list[str]] = {}
    for i, (_, p) in enumerate(labels):
        if p is not None:
            by_cluster.setdefault(p, []).append(f"id{i}")
    clusters = list(by_cluster.values())
    scores = pair_scores(clusters, truth)
    true_pairs, predicted_pairs, correct_pairs = _brute_force(clusters, truth)
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (
        true_pairs,
        predicted_pairs,
        correct_pairs,
    )
    precision = correct_pairs / predicted_pairs if predicted_pairs else 1.0
    recall = correct_pairs / true_pairs if true_pairs else 1.0
    assert scores.precision == pytest.approx(precision)
    assert scores.recall == pytest.approx(recall)
    assert 0.0 <= scores.f1 <= 1.0
    # ARI agrees with sklearn on explicit labels (unlisted ids as distinct singletons).
    if truth:
        predicted_labels = [p if p is not None else 100 + i for i, (_, p) in enumerate(labels)]
        truth_labels = [t for t, _ in labels]
        assert adjusted_rand(clusters, truth) == pytest.approx(
            adjusted_rand_score(truth_labels, predicted_labels)
        )
