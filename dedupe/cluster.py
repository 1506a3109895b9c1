"""Verified pairs -> clusters, without chaining unrelated stories together.

Input: scored candidate pairs (verified or not). Output: member row groups.

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

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import connected_components

from dedupe._arrays import sorted_unique
from dedupe.shingle import I64, Bools

F64 = np.ndarray


@dataclass(frozen=True, slots=True)
class Grouping:
    """Clusters as lists of row indices, plus how many components were too big to refine."""

    groups: list[I64]
    oversized_components: int


def group_rows(
    n: int,
    verified: Bools,
    left: I64,
    right: I64,
    similarity: F64,
    *,
    threshold: float,
    max_component_size: int,
) -> Grouping:
    """Group rows linked by verified pairs.

    Args:
        n: Number of rows.
        verified: Which candidate pairs are verified (they define the components).
        left: Left rows of all scored candidate pairs.
        right: Right rows of all scored candidate pairs.
        similarity: Similarity of each candidate pair (containment, 0 where a gate failed).
        threshold: Minimum average similarity for two groups to merge.
        max_component_size: Components above this size are first cut at their weakest
            verified links into pieces of at most this size.

    Returns:
        Groups of two or more rows, each sorted, in order of their first row.

    Pairs that were never LSH candidates count as similarity 0: LSH misses a pair sharing
    real wording only rarely (the tests check its recall), and re-scoring every pair of a big
    component would cost more than the whole verify stage.
    """
    if not verified.any():
        return Grouping(groups=[], oversized_components=0)
    graph = sp.coo_matrix(
        (np.ones(int(verified.sum())), (left[verified], right[verified])), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    linked = sorted_unique(np.concatenate((left[verified], right[verified])))
    sizes = np.bincount(labels[linked], minlength=labels.max() + 1)
    # Rank of each linked row inside its component (components listed in row order).
    order = np.lexsort((linked, labels[linked]))
    members_sorted = linked[order]
    rank = np.full(n, -1, np.int64)
    component_start = np.zeros(labels.max() + 1, np.int64)
    firsts = np.r_[0, np.flatnonzero(np.diff(labels[members_sorted])) + 1]
    component_start[labels[members_sorted[firsts]]] = firsts
    rank[members_sorted] = np.arange(len(members_sorted)) - component_start[labels[members_sorted]]
    # Candidate pairs inside one component carry their similarity into its distance matrix.
    inside = (labels[left] == labels[right]) & (rank[left] >= 0) & (rank[right] >= 0)
    pair_component = labels[left[inside]]
    i = np.minimum(rank[left[inside]], rank[right[inside]])
    j = np.maximum(rank[left[inside]], rank[right[inside]])
    values = np.clip(similarity[inside], 0.0, 1.0)
    pair_verified = verified[inside]
    by_component = np.argsort(pair_component, kind="stable")
    pair_component, i, j, values, pair_verified = (
        pair_component[by_component],
        i[by_component],
        j[by_component],
        values[by_component],
        pair_verified[by_component],
    )
    bounds = np.searchsorted(pair_component, np.arange(labels.max() + 2))
    groups: list[I64] = []
    oversized = 0
    for first in firsts:
        label = labels[members_sorted[first]]
        size = int(sizes[label])
        component = members_sorted[first : first + size]
        if size == 2:
            groups.append(component)
            continue
        lo, hi = bounds[label], bounds[label + 1]
        ci, cj, cv, ck = i[lo:hi], j[lo:hi], values[lo:hi], pair_verified[lo:hi]
        if size <= max_component_size:
            groups.extend(_refine(component, ci, cj, cv, threshold))
            continue
        oversized += 1
        pieces = _capped_pieces(size, ci[ck], cj[ck], cv[ck], max_component_size)
        groups.extend(_refine_pieces(component, pieces, ci, cj, cv, threshold))
    groups.sort(key=lambda g: int(g[0]))
    return Grouping(groups=groups, oversized_components=oversized)


def _refine(component: I64, i: I64, j: I64, similarity: F64, threshold: float) -> list[I64]:
    """Average linkage over one component, from the similarities of its scored pairs."""
    size = len(component)
    if size < 2:
        return []
    if size == 2:
        return [component] if len(i) and similarity.max() >= threshold else []
    # scipy's condensed index of (i, j), i < j, in an m x m matrix.
    condensed = size * i - i * (i + 1) // 2 + (j - i - 1)
    distance = np.ones(size * (size - 1) // 2, np.float64)
    distance[condensed] = 1.0 - similarity
    return _average_linkage(component, distance, threshold)


def _refine_pieces(
    component: I64, pieces: list[I64], i: I64, j: I64, similarity: F64, threshold: float
) -> list[I64]:
    """``_refine`` each piece of a cut component with the scored pairs inside that piece.

    One pass files every pair under its piece. Masking all the component's pairs once per
    piece was quadratic: on a 1M-article corpus the largest component had thousands of
    pieces and the loop ran for over ten minutes.
    """
    piece_of = np.full(len(component), -1, np.int64)
    local = np.zeros(len(component), np.int64)
    for number, piece in enumerate(pieces):
        piece_of[piece] = number
        local[piece] = np.arange(len(piece))
    inside = (piece_of[i] >= 0) & (piece_of[i] == piece_of[j])
    owner = piece_of[i[inside]]
    order = np.argsort(owner, kind="stable")  # stable: each piece sees its pairs in order
    pi, pj, pv = local[i[inside]][order], local[j[inside]][order], similarity[inside][order]
    bounds = np.searchsorted(owner[order], np.arange(len(pieces) + 1))
    result: list[I64] = []
    for number, piece in enumerate(pieces):
        lo, hi = bounds[number], bounds[number + 1]
        result.extend(_refine(component[piece], pi[lo:hi], pj[lo:hi], pv[lo:hi], threshold))
    return result


def _capped_pieces(size: int, i: I64, j: I64, similarity: F64, cap: int) -> list[I64]:
    """Cut a component too big for one linkage at its weakest links.

    Kruskal's order: verified edges strongest first (ties by position), joining two pieces
    only while the result stays within ``cap``. Deterministic, and the strongest ties of
    every article are kept, so each piece is small enough for average linkage.
    """
    parent = list(range(size))
    members = [1] * size

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for k in np.lexsort((j, i, -similarity)):
        a, b = find(int(i[k])), find(int(j[k]))
        if a != b and members[a] + members[b] <= cap:
            a, b = min(a, b), max(a, b)
            parent[b] = a
            members[a] += members[b]
    roots = np.array([find(x) for x in range(size)])
    order = np.argsort(roots, kind="stable")
    cuts = np.flatnonzero(np.diff(roots[order])) + 1
    return [piece for piece in np.split(order, cuts) if len(piece) >= 2]


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
