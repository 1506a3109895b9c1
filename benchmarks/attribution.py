"""Attribution quality on CSTNews and attribution speed on the synthetic corpus.

Quality: for each of CSTNews' 50 events (real multi-outlet Portuguese news, human sentence
relations), the texts of the event are attributed as one cluster. Every sentence pair the tool
calls ``copied`` (a passage and its counterpart, mapped to the corpus's one-sentence-per-line
numbering) is checked against the human relations:

- precision against Identity + Equivalence + Subsumption ("shared content" without Overlap,
  which marks sentences that share only a fragment), and against all four;
- recall of Identity, of Identity + Equivalence, and of Identity + Equivalence + Subsumption.

Annotators were not asked to be exhaustive, so a called pair without a relation is counted as
wrong even when the sentences do share wording: precision here is a lower bound.

Speed: clusters of the synthetic corpus (``benchmarks.synthetic``) attributed one after another:
clusters/s and articles/s, and the time for clusters of 10 members.

Usage:
    python -m benchmarks.attribution --output BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.markdown import replace_section
from dedupe.attribute import attribute_cluster
from dedupe.config import Config, build_config
from dedupe.types import Article

CST = Path(__file__).resolve().parent.parent.parent / "shared/data/cstnews-cst"
BEGIN = "<!-- attribution-bench:begin -->"
END = "<!-- attribution-bench:end -->"
SHARED = {"identity", "equivalence", "subsumption", "overlap"}
Sentence = tuple[str, int]  # (document, 1-based sentence number)


def load_event(texts: list[Path]) -> list[Article]:
    """One article per file: cp1252 text, one sentence per non-empty line, joined by newlines."""
    articles = []
    for path in texts:
        raw = path.read_bytes().decode("cp1252", errors="replace")
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        outlet = path.name.split("_")[2].split(".")[0]
        articles.append(Article(id=path.name, text="\n".join(lines), outlet=outlet))
    return articles


def gold_pairs(xml_path: Path) -> dict[frozenset[Sentence], set[str]]:
    """Human relations per unordered sentence pair (relation types, case-folded)."""
    pairs: dict[frozenset[Sentence], set[str]] = defaultdict(set)
    for r in ET.parse(xml_path).getroot().iter("R"):
        relation = r.find("RELATION")
        if relation is None:
            continue
        left = (r.attrib["SDID"], int(r.attrib["SSENT"]))
        right = (r.attrib["TDID"], int(r.attrib["TSENT"]))
        pairs[frozenset((left, right))].add(relation.attrib["TYPE"].casefold())
    return pairs


def _sentence_of(article: Article, offset: int) -> int:
    return article.text.count("\n", 0, offset) + 1


def called_pairs(articles: list[Article], config: Config) -> dict[frozenset[Sentence], str]:
    """Sentence pairs the tool calls copied, with the closeness level of the call."""
    result = attribute_cluster("event", articles, config)
    by_id = {a.id: a for a in articles}
    called: dict[frozenset[Sentence], str] = {}
    for member in result.members:
        article = by_id[member.article_id]
        for passage in member.passages:
            cp = passage.counterpart
            if passage.label != "copied" or cp is None:
                continue
            other = by_id[cp.article_id]
            here = (article.id, _sentence_of(article, passage.start))
            first, last = _sentence_of(other, cp.start), _sentence_of(other, max(cp.end - 1, 0))
            for number in range(first, last + 1):
                key = frozenset((here, (other.id, number)))
                if key not in called or cp.level == "verbatim":
                    called[key] = cp.level
    return called


def quality(config: Config) -> dict[str, Any]:
    """Precision/recall of called pairs against CSTNews' human relations."""
    called_all: dict[frozenset[Sentence], str] = {}
    gold: dict[frozenset[Sentence], set[str]] = {}
    for xml_path in sorted((CST / "cst_relations").glob("C*_Relacoes_Textos.xml")):
        event = re.match(r"C(\d+)_", xml_path.name)
        assert event is not None
        texts = sorted((CST / "texts").glob(f"D*_C{event.group(1)}_*.txt.seg"))
        articles = load_event(texts)
        valid = {(a.id, n) for a in articles for n in range(1, a.text.count("\n") + 2)}
        for pair, types in gold_pairs(xml_path).items():
            if pair <= valid:  # SOURCE.md: three C12 relations name sentences that do not exist
                gold.setdefault(pair, set()).update(types)
        called_all.update(called_pairs(articles, config))

    def gold_with(kinds: set[str]) -> set[frozenset[Sentence]]:
        return {p for p, t in gold.items() if t & kinds}

    strict = gold_with({"identity", "equivalence", "subsumption"})
    shared = gold_with(SHARED)
    called = set(called_all)
    out: dict[str, Any] = {"called": len(called)}
    identity_equivalence = gold_with({"identity", "equivalence"})
    out["precision_ie"] = len(called & identity_equivalence) / len(called) if called else 0.0
    out["precision_ies"] = len(called & strict) / len(called) if called else 0.0
    out["precision_shared"] = len(called & shared) / len(called) if called else 0.0
    for name, kinds in (
        ("identity", {"identity"}),
        ("identity_equivalence", {"identity", "equivalence"}),
        ("ies", {"identity", "equivalence", "subsumption"}),
        ("overlap", {"overlap"}),
    ):
        truth = gold_with(kinds)
        out[f"recall_{name}"] = len(called & truth) / len(truth) if truth else 0.0
        out[f"gold_{name}"] = len(truth)
    for level in ("verbatim", "near_verbatim", "paraphrase", "partial"):
        at = {p for p, lv in called_all.items() if lv == level}
        out[f"called_{level}"] = len(at)
        out[f"precision_{level}"] = len(at & strict) / len(at) if at else 0.0
    return out


def _clusters(size: int, seed: int, max_copies: int) -> tuple[list[list[Article]], list[str]]:
    """True syndication groups of a synthetic corpus, with each group's wire id."""
    from datetime import datetime

    from benchmarks.synthetic import generate_corpus, load_cstnews_sentences

    sentences = load_cstnews_sentences(CST / "texts") if CST.exists() else []
    corpus = generate_corpus(
        size, seed=seed, base_sentences=sentences or None, max_copies=max_copies
    )
    groups: dict[str, list[Article]] = defaultdict(list)
    for record in corpus.records:
        group = corpus.truth[record["id"]]
        if not group.startswith("solo-"):
            groups[group].append(
                Article(
                    id=record["id"],
                    text=record["text"],
                    outlet=record["outlet"],
                    published=datetime.fromisoformat(record["published"]),
                )
            )
    keys = sorted(k for k, g in groups.items() if len(g) >= 2)
    return [groups[k] for k in keys], [corpus.wires[k] for k in keys]


def speed(config: Config, size: int, seed: int) -> dict[str, Any]:
    """Attribution throughput over the synthetic corpus's true clusters, and origin accuracy."""
    from dataclasses import replace

    clusters, wires = _clusters(size, seed, max_copies=6)
    start = time.perf_counter()
    hits = 0
    for k, members in enumerate(clusters):
        hits += attribute_cluster(str(k), members, config).origin.article_id == wires[k]
    seconds = time.perf_counter() - start
    # Without dates the origin comes from credits and containment only.
    undated_hits = undecided = 0
    for k, members in enumerate(clusters):
        origin = attribute_cluster(
            str(k), [replace(a, published=None) for a in members], config
        ).origin
        undated_hits += origin.article_id == wires[k]
        undecided += origin.article_id is None
    articles = sum(len(g) for g in clusters)
    words = sum(len(a.text.split()) for g in clusters for a in g)
    # Clusters of 10 members: the latency yardstick (articles of ~800 words).
    big, _ = _clusters(4_000, seed + 1, max_copies=12)
    tens = [g[:10] for g in big if len(g) >= 10]
    # Synthetic articles run ~450 words; joining two stories member by member gives ~800-word
    # articles whose clusters still share wording the way reprints do.
    ten = [
        [
            replace(a, text=a.text + "\n\n" + b.text)
            for a, b in zip(tens[k], tens[k + 1], strict=True)
        ]
        for k in range(0, min(len(tens) - 1, 40), 2)
    ]
    started = time.perf_counter()
    for k, members in enumerate(ten):
        attribute_cluster(str(k), members, config)
    per_ten = (time.perf_counter() - started) / len(ten) if ten else float("nan")
    ten_words = sum(len(a.text.split()) for g in ten for a in g) / max(sum(len(g) for g in ten), 1)
    return {
        "clusters": len(clusters),
        "articles": articles,
        "seconds": seconds,
        "articles_per_s": articles / seconds,
        "words_per_article": words / max(articles, 1),
        "origin_accuracy": hits / len(clusters),
        "origin_accuracy_undated": undated_hits / len(clusters),
        "origin_unknown_undated": undecided / len(clusters),
        "ten_clusters": len(ten),
        "ten_seconds": per_ten,
        "ten_words_per_article": ten_words,
    }


def _markdown(q: dict[str, Any] | None, s: dict[str, Any], command: str) -> str:
    lines = [BEGIN, "## Attribution (`dedupe report`)", "", f"Command: `{command}`", ""]
    if q is None:
        lines += ["CSTNews not found beside the project: quality not measured.", ""]
    else:
        lines += [
            "Quality on CSTNews (50 real Portuguese events, 140 texts, human sentence relations;",
            "each event attributed as one cluster). A pair is one sentence and its counterpart.",
            "",
            "| measure | value |",
            "| --- | ---: |",
            f"| sentence pairs called copied | {q['called']:,} |",
            f"| precision vs Identity+Equivalence only | {q['precision_ie']:.3f} |",
            f"| precision vs Identity+Equivalence+Subsumption | {q['precision_ies']:.3f} |",
            f"| precision vs any shared relation (+Overlap) | {q['precision_shared']:.3f} |",
            f"| recall of Identity ({q['gold_identity']} pairs) | {q['recall_identity']:.3f} |",
            f"| recall of Identity+Equivalence ({q['gold_identity_equivalence']}) "
            f"| {q['recall_identity_equivalence']:.3f} |",
            f"| recall of Identity+Equivalence+Subsumption ({q['gold_ies']}) "
            f"| {q['recall_ies']:.3f} |",
            f"| recall of Overlap ({q['gold_overlap']}) | {q['recall_overlap']:.3f} |",
        ]
        for level in ("verbatim", "near_verbatim", "paraphrase", "partial"):
            lines.append(
                f"| precision of `{level}` calls ({q[f'called_{level}']}) vs I+E+S "
                f"| {q[f'precision_{level}']:.3f} |"
            )
        lines += [
            "",
            "The `attribute.copied_threshold` trade-off on the same data (default 0.6):",
            "",
            "| copied_threshold | pairs | precision I+E+S | precision +Overlap | recall I+E |",
            "| ---: | ---: | ---: | ---: | ---: |",
        ]
        for threshold, t in sorted(q["thresholds"].items()):
            lines.append(
                f"| {threshold} | {t['called']} | {t['precision_ies']:.3f} "
                f"| {t['precision_shared']:.3f} | {t['recall_identity_equivalence']:.3f} |"
            )
        lines.append("")
    lines += [
        f"Speed on the synthetic corpus ({s['clusters']:,} true clusters, {s['articles']:,} "
        f"articles of ~{s['words_per_article']:.0f} words):",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| articles attributed per second (one core) | {s['articles_per_s']:,.0f} |",
        f"| origin = the wire original, with dates | {s['origin_accuracy']:.3f} |",
        f"| origin = the wire original, dates removed | {s['origin_accuracy_undated']:.3f} |",
        f'| origin "unknown", dates removed | {s["origin_unknown_undated"]:.3f} |',
        f"| seconds per cluster of 10 (~{s['ten_words_per_article']:.0f} words each, "
        f"mean of {s['ten_clusters']}) | {s['ten_seconds']:.3f} |",
        "",
        END,
    ]
    return "\n".join(lines) + "\n"


def _write(output: Path, section: str, begin: str = BEGIN, end: str = END) -> None:
    replace_section(output, section, begin, end)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="synthetic corpus size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, help="update this Markdown file")
    args = parser.parse_args(argv)
    config = Config()
    q = quality(config) if CST.exists() else None
    if q is not None:
        q["thresholds"] = {
            value: quality(
                build_config(
                    {"attribute": {"copied_threshold": value, "near_verbatim_threshold": 0.8}}
                )
            )
            for value in (0.5, 0.6, 0.7)
        }
    if q is not None:
        print(
            {
                k: round(v, 3) if isinstance(v, float) else v
                for k, v in q.items()
                if k != "thresholds"
            }
        )
    s = speed(config, args.size, args.seed)
    print({k: round(v, 3) if isinstance(v, float) else v for k, v in s.items()})
    command = "python -m benchmarks.attribution --output BENCHMARKS.md"
    if args.output:
        _write(args.output, _markdown(q, s, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
