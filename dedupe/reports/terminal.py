"""Terminal report: clusters largest first, one line per member, and an accounting summary."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from dedupe.config import ReportConfig
from dedupe.types import Article, Reject, RunResult

_MAX_LISTED_REJECTS = 20


# C0/C1 controls and bidirectional overrides: from input, they could clear the screen, move
# the cursor (ANSI escapes) or reorder what the terminal shows.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    r"""Text safe to print on a terminal: control characters shown as escapes.

    Example:
        >>> printable("id\x1b[2J")
        'id\\x1b[2J'
    """
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit(text: str, width: int) -> str:
    """Cut or pad ``text`` to ``width`` terminal columns (wide CJK characters count double)."""
    text = printable(" ".join(text.split()))
    if _width(text) > width:
        out = ""
        for char in text:
            if _width(out + char) > width - 1:
                break
            out += char
        text = out + "…"
    return text + " " * (width - _width(text))


def render_text(
    result: RunResult,
    config: ReportConfig,
    warnings: Sequence[Reject] = (),
    columns: int | None = None,
) -> str:
    """The human report printed by ``dedupe cluster``.

    ``columns``: the terminal's width, when printing to one; titles are cut to fit it (down to
    20 columns) instead of wrapping every member line.
    """
    by_id: dict[str, Article] = {a.id: a for a in result.articles}
    id_width = min(max([len(i) for c in result.clusters for i in c.article_ids] + [2]), 32)
    outlet_width = min(
        max([len(by_id[i].outlet) for c in result.clusters for i in c.article_ids] + [6]), 24
    )
    title_width = config.title_width
    if columns is not None:
        fixed = 2 + id_width + 2 + outlet_width + 2 + 16 + 2 + 7 + 2 + 6 + 2 + 5 + 2 + id_width + 2
        title_width = max(20, min(title_width, columns - fixed))
    lines: list[str] = []
    shown = result.clusters[: config.max_clusters] if config.max_clusters else result.clusters
    for number, cluster in enumerate(shown, start=1):
        cohesion = sum(m.mean_containment for m in cluster.members) / len(cluster.members)
        lines.append(
            f"Cluster {number} ({cluster.id}): {len(cluster.article_ids)} articles, "
            f"mean containment {cohesion:.2f}"
        )
        lines.append(
            f"  {fit('ID', id_width)}  {fit('OUTLET', outlet_width)}  {'PUBLISHED':<16}  "
            f"{'CONTAIN':>7}  {'COSINE':>6}  {'LINKS':>5}  {'BEST MATCH':<{id_width}}  TITLE"
        )
        size = len(cluster.article_ids)
        for member in cluster.members:
            article = by_id[member.article_id]
            published = article.published.strftime("%Y-%m-%d %H:%M") if article.published else "-"
            lines.append(
                f"  {fit(member.article_id, id_width)}  "
                f"{fit(article.outlet or '-', outlet_width)}  "
                f"{published:<16}  {member.containment:>7.2f}  {member.cosine:>6.2f}  "
                f"{f'{member.verified_links}/{size - 1}':>5}  "
                f"{fit(member.best_match_id, id_width)}  "
                f"{fit(article.title or '-', title_width).rstrip()}"
            )
        lines.append("")
    if len(shown) < len(result.clusters):
        lines.append(f"... {len(result.clusters) - len(shown)} more clusters (report.max_clusters)")
        lines.append("")
    if not result.clusters:
        lines.append("No clusters: no two articles share enough wording.")
        lines.append("")
    lines.append(
        "CONTAIN: share of the shorter text's shingles found in its best match; COSINE: TF-IDF "
        "cosine to it; LINKS: members it is verified against directly."
    )
    not_clustered = len(result.articles) - result.clustered_count
    lines.append(
        f"Summary: {len(result.articles)} articles read, {len(result.rejects)} rejected, "
        f"{result.clustered_count} clustered in {len(result.clusters)} clusters, "
        f"{not_clustered} not clustered ({len(result.uncomparable_ids)} too short to compare)."
    )
    for label, records in (("Rejected", result.rejects), ("Warning", warnings)):
        for record in records[:_MAX_LISTED_REJECTS]:
            lines.append(f"{label}: {record.source}: {record.reason}")
        if len(records) > _MAX_LISTED_REJECTS:
            lines.append(
                f"{label}: ... and {len(records) - _MAX_LISTED_REJECTS} more (see --format json)"
            )
    return "\n".join(printable(line) for line in lines) + "\n"
