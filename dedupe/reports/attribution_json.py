"""JSON attribution report (``dedupe report --format json``); schema in docs/report-schema.md.

Offsets are Python string indices (Unicode code points) into each article's text as read, so
``text[start:end]`` cuts a passage back out; each passage also carries its text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from dedupe.config import Config
from dedupe.types import Article, ClusterAttribution, MemberAttribution, Reject, RunResult

SCHEMA_VERSION = 1
LABELS = ("copied", "reused", "shared_quote", "added", "credit", "boilerplate")


def text_digest(text: str) -> str:
    """SHA-256 of an article's text (UTF-8), to check a re-read input is the same article."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _member(member: MemberAttribution, article: Article) -> dict[str, Any]:
    text = article.text
    return {
        "id": member.article_id,
        "outlet": article.outlet,
        "title": article.title,
        "url": article.url,
        "published": article.published.isoformat() if article.published else None,
        "source": article.source,
        "text_sha256": text_digest(text),
        "characters": len(text),
        "copied_share": member.copied_share,
        "reused_share": member.reused_share,
        "counts": {label: member.count(label) for label in LABELS},
        "copied_from": [{"id": i, "characters": chars} for i, chars in member.sources],
        "credits_source": member.credits_source,
        "credits": [
            {
                "name": c.name,
                "kind": c.kind,
                "wire": c.wire,
                "start": c.start,
                "end": c.end,
                "text": text[c.start : c.end],
            }
            for c in member.credits
        ],
        "passages": [
            {
                "start": p.start,
                "end": p.end,
                "paragraph": p.paragraph,
                "label": p.label,
                "quoted": p.quoted,
                "text": text[p.start : p.end],
                "counterpart": None
                if p.counterpart is None
                else {
                    "id": p.counterpart.article_id,
                    "start": p.counterpart.start,
                    "end": p.counterpart.end,
                    "similarity": p.counterpart.similarity,
                    "level": p.counterpart.level,
                },
            }
            for p in member.passages
        ],
    }


def attribution_to_dict(
    result: RunResult,
    attributions: Sequence[ClusterAttribution],
    config: Config,
    warnings: Sequence[Reject] = (),
) -> dict[str, Any]:
    """The JSON-ready form of an attribution report."""
    from dedupe import __version__

    by_id = {a.id: a for a in result.articles}
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "attribution",
        "dedupe_version": __version__,
        "config_digest": result.config_digest,
        "config": config.to_dict(),
        "summary": {
            "articles_read": len(result.articles),
            "rejected": len(result.rejects),
            "clusters": len(attributions),
            "attributed": sum(len(c.members) for c in attributions),
            "warnings": len(warnings),
        },
        "clusters": [
            {
                "id": c.cluster_id,
                "size": len(c.members),
                "origin": {
                    "id": c.origin.article_id,
                    "confidence": c.origin.confidence,
                    "method": c.origin.method,
                    "evidence": c.origin.evidence,
                },
                "members": [_member(m, by_id[m.article_id]) for m in c.members],
            }
            for c in attributions
        ],
        "rejects": [{"source": r.source, "reason": r.reason} for r in result.rejects],
        "warnings": [{"source": w.source, "reason": w.reason} for w in warnings],
    }


def render_attribution_json(
    result: RunResult,
    attributions: Sequence[ClusterAttribution],
    config: Config,
    warnings: Sequence[Reject] = (),
) -> str:
    """Pretty, deterministic JSON with a trailing newline."""
    data = attribution_to_dict(result, attributions, config, warnings)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
