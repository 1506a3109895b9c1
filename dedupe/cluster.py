"""Verified pairs -> clusters, without chaining unrelated stories together.

Input: verified row pairs and a way to score any pair. Output: member row groups.

Connected components of the verified-pair graph would chain: A shares wording with B and B
with C puts A and C together even when A and C share nothing but a quote. So inside each
component we run average-linkage agglomerative clustering (scipy) on pair similarity =
containment (0 where the pair fails the cosine gate or the time window), and cut the tree where
the mean similarity between two groups falls below ``verify.containment_threshold``. A trimmed
copy still joins its wire story (its tie to the original carries the mean), while a bridge
article between two otherwise unrelated groups is outvoted by every cross pair that shares
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import connected_components

from dedupe._arrays import sorted_unique
from dedupe.shingle import I64

F64 = np.ndarray
# Similarity of aligned pairs (left, right) -> values in [0, 1].
SimilarityFn = Callable[[I64, I64], F64]


@dataclass(frozen=True, slots=True)
class Grouping:
    """Clusters as lists of row indices, plus how many components were too big to refine."""

    groups: list[I64]
    oversized_components: int


def group_rows(
    n: int,
    left: I64,
    right: I64,
    similarity: SimilarityFn,
    *,
    threshold: float,
    max_component_size: int,
) -> Grouping:
    """Group rows linked by verified pairs.

    Args:
        n: Number of rows.
        left: Left rows of verified pairs.
        right: Right rows of verified pairs.
        similarity: Scores any pairs of rows (used inside components only).
        threshold: Minimum average similarity for two groups to merge.
        max_component_size: Components above this size are kept whole (no refinement).

    Returns:
        Groups of two or more rows, each sorted, in order of their first row.
    """
    if not len(left):
        return Grouping(groups=[], oversized_components=0)
    graph = sp.coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    linked = sorted_unique(np.concatenate((left, right)))
    order = np.argsort(labels[linked], kind="stable")
    rows_sorted = linked[order]
    cuts = np.flatnonzero(np.diff(labels[rows_sorted])) + 1
    groups: list[I64] = []
    oversized = 0
    to_refine: list[I64] = []
    for component in np.split(rows_sorted, cuts):
        component = np.sort(component)
        if len(component) == 2:
            groups.append(component)
        elif len(component) > max_component_size:
            oversized += 1
            groups.append(component)
        else:
            to_refine.append(component)
    # Score the pairs of every component in one call: per-call overhead dominates small ones.
    # Condensed order per component is scipy's: (0,1), (0,2), ..., (1,2), ... as triu_indices.
    pair_index = [np.triu_indices(len(c), k=1) for c in to_refine]
    if to_refine:
        left_all = np.concatenate([c[i] for c, (i, _) in zip(to_refine, pair_index, strict=True)])
        right_all = np.concatenate([c[j] for c, (_, j) in zip(to_refine, pair_index, strict=True)])
        scores = np.clip(similarity(left_all, right_all), 0.0, 1.0)
        bounds = np.cumsum([0] + [len(i) for i, _ in pair_index])
        for k, component in enumerate(to_refine):
            distance = 1.0 - scores[bounds[k] : bounds[k + 1]]
            groups.extend(_average_linkage(component, distance, threshold))
    groups.sort(key=lambda g: int(g[0]))
    return Grouping(groups=groups, oversized_components=oversized)


def _average_linkage(component: I64, distance: F64, threshold: float) -> list[I64]:
    tree = linkage(distance, method="average")
    # Merge while the average similarity >= threshold; the epsilon absorbs float rounding.
    labels = fcluster(tree, t=1.0 - threshold + 1e-9, criterion="distance")
    result = []
    for label in sorted_unique(labels):
        members = component[labels == label]
        if len(members) >= 2:
            result.append(members)
    return result
