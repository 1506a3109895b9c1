"""Terminal report: clusters largest first, two lines per member, and an accounting summary."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from dedupe.config import ReportConfig
from dedupe.types import Article, Reject, RunResult

_MAX_LISTED_REJECTS = 20
_TITLE_INDENT = 7  # under the ID column


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

    Two lines per member: its id, outlet, date and scores, then its title below, so the
    report fits 120 columns with long ids and titles (``columns``: the terminal's width when
    printing to one; titles and, if need be, ids are cut to fit it).
    """
    by_id: dict[str, Article] = {a.id: a for a in result.articles}
    id_width = min(max([len(i) for c in result.clusters for i in c.article_ids] + [2]), 32)
    outlet_width = min(
        max([len(by_id[i].outlet) for c in result.clusters for i in c.article_ids] + [6]), 24
    )
    # "  #  " + id + "  " + outlet + "  " + date, CONTAIN, COSINE, LINKS, BEST.
    others = 2 + 3 + 2 + 2 + outlet_width + 2 + 16 + 2 + 7 + 2 + 6 + 2 + 5 + 2 + 4
    title_width = config.title_width
    if columns is not None:
        id_width = max(8, min(id_width, columns - others))
        title_width = max(20, min(title_width, columns - _TITLE_INDENT))
    lines: list[str] = []
    shown = result.clusters[: config.max_clusters] if config.max_clusters else result.clusters
    for number, cluster in enumerate(shown, start=1):
        cohesion = sum(m.mean_containment for m in cluster.members) / len(cluster.members)
        lines.append(
            f"Cluster {number} ({cluster.id}): {len(cluster.article_ids)} articles, "
            f"mean containment {cohesion:.2f}"
        )
        lines.append(
            f"  {'#':>3}  {fit('ID', id_width)}  {fit('OUTLET', outlet_width)}  "
            f"{'PUBLISHED':<16}  {'CONTAIN':>7}  {'COSINE':>6}  {'LINKS':>5}  {'BEST':>4}"
        )
        size = len(cluster.article_ids)
        row_of = {member.article_id: k for k, member in enumerate(cluster.members, start=1)}
        for row, member in enumerate(cluster.members, start=1):
            article = by_id[member.article_id]
            published = article.published.strftime("%Y-%m-%d %H:%M") if article.published else "-"
            best = row_of.get(member.best_match_id)
            lines.append(
                f"  {row:>3}  {fit(member.article_id, id_width)}  "
                f"{fit(article.outlet or '-', outlet_width)}  "
                f"{published:<16}  {member.containment:>7.2f}  {member.cosine:>6.2f}  "
                f"{f'{member.verified_links}/{size - 1}':>5}  "
                f"{f'#{best}' if best else '-':>4}"
            )
            if article.title:
                lines.append(" " * _TITLE_INDENT + fit(article.title, title_width).rstrip())
        lines.append("")
    if len(shown) < len(result.clusters):
        lines.append(f"... {len(result.clusters) - len(shown)} more clusters (report.max_clusters)")
        lines.append("")
    if not result.clusters:
        lines.append("No clusters: no two articles share enough wording.")
        lines.append("")
    lines.append(
        "Under each member: its title. CONTAIN: share of the shorter text's shingles found in its "
        "best match\n(BEST, by # in the cluster); COSINE: TF-IDF cosine to it; LINKS: members "
        "verified against it directly."
    )
    not_clustered = len(result.articles) - result.clustered_count
    lines.append(
        f"Summary: {plural(len(result.articles), 'article')} read, "
        f"{len(result.rejects):,} rejected, "
        f"{result.clustered_count:,} clustered in {plural(len(result.clusters), 'cluster')}, "
        f"{not_clustered:,} not clustered ({len(result.uncomparable_ids):,} too short to compare)."
    )
    for label, records in (("Rejected", result.rejects), ("Warning", warnings)):
        for record in records[:_MAX_LISTED_REJECTS]:
            lines.append(f"{label}: {record.source}: {record.reason}")
        if len(records) > _MAX_LISTED_REJECTS:
            lines.append(
                f"{label}: ... and {len(records) - _MAX_LISTED_REJECTS} more (see --format json)"
            )
    return "\n".join(printable(line) for line in lines) + "\n"


def plural(count: int, noun: str) -> str:
    """``1 cluster``, ``2 clusters``, ``66,625 clusters`` (summary lines of every command).

    Thousands are grouped: a 1M-article summary read "299522 clustered in 66625 clusters".
    """
    return f"{count} {noun}" if count == 1 else f"{count:,} {noun}s"
