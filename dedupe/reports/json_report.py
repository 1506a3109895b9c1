"""JSON report: the whole result, ordered deterministically so two runs diff cleanly.

Schema (``schema_version`` 1):
    {schema_version, dedupe_version, config_digest, config, inputs[paths], summary{
     articles_read, rejected, clustered, clusters, not_comparable, warnings}, clusters[{id,
     size, members[{id, outlet, title, url, published, source, text_sha256, best_match,
     containment, jaccard, cosine, mean_containment, verified_links}], pairs[...]}],
     pairs[{left_id, right_id, jaccard, containment, cosine, shared_shingles, verified}],
     rejects[{source, reason}], warnings[{source, reason}],
     not_comparable[ids], stages[{name, items_in, items_out, notes}]}
Timings are left out on purpose: they differ on every run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dedupe.config import Config
from dedupe.reports.attribution_json import text_digest
from dedupe.types import Article, PairScore, Reject, RunResult

SCHEMA_VERSION = 1


def _pair(p: PairScore) -> dict[str, Any]:
    return {
        "left_id": p.left_id,
        "right_id": p.right_id,
        "jaccard": p.jaccard,
        "containment": p.containment,
        "cosine": p.cosine,
        "shared_shingles": p.shared_shingles,
        "verified": p.verified,
    }


def _reject(r: Reject) -> dict[str, str]:
    return {"source": r.source, "reason": r.reason}


def result_to_dict(
    result: RunResult,
    config: Config,
    warnings: Sequence[Reject] = (),
    inputs: Sequence[str] = (),
) -> dict[str, Any]:
    """The JSON-ready form of a run (also used by the other renderers' tests).

    ``inputs`` are the paths the articles were read from, absolute, so ``dedupe report
    --from`` can read the member texts again (checked against ``text_sha256``).
    """
    from dedupe import __version__

    by_id: dict[str, Article] = {a.id: a for a in result.articles}
    clusters = []
    for cluster in result.clusters:
        members = []
        for m in cluster.members:
            article = by_id[m.article_id]
            members.append(
                {
                    "id": m.article_id,
                    "outlet": article.outlet,
                    "title": article.title,
                    "url": article.url,
                    "published": article.published.isoformat() if article.published else None,
                    "source": article.source,
                    "text_sha256": text_digest(article.text),
                    "best_match": m.best_match_id,
                    "containment": m.containment,
                    "jaccard": m.jaccard,
                    "cosine": m.cosine,
                    "mean_containment": m.mean_containment,
                    "verified_links": m.verified_links,
                }
            )
        clusters.append(
            {
                "id": cluster.id,
                "size": len(cluster.article_ids),
                "members": members,
                "pairs": [_pair(p) for p in cluster.pairs],
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "dedupe_version": __version__,
        "config_digest": result.config_digest,
        "config": config.to_dict(),
        "inputs": [p if p == "-" else str(Path(p).resolve()) for p in inputs],
        "summary": {
            "articles_read": len(result.articles),
            "rejected": len(result.rejects),
            "clustered": result.clustered_count,
            "clusters": len(result.clusters),
            "not_comparable": len(result.uncomparable_ids),
            "warnings": len(warnings),
        },
        "clusters": clusters,
        "pairs": [_pair(p) for p in result.pairs],
        "rejects": [_reject(r) for r in result.rejects],
        "warnings": [_reject(w) for w in warnings],
        "not_comparable": list(result.uncomparable_ids),
        "stages": [
            {
                "name": s.name,
                "items_in": s.items_in,
                "items_out": s.items_out,
                "notes": dict(sorted(s.notes.items())),
            }
            for s in result.stages
        ],
    }


def render_json(
    result: RunResult,
    config: Config,
    warnings: Sequence[Reject] = (),
    inputs: Sequence[str] = (),
) -> str:
    """Pretty JSON, UTF-8 characters kept readable, trailing newline."""
    data = result_to_dict(result, config, warnings, inputs)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
