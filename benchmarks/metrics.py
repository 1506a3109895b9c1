"""Clustering quality metrics for syndication detection.

A clustering is scored against a truth partition (article id -> group id). Articles missing from
the predicted clusters are singletons. Pair metrics count unordered pairs of articles placed in
the same cluster; they are computed from the (predicted cluster x truth group) contingency
counts, so a 100k-article cluster costs O(its size), not O(its size squared).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sklearn.metrics import adjusted_rand_score

__all__ = ["PairScores", "adjusted_rand", "pair_scores"]


@dataclass(frozen=True, slots=True)
class PairScores:
    """Pairwise precision/recall of a clustering.

    Attributes:
        precision: ``correct_pairs / predicted_pairs``; 1.0 when nothing was paired.
        recall: ``correct_pairs / true_pairs``; 1.0 when the truth has no pairs.
        f1: Harmonic mean of precision and recall; 0.0 when both are 0.
        true_pairs: Pairs of articles in the same truth group.
        predicted_pairs: Pairs of articles in the same predicted cluster.
        correct_pairs: Pairs that are in both.
    """

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _cluster_index(predicted: Iterable[Iterable[str]], truth: Mapping[str, str]) -> dict[str, int]:
    """Map each clustered id to the index of its predicted cluster.

    Raises:
        ValueError: If an id is not in ``truth`` or appears in two clusters (a bug in the
            clustering or a mismatched truth file; scoring it would give silently wrong numbers).
    """
    index: dict[str, int] = {}
    for number, cluster in enumerate(predicted):
        for article_id in cluster:
            if article_id not in truth:
                raise ValueError(f"predicted id {article_id!r} is not in the truth")
            previous = index.setdefault(article_id, number)
            if previous != number:
                raise ValueError(
                    f"id {article_id!r} is in predicted clusters {previous} and {number}"
                )
    return index


def pair_scores(predicted: Iterable[Iterable[str]], truth: Mapping[str, str]) -> PairScores:
    """Score predicted clusters by pairwise precision, recall and F1.

    Args:
        predicted: Predicted clusters, each an iterable of article ids; ids that are listed in
            no cluster are singletons. Repeating an id within one cluster is harmless.
        truth: Every article id mapped to its truth group id.

    Returns:
        The pair counts and scores.

    Raises:
        ValueError: If a predicted id is not in ``truth`` or is in two clusters.
    """
    index = _cluster_index(predicted, truth)
    cluster_sizes = Counter(index.values())
    contingency = Counter((cluster, truth[article_id]) for article_id, cluster in index.items())
    predicted_pairs = sum(_pairs(n) for n in cluster_sizes.values())
    correct_pairs = sum(_pairs(n) for n in contingency.values())
    true_pairs = sum(_pairs(n) for n in Counter(truth.values()).values())
    precision = correct_pairs / predicted_pairs if predicted_pairs else 1.0
    recall = correct_pairs / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairScores(
        precision=precision,
        recall=recall,
        f1=f1,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct_pairs,
    )


def adjusted_rand(predicted: Iterable[Iterable[str]], truth: Mapping[str, str]) -> float:
    """Adjusted Rand index of the predicted clusters against the truth.

    Args:
        predicted: Predicted clusters as in :func:`pair_scores`; every truth id that no cluster
            lists is a singleton.
        truth: Every article id mapped to its truth group id.

    Returns:
        ``sklearn.metrics.adjusted_rand_score`` over all truth ids (1.0 for identical
        partitions, ~0.0 for random ones).

    Raises:
        ValueError: If a predicted id is not in ``truth`` or is in two clusters.
    """
    index = _cluster_index(predicted, truth)
    group_numbers: dict[str, int] = {}
    truth_labels: list[int] = []
    predicted_labels: list[int] = []
    singleton_label = -1
    for article_id, group in truth.items():
        truth_labels.append(group_numbers.setdefault(group, len(group_numbers)))
        cluster = index.get(article_id)
        if cluster is None:
            # Negative labels never collide with cluster indices.
            predicted_labels.append(singleton_label)
            singleton_label -= 1
        else:
            predicted_labels.append(cluster)
    if not truth_labels:
        return 1.0  # sklearn's convention for two empty (hence identical) partitions
    return float(adjusted_rand_score(truth_labels, predicted_labels))
