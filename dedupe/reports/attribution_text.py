"""Terminal attribution report: per cluster the origin, per outlet what it copied and added."""

from __future__ import annotations

from collections.abc import Sequence

from dedupe.reports.terminal import fit, plural, printable
from dedupe.types import Article, ClusterAttribution, MemberAttribution, Reject, RunResult

_ADDED_SHOWN = 3
_SNIPPET = 72


def _credits(member: MemberAttribution) -> str:
    if not member.credits:
        return "none"
    names = sorted({c.name for c in member.credits})
    return ", ".join(names) + ("" if member.credits_source else " (own)")


def _sources(member: MemberAttribution, short: dict[str, str]) -> str:
    copied = sum(chars for _, chars in member.sources)
    if not copied:
        return "-"
    shown = [(i, chars / copied) for i, chars in member.sources[:3] if chars / copied >= 0.01]
    more = len(member.sources) - len(shown)
    text = ", ".join(f"{short[i]} {share:.0%}" for i, share in shown)
    return text + (f", +{more} more" if more > 0 else "")


def render_attribution_text(
    result: RunResult,
    attributions: Sequence[ClusterAttribution],
    warnings: Sequence[Reject] = (),
) -> str:
    """The human report printed by ``dedupe report``."""
    by_id: dict[str, Article] = {a.id: a for a in result.articles}
    lines: list[str] = []
    for number, cluster in enumerate(attributions, start=1):
        ids = [m.article_id for m in cluster.members]
        id_width = min(max(len(i) for i in ids), 28)
        short = {i: fit(i, id_width).rstrip() for i in ids}
        outlet_width = min(max([len(by_id[i].outlet) for i in ids] + [6]), 20)
        origin = cluster.origin
        lines.append(f"Cluster {number} ({cluster.cluster_id}): {len(ids)} articles")
        if origin.article_id is None:
            lines.append(f"  Origin: unknown. {origin.evidence}")
        else:
            lines.append(
                f"  Origin: {origin.article_id} (confidence {origin.confidence:.2f}, "
                f"by {origin.method}): {origin.evidence}"
            )
        lines.append(
            f"  {fit('ARTICLE', id_width)}  {fit('OUTLET', outlet_width)}  COPIED  "
            f"{'COPIED/QUOTE/ADDED':>18}  {fit('CREDITS', 18)}  COPIED FROM (share)"
        )
        for member in cluster.members:
            article = by_id[member.article_id]
            is_origin = member.article_id == origin.article_id
            copied = member.count("reused" if is_origin else "copied")
            counts = f"{copied}/{member.count('shared_quote')}/{member.count('added')}"
            share = "origin" if is_origin else f"{member.copied_share:.0%}"
            source = (
                f"(others reuse {member.reused_share:.0%} of it)"
                if is_origin
                else _sources(member, short)
            )
            lines.append(
                f" {'*' if is_origin else ' '}{fit(member.article_id, id_width)}  "
                f"{fit(article.outlet or '-', outlet_width)}  {share:>6}  "
                f"{counts:>18}  {fit(_credits(member), 18)}  {source}"
            )
        for member in cluster.members:
            added = [p for p in member.passages if p.label == "added"]
            if not added:
                continue
            text = by_id[member.article_id].text
            lines.append(f"  Added by {member.article_id}:")
            for passage in added[:_ADDED_SHOWN]:
                snippet = fit(text[passage.start : passage.end], _SNIPPET).rstrip()
                lines.append(f"    [{passage.start}-{passage.end}] {snippet}")
            if len(added) > _ADDED_SHOWN:
                lines.append(f"    ... {len(added) - _ADDED_SHOWN} more (see --format json/html)")
        lines.append("")
    if not attributions:
        lines.append("No clusters: no two articles share enough wording.")
        lines.append("")
    lines.append(
        "COPIED: share of the article's text in sentences found in another member; "
        "COPIED/QUOTE/ADDED: sentence counts (for the origin, COPIED counts its sentences "
        "others reuse; QUOTE: a quotation that is all it shares with that member); CREDITS: "
        "wires or members it credits ('own' = only its own dateline); * = likely origin."
    )
    lines.append(
        f"Summary: {plural(len(result.articles), 'article')} read, "
        f"{len(result.rejects):,} rejected, "
        f"{sum(len(c.members) for c in attributions):,} attributed in "
        f"{plural(len(attributions), 'cluster')}."
    )
    for label, records in (("Rejected", result.rejects), ("Warning", warnings)):
        for record in records[:20]:
            lines.append(f"{label}: {record.source}: {record.reason}")
        if len(records) > 20:
            lines.append(f"{label}: ... and {len(records) - 20} more (see --format json)")
    return "\n".join(printable(line) for line in lines) + "\n"
