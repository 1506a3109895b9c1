"""HTML attribution report: one self-contained file, no external assets, nothing from data runs.

Every string from the input (text, titles, outlets, ids, URLs) is escaped in text and in
attributes; data attributes hold only numbers we generate. Our one style block and one script
are allowed by hash in a Content-Security-Policy meta tag that forbids everything else
(``default-src 'none'``), so even a missed escape could not run a script. The article texts the
script shows side by side travel in a ``application/json`` block (never executed) with ``<``,
``>``, ``&`` and line separators escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Sequence
from typing import Any

from dedupe.reports.terminal import plural
from dedupe.types import Article, ClusterAttribution, MemberAttribution, Reject, RunResult

_PALETTE = (
    "#ffd166",
    "#8ecae6",
    "#b8e0a8",
    "#f4a6c6",
    "#c3b1e1",
    "#ffb38a",
    "#a0e7e5",
    "#e2d4a8",
)

_STYLE = """
:root { --ink: #1d232a; --muted: #5c6670; --line: #dde2e6; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: var(--bg); }
header.top { background: #1d3557; color: #fff; padding: 18px 28px; }
header.top h1 { margin: 0 0 4px; font-size: 22px; }
header.top p { margin: 0; opacity: .85; }
main { padding: 20px 28px 60px; max-width: 1500px; margin: 0 auto; }
section.cluster { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 20px; margin: 0 0 28px; }
h2 { margin: 0 0 6px; font-size: 19px; }
h3 { margin: 0; font-size: 16px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 14px; font-size: 14px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.origin { background: #eef6ee; border-left: 4px solid #2a9d8f; padding: 8px 12px;
  margin: 8px 0 12px; }
.origin.unknown { background: #f3f3f3; border-left-color: #999; }
.muted { color: var(--muted); }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px;
  margin-right: 5px; vertical-align: -1px; border: 1px solid rgba(0,0,0,.15); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 6px 0 12px; font-size: 13px; }
.legend .added { padding: 0 4px; }
.legend .quote { padding: 0 4px; }
details.member { border: 1px solid var(--line); border-radius: 6px; margin: 10px 0;
  background: #fff; }
details.member > summary { cursor: pointer; padding: 8px 12px; background: #fafbfc;
  border-radius: 6px; }
details.member[open] > summary { border-bottom: 1px solid var(--line); }
.pane { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px;
  padding: 12px; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.side { border-left: 1px dashed var(--line); padding-left: 14px; font-size: 14px;
  position: sticky; top: 8px; align-self: start; max-height: 96vh; overflow: auto; }
.side .mine, .side .counter { white-space: pre-wrap; padding: 6px 8px; border-radius: 4px;
  background: var(--bg); margin: 4px 0 10px; overflow-wrap: anywhere; }
.side mark { background: #ffe08a; }
.copied { border-radius: 3px; cursor: pointer; }
.copied:hover, .quote:hover, .active { outline: 2px solid #1d3557; }
.quote { background: repeating-linear-gradient(135deg, #eee, #eee 4px, #fff 4px, #fff 8px);
  border-bottom: 2px dotted #888; cursor: pointer; }
.added { border-bottom: 2px solid #f0a58f; }
.reused { background: #d8f0d2; }
.boiler { color: #9aa3ab; text-decoration: line-through; }
.credit { font-size: 13px; }
meter { width: 90px; vertical-align: middle; }
nav.toc td a, nav.toc td { font-size: 14px; }
"""
_STYLE += "".join(
    f".s{k} {{ background: {color}; }} .s{k}.swatch {{ background: {color}; }}\n"
    for k, color in enumerate(_PALETTE)
)

_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById("dedupe-data").textContent);
  var LABELS = {copied: "Copied", reused: "Reused by another member",
    shared_quote: "Shared quote"};
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function show(target) {
    var c = data[+target.dataset.c], m = c.members[+target.dataset.m];
    var p = m.passages[+target.dataset.p], cp = p.counterpart;
    var other = c.members.filter(function (x) { return x.id === cp.id; })[0];
    var panel = document.getElementById("side-" + target.dataset.c + "-" + target.dataset.m);
    var text = other.text;
    var a = text.lastIndexOf("\\n", cp.start - 1) + 1, b = text.indexOf("\\n", cp.end);
    if (b < 0) b = text.length;
    var box = el("div", "counter");
    box.append(text.slice(a, cp.start), el("mark", "", text.slice(cp.start, cp.end)),
      text.slice(cp.end, b));
    panel.replaceChildren(
      el("h3", "", (LABELS[p.label] || p.label) + " \\u2014 " + cp.level.replace("_", " ") +
        ", similarity " + cp.similarity.toFixed(2)),
      el("div", "muted", "This passage [" + p.start + "\\u2013" + p.end + "]"),
      el("div", "mine", m.text.slice(p.start, p.end)),
      el("div", "muted", "Counterpart in " + cp.id + " [" + cp.start + "\\u2013" + cp.end + "]"),
      box);
    document.querySelectorAll(".active").forEach(function (x) { x.classList.remove("active"); });
    target.classList.add("active");
  }
  document.documentElement.setAttribute("data-ready", String(data.length));
  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-p]");
    if (t) show(t);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target.dataset && e.target.dataset.p !== undefined) show(e.target);
  });
})();
"""


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _json_block(data: Any) -> str:
    """JSON safe inside a script element: nothing can close it or start markup."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _article_text(
    c: int, m: int, member: MemberAttribution, text: str, colour: dict[str, int]
) -> str:
    out: list[str] = []
    cursor = 0
    for p_index, p in enumerate(member.passages):
        out.append(_e(text[cursor : p.start]))
        body = _e(text[p.start : p.end])
        cp = p.counterpart
        if p.label in ("copied", "reused", "shared_quote") and cp is not None:
            kind = {"shared_quote": "quote", "reused": "copied reused"}.get(p.label, "copied")
            # A copy is shaded like its source; the origin's reused text has one colour of
            # its own, since its counterpart is a copier, not a source.
            shade = f" s{colour[cp.article_id] % len(_PALETTE)}" if p.label == "copied" else ""
            direction = "reused by" if p.label == "reused" else "from"
            tip = (
                f"{p.label.replace('_', ' ')} {direction} {cp.article_id} "
                f"({cp.level.replace('_', ' ')}, similarity {cp.similarity:.2f}); click to compare"
            )
            out.append(
                f'<span class="{kind}{shade}" tabindex="0" data-c="{c}" data-m="{m}" '
                f'data-p="{p_index}" title="{_e(tip)}">{body}</span>'
            )
        elif p.label == "credit":
            out.append(f'<span class="boiler credit-line" title="credit line">{body}</span>')
        elif p.label == "added":
            out.append(f'<span class="added" title="added: found in no other member">{body}</span>')
        else:
            out.append(f'<span class="boiler" title="boilerplate line">{body}</span>')
        cursor = p.end
    out.append(_e(text[cursor:]))
    return "".join(out)


def _member_row(member: MemberAttribution, article: Article, origin: str | None) -> str:
    is_origin = member.article_id == origin
    share = member.reused_share if is_origin else member.copied_share
    published = article.published.strftime("%Y-%m-%d %H:%M") if article.published else "–"
    credits = ", ".join(sorted({c.name for c in member.credits})) or "none"
    if member.credits and not member.credits_source:
        credits += " (own dateline)"
    total = sum(chars for _, chars in member.sources) or 1
    sources = ", ".join(f"{i} ({chars / total:.0%})" for i, chars in member.sources) or "–"
    star = " ★ origin" if is_origin else ""
    return (
        f"<tr><td>{_e(article.outlet or '–')}</td><td><a href='#a-{_e(member.article_id)}'>"
        f"{_e(member.article_id)}</a>{star}</td><td>{_e(published)}</td>"
        f'<td class="num">{"reused " if is_origin else ""}{_pct(share)} '
        f'<meter min="0" max="1" value="{share:.4f}"></meter></td>'
        f'<td class="num">{member.count("reused" if is_origin else "copied")}</td>'
        f'<td class="num">{member.count("shared_quote")}</td>'
        f'<td class="num">{member.count("added")}</td>'
        f"<td>{_e(credits)}</td><td>{_e(sources)}</td></tr>"
    )


def _cluster_section(
    c: int, cluster: ClusterAttribution, by_id: dict[str, Article]
) -> tuple[str, dict[str, Any]]:
    colour = {m.article_id: k for k, m in enumerate(cluster.members)}
    origin = cluster.origin
    if origin.article_id is None:
        origin_html = (
            f'<div class="origin unknown"><b>Origin: unknown.</b> {_e(origin.evidence)}</div>'
        )
    else:
        origin_html = (
            f'<div class="origin"><b>Likely origin: {_e(origin.article_id)}</b> '
            f"(confidence {origin.confidence:.2f}, by {_e(origin.method)}). "
            f"{_e(origin.evidence)}</div>"
        )
    sources = {i for m in cluster.members for i, _ in m.sources}
    legend = "".join(
        f'<span><span class="swatch s{k % len(_PALETTE)}"></span>copied from '
        f"{_e(m.article_id)}</span>"
        for k, m in enumerate(cluster.members)
        if m.article_id in sources
    )
    legend += (
        '<span><span class="swatch reused"></span>origin\'s text reused by others</span>'
        '<span><span class="quote">quote</span> shared quote only</span>'
        '<span><span class="added">added</span> found in no other member</span>'
        '<span><span class="boiler">boilerplate</span></span>'
    )
    rows = "".join(_member_row(m, by_id[m.article_id], origin.article_id) for m in cluster.members)
    cards = []
    for m_index, member in enumerate(cluster.members):
        article = by_id[member.article_id]
        title = article.title or member.article_id
        url = article.url
        link = (
            f' · <a href="{_e(url)}" rel="noreferrer noopener">source</a>'
            if url.startswith(("http://", "https://"))
            else ""
        )
        credit_lines = "".join(
            f"<li>{_e(cr.kind.replace('_', ' '))}: “{_e(article.text[cr.start : cr.end])}” "
            f"[{cr.start}–{cr.end}]{' (wire)' if cr.wire else ''}</li>"
            for cr in member.credits
        )
        credits_html = f'<ul class="credit">{credit_lines}</ul>' if credit_lines else ""
        cards.append(
            f'<details class="member" id="a-{_e(member.article_id)}" open><summary>'
            f"<b>{_e(article.outlet or '–')}</b> · {_e(title)} "
            f'<span class="muted">({_e(member.article_id)}{link}) — '
            + (
                f"likely origin, {_pct(member.reused_share)} reused by others"
                if member.article_id == origin.article_id
                else f"{_pct(member.copied_share)} copied"
            )
            + "</span></summary>"
            f'<div class="pane"><div class="text">'
            f"{_article_text(c, m_index, member, article.text, colour)}</div>"
            f'<aside class="side" id="side-{c}-{m_index}"><p class="muted">Click a highlighted '
            f"passage to see it side by side with its counterpart.</p>{credits_html}</aside>"
            f"</div></details>"
        )
    section = (
        f'<section class="cluster" id="{_e(cluster.cluster_id)}">'
        f"<h2>Cluster {c + 1} · {_e(cluster.cluster_id)} · {len(cluster.members)} articles</h2>"
        f"{origin_html}<table><thead><tr><th>Outlet</th><th>Article</th><th>Published</th>"
        f"<th>Copied</th><th>Copied</th><th>Quote</th><th>Added</th><th>Credits</th>"
        f"<th>Copied from</th></tr></thead><tbody>{rows}</tbody></table>"
        f'<div class="legend">{legend}</div>{"".join(cards)}</section>'
    )
    data = {
        "members": [
            {
                "id": m.article_id,
                "text": by_id[m.article_id].text,
                "passages": [
                    {
                        "start": p.start,
                        "end": p.end,
                        "label": p.label,
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
                    for p in m.passages
                ],
            }
            for m in cluster.members
        ]
    }
    return section, data


def _mean_copied(cluster: ClusterAttribution) -> float:
    """Mean copied share of the members other than the origin (which copied nothing)."""
    shares = [m.copied_share for m in cluster.members if m.article_id != cluster.origin.article_id]
    return sum(shares) / len(shares) if shares else 0.0


def render_attribution_html(
    result: RunResult,
    attributions: Sequence[ClusterAttribution],
    warnings: Sequence[Reject] = (),
    title: str = "dedupe: who copied what",
) -> str:
    """The whole report as one HTML document."""
    by_id = {a.id: a for a in result.articles}
    sections, data = [], []
    for c, cluster in enumerate(attributions):
        section, blob = _cluster_section(c, cluster, by_id)
        sections.append(section)
        data.append(blob)
    overview_rows = "".join(
        f"<tr><td><a href='#{_e(cl.cluster_id)}'>Cluster {c + 1}</a></td>"
        f'<td class="num">{len(cl.members)}</td>'
        f"<td>{_e(cl.origin.article_id or 'unknown')}</td>"
        f"<td>{_e(', '.join(sorted({by_id[m.article_id].outlet or '–' for m in cl.members})))}"
        f'</td><td class="num">'
        f"{_pct(_mean_copied(cl))}</td></tr>"
        for c, cl in enumerate(attributions)
    )
    overview = (
        '<nav class="toc"><section class="cluster"><h2>Overview</h2><table><thead><tr>'
        "<th>Cluster</th><th>Articles</th><th>Likely origin</th><th>Outlets</th>"
        "<th>Mean copied (non-origin)</th></tr></thead>"
        f"<tbody>{overview_rows}</tbody></table></section></nav>"
        if attributions
        else '<section class="cluster"><p>No clusters: no two articles share enough '
        "wording.</p></section>"
    )
    rejects = ""
    if result.rejects or warnings:
        items = "".join(
            f"<li>{_e(kind)}: {_e(r.source)}: {_e(r.reason)}</li>"
            for kind, records in (("rejected", result.rejects), ("warning", warnings))
            for r in records
        )
        rejects = f'<section class="cluster"><h2>Input problems</h2><ul>{items}</ul></section>'
    csp = (
        f"default-src 'none'; style-src {_csp_hash(_STYLE)}; script-src {_csp_hash(_SCRIPT)}; "
        "img-src 'none'; base-uri 'none'; form-action 'none'"
    )
    summary = (
        f"{plural(len(result.articles), 'article')} read, {len(result.rejects):,} rejected, "
        f"{sum(len(c.members) for c in attributions):,} attributed in "
        f"{plural(len(attributions), 'cluster')}"
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f'<header class="top"><h1>{_e(title)}</h1><p>{_e(summary)}</p></header><main>'
        f"{overview}{''.join(sections)}{rejects}</main>"
        f'<script type="application/json" id="dedupe-data">{_json_block(data)}</script>'
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
