"""CSV of scored pairs: one row per pair inside a cluster, then verified pairs left unclustered."""

from __future__ import annotations

import csv
import io

from dedupe.types import RunResult

COLUMNS = (
    "cluster_id",
    "left_id",
    "right_id",
    "jaccard",
    "containment",
    "cosine",
    "shared_shingles",
    "verified",
)


def render_csv(result: RunResult) -> str:
    """Pairs as CSV text with a header row."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    seen: set[tuple[str, str]] = set()
    for cluster in result.clusters:
        for p in cluster.pairs:
            seen.add((p.left_id, p.right_id))
            writer.writerow(
                (
                    cluster.id,
                    p.left_id,
                    p.right_id,
                    p.jaccard,
                    p.containment,
                    p.cosine,
                    p.shared_shingles,
                    p.verified,
                )
            )
    for p in result.pairs:
        if (p.left_id, p.right_id) not in seen:
            writer.writerow(
                (
                    "",
                    p.left_id,
                    p.right_id,
                    p.jaccard,
                    p.containment,
                    p.cosine,
                    p.shared_shingles,
                    p.verified,
                )
            )
    return buffer.getvalue()
