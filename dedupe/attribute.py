"""Cluster members -> who copied what: per-passage labels, counterparts, origin and credits.

Input: the ``Article`` records of one cluster and the ``Config``. Output: a
``ClusterAttribution``. Every sentence of every member (``dedupe.segment``) is labelled:

- ``copied``: its words are found, in order, in another member's sentence or in up to
  ``attribute.max_window`` consecutive sentences of it (so merged or split sentences still match,
  and reordered paragraphs do not matter). ``similarity`` is the share of the sentence's words
  found in runs of at least ``attribute.min_run`` words, so a few changed words lower it a
  little and scattered common words do not raise it;
- ``shared_quote``: a sentence that is mostly quotation, matched only in members with which
  this member shares no other wording: a quote both outlets took from the same speaker;
- ``reused``: a sentence of the likely origin that other members copied;
- ``added``: found in no other member; ``credit``: only a credit ("(ANTARA)", "— Reuters");
  ``boilerplate``: a line of ``normalize.drop_lines``.

Word sequences are compared with rapidfuzz (``Indel.opcodes`` on strings where each distinct
word is one character), only for sentence pairs that share a word pair: never a character
diff of whole articles, never all sentence pairs.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rapidfuzz.distance import Indel

from dedupe.config import AttributeConfig, Config
from dedupe.credits import find_credits, same_source
from dedupe.errors import UsageError
from dedupe.normalize import QUOTE_CHARS, Normalizer, normalize_text, word_spans
from dedupe.segment import Segment, segment
from dedupe.types import (
    Article,
    ClusterAttribution,
    Counterpart,
    Credit,
    MemberAttribution,
    Origin,
    Passage,
    RunResult,
)

LEVELS = ("verbatim", "near_verbatim", "paraphrase", "partial")
_QUOTE = re.compile(f"[{re.escape(QUOTE_CHARS)}]")
_LINE_BREAK = re.compile(r"[\r\n]")
# Word codes start above the BMP so no code is a surrogate; 1M distinct words per cluster.
_CODE_BASE = 0x10000
# Most words between two matched runs that still belong to one copied passage.
_MAX_GAP = 6
# Word pairs a sentence must share with another before they are compared.
_MIN_SHARED_PAIRS = 2
# Most sentences of one other member a sentence is compared with (those sharing most pairs).
_MAX_CANDIDATES = 24
# A credit this close to the start of its line is a dateline: "JAKARTA, 6 Jan (Reuters) -".
_DATELINE_REACH = 60


@dataclass(frozen=True, slots=True)
class _Unit:
    """One sentence of one member, ready for matching."""

    member: int
    segment: Segment
    words: str  # one character per word
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    quoted: float
    boilerplate: bool


@dataclass(frozen=True, slots=True)
class _Match:
    """The best place a unit's words are found in one other member."""

    member: int
    similarity: float
    start: int
    end: int
    level: str = ""


class _Vocabulary:
    def __init__(self) -> None:
        self._codes: dict[str, str] = {}

    def encode(self, word: str) -> str:
        code = self._codes.get(word)
        if code is None:
            code = chr(_CODE_BASE + len(self._codes))
            self._codes[word] = code
        return code


def _credit_ranges(text: str, credits: Sequence[Credit]) -> list[tuple[int, int]]:
    """Character ranges whose words are credits, not reporting.

    These are the credited names, and a dateline up to its credit ("JAKARTA (Reuters) -").
    """
    ranges = []
    for credit in credits:
        line_start = text.rfind("\n", 0, credit.start) + 1
        near_start = credit.start - line_start <= _DATELINE_REACH
        start = line_start if credit.kind == "dateline" and near_start else credit.start
        ranges.append((start, credit.end))
    return ranges


def _units(
    member: int,
    text: str,
    config: Config,
    normalizer: Normalizer,
    vocab: _Vocabulary,
    credits: Sequence[Credit],
) -> list[_Unit]:
    skip = _credit_ranges(text, credits)
    # Everything per line is computed once per line: a 150 KB single-line article has
    # thousands of sentences, and per-sentence rescans of the line made that quadratic.
    quotes = [m.start() for m in _QUOTE.finditer(text)]
    breaks = [m.start() for m in _LINE_BREAK.finditer(text)]
    boilerplate: dict[int, bool] = {}
    units = []
    for seg in segment(text, config.attribute.language):
        spans = [
            (start, end, word)
            for start, end, word in word_spans(text[seg.start : seg.end])
            if not any(a <= seg.start + start < b for a, b in skip)
        ]
        at = bisect.bisect_left(breaks, seg.start)
        line_start = breaks[at - 1] + 1 if at else 0
        line_end = breaks[at] if at < len(breaks) else len(text)
        before_line = bisect.bisect_left(quotes, line_start)
        quoted = sum(
            1
            for start, _, _ in spans
            if (bisect.bisect_left(quotes, seg.start + start) - before_line) % 2
        )
        if line_start not in boilerplate:
            line = normalize_text(text[line_start:line_end])
            boilerplate[line_start] = normalizer.is_boilerplate(line)
        units.append(
            _Unit(
                member=member,
                segment=seg,
                words="".join(vocab.encode(w) for _, _, w in spans),
                starts=tuple(seg.start + s for s, _, _ in spans),
                ends=tuple(seg.start + e for _, e, _ in spans),
                quoted=quoted / len(spans) if spans else 0.0,
                boilerplate=boilerplate[line_start],
            )
        )
    return units


def _keys(words: str) -> set[str]:
    """Word pairs of a unit (single words for one-word units): what candidates must share."""
    if len(words) < 2:
        return {words} if words else set()
    return {words[i : i + 2] for i in range(len(words) - 1)}


def _coverage(source: str, target: str, min_run: int) -> tuple[float, int, int]:
    """Share of ``source``'s words found in order in ``target`` in runs of ``min_run``+ words.

    Runs are chained while the gap between them stays within ``_MAX_GAP`` words on both
    sides; only the best chain counts. Without chaining, a short sentence would collect stray
    two-word runs ("of the", "said on") from all over a long target.

    Returns the share and the span of ``target`` (word positions) the chain covers.
    """
    run = min(min_run, len(source))
    best = (0, -1, -1)
    found, first, last, src_end = 0, -1, -1, -1
    for op in Indel.opcodes(source, target):
        if op.tag != "equal" or op.src_end - op.src_start < run:
            continue
        gap = max(op.src_start - src_end, op.dest_start - last)
        if first < 0 or gap > _MAX_GAP:
            found, first = 0, op.dest_start
        found += op.src_end - op.src_start
        last, src_end = op.dest_end, op.src_end
        if found > best[0]:
            best = (found, first, last)
    return best[0] / len(source), best[1], best[2]


def _best_matches(
    units: Sequence[_Unit], by_member: Sequence[Sequence[int]], attr: AttributeConfig
) -> list[dict[int, _Match]]:
    """For each unit, its best match in every other member that shares a word pair with it."""
    # Postings per member, so a member's own sentences are never walked: a text that repeats
    # itself would otherwise make this quadratic in its length.
    postings: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for u, unit in enumerate(units):
        if not unit.boilerplate:
            for key in _keys(unit.words):
                postings[key][unit.member].append(u)
    position = {u: i for rows in by_member for i, u in enumerate(rows)}
    best: list[dict[int, _Match]] = [{} for _ in units]
    for u, unit in enumerate(units):
        if unit.boilerplate or not unit.words:
            continue
        keys = _keys(unit.words)
        shared: dict[int, int] = defaultdict(int)
        for key in keys:
            for member, found_in in postings[key].items():
                if member != unit.member:
                    for v in found_in:
                        shared[v] += 1
        # One shared word pair ("of the", "kata dia") is no evidence for a longer sentence.
        needed = min(len(keys), _MIN_SHARED_PAIRS)
        hits: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for v, count in shared.items():
            if count >= needed:
                hits[units[v].member].append((-count, position[v]))
        for member, ranked in hits.items():
            rows = by_member[member]
            # The sentences sharing most word pairs: a text repeating one paragraph 400 times
            # would otherwise make every sentence try every repetition.
            found = {i for _, i in sorted(ranked)[:_MAX_CANDIDATES]}
            windows = {(i, i + 1) for i in found}
            for a in found:
                for b in range(a + 1, a + attr.max_window):
                    if b in found:
                        windows.add((a, b + 1))
            for lo, hi in sorted(windows):
                target_units = [units[rows[i]] for i in range(lo, hi)]
                target = "".join(t.words for t in target_units)
                share, first, last = _coverage(unit.words, target, attr.min_run)
                if share <= 0:
                    continue
                current = best[u].get(member)
                # Prefer higher coverage, then the tighter window.
                if current is not None and current.similarity >= share:
                    continue
                starts = [s for t in target_units for s in t.starts]
                ends = [e for t in target_units for e in t.ends]
                best[u][member] = _Match(
                    member=member, similarity=share, start=starts[first], end=ends[last - 1]
                )
    return best


def _add_reciprocal(
    units: Sequence[_Unit],
    by_member: Sequence[Sequence[int]],
    best: Sequence[dict[int, _Match]],
    copied: list[dict[int, _Match]],
) -> None:
    """Mark a sentence whose text another member copied as copied itself.

    Its level is ``partial`` when its own words are not found well enough: it holds the copied
    words plus its own.

    Without this, "A copied from B" could stand beside "B added", when B's sentence is
    longer than what A kept of it.
    """
    for b, found in enumerate(list(copied)):
        for member, match in list(found.items()):
            if match.level == "partial":
                continue
            for a in by_member[member]:
                seg = units[a].segment
                if seg.start < match.end and match.start < seg.end:
                    other = units[b].member
                    if other not in copied[a]:
                        own = best[a].get(other)
                        copied[a][other] = _Match(
                            member=other,
                            similarity=own.similarity if own else 0.0,
                            start=units[b].segment.start,
                            end=units[b].segment.end,
                            level="partial",
                        )


def _level(similarity: float, attr: AttributeConfig) -> str | None:
    if similarity >= attr.verbatim_threshold:
        return "verbatim"
    if similarity >= attr.near_verbatim_threshold:
        return "near_verbatim"
    if similarity >= attr.copied_threshold:
        return "paraphrase"
    return None


def attribute_cluster(
    cluster_id: str, articles: Sequence[Article], config: Config | None = None
) -> ClusterAttribution:
    """Label every sentence of every member of one cluster; find the origin and credits.

    Args:
        cluster_id: The cluster's id (carried into the result).
        articles: The members, in any order (the result is ordered by id).
        config: Settings; ``attribute`` and ``normalize`` are read.

    Example:
        >>> from dedupe import Article
        >>> wire = "Harga cabai rawit naik tajam di Jakarta pekan ini. Pedagang mengeluh."
        >>> copy = "Harga cabai rawit naik tajam di Jakarta pekan ini. Kami menulis sendiri."
        >>> pair = [Article(id="a", text=wire), Article(id="b", text=copy)]
        >>> result = attribute_cluster("c1", pair)
        >>> [(p.label, p.counterpart and p.counterpart.level) for p in result.members[1].passages]
        [('copied', 'verbatim'), ('added', None)]
    """
    config = config or Config()
    attr = config.attribute
    members = sorted(articles, key=lambda a: a.id)
    normalizer = Normalizer(config.normalize)
    outlets = [a.outlet for a in members]
    credits = [find_credits(a.text, attr.wires, outlets) for a in members]
    vocab = _Vocabulary()
    units: list[_Unit] = []
    by_member: list[list[int]] = []
    for m, article in enumerate(members):
        made = _units(m, article.text, config, normalizer, vocab, credits[m])
        by_member.append(list(range(len(units), len(units) + len(made))))
        units.extend(made)
    best = _best_matches(units, by_member, attr)

    copied = [
        {
            member: replace(match, level=level)
            for member, match in found.items()
            if (level := _level(match.similarity, attr))
        }
        for found in best
    ]
    _add_reciprocal(units, by_member, best, copied)
    # Members share reporting when a sentence that is not mostly quotation matches.
    reporting: set[tuple[int, int]] = set()
    for u, found in enumerate(copied):
        if units[u].quoted < attr.quote_share:
            for member in found:
                reporting.update({(units[u].member, member), (member, units[u].member)})

    origin = _origin(members, units, by_member, copied, credits)
    origin_member = next((m for m, a in enumerate(members) if a.id == origin.article_id), None)

    results = []
    for m, article in enumerate(members):
        passages = [
            _passage(units[u], copied[u], reporting, members, origin_member, credits[m])
            for u in by_member[m]
        ]
        results.append(_member(article, passages, credits[m], outlets, m))
    return ClusterAttribution(cluster_id=cluster_id, origin=origin, members=tuple(results))


def _passage(
    unit: _Unit,
    found: dict[int, _Match],
    reporting: set[tuple[int, int]],
    members: Sequence[Article],
    origin_member: int | None,
    credits: Sequence[Credit],
) -> Passage:
    seg = unit.segment
    if unit.boilerplate:
        label, match = "boilerplate", None
    elif unit.starts and all(any(c.start <= s < c.end for c in credits) for s in unit.starts):
        label, match = "credit", None  # "(ANTARA)", "— Reuters": a credit line, not reporting
    elif not found:
        label, match = "added", None
    else:
        shares_reporting = [m for m in found if (unit.member, m) in reporting]
        label = "copied" if shares_reporting else "shared_quote"
        if label == "copied" and unit.member == origin_member:
            label = "reused"  # the origin did not copy: the others took this from it
        pool = shares_reporting or list(found)

        def rank(m: int) -> tuple[int, bool, float, float, str]:
            published = members[m].published
            return (
                LEVELS.index(found[m].level),
                m != origin_member,
                -found[m].similarity,
                published.timestamp() if published else math.inf,
                members[m].id,
            )

        match = found[min(pool, key=rank)]
    counterpart = None
    if match is not None:
        counterpart = Counterpart(
            article_id=members[match.member].id,
            start=match.start,
            end=match.end,
            similarity=round(match.similarity, 4),
            level=match.level,
        )
    return Passage(
        start=seg.start,
        end=seg.end,
        paragraph=seg.paragraph,
        label=label,
        counterpart=counterpart,
        quoted=round(unit.quoted, 4),
    )


def _member(
    article: Article,
    passages: Sequence[Passage],
    credits: Sequence[Credit],
    outlets: Sequence[str],
    m: int,
) -> MemberAttribution:
    counted = [p for p in passages if p.label not in ("boilerplate", "credit")]
    total = sum(p.end - p.start for p in counted)

    def share(label: str) -> float:
        chars = sum(p.end - p.start for p in counted if p.label == label)
        return round(chars / total, 4) if total else 0.0

    sources: dict[str, int] = defaultdict(int)
    for p in counted:
        if p.label == "copied" and p.counterpart is not None:
            sources[p.counterpart.article_id] += p.end - p.start
    others = [o for j, o in enumerate(outlets) if j != m and o]
    credits_source = any(
        (c.wire or any(same_source(c.name, o) for o in others))
        and not (article.outlet and same_source(c.name, article.outlet))
        for c in credits
    )
    return MemberAttribution(
        article_id=article.id,
        copied_share=share("copied"),
        reused_share=share("reused"),
        sources=tuple(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
        passages=tuple(passages),
        credits=tuple(credits),
        credits_source=credits_source,
    )


def _found_share(
    units: Sequence[_Unit], rows: Sequence[int], copied: Sequence[dict[int, _Match]], other: int
) -> float:
    """Share of a member's characters found in ``other``."""
    total = sum(units[u].segment.end - units[u].segment.start for u in rows)
    found = sum(units[u].segment.end - units[u].segment.start for u in rows if other in copied[u])
    return found / total if total else 0.0


def _origin(
    members: Sequence[Article],
    units: Sequence[_Unit],
    by_member: Sequence[Sequence[int]],
    copied: Sequence[dict[int, _Match]],
    credits: Sequence[Sequence[Credit]],
) -> Origin:
    """Earliest ``published`` first; then the outlet others credit; then containment."""
    n = len(members)
    if n < 2:
        return Origin(article_id=None, confidence=0.0, method="unknown", evidence="one member")
    dated = sorted((a.published, a.id) for a in members if a.published is not None)
    if len(dated) >= 2 and dated[0][0] < dated[1][0]:
        (first, first_id), (second, second_id) = dated[0], dated[1]
        gap = second - first
        everyone = len(dated) == n
        confidence = (0.9 if gap.total_seconds() >= 1800 else 0.75) if everyone else 0.6
        undated = "" if everyone else f" ({n - len(dated)} member(s) have no date)"
        return Origin(
            article_id=first_id,
            confidence=confidence,
            method="published",
            evidence=f"published {_when(first)}, {_gap(gap)} before {second_id}{undated}",
        )
    credited = []
    for m, article in enumerate(members):
        if not article.outlet:
            continue
        by = [
            j
            for j in range(n)
            if j != m and any(same_source(c.name, article.outlet) for c in credits[j])
        ]
        if by:
            credited.append((len(by), m))
    credited.sort(reverse=True)
    if len(credited) == 1 or (len(credited) > 1 and credited[0][0] > credited[1][0]):
        count, m = credited[0]
        return Origin(
            article_id=members[m].id,
            confidence=0.7,
            method="credit",
            evidence=f"{count} of {n - 1} other members credit {members[m].outlet}",
        )
    # Containment: the member in which the others' text is found most is the likely source
    # (copies trim and add; they rarely contain each other's additions).
    score = [
        sum(_found_share(units, by_member[j], copied, m) for j in range(n) if j != m) / (n - 1)
        for m in range(n)
    ]
    order = sorted(range(n), key=lambda m: (-score[m], members[m].id))
    top, runner = order[0], order[1]
    margin = score[top] - score[runner]
    if margin >= 0.15:
        return Origin(
            article_id=members[top].id,
            confidence=round(min(0.6, 0.3 + margin), 2),
            method="containment",
            evidence=(
                f"{score[top]:.0%} of the other members' text is found in it "
                f"(next: {members[runner].id}, {score[runner]:.0%}); no dates to compare"
            ),
        )
    wires = {c.name for cs in credits for c in cs if c.wire}
    why = f"; members credit {', '.join(sorted(wires))}" if wires else ""
    return Origin(
        article_id=None,
        confidence=0.0,
        method="unknown",
        evidence=(
            "no dates, and no member contains the others' text clearly more than another "
            f"({members[top].id} {score[top]:.0%}, {members[runner].id} {score[runner]:.0%}){why}"
        ),
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def _gap(gap: timedelta) -> str:
    seconds = int(gap.total_seconds())
    if seconds < 3600:
        return f"{max(seconds // 60, 0)} min"
    if seconds < 86_400 * 2:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86_400} days"


def attribute_clusters(
    result: RunResult, config: Config | None = None, cluster_ids: Sequence[str] = ()
) -> tuple[ClusterAttribution, ...]:
    """Attribute every cluster of a clustering run (or only ``cluster_ids``), in report order.

    Raises:
        UsageError: a requested cluster id is not in the run.
    """
    by_id = {a.id: a for a in result.articles}
    wanted = set(cluster_ids)
    unknown = wanted - {c.id for c in result.clusters}
    if unknown:
        raise UsageError(
            f"no cluster {', '.join(sorted(unknown))} in this run "
            f"({len(result.clusters)} clusters; ids are in the cluster report)"
        )
    return tuple(
        attribute_cluster(c.id, [by_id[i] for i in c.article_ids], config)
        for c in result.clusters
        if not wanted or c.id in wanted
    )
